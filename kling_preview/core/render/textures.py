"""Per-region geometry and textures, shared by every mode.

Region textures: every moving region is drawn from its own texture (motion.region_texture: its pixels,
continued past its edge from its interior only), never from the image, so no frame of a region shows
the static mask, unpainted pixels or another region, however far its motion samples. A texture depends
on its region's mask only: trajectory edits and mode switches reuse it while it reaches far enough.

Past the image border (why not a mirror): a flow samples its texture upstream of each pixel, so where
a region touches the border (a sky at the top, water entering at the left) it samples past it. A
texture mirrored there (BORDER_REFLECT_101) streams a reflection of the border rows into the frame, a
Rorschach pattern, and counted as real pixels it won every phase blend. So what lies past the border is
continued like the region's texture, not reflected (the colours along the border as a smooth membrane,
with the detail of the strip along the border translated outwards: motion.continue_past_border), and
it is not trusted beyond TRUST_PAST_BORDER, so
at export quality a phase sampling far past the border gives way to one with real pixels, or to the
still pixel. (Why trusted a little past it: the border is no edge of the region, so the real pixels
next to it must not be doubted, which a validity ramp starting at the border would do.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import motion
from .scene import CacheKey, Scene

BBox = motion.BBox

#: Soft validity (export-quality loops, render/loop.py): a sample point counts fully once this far
#: (fraction of the long side, at least 1 px) inside the region's trusted interior.
VALID_RAMP = 0.02
#: How far the trusted interior reaches past the image border (fraction of the long side): the validity
#: ramp's width, so a sample point just inside the border counts fully and the continuation past it
#: fades out over this width.
TRUST_PAST_BORDER = VALID_RAMP


@dataclass(eq=False)
class RegionGeometry:
    """A region's bounding box, mask and feathered alpha (float32) on that box."""

    key: CacheKey
    bbox: BBox
    mask: np.ndarray
    alpha: np.ndarray


@dataclass(eq=False)
class RegionTexture:
    """A region's own texture (motion.region_texture) on its bbox grown by `margins` (top, bottom, left,
    right), continued past the image border (not mirrored), and its `rim`: the region's pixels on the
    bbox that were refilled (outside its trusted interior), and `trusted` (uint8 0/1 on the whole
    texture): where it holds the region's own pixels rather than a continuation (past the image border
    only within TRUST_PAST_BORDER of it); a loop at export quality never shows a continuation (the fill
    under a static post, what lies far past the border) where real pixels can be had.

    Depends on the region's mask only, so a trajectory edit or a switch of mode reuses it as long as it
    reaches far enough; every moving region samples its own, so none shows what borders it.
    """

    key: CacheKey
    margins: tuple[int, int, int, int]
    pixels: np.ndarray
    rim: np.ndarray  # uint8 0/1 on the bbox
    trusted: np.ndarray | None = None

    def covers(self, key: CacheKey, margins: tuple[int, int, int, int]) -> bool:
        return self.key == key and all(have >= need for have, need in zip(self.margins, margins))


def _region_texture(scene: Scene, label: int, geom: RegionGeometry, margins: tuple[int, ...]) -> RegionTexture:
    """The region's texture on its box grown by `margins`; what lies past the image border is continued,
    not mirrored, and trusted only within TRUST_PAST_BORDER of it (see the module docstring)."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    top, bottom, left, right = margins
    cy0, cy1, cx0, cx1 = max(y0 - top, 0), min(y1 + bottom, h), max(x0 - left, 0), min(x1 + right, w)
    past = (cy0 - (y0 - top), y1 + bottom - cy1, cx0 - (x0 - left), x1 + right - cx1)
    texture, inside = motion.region_texture(
        scene.pixels[cy0:cy1, cx0:cx1], scene.labels[cy0:cy1, cx0:cx1] == label, max(h, w), past
    )
    rim = (geom.mask & ~inside[top : top + y1 - y0, left : left + x1 - x0]).astype(np.uint8)
    return RegionTexture(geom.key[:-1], (top, bottom, left, right), texture, rim, _trusted(inside, past, max(h, w)))


def _trusted(inside: np.ndarray, past: tuple[int, int, int, int], long_side: int) -> np.ndarray:
    """uint8 0/1: the trusted interior, reaching TRUST_PAST_BORDER past the image border where it meets it
    (the border is no edge of the region, so the real pixels next to it are not doubted), none further."""
    trusted = np.zeros(inside.shape, np.uint8)
    top, bottom, left, right = past
    h, w = inside.shape
    frame = inside[top : h - bottom, left : w - right].astype(np.uint8)
    reach = int(math.ceil(TRUST_PAST_BORDER * long_side))
    gt, gb, gl, gr = (min(p, reach) for p in past)
    if gt or gb or gl or gr:
        frame = np.asarray(cv2.copyMakeBorder(frame, gt, gb, gl, gr, cv2.BORDER_REPLICATE), np.uint8)
    trusted[top - gt : h - bottom + gb, left - gl : w - right + gr] = frame
    return trusted


class _Textures:
    """Region textures by label, kept across updates while the mask is unchanged and they reach far enough
    (a new one reaches a quarter further than asked, so small trajectory edits reuse it)."""

    def __init__(self) -> None:
        self.items: dict[int, RegionTexture] = {}
        self.builds = 0

    def get(self, scene: Scene, label: int, geom: RegionGeometry, margins: tuple[int, int, int, int]) -> RegionTexture:
        key = geom.key[:-1]  # the feather does not change the texture
        have = self.items.get(label)
        if have is not None and have.covers(key, margins):
            return have
        self.builds += 1
        tex = _region_texture(scene, label, geom, tuple(m + m // 4 + 4 for m in margins))
        self.items[label] = tex
        return tex

    def retain(self, labels: set[int]) -> None:
        self.items = {lab: tex for lab, tex in self.items.items() if lab in labels}
