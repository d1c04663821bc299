"""Dense motion fields: what each pixel of a region does over time.

Pure functions on arrays (no state, no caching: `render.Renderer` decides what to keep). Three kinds of
motion, one per preview mode:
- kling: a region is translated as a whole by d(u) = P(u) - P(0) along its trajectory;
- loop: a dense velocity field that follows the trajectory's local direction everywhere in the region,
  played as a seamless two-phase flow-map loop (render/loop.py);
- ambient: a small smooth displacement that turns on a periodic orbit (shimmer), seamless too.

Fields are not feathered (texture sheared to zero speed over a feather streaks along the edge): the
renderer feathers the composite instead, and draws a region only inside its own mask, so static and
unpainted pixels never move.

Velocity field (why not a direct Gaussian sum): samples of tangent x speed taken along the trajectory
are splatted on a coarse grid (about 160 cells on the long side), smoothed, and filled outwards with a
push-pull pyramid (Gortler et al. 1996). The result is the normalised-Gaussian interpolation of the
design near the path and a smooth continuation of the nearest direction far from it, so one arrow drawn
across a river makes the whole river flow; it costs O(cells) instead of O(pixels x samples).

Region textures (why a flowing region never shows what borders it): a flow warp samples each pixel's
upstream point, and near a region's edge that point lies outside the region (a static tree, the
mountains, another region). So every moving region samples its own texture: its pixels, with everything
outside it (and its anti-aliased rim) replaced by a continuation grown from its interior only: a smooth
push-pull membrane of the colours along its edge, plus its fine grain mirrored across the nearest edge
(fading out with distance). Nothing from outside the region can reach its frames. Past the image border
(a sky at the top edge, water entering at the left) the texture is not mirrored but continued with the
strip along the border translated outwards (continue_past_border): a mirror there is what a flow sampling
past the border streams into view, and a reflection of the border rows reads at once as a Rorschach
pattern; a mirror across a region's own edge, where the grain fades within a few pixels, does not.

Loop cycles (why they do not depend on the frame rate): the cycle count follows the flow's speed, the
loop period and the image size only, so the frame at time t is the same at 8 and at 24 fps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from . import masks
from .trajectory import arc_length, as_array, offset_at

BBox = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open), like masks.BBox

#: Cells on the long side of the grid a velocity field is built on (then resized to full resolution).
FIELD_CELLS = 160
#: Largest displacement of one flow-map cycle, as a fraction of the long side; a faster flow uses more
#: (shorter) cycles per loop, so textures stretch less and the cross-fade never shows a big jump.
LOOP_MAX_SHIFT = 0.05
#: Shortest flow-map cycle in seconds: a cycle is the shortest time after which a region repeats, and
#: a repeat faster than once a second reads as a treadmill pulse (a little over a second, so a lag just
#: under a second is not one frame from a repeat either). A time, not a frame count, so the motion at
#: time t does not depend on the frame rate.
MIN_CYCLE_SECONDS = 1.25
#: A region's texture trusts its pixels at least this far inside its edge (fraction of the long side, at
#: least TEXTURE_INSET_MIN px): edge pixels mix in what borders the region (anti-aliasing, a brush that
#: overlapped the tree), so they are refilled from the interior like the outside.
TEXTURE_INSET = 0.0015
TEXTURE_INSET_MIN = 1.5
#: Outside a region its texture is the interior mirrored across the nearest edge up to MIRROR_KEEP of the
#: long side away, fading into the smooth push-pull colour fill by MIRROR_FADE (deep fills stay calm).
MIRROR_KEEP = 0.015
MIRROR_FADE = 0.04
#: Past the image border a region's texture fades from the mirror into its continuation over this
#: fraction of the long side (continue_past_border).
BORDER_JOIN = 0.02
#: Relaxation steps per pyramid level of a texture's colour fill (see push_pull).
TEXTURE_RELAX = 4
#: Ambient motion: amplitude at strength 1 (fraction of the long side), noise cells on the long side,
#: and the time one orbit takes (rounded so a whole number of orbits fits the loop).
AMBIENT_AMPLITUDE = 0.003
AMBIENT_CELLS = 30
AMBIENT_ORBIT_SECONDS = 1.5
AMBIENT_SEED = 20240611


# ----- geometry ------------------------------------------------------------------------------------
def region_bbox(labels: np.ndarray, label: int) -> BBox | None:
    """Bounding box of a label in the label map, None when it has no pixels."""
    return masks.bbox_of(labels == label)


def region_alpha(labels: np.ndarray, label: int, bbox: BBox, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(mask, alpha) of a region on its bounding box: bool, and float32 feathered 0..1.

    The alpha ramps to zero at the region's edge, but not at the image border: content continues
    beyond the frame, so a region touching the border is not faded there.
    """
    h, w = labels.shape
    y0, y1, x0, x1 = bbox
    py0, py1, px0, px1 = max(y0 - 1, 0), min(y1 + 1, h), max(x0 - 1, 0), min(x1 + 1, w)
    crop = (labels[py0:py1, px0:px1] == label).astype(np.uint8)
    top, bottom, left, right = int(y0 == 0), int(y1 == h), int(x0 == 0), int(x1 == w)
    if top or bottom or left or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
    alpha = masks.feather(crop, radius)
    oy, ox = y0 - py0 + top, x0 - px0 + left
    alpha = np.ascontiguousarray(alpha[oy : oy + (y1 - y0), ox : ox + (x1 - x0)])
    mask = labels[y0:y1, x0:x1] == label
    return mask, alpha


def union_bbox(boxes: Iterable[BBox | None]) -> BBox | None:
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return min(b[0] for b in real), max(b[1] for b in real), min(b[2] for b in real), max(b[3] for b in real)


def expand_bbox(bbox: BBox, margin: int, shape: tuple[int, int]) -> BBox:
    h, w = shape
    y0, y1, x0, x1 = bbox
    return max(y0 - margin, 0), min(y1 + margin, h), max(x0 - margin, 0), min(x1 + margin, w)


def pixel_grid(bbox: BBox) -> np.ndarray:
    """(h, w, 2) float32 absolute (x, y) coordinates of the box's pixels: the identity remap map."""
    y0, y1, x0, x1 = bbox
    grid = np.empty((y1 - y0, x1 - x0, 2), dtype=np.float32)
    grid[..., 0] = np.arange(x0, x1, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(y0, y1, dtype=np.float32)[:, None]
    return grid


# ----- region textures -----------------------------------------------------------------------------
def trusted_interior(mask: np.ndarray, inset: float) -> np.ndarray:
    """The pixels of `mask` (bool) more than `inset` px inside its edge; all of `mask` when none are.

    The array's own border is not an edge (a region touching the image border continues beyond it).
    """
    mask = np.asarray(mask, dtype=bool)
    if inset <= 0 or not mask.any():
        return mask
    inner = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5) > inset
    return inner if inner.any() else mask


def _mirror(inside: np.ndarray, keep: float, fade: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel's mirror image across the nearest inside pixel is (flat index), how much to trust
    it (1 up to `keep` px from the inside, 0 from `fade` px and where the mirror point is not inside), and
    where mirrors of two different edges meet (float 0..1, soft): a seam to blur over."""
    h, w = inside.shape
    dist, lab = cv2.distanceTransformWithLabels(
        (~inside).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # DIST_LABEL_PIXEL numbers the zero (inside) pixels in raster order, like np.flatnonzero.
    near = np.flatnonzero(inside).astype(np.int32)[lab - 1]
    del lab
    qy, qx = np.divmod(near, np.int32(w))
    del near
    ry = 2 * qy - np.arange(h, dtype=np.int32)[:, None]
    rx = 2 * qx - np.arange(w, dtype=np.int32)[None, :]
    ok = (ry >= 0) & (ry < h) & (rx >= 0) & (rx < w)
    idx = np.where(ok, ry * w + rx, 0)
    del ry, rx
    ok &= inside.ravel()[idx]
    # Neighbours whose nearest edge points are far apart sit on the medial axis: their mirrors come
    # from two edges and do not match.
    seam = np.zeros((h, w), np.float32)
    jump_x = (np.abs(np.diff(qx, axis=1)) + np.abs(np.diff(qy, axis=1))) > 4
    jump_y = (np.abs(np.diff(qx, axis=0)) + np.abs(np.diff(qy, axis=0))) > 4
    seam[:, 1:][jump_x] = 1.0
    seam[:, :-1][jump_x] = 1.0
    seam[1:][jump_y] = 1.0
    seam[:-1][jump_y] = 1.0
    seam = np.minimum(cv2.GaussianBlur(seam, (0, 0), 2.0) * 2.0, 1.0)
    ramp = np.clip((fade - dist) / max(fade - keep, 1e-6), 0.0, 1.0)
    weight = cv2.GaussianBlur(ramp * ok, (0, 0), 1.5) * ok
    return idx, weight, seam


def extend_texture(pixels: np.ndarray, inside: np.ndarray, keep: float, fade: float) -> np.ndarray:
    """`pixels` (h, w, 3 uint8) with every pixel outside `inside` (bool) refilled from inside pixels only.

    A flow warp samples upstream points beyond a region's edge; on this texture they find the region's
    own texture continuing, never what really borders the region. Two layers: the colour is a push-pull
    fill from the inside's pixels within `keep` of its edge (smooth and seamless, it continues the
    colours along the edge like a membrane; far-away inside colours do not tint it), and the grain (the
    inside minus its local mean) is mirrored across the nearest edge, fading out from `keep` to `fade`
    px. Where the mirrors of two edges meet (the middle of a thin obstacle) only the grain shows a seam,
    not the colour. Every channel of the fill stays within the range it has inside.
    """
    out = pixels.copy()
    outside = ~inside
    if not inside.any() or not outside.any():
        return out
    h, w = inside.shape
    inside_u8 = inside.astype(np.uint8)
    ring = inside & (cv2.distanceTransform(inside_u8, cv2.DIST_L2, 3) <= max(keep, 2.0))
    # Both smooth layers are built from a level about as coarse as the grain is fine.
    shrink = 2 ** max(0, int(math.log2(max(1.0, keep / 4.0))))
    sw, sh = max(1, -(-w // shrink)), max(1, -(-h // shrink))

    def smooth(where: np.ndarray, relax: int) -> np.ndarray:
        m = where.astype(np.float32)
        s = cv2.multiply(pixels, cv2.merge([m, m, m]), dtype=cv2.CV_32F)
        if shrink > 1:
            s = cv2.resize(s, (sw, sh), interpolation=cv2.INTER_AREA)
            m = np.asarray(cv2.resize(m, (sw, sh), interpolation=cv2.INTER_AREA), dtype=np.float32)
        est = push_pull(s.reshape(sh, sw, 3), m.reshape(sh, sw), relax=relax)
        if shrink > 1:
            est = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR)
        return est.reshape(-1, 3)

    local = smooth(inside, 0)
    colour = smooth(ring, TEXTURE_RELAX)
    idx, weight, seam = _mirror(inside, keep, fade)
    sel = np.flatnonzero(outside)
    src = idx.ravel()[sel]
    grain = pixels.reshape(-1, 3)[src].astype(np.float32) - local[src]
    fill = colour[sel] + grain * (weight.ravel()[sel] * (1.0 - seam.ravel()[sel]))[:, None]
    # Colour plus grain can overshoot: keep every channel within the range the inside has.
    lo, hi = zip(*(cv2.minMaxLoc(ch, inside_u8)[:2] for ch in cv2.split(pixels)))
    out.reshape(-1, 3)[sel] = np.clip(fill + 0.5, lo, hi).astype(np.uint8)
    return out


def region_texture(
    pixels: np.ndarray, mask: np.ndarray, long_side: float, past: tuple[int, int, int, int] = (0, 0, 0, 0)
) -> tuple[np.ndarray, np.ndarray]:
    """A region's own texture on a box, and its trusted interior (bool).

    `pixels` where the region's `mask` is trusted, its continuation everywhere else (also on the
    region's rim); sizes scale with the image's `long_side`, so proxy and export look alike. `past`
    (top, bottom, left, right): pixels to add past the image border, where the box lies on it: the
    texture continued there (continue_past_border), never trusted. The box's own border is not an edge
    of the region (the trusted interior reaches it).
    """
    inside = trusted_interior(mask, max(TEXTURE_INSET_MIN, TEXTURE_INSET * long_side))
    fade = MIRROR_FADE * long_side
    texture = extend_texture(pixels, inside, MIRROR_KEEP * long_side, fade)
    if not any(past):
        return texture, inside
    top, bottom, left, right = past
    inside = cv2.copyMakeBorder(inside.astype(np.uint8), top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
    return continue_past_border(texture, past, 2.0 * fade, BORDER_JOIN * long_side), inside.astype(bool)


def continue_past_border(
    texture: np.ndarray, past: tuple[int, int, int, int], strip: float, join: float
) -> np.ndarray:
    """`texture` (h, w, 3 uint8) grown by `past` (top, bottom, left, right) pixels, continued, not mirrored.

    Why not a mirror: a flow samples upstream of each pixel, so where a region meets the image border it
    samples past it, and a texture mirrored there streams a reflection of the border rows into view: a
    Rorschach pattern, seen at once. Here the colour is a
    smooth membrane continuing the colours along the border (push-pull, as coarse as `strip` / 8 px),
    and the detail over it (the texture minus that smooth layer) is the strip of `strip` px along the
    border translated outwards in the same order, fading out over its outer half: a texture that goes on
    like the border's, with no axis of symmetry, and no stack of copies of the border's shapes further out
    with a seam between each two (seen on real skies); further out only the membrane. The first `join`
    px past the border fade from the border's own pixels drawn outwards into that continuation: the strip
    translated outwards puts its inner edge next to the border, and that seam streamed into view as a hard
    line with the flow. Every channel stays within the range it has. Only the added pixels are computed (the
    texture is built once per mask, but on every mask edit).
    """
    top, bottom, left, right = past
    h, w = texture.shape[:2]
    hh, ww = h + top + bottom, w + left + right
    out = np.empty((hh, ww, 3), np.uint8)
    out[top : top + h, left : left + w] = texture
    # The membrane: a push-pull of the texture at a coarse level, over the grown box.
    shrink = 2 ** max(0, int(math.log2(max(1.0, strip / 8.0))))
    sw, sh = max(1, -(-ww // shrink)), max(1, -(-hh // shrink))
    known = np.zeros((hh, ww), np.float32)
    known[top : top + h, left : left + w] = 1.0
    # Known pixels times their colour, averaged like the weights (in 8 bits: the membrane is smooth).
    grown = cv2.copyMakeBorder(texture, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    s = np.asarray(cv2.resize(grown, (sw, sh), interpolation=cv2.INTER_AREA), np.float32).reshape(sh, sw, 3)
    m = np.asarray(cv2.resize(known, (sw, sh), interpolation=cv2.INTER_AREA), np.float32).reshape(sh, sw)
    coarse = push_pull(s, m, relax=TEXTURE_RELAX)
    # Source of each row and column: itself inside the image, the strip along the border in order past it.
    period_y, period_x = max(1, min(int(math.ceil(strip)), h)), max(1, min(int(math.ceil(strip)), w))
    ys, xs = np.arange(hh) - top, np.arange(ww) - left
    ty = np.where(ys < 0, ys % period_y, np.where(ys >= h, h - 1 - (h - 1 - ys) % period_y, ys))
    tx = np.where(xs < 0, xs % period_x, np.where(xs >= w, w - 1 - (w - 1 - xs) % period_x, xs))
    lo, hi = zip(*(cv2.minMaxLoc(ch)[:2] for ch in cv2.split(texture)))
    # How much of the border's pixels each pad row and column shows: all at the border, none `join` px out.
    join_y = np.clip(1.0 - np.maximum(np.maximum(-ys, ys - (h - 1)), 0) / max(join, 1.0), 0.0, 1.0).astype(np.float32)
    join_x = np.clip(1.0 - np.maximum(np.maximum(-xs, xs - (w - 1)), 0) / max(join, 1.0), 0.0, 1.0).astype(np.float32)
    # How much of the strip's detail each pad row and column keeps: all over the first half strip, none
    # from the strip's end on (where a repeat would start, with a seam).
    fade_y = np.clip(2.0 - 2.0 * np.maximum(-ys, ys - (h - 1)) / period_y, 0.0, 1.0).astype(np.float32)
    fade_x = np.clip(2.0 - 2.0 * np.maximum(-xs, xs - (w - 1)) / period_x, 0.0, 1.0).astype(np.float32)
    bands = ((0, top, 0, ww), (top + h, hh, 0, ww), (top, top + h, 0, left), (top, top + h, left + w, ww))
    for i, (y0, y1, x0, x1) in enumerate(bands):
        if y0 >= y1 or x0 >= x1:
            continue
        sy, sx = ty[y0:y1], tx[x0:x1]
        # The detail of the strip the band copies (the texture over the membrane), then copied out.
        sy0, sy1, sx0, sx1 = int(sy.min()), int(sy.max()) + 1, int(sx.min()), int(sx.max()) + 1
        detail = texture[sy0:sy1, sx0:sx1].astype(np.float32)
        detail -= _upsampled(coarse, (hh, ww), (sy0 + top, sy1 + top, sx0 + left, sx1 + left))
        fill = _upsampled(coarse, (hh, ww), (y0, y1, x0, x1))
        fade = fade_y[y0:y1, None, None] if i < 2 else fade_x[None, x0:x1, None]
        fill += detail[np.ix_(sy - sy0, sx - sx0)] * fade
        # Colour plus detail can overshoot: keep every channel within the range the texture has.
        cv2.max(fill, lo, dst=fill)
        cv2.min(fill, hi, dst=fill)
        # Next to the border, fade in from the border's own pixels drawn out (continuous with the inside).
        near = (join_y[y0:y1, None] * join_x[None, x0:x1])[..., None]
        edge = texture[np.ix_(ys[y0:y1].clip(0, h - 1), xs[x0:x1].clip(0, w - 1))].astype(np.float32)
        fill += near * (edge - fill)
        fill += 0.5
        out[y0:y1, x0:x1] = fill.astype(np.uint8)
    return out


def _upsampled(small: np.ndarray, size: tuple[int, int], box: BBox) -> np.ndarray:
    """The part `box` (y0, y1, x0, x1) of `small` (float32, h, w, 3) resized to `size` (h, w) like
    cv2.resize with INTER_LINEAR, computing that part only."""
    hh, ww = size
    sh, sw = small.shape[:2]
    y0, y1, x0, x1 = box
    fy, fx = sh / hh, sw / ww
    # Output pixel (x, y) of the part samples small at ((x0 + x + 0.5) fx - 0.5, (y0 + y + 0.5) fy - 0.5).
    m = np.array([[fx, 0.0, (x0 + 0.5) * fx - 0.5], [0.0, fy, (y0 + 0.5) * fy - 0.5]])
    part = cv2.warpAffine(
        small, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(part, np.float32).reshape(y1 - y0, x1 - x0, 3)


# ----- kling: rigid translation ----------------------------------------------------------------------
def path_moves(points: Sequence[Sequence[float]], strength: float) -> bool:
    """True when a trajectory makes a region move (two points or more, some length, non-zero strength)."""
    return len(points) >= 2 and strength != 0 and arc_length(points) > 0


def kling_offset(points: Sequence[Sequence[float]], u: float, strength: float = 1.0) -> tuple[float, float]:
    """Translation of a region at normalised time u: strength x (P(u) - P(0)), points evenly spaced in time."""
    if len(points) < 2:
        return 0.0, 0.0
    dx, dy = offset_at(points, u)
    return dx * strength, dy * strength


# ----- loop: velocity field from a trajectory ------------------------------------------------------
def _samples(points: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions and unit tangents every `spacing` px along the polyline."""
    pos, tan = [], []
    for a, b in zip(points[:-1], points[1:]):
        seg = b - a
        length = float(np.hypot(*seg))
        if length <= 1e-9:
            continue
        n = max(1, int(math.ceil(length / spacing)))
        f = (np.arange(n) + 0.5) / n
        pos.append(a[None, :] + f[:, None] * seg[None, :])
        tan.append(np.repeat((seg / length)[None, :], n, axis=0))
    if not pos:
        return np.zeros((0, 2)), np.zeros((0, 2))
    return np.concatenate(pos), np.concatenate(tan)


def _splat(pos: np.ndarray, val: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear splat of values at grid positions: (sum of w*v, sum of w)."""
    gh, gw = shape
    s = np.zeros((gh, gw, 2), dtype=np.float64)
    wsum = np.zeros((gh, gw), dtype=np.float64)
    ix = np.floor(pos[:, 0]).astype(int)
    iy = np.floor(pos[:, 1]).astype(int)
    fx = pos[:, 0] - ix
    fy = pos[:, 1] - iy
    for ox, oy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        cx, cy = ix + ox, iy + oy
        ok = (cx >= 0) & (cx < gw) & (cy >= 0) & (cy < gh) & (wt > 0)
        np.add.at(wsum, (cy[ok], cx[ok]), wt[ok])
        np.add.at(s, (cy[ok], cx[ok]), wt[ok, None] * val[ok])
    return s.astype(np.float32), wsum.astype(np.float32)


def push_pull(s: np.ndarray, w: np.ndarray, relax: int = 0) -> np.ndarray:
    """Fill a sparse weighted field everywhere: s = sum of w*v (h, w, c), w = weights (h, w).

    Coarser levels average the samples; on the way back each level keeps its own estimate where it has
    enough weight and takes the smooth upsampled coarser estimate elsewhere. `relax` smoothing steps
    per level (known values held) turn the fill into a membrane between its borders, like a multigrid
    Laplace solve: a thin hole then takes the colours of its two sides, not of a wide coarse average.
    """
    c = s.shape[2]
    levels = [(s, w)]
    while max(s.shape[:2]) > 2:
        h, wd = s.shape[:2]
        nh, nw = max(1, (h + 1) // 2), max(1, (wd + 1) // 2)
        area = (h * wd) / (nh * nw)
        s = cv2.resize(s, (nw, nh), interpolation=cv2.INTER_AREA).reshape(nh, nw, c) * area
        w = cv2.resize(w, (nw, nh), interpolation=cv2.INTER_AREA).reshape(nh, nw) * area
        levels.append((s, w))
    s, w = levels[-1]
    est = np.where(w[..., None] > 0, s / np.maximum(w, 1e-12)[..., None], 0).astype(np.float32)
    for s, w in reversed(levels[:-1]):
        h, wd = w.shape
        up = cv2.resize(est, (wd, h), interpolation=cv2.INTER_LINEAR).reshape(h, wd, c)
        conf = np.clip(2.0 * w, 0.0, 1.0)[..., None]
        own = np.where(w[..., None] > 0, s / np.maximum(w, 1e-12)[..., None], 0)
        est = (own * conf + up * (1.0 - conf)).astype(np.float32)
        if relax:
            held, free = (own * conf).astype(np.float32), (1.0 - conf).astype(np.float32)
            for _ in range(relax):
                est = cv2.blur(est, (3, 3), borderType=cv2.BORDER_REPLICATE).reshape(h, wd, c) * free + held
    return est


def trajectory_velocity(
    points: Sequence[Sequence[float]], speed: float, bbox: BBox, shape: tuple[int, int]
) -> np.ndarray:
    """(h, w, 2) float32 velocity in px/s over `bbox`: the trajectory's local direction times `speed`.

    Built on a coarse grid covering the box and the trajectory (clipped to the image of `shape`), then
    resized to the box; not yet multiplied by the region's alpha.
    """
    pts = as_array(points)
    y0, y1, x0, x1 = bbox
    h, w = shape
    # Domain: the region's box and the part of the trajectory inside the image.
    dx0 = max(0.0, min(x0, float(pts[:, 0].min())))
    dx1 = min(float(w), max(x1, float(pts[:, 0].max()) + 1))
    dy0 = max(0.0, min(y0, float(pts[:, 1].min())))
    dy1 = min(float(h), max(y1, float(pts[:, 1].max()) + 1))
    cell = max(2.0, max(dx1 - dx0, dy1 - dy0) / FIELD_CELLS)
    gw = int(math.ceil((dx1 - dx0) / cell)) + 2
    gh = int(math.ceil((dy1 - dy0) / cell)) + 2
    pos, tan = _samples(pts, cell / 2.0)
    grid_pos = np.stack([(pos[:, 0] - dx0) / cell, (pos[:, 1] - dy0) / cell], axis=1)
    s, wsum = _splat(grid_pos, tan * speed, (gh, gw))
    if not np.any(wsum > 0):
        # The trajectory lies outside the image: the whole region moves in its overall direction.
        total = pts[-1] - pts[0]
        norm = float(np.hypot(*total)) or 1.0
        v = (total / norm * speed).astype(np.float32)
        out = np.empty((y1 - y0, x1 - x0, 2), dtype=np.float32)
        out[...] = v
        return out
    s = cv2.GaussianBlur(s, (0, 0), 1.0)
    wsum = cv2.GaussianBlur(wsum, (0, 0), 1.0)
    field = push_pull(s, wsum)
    field = cv2.GaussianBlur(field, (0, 0), 1.5)
    # Box pixel (i, j) -> grid coordinate ((x0 + i) - dx0) / cell, same for y.
    m = np.array([[1.0 / cell, 0.0, (x0 - dx0) / cell], [0.0, 1.0 / cell, (y0 - dy0) / cell]])
    return cv2.warpAffine(
        field, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    ).reshape(y1 - y0, x1 - x0, 2)


def loop_cycles(max_speed: float, period: float, long_side: float) -> int:
    """Flow-map cycles per loop period: enough that one cycle shifts at most LOOP_MAX_SHIFT of the image,
    but no cycle shorter than MIN_CYCLE_SECONDS.

    Relative to the image size, so a proxy preview and a full-size export animate alike; independent of
    the frame rate, so a clip at 8 fps shows the frames of the 24 fps clip at the same times.
    """
    if max_speed <= 0 or period <= 0:
        return 1
    k = int(math.ceil(max_speed * period / (LOOP_MAX_SHIFT * long_side) - 1e-9))
    k_max = max(1, int(period / MIN_CYCLE_SECONDS + 1e-9))
    return max(1, min(k, k_max))


def flow_reach(max_speed: float, period: float, cycles: int) -> float:
    """Farthest a flow-map phase carries a pixel: the whole cycle at the region's top speed."""
    return max_speed * period / max(1, cycles)


def loop_phase(t: float, period: float, cycles: int) -> tuple[float, float, float]:
    """Two-phase flow map: (phase 0, phase 1, weight of phase 0); the same at t and t + period.

    Each phase's displacement is phase x cycle length x velocity; a phase restarts from zero only while
    its weight is zero, so the jump never shows.
    """
    tt = math.fmod(t, period)
    if tt < 0:
        tt += period
    x = tt * cycles / period
    phi0 = x - math.floor(x)
    phi1 = math.fmod(phi0 + 0.5, 1.0)
    return phi0, phi1, 1.0 - abs(1.0 - 2.0 * phi0)


# ----- ambient: periodic noise --------------------------------------------------------------------
def _ambient_grid(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, float]:
    """Low-resolution noise (4 channels: two 2-D vectors) on cells fixed relative to the image size."""
    h, w = shape
    long_side = max(h, w)
    cell = long_side / AMBIENT_CELLS
    gw = int(math.ceil(round(w / cell, 6))) + 5
    gh = int(math.ceil(round(h / cell, 6))) + 5
    rng = np.random.default_rng(seed)
    return rng.standard_normal((gh, gw, 4)).astype(np.float32), cell


def ambient_noise(bbox: BBox, shape: tuple[int, int], seed: int = AMBIENT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two smooth (h, w, 2) float32 noise fields over `bbox`, the same pattern at any image resolution.

    The displacement at time t is A cos(wt) + B sin(wt): every pixel turns on its own small ellipse and
    neighbours turn in step, which reads as leaves, flames or water shimmering.
    """
    grid, cell = _ambient_grid(shape, seed)
    y0, y1, x0, x1 = bbox
    m = np.array([[1.0 / cell, 0.0, x0 / cell + 2.0], [0.0, 1.0 / cell, y0 / cell + 2.0]])
    noise = cv2.warpAffine(
        grid, m, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101
    ).reshape(y1 - y0, x1 - x0, 4)
    return np.ascontiguousarray(noise[..., :2]), np.ascontiguousarray(noise[..., 2:])


def ambient_amplitude(strength: float, shape: tuple[int, int]) -> float:
    """Displacement amplitude in pixels for a region of the given strength."""
    return AMBIENT_AMPLITUDE * max(shape) * float(strength)


def ambient_phase(t: float, period: float) -> tuple[float, float]:
    """(cos, sin) of the ambient orbit at time t; a whole number of orbits fits the period."""
    orbits = max(1, round(period / AMBIENT_ORBIT_SECONDS))
    a = 2.0 * math.pi * orbits * math.fmod(t, period) / period
    return math.cos(a), math.sin(a)
