"""Kling mode: each moving object (path region) has a feathered layer translated by d(t) along its
trajectory, over a clean plate: the image with every moving object filled with texture of its
surroundings (plate.fill_hole), refreshed per region when its mask changes. Flow and ambient regions
(stuff: water, sky) are not layers: their texture flows along their own field (loop.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import motion, object_layer, plate
from ..project import MotionKind
from .scene import CacheKey, RegionSpec, Scene
from .textures import RegionGeometry

BBox = motion.BBox

#: Surroundings the clean plate's fill copies texture from: a ring this fraction of the hole's size
#: around its box, plus PLATE_CONTEXT pixels at the plate's match size.
PLATE_RING = 0.75
PLATE_CONTEXT = 8


@dataclass(eq=False)
class KlingLayer:
    """An object's kling-mode layer: its pixels and alpha on its box, continued past the image border
    where the region touches it, so a region sliding in from the edge brings more of itself instead of
    uncovering the clean plate there. Past the border its outline runs straight on (the alpha of the
    border row) and its pixels are its texture continued like a flowing region's (motion.region_texture),
    not mirrored: a mirror image of the object's edge rows reads as a Rorschach pattern. Holes a still
    region cuts into the object are filled (object_layer) and fade in with travel.
    """

    key: CacheKey
    box: BBox  # in image pixels; extends past the image where the region continues past it
    pixels: np.ndarray
    alpha: np.ndarray
    holes: np.ndarray | None = None  # alpha of filled holes (object_layer), fading in over `reveal` px
    reveal: float = 1.0


def _is_stuff(spec: RegionSpec) -> bool:
    """Flow and ambient regions are stuff (water, sky, foliage); path regions are objects."""
    return spec.kind != MotionKind.PATH


def _layer_key(scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> CacheKey:
    """Geometry, which regions move, then how far to continue past each image border the region touches
    (top, bottom, left, right): as far as the trajectory carries the region inward from that border."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    pts = np.asarray(spec.trajectory, dtype=np.float64)
    off = (pts - pts[0]) * spec.strength  # the path is piecewise linear: its extremes are at the points

    def reach(v: float) -> int:
        return int(math.ceil(v)) + 1 if v > 0 else 0

    reaches = (reach(off[:, 1].max()), reach(-off[:, 1].min()), reach(off[:, 0].max()), reach(-off[:, 0].min()))
    pads = tuple(r if edge else 0 for r, edge in zip(reaches, (y0 == 0, y1 == h, x0 == 0, x1 == w)))
    # An object's holes are filled where a still region cuts them: which regions move is part of the key.
    moving = tuple(r.label for r in scene.regions if r.visible and motion.path_moves(r.trajectory, r.strength))
    return (geom.key, moving, *pads)


def _kling_layer(scene: Scene, spec: RegionSpec, geom: RegionGeometry, key: CacheKey) -> KlingLayer:
    """An object's layer: holes cut by a still region filled, a smooth feather in proportion to the image."""
    top, bottom, left, right = key[-4:]
    y0, y1, x0, x1 = geom.bbox
    box = (y0 - top, y1 + bottom, x0 - left, x1 + right)
    h, w = scene.labels.shape
    crop, sides = (slice(y0, y1), slice(x0, x1)), (y0 == 0, y1 == h, x0 == 0, x1 == w)
    src, labels = scene.pixels[crop], scene.labels[crop]
    obj = object_layer.build(src, labels, geom.mask, key[1], spec.feather, sides, max(h, w))
    pixels, alpha, holes = obj.pixels, obj.alpha, obj.holes
    if top or bottom or left or right:
        inside = geom.mask if holes is None else geom.mask | (holes > 0)
        texture, _ = motion.region_texture(pixels, inside, max(h, w), (top, bottom, left, right))
        texture[top : top + y1 - y0, left : left + x1 - x0] = pixels
        pad = (top, bottom, left, right, cv2.BORDER_REPLICATE)
        pixels, alpha = texture, cv2.copyMakeBorder(alpha, *pad)
        holes = None if holes is None else cv2.copyMakeBorder(holes, *pad)
    return KlingLayer(key, box, pixels, alpha, holes=holes, reveal=obj.feather)


class _Plate:
    """The clean plate: the image with every moving path region filled with texture of its surroundings
    (plate.fill_hole; kling mode).

    Each hole is filled on its own box grown by a ring of surroundings, from pixels that are in no hole,
    so its fill depends on that box of the image and the hole masks only: refreshing one region gives the
    plate a fresh render would. A hole is refilled when its mask changes or when the pixels some other
    hole gained or lost lie in its surroundings; pixels a hole lost are restored from the original.
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.base: CacheKey | None = None
        self.holes: dict[int, tuple[CacheKey, BBox]] = {}
        self.masks: dict[int, tuple[BBox, np.ndarray]] = {}  # each hole's mask on its box
        self.fills = 0  # holes filled, for cache_info()

    def update(self, scene: Scene, moving: dict[int, tuple[CacheKey, BBox]]) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base or self.image is None:
            self.image = scene.pixels.copy()
            self.base = base
            self.holes, self.masks = {}, {}
        changed = [lab for lab in set(self.holes) | set(moving) if self.holes.get(lab) != moving.get(lab)]
        if not changed:
            return
        hole_labels = np.array(sorted(moving), dtype=np.uint8)
        h, w = scene.labels.shape
        scale = plate.match_scale(max(h, w))
        touched: list[BBox] = []  # boxes of the pixels that joined or left a hole
        for lab in changed:
            new = None
            if lab in moving:
                y0, y1, x0, x1 = moving[lab][1]
                new = (moving[lab][1], scene.labels[y0:y1, x0:x1] == lab)
            diff = plate.changed_box(self.masks.get(lab), new)
            if new is None:
                self.masks.pop(lab, None)
            else:
                self.masks[lab] = new
            if diff is not None:
                touched.append(diff)
        for y0, y1, x0, x1 in touched:
            known = ~np.isin(scene.labels[y0:y1, x0:x1], hole_labels)
            cv2.copyTo(scene.pixels[y0:y1, x0:x1], known.astype(np.uint8), self.image[y0:y1, x0:x1])
        for lab in sorted(moving):
            box = self._context(moving[lab][1], scale, (h, w))
            if not any(plate.overlaps(box, t) for t in touched):
                continue
            self.fills += 1
            y0, y1, x0, x1 = box
            labels = scene.labels[y0:y1, x0:x1]
            hole = labels == lab
            filled = plate.fill_hole(scene.pixels[y0:y1, x0:x1], hole, ~np.isin(labels, hole_labels), scale)
            cv2.copyTo(filled, hole.astype(np.uint8), self.image[y0:y1, x0:x1])
        self.holes = dict(moving)

    @staticmethod
    def _context(bbox: BBox, scale: float, shape: tuple[int, int]) -> BBox:
        """A hole's box grown by the ring of surroundings its fill copies from."""
        y0, y1, x0, x1 = bbox
        margin = int(math.ceil(PLATE_RING * max(y1 - y0, x1 - x0) + PLATE_CONTEXT / scale))
        return motion.expand_bbox(bbox, margin, shape)


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
    alpha = layer.alpha
    if layer.holes is not None:
        # Filled holes fade in over the first feather-width of travel: the first frame is the source.
        alpha = cv2.scaleAdd(layer.holes, min(1.0, math.hypot(dx, dy) / max(layer.reveal, 1.0)), alpha)
    alpha = cv2.warpAffine(alpha, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    pixels = cv2.warpAffine(layer.pixels, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    dst = out[cy0:cy1, cx0:cx1]
    cv2.blendLinear(pixels, dst, alpha, 1.0 - alpha, dst=dst)
