"""Kling mode: each moving region's feathered layer is translated by d(t) along its trajectory.

Path regions (objects) uncover a clean plate (the image with them filled from their surroundings at
reduced resolution, refreshed per region when its mask changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import motion
from ..project import MotionKind
from .scene import RegionSpec, Scene
from .textures import RegionGeometry, RegionTexture, _Textures

BBox = motion.BBox

#: Long side of the clean plate's fill (its cost grows with the hole's pixel count).
PLATE_LONG_SIDE = 480
#: Context the plate's fill reads around a hole, and how far in (plate pixels) it mirrors the grain
#: of the surroundings before fading to a smooth fill.
PLATE_CONTEXT = 14
PLATE_MIRROR_KEEP = 4.0
PLATE_MIRROR_FADE = 12.0


@dataclass(eq=False)
class KlingLayer:
    """A region's kling-mode layer: its pixels and alpha on its box, mirrored past the image border
    where the region touches it, so a region sliding in from the edge brings more of its own texture
    (sky, water) instead of uncovering the clean plate there.

    Flow and ambient regions are stuff (water, sky, foliage) rather than objects: what they uncover
    is more of themselves. They keep `texture` (their RegionTexture, reaching past the region as far
    as it travels); their whole `footprint` shows it translated, so they never uncover a plate
    (inpainted from the mountains or a tree beside them), and their layer pixels come from it too (but
    for the nearly transparent rim), so their anti-aliased rim never travels as a ghost outline.
    """

    key: tuple
    box: BBox  # in image pixels; extends past the image on mirrored sides
    pixels: np.ndarray
    alpha: np.ndarray
    texture: RegionTexture | None = None
    footprint: np.ndarray | None = None  # uint8 0/1 on the region's bbox


def _is_stuff(spec: RegionSpec) -> bool:
    """Flow and ambient regions are stuff (water, sky, foliage); path regions are objects."""
    return spec.kind != MotionKind.PATH


def _layer_key(scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> tuple:
    """Geometry, how far the region travels each way (top, bottom, left, right: stuff regions only, the
    reach of their texture), then how far to mirror past each image border the region touches: as far
    as the trajectory carries the region inward from that border."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    pts = np.asarray(spec.trajectory, dtype=np.float64)
    off = (pts - pts[0]) * spec.strength  # the path is piecewise linear: its extremes are at the points

    def reach(v: float) -> int:
        return int(math.ceil(v)) + 1 if v > 0 else 0

    reaches = (reach(off[:, 1].max()), reach(-off[:, 1].min()), reach(off[:, 0].max()), reach(-off[:, 0].min()))
    pads = tuple(r if edge else 0 for r, edge in zip(reaches, (y0 == 0, y1 == h, x0 == 0, x1 == w)))
    return (geom.key, reaches if _is_stuff(spec) else None, *pads)


def _kling_layer(scene: Scene, spec: RegionSpec, geom: RegionGeometry, key: tuple, textures: _Textures) -> KlingLayer:
    top, bottom, left, right = key[-4:]
    reaches = key[-5]
    y0, y1, x0, x1 = geom.bbox
    box = (y0 - top, y1 + bottom, x0 - left, x1 + right)
    alpha = geom.alpha
    if top or bottom or left or right:
        alpha = cv2.copyMakeBorder(alpha, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    if reaches is None:
        pixels = scene.pixels[y0:y1, x0:x1]
        if top or bottom or left or right:
            pixels = cv2.copyMakeBorder(pixels, top, bottom, left, right, cv2.BORDER_REFLECT_101)
        return KlingLayer(key, box, pixels, alpha)
    # Stuff: the texture covers every point the footprint looks back to (x - d for every offset d).
    tex = textures.get(scene, spec.label, geom, reaches)
    mt, _, ml, _ = tex.margins
    bh, bw = y1 - y0, x1 - x0
    # The layer keeps the source on its rim, where its alpha is nearly zero: the footprint already shows
    # the texture there once the region moves, and the first frame stays exactly the source.
    pixels = tex.pixels[mt - top : mt + bh + bottom, ml - left : ml + bw + right].copy()
    cv2.copyTo(scene.pixels[y0:y1, x0:x1], tex.rim, pixels[top : top + bh, left : left + bw])
    return KlingLayer(key, box, pixels, alpha, tex, geom.mask.astype(np.uint8))


def _draw_footprint(
    out: np.ndarray, source: np.ndarray, bbox: BBox, layer: KlingLayer, dx: float, dy: float, reveal: float
) -> None:
    """A stuff region's own area shows its texture translated by (dx, dy). The rim (refilled in the
    texture) turns from the source into the texture over the first feather-width of travel, so the
    first frame is exactly the source."""
    tex = layer.texture
    assert tex is not None and layer.footprint is not None
    y0, y1, x0, x1 = bbox
    mt, _, ml, _ = tex.margins
    m = np.array([[1.0, 0.0, ml - dx], [0.0, 1.0, mt - dy]])
    warped = cv2.warpAffine(
        tex.pixels,
        m,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if reveal < 1.0:
        mix = cv2.addWeighted(source[y0:y1, x0:x1], 1.0 - reveal, warped, reveal, 0.0)
        cv2.copyTo(mix, tex.rim, warped)
    cv2.copyTo(warped, layer.footprint, out[y0:y1, x0:x1])


class _Plate:
    """The clean plate: the image with every moving path region filled from its surroundings (kling mode).

    Refreshed per region: a changed region's box is restored from the original and only its own hole
    is inpainted again, at reduced resolution, with the other regions' fills as known context.
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.base: tuple | None = None
        self.holes: dict[int, tuple[tuple, BBox]] = {}
        self.fills = 0  # inpaintings done, for cache_info()

    def update(self, scene: Scene, moving: dict[int, tuple[tuple, BBox]]) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base or self.image is None:
            self.image = scene.pixels.copy()
            self.base = base
            self.holes = {}
        changed = [lab for lab in set(self.holes) | set(moving) if self.holes.get(lab) != moving.get(lab)]
        if not changed:
            return
        hole_labels = np.array(sorted(moving), dtype=np.uint8)
        h, w = scene.labels.shape
        ps = min(1.0, PLATE_LONG_SIDE / max(h, w))
        margin = int(math.ceil(PLATE_CONTEXT / ps)) + 2
        for lab in changed:
            boxes = [entry[1] for entry in (self.holes.get(lab), moving.get(lab)) if entry is not None]
            box = motion.expand_bbox(motion.union_bbox(boxes), margin, (h, w))
            y0, y1, x0, x1 = box
            lab_crop = scene.labels[y0:y1, x0:x1]
            crop = self.image[y0:y1, x0:x1]
            known = ~np.isin(lab_crop, hole_labels) if len(hole_labels) else np.ones(lab_crop.shape, bool)
            cv2.copyTo(scene.pixels[y0:y1, x0:x1], known.astype(np.uint8), crop)
            refill = [c for c in changed if c in moving]
            if lab in moving:
                self.fills += 1
                # Every changed hole in the box is unknown (one not refilled yet holds stale pixels).
                self._fill(crop, np.isin(lab_crop, np.array(refill, dtype=np.uint8)), ps)
        self.holes = dict(moving)

    @staticmethod
    def _fill(crop: np.ndarray, hole: np.ndarray, ps: float) -> None:
        ch, cw = hole.shape
        if not hole.any():
            return
        ps = min(1.0, max(ps, 12.0 / max(1, min(ch, cw))))
        sw, sh = max(1, round(cw * ps)), max(1, round(ch * ps))
        small = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA)
        hole_u8 = hole.astype(np.uint8) * 255
        small_hole = (cv2.resize(hole_u8, (sw, sh), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        if small_hole.all():
            # Nothing around to inpaint from: a heavy blur of what was there is the best guess.
            crop[...] = cv2.GaussianBlur(crop, (0, 0), max(ch, cw) / 8.0)
            return
        # The surroundings mirrored into the hole near its edge, a smooth push-pull fill deeper in: no
        # radial streaks (as cv2.inpaint leaves), and the grain continues up to the edge.
        filled = motion.extend_texture(small, small_hole == 0, PLATE_MIRROR_KEEP, PLATE_MIRROR_FADE)
        up = cv2.resize(filled, (cw, ch), interpolation=cv2.INTER_LINEAR)
        cv2.copyTo(up, hole_u8, crop)


def _composite(out: np.ndarray, layer: KlingLayer, dx: float, dy: float) -> None:
    """Draw a feathered layer translated by (dx, dy) over `out` (only the box it lands on is touched)."""
    h, w = out.shape[:2]
    y0, y1, x0, x1 = layer.box
    dx0, dy0 = math.floor(x0 + dx), math.floor(y0 + dy)
    dx1, dy1 = math.floor(x1 - 1 + dx) + 2, math.floor(y1 - 1 + dy) + 2
    cx0, cy0, cx1, cy1 = max(dx0, 0), max(dy0, 0), min(dx1, w), min(dy1, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    size = (cx1 - cx0, cy1 - cy0)
    # Destination pixel (j, i) of the clipped box shows layer pixel (cx0 + j - dx - x0, cy0 + i - dy - y0).
    m = np.array([[1.0, 0.0, cx0 - dx - x0], [0.0, 1.0, cy0 - dy - y0]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    alpha = cv2.warpAffine(layer.alpha, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    pixels = cv2.warpAffine(layer.pixels, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    dst = out[cy0:cy1, cx0:cx1]
    cv2.blendLinear(pixels, dst, alpha, 1.0 - alpha, dst=dst)
