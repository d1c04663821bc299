"""Soft edges of a kling-mode object layer (a path region translated over the clean plate).

Why a feather in proportion to the image: the user's feather is in image pixels, and 8 px on a 4000 px
photo (2 px on its 960 px preview) cuts the object out like a sticker. The layer's feather is at least
FEATHER_FRACTION of the long side, so a preview and its full-size export look alike.

Why a smooth ramp: a linear ramp of the distance to the edge shows its start and end as faint lines
(Mach bands); a smoothstep of it does not. Thin things crossing the edge (grass, a tower) then fade out
over the ramp instead of being cut.

Why holes are filled: a region with a hole cut by the static mask or by a still region would carry that
hole along as a window onto the plate, a flat shape travelling with the object. The hole is filled with
the region's own texture (plate.fill_hole, from the region's pixels only) and made opaque, fading in over
the first feather-width of travel, so the first frame is still the source; the cutter stays where it is
(the static mask is drawn last, a still region is part of the plate).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import plate
from .masks import UNPAINTED

#: The narrowest feather of an object layer, as a fraction of the image's long side.
FEATHER_FRACTION = 0.008


def feather_radius(user: float, long_side: int) -> float:
    """The feather of an object layer in pixels: the user's, but at least FEATHER_FRACTION of the image."""
    return max(float(user), FEATHER_FRACTION * long_side)


def soft_alpha(mask: np.ndarray, radius: float, open_sides: tuple[bool, bool, bool, bool]) -> np.ndarray:
    """float32 alpha of `mask` (bool, on its box): 0 at its edge, rising smoothly to 1 at `radius` px in.

    `open_sides` (top, bottom, left, right) are box sides on the image border: the region continues
    beyond them, so it is not faded there.
    """
    m = np.asarray(mask, bool).astype(np.uint8)
    if radius <= 0 or not m.any():
        return m.astype(np.float32)
    top, bottom, left, right = (int(s) for s in open_sides)
    padded = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    # An open side continues the mask past the box, so the distance there is not cut short.
    if top:
        padded[0, 1:-1] = m[0]
    if bottom:
        padded[-1, 1:-1] = m[-1]
    if left:
        padded[1:-1, 0] = m[:, 0]
    if right:
        padded[1:-1, -1] = m[:, -1]
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    x = np.clip(dist / float(radius), 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), np.float32)


@dataclass(frozen=True, eq=False)
class ObjectLayer:
    """An object's layer on its box: pixels, alpha (0 outside the region), alpha of its filled holes
    (None without any) and the feather width in pixels."""

    pixels: np.ndarray
    alpha: np.ndarray
    holes: np.ndarray | None
    feather: float


def build(
    pixels: np.ndarray,
    labels: np.ndarray,
    mask: np.ndarray,
    moving: tuple[int, ...],
    feather: float,
    open_sides: tuple[bool, bool, bool, bool],
    long_side: int,
) -> ObjectLayer:
    """The layer of an object whose `mask` (bool) lies on a box of an image's `pixels` and `labels`.

    `moving`: labels of the regions that move (their cut-outs stay holes: they draw themselves);
    `feather`: the user's, in pixels of this image; `open_sides`: see soft_alpha; `long_side`: the
    image's, which sets the feather's least width and the hole fill's match size.
    """
    cutters = (labels != UNPAINTED) & ~np.isin(labels, np.array(moving, dtype=labels.dtype))
    holes = plate.enclosed(mask, only=cutters)
    radius = feather_radius(feather, long_side)
    has_holes = bool(holes.any())
    if has_holes:
        pixels = plate.fill_hole(pixels, holes, mask, plate.match_scale(long_side))
    alpha = soft_alpha(mask | holes, radius, open_sides)
    hole_alpha = alpha * holes if has_holes else None
    return ObjectLayer(pixels, alpha * mask, hole_alpha, radius)
