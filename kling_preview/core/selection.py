"""Selections that follow image edges: snap a rough painted area, or pick a region with a magic wand.

On a touchpad nobody paints a sky up to a jagged ridge line, so the painted area (or the click) is only a hint.
Both tools work the same way, on a reduced copy so their cost barely grows with the photo:

- the hint's colours (CIELAB; k-means clusters of the painted core, or the click's own colour) and the
  edges (colour change per pixel) split the picture: areas reached from the hint without crossing an edge
  are wanted; pixels unlike the hint's colours, and large or unlike areas walled off by edges, are not;
- a marker watershed gives what lies in between (the edges themselves, small pockets) to the side that
  reaches it across the weaker edge, so the outline settles on the strongest edge. That is what stops the
  selection: a plain flood fill from a lake under a sunset sky leaks into the sky through the reflected
  colours, here the shore's edges wall the sky off whatever its colour;
- `snap` finally moves the outline onto the full-resolution edge with a guided filter (He et al.) run on
  small tiles along it.

GrabCut on a reduced copy (the textbook answer) is measured beside it in bench/bench_selection.py: its global
colour model gives sunlit water to the background as soon as the sky has the same orange.

Both are pure functions of their arrays and deterministic: k-means++ draws from OpenCV's per-thread RNG, which
is reseeded before every fit, and the sample of painted pixels comes from a seeded numpy generator.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Long side of the reduced copy both tools run on: their cost then does not grow with the photo, and edge
# strengths (ΔE per pixel) mean the same on a thumbnail and on a 50 MP photo.
WORK_SIDE = 640
SMOOTHING = 1.0  # Gaussian sigma (work pixels) against JPEG noise and ripples before colours are compared
# The painted area deeper than this (fraction of the long side) seeds the selection; nearer its outline it is
# only a hint, so a stroke that spills over an edge can still shrink back.
SNAP_CORE = 0.01
SNAP_TOLERANCE = 25.0  # how unlike (ΔE) every colour of the painted core a pixel must be to be sure background
DEFAULT_TOLERANCE = 24.0  # the wand's: ΔE from the click's colour, and 1/8 of it the edge strength it may cross
EDGE_PER_TOLERANCE = 1 / 8
FAR_PER_TOLERANCE = 2.5
SNAP_EDGE = 3.5  # ΔE per work pixel: the edge strength a snapped selection may grow across
FOREIGN_AREA = 0.02  # fraction of the picture from which an area walled off by edges counts as unwanted
REDUCE_STEP = 3  # see _reduce
REFINE_TILE = 8  # work pixels: the outline is refined in tiles this size, each with the filter's reach
MODEL_COLOURS = 6  # k-means clusters describing the painted core's colours (a sky has several)
MODEL_SAMPLES = 4000  # painted pixels the clusters are fitted to; more changes nothing but the time
SEED = 12345


def snap(image_rgb: np.ndarray, scribble: np.ndarray) -> np.ndarray:
    """Grow or shrink a rough painted area (bool HxW) to the object's edges; returns bool HxW.

    Pixels joined to the painted interior without crossing an edge are wanted, pixels unlike every colour
    of it are not, and the pixels on edges go to the side that reaches them across the weaker edge. There is
    deliberately no distance limit: a lake seen from its shore is long and thin, and a stroke that cannot fit
    its narrow end must still reach it. An empty scribble selects nothing; one too small to survive the
    reduced copy comes back unchanged.
    """
    image = _as_rgb8(image_rgb)
    painted = _as_mask(scribble, image.shape[:2])
    h, w = painted.shape
    if not painted.any():
        return np.zeros((h, w), dtype=bool)
    scale = _work_scale(h, w)
    small = _reduce(image, scale)
    sh, sw = small.shape[:2]
    cover = _reduce(painted.view(np.uint8) * np.uint8(255), scale) >= 128
    if not cover.any():
        return painted.copy()
    if cover.all():
        return np.ones((h, w), dtype=bool)
    inside = cv2.distanceTransform(np.pad(cover, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    core = inside > max(1.0, SNAP_CORE * max(sh, sw))
    if not core.any():
        core = cover
    smooth, lab = _smoothed(small)
    model = _colour_model(lab[core])
    region = _select(smooth, lab, core, model, SNAP_TOLERANCE, SNAP_TOLERANCE, SNAP_EDGE)
    return _upscale(image, region, scale, refine=True)


def magic_wand(image_rgb: np.ndarray, point: tuple[int, int], tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """The connected area of similar colour around `point` (x, y) that stops at edges; bool HxW.

    `tolerance` is a CIELAB ΔE: the flood from the click crosses no edge stronger than tolerance/8 per pixel
    (so a lake whose colour drifts from blue to sunset orange is still one area), never takes a pixel more
    than 2.5 × tolerance from the click's colour, nor an area walled off by edges whose mean colour is more
    than tolerance from it (a boat lying in the water). A click outside the image selects nothing.
    """
    image = _as_rgb8(image_rgb)
    h, w = image.shape[:2]
    x, y = int(point[0]), int(point[1])
    if not (0 <= x < w and 0 <= y < h):
        return np.zeros((h, w), dtype=bool)
    tolerance = max(float(tolerance), 0.0)
    scale = _work_scale(h, w)
    small = _reduce(image, scale)
    sh, sw = small.shape[:2]
    sx, sy = min(int(x / scale), sw - 1), min(int(y / scale), sh - 1)
    smooth, lab = _smoothed(small)
    core = np.zeros((sh, sw), dtype=bool)
    core[max(sy - 1, 0) : sy + 2, max(sx - 1, 0) : sx + 2] = True
    model = (np.median(lab[core], axis=0, keepdims=True).astype(np.float32), np.zeros(1, np.float32))
    far = FAR_PER_TOLERANCE * tolerance
    region = _select(smooth, lab, core, model, far, tolerance, tolerance * EDGE_PER_TOLERANCE)
    return _upscale(image, region, scale, refine=False)


def _work_scale(h: int, w: int) -> float:
    return max(h, w) / WORK_SIDE if max(h, w) > WORK_SIDE else 1.0


def _smoothed(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    smooth = cv2.GaussianBlur(small, (0, 0), SMOOTHING)
    lab = cv2.cvtColor(smooth.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return smooth, lab


def _edge_strength(lab: np.ndarray) -> np.ndarray:
    """Colour change per pixel (ΔE/px): the Sobel gradient of all three CIELAB channels together."""
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    squared = cv2.transform(gx * gx + gy * gy, np.ones((1, 3), np.float32))  # sum of the three channels
    return np.asarray(np.sqrt(squared) / 8.0)


ColourModel = tuple[np.ndarray, np.ndarray]  # cluster centres (K x 3, CIELAB) and each cluster's spread (K)


def _colour_model(samples: np.ndarray) -> ColourModel:
    """k-means clusters of the sample colours, each with its mean distance from its centre."""
    if len(samples) > MODEL_SAMPLES:
        pick = np.random.default_rng(SEED).choice(len(samples), MODEL_SAMPLES, replace=False)
        samples = samples[np.sort(pick)]
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    k = max(1, min(MODEL_COLOURS, len(samples) // 20))
    if k > 1:
        cv2.setRNGSeed(SEED)  # k-means++ draws from OpenCV's per-thread RNG
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
        _, labels, centres = cv2.kmeans(
            samples, k, np.zeros((len(samples), 1), np.int32), criteria, 1, cv2.KMEANS_PP_CENTERS
        )
        labels = labels.ravel()
    else:
        labels = np.zeros(len(samples), np.int32)
        centres = samples.mean(axis=0, keepdims=True)
    spread = np.array(
        [
            np.mean(np.linalg.norm(samples[labels == i] - c, axis=1)) if np.any(labels == i) else np.inf
            for i, c in enumerate(centres)
        ],
        dtype=np.float32,
    )
    return np.asarray(centres, dtype=np.float32), spread


def _distance(lab: np.ndarray, model: ColourModel) -> np.ndarray:
    """Per pixel of an HxWx3 CIELAB image: ΔE to the nearest cluster, less that cluster's spread."""
    centres, spread = model
    # |x - c|² = |x|² - 2 x·c + |c|²: cv2.transform does each dot product in one pass over the pixels.
    norms = cv2.transform(lab * lab, np.ones((1, 3), np.float32))
    nearest = np.full(lab.shape[:2], np.inf, np.float32)
    for centre, reach in zip(centres, spread):
        dot = cv2.transform(lab, centre.reshape(1, 3))
        squared = np.maximum(norms - 2.0 * dot + float(centre @ centre), 0.0)
        np.minimum(nearest, np.sqrt(squared) - reach, out=nearest)
    return nearest


def _select(
    smooth: np.ndarray,
    lab: np.ndarray,
    core: np.ndarray,
    model: ColourModel,
    far: float,
    foreign: float,
    edge: float,
) -> np.ndarray:
    """The area joined to `core` without crossing an edge stronger than `edge`, its outline on the edge.

    Pixels off the edges form connected areas: those touching the core are wanted. Unwanted are pixels
    further than `far` from the core's colours, and areas walled off by edges that are either large (the sky
    beyond a lake's shore) or, on average, further than `foreign` (a boat lying in the water). The edge
    pixels in between, and small walled-off pockets of the core's colours (between a cloud's edges), are left
    to a marker watershed, which puts the dividing line on the strongest edge between the two sides.
    """
    distance = _distance(lab, model)
    unlike = distance > far
    free = (_edge_strength(lab) < edge) & ~unlike
    free |= core
    count, comp, stats, _ = cv2.connectedComponentsWithStats(free.astype(np.uint8), connectivity=4)
    joined_ids = np.unique(comp[core])
    joined = np.isin(comp, joined_ids)
    wanted = joined | core
    sums = np.stack([np.bincount(comp.ravel(), weights=lab[:, :, i].ravel(), minlength=count) for i in range(3)], 1)
    means = (sums / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)[:, None]).astype(np.float32)
    other = (stats[:, cv2.CC_STAT_AREA] >= FOREIGN_AREA * core.size) | (
        _distance(means.reshape(-1, 1, 3), model).ravel() > foreign
    )
    other[0] = False
    other[joined_ids] = False
    # Lone unwanted specks (a glint on ripples, a post) must not seed background in the middle of the area.
    k = max(3, round(max(core.shape) / 160) | 1)
    unwanted = other[comp] | unlike
    unwanted = cv2.morphologyEx(unwanted.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8)) > 0
    unwanted &= ~wanted
    if not unwanted.any():
        return np.ones(core.shape, dtype=bool)
    # cv2.watershed marks the outermost pixels as dividing line whatever they hold: pad by one pixel.
    markers = np.zeros((core.shape[0] + 2, core.shape[1] + 2), np.int32)
    markers[1:-1, 1:-1][unwanted] = 1
    markers[1:-1, 1:-1][wanted] = 2
    cv2.watershed(cv2.copyMakeBorder(smooth, 1, 1, 1, 1, cv2.BORDER_REPLICATE), markers)
    markers = markers[1:-1, 1:-1]
    region = markers == 2
    # Watershed leaves -1 on the dividing line; it belongs to the selection unless it is unlike in colour.
    region |= (markers == -1) & ~unlike
    return _touching(region, core)


def _upscale(image: np.ndarray, region: np.ndarray, scale: float, refine: bool) -> np.ndarray:
    if scale == 1.0:
        return region
    if refine:
        return _refine(image, region, scale)
    h, w = image.shape[:2]
    soft = cv2.resize(region.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(soft >= 128)


def _as_rgb8(image_rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(image_rgb)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])


def _as_mask(scribble: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(scribble)
    if mask.shape != shape:
        raise ValueError(f"scribble is {mask.shape}, the image is {shape}")
    return mask.astype(bool)


def _reduce(image: np.ndarray, scale: float) -> np.ndarray:
    """The work-size copy, area-averaged from a bilinear copy at three times the work size.

    Area-averaging a 12 MP photo straight down reads every pixel and costs more than everything else the
    wand does; bilinear sampling to an intermediate size reads only the rows it needs, and the final 3:1
    average (plus the smoothing before any comparison) keeps the sampling from aliasing ripples into edges.
    """
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    if scale > 2 * REDUCE_STEP:
        step = (size[0] * REDUCE_STEP, size[1] * REDUCE_STEP)
        image = cv2.resize(image, step, interpolation=cv2.INTER_LINEAR)
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _touching(region: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """The parts of `region` connected to `anchor`: stray islands in the band are not what was painted."""
    count, comp = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    if count <= 1:
        return region.astype(bool)
    keep = np.unique(comp[anchor & region])
    keep = keep[keep > 0]
    return np.isin(comp, keep)


def _refine(image: np.ndarray, chosen: np.ndarray, scale: float) -> np.ndarray:
    """Upscale a work-size selection and move its outline onto the full-resolution edge.

    Only a band a few work pixels wide around the outline can change; inside it a guided filter (He et al.)
    lets the blurry upscaled mask take the shape of the photo's own edges. It runs on small tiles along the
    outline only, so a 12 MP photo costs about what its outline is long.
    """
    h, w = image.shape[:2]
    sh, sw = chosen.shape
    soft = cv2.resize(chosen.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR)
    result = np.asarray(soft >= 128)
    ring = np.ones((3, 3), np.uint8)
    outline = cv2.dilate(chosen.astype(np.uint8), ring) > cv2.erode(chosen.astype(np.uint8), ring)
    radius = max(2, math.ceil(1.5 * scale))
    margin = 2 * radius
    tile = REFINE_TILE
    ty, tx = np.nonzero(outline)
    for ty0, tx0 in sorted(set(zip((ty // tile).tolist(), (tx // tile).tolist()))):
        # The tile's box at full resolution, and the same box grown by the filter's reach.
        y0, y1 = round(ty0 * tile * h / sh), min(round((ty0 + 1) * tile * h / sh), h)
        x0, x1 = round(tx0 * tile * w / sw), min(round((tx0 + 1) * tile * w / sw), w)
        ey0, ey1, ex0, ex1 = max(y0 - margin, 0), min(y1 + margin, h), max(x0 - margin, 0), min(x1 + margin, w)
        src = soft[ey0:ey1, ex0:ex1]
        unsure = ((src > 0) & (src < 255)).astype(np.uint8)
        band = cv2.dilate(unsure, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
        inner = (slice(y0 - ey0, y1 - ey0), slice(x0 - ex0, x1 - ex0))
        if not band[inner].any():
            continue
        guide = cv2.cvtColor(image[ey0:ey1, ex0:ex1], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        filtered = _guided_filter(guide, src.astype(np.float32) / 255.0, radius, 1e-3)
        keep = band[inner] > 0
        box = result[y0:y1, x0:x1]
        box[keep] = filtered[inner][keep] >= 0.5
    return result


def _guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-preserving smoothing of `src` that follows the edges of `guide` (grey, float32 in 0..1)."""
    size = (2 * radius + 1, 2 * radius + 1)

    def box(a: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.boxFilter(a, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT))

    mean_i = box(guide)
    mean_p = box(src)
    cov_ip = box(guide * src) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return np.asarray(box(a) * guide + box(b))
