"""Masks as one label map: painting, erasing, undo atoms and feathering.

All masks of a project live in a single uint8 array the size of the image: 0 is unpainted, 1..254 a
dynamic region's label, 255 the static mask. That makes "a pixel belongs to one region at most" true by
construction (the newest paint wins) and keeps memory at one byte a pixel whatever the region count.

Every edit works on the bounding box of the stroke only, so a dab costs the same on a 50 MP photo as on
a thumbnail, and an undo atom holds just that box before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

UNPAINTED = 0
STATIC = 255

BBox = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open)


@dataclass(frozen=True)
class MaskEdit:
    """An undo atom: the label map's box before and after one stroke."""

    bbox: BBox
    before: np.ndarray
    after: np.ndarray

    def apply(self, labels: np.ndarray) -> None:
        y0, y1, x0, x1 = self.bbox
        labels[y0:y1, x0:x1] = self.after

    def revert(self, labels: np.ndarray) -> None:
        y0, y1, x0, x1 = self.bbox
        labels[y0:y1, x0:x1] = self.before

    @property
    def touched_labels(self) -> set[int]:
        """Labels whose pixels this edit changes (to know which caches to drop)."""
        changed = self.before != self.after
        return set(np.unique(self.before[changed]).tolist()) | set(np.unique(self.after[changed]).tolist())

    @property
    def is_empty(self) -> bool:
        return not np.any(self.before != self.after)


def stroke_bbox(points: Sequence[Sequence[float]], radius: float, shape: tuple[int, int]) -> BBox | None:
    """Pixel box covering every dab of the stroke, clipped to the image; None if entirely outside."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return None
    r = int(np.ceil(radius)) + 1
    h, w = shape
    x0 = max(int(np.floor(pts[:, 0].min())) - r, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + r + 1, w)
    y0 = max(int(np.floor(pts[:, 1].min())) - r, 0)
    y1 = min(int(np.ceil(pts[:, 1].max())) + r + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return y0, y1, x0, x1


def stroke_footprint(points: Sequence[Sequence[float]], radius: float, bbox: BBox) -> np.ndarray:
    """Boolean coverage of round dabs joined by thick lines, in the box's own coordinates."""
    y0, y1, x0, x1 = bbox
    stamp = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shift = 4  # sub-pixel precision for cv2 drawing
    scale = 1 << shift
    pts = [
        (int(round((x - x0) * scale)), int(round((y - y0) * scale)))
        for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ]
    rad = max(int(round(radius * scale)), 0)
    for p in pts:
        cv2.circle(stamp, p, rad, 1, thickness=-1, lineType=cv2.LINE_8, shift=shift)
    if len(pts) > 1 and radius >= 0.5:
        thick = max(int(round(2 * radius)), 1)
        for a, b in zip(pts[:-1], pts[1:]):
            cv2.line(stamp, a, b, 1, thickness=thick, lineType=cv2.LINE_8, shift=shift)
    return stamp.astype(bool)


def paint(
    labels: np.ndarray, points: Sequence[Sequence[float]], radius: float, label: int
) -> MaskEdit | None:
    """Paint `label` under the stroke; it replaces whatever was there (the newest paint wins)."""
    return _stroke(labels, points, radius, label, only=None)


def erase(
    labels: np.ndarray, points: Sequence[Sequence[float]], radius: float, label: int | None = None
) -> MaskEdit | None:
    """Clear `label` under the stroke (or every label when `label` is None)."""
    return _stroke(labels, points, radius, UNPAINTED, only=label)


def _stroke(
    labels: np.ndarray, points: Sequence[Sequence[float]], radius: float, value: int, only: int | None
) -> MaskEdit | None:
    """Write `value` under the stroke (where the label is `only`, if given), within the stroke's box."""
    bbox = stroke_bbox(points, radius, labels.shape)
    if bbox is None:
        return None
    y0, y1, x0, x1 = bbox
    before = labels[y0:y1, x0:x1].copy()
    after = before.copy()
    hit = stroke_footprint(points, radius, bbox)
    if only is not None:
        hit &= before == only
    after[hit] = value
    edit = MaskEdit(bbox, before, after)
    edit.apply(labels)
    return edit


def replace_label(labels: np.ndarray, mask: np.ndarray, label: int) -> MaskEdit | None:
    """Set `label` exactly where `mask` is true and clear it elsewhere (import, fill, smart select)."""
    mask = np.asarray(mask).astype(bool)
    if mask.shape != labels.shape:
        raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {labels.shape[1]}x{labels.shape[0]}")
    region = (labels == label) | mask
    bbox = bbox_of(region)
    if bbox is None:
        return None
    y0, y1, x0, x1 = bbox
    before = labels[y0:y1, x0:x1].copy()
    after = before.copy()
    after[before == label] = UNPAINTED
    after[mask[y0:y1, x0:x1]] = label
    edit = MaskEdit(bbox, before, after)
    edit.apply(labels)
    return edit


def bbox_of(mask: np.ndarray) -> BBox | None:
    """Smallest box holding every true pixel, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def to_png_mask(mask: np.ndarray) -> np.ndarray:
    """Boolean mask to the exported form: uint8, 255 inside, 0 outside."""
    return np.where(mask, np.uint8(255), np.uint8(0))


def from_png_mask(arr: np.ndarray) -> np.ndarray:
    """A mask image (any channels, any 8-bit values) to boolean: painted where bright (>= 128)."""
    if arr.ndim == 3:
        arr = arr[..., :3].max(axis=2) if arr.shape[2] >= 3 else arr[..., 0]
    return arr >= 128


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soft float32 alpha in [0, 1]: 1 deep inside, ramping to 0 at the edge over `radius` pixels.

    A distance-transform ramp (not a blur) so the alpha never leaks outside the painted area: content
    outside a region is never dragged along with it.
    """
    m = np.asarray(mask).astype(np.uint8)
    if radius <= 0 or not m.any():
        return m.astype(np.float32)
    dist = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    out: np.ndarray = np.clip(dist / float(radius), 0.0, 1.0).astype(np.float32)
    return out


def merge_edits(labels: np.ndarray, edits: Sequence[MaskEdit]) -> MaskEdit | None:
    """One MaskEdit equal to applying `edits` in order, already applied to `labels`.

    The box is the union of the edits' boxes. `after` is the label map now; `before` is rebuilt by
    reverting the edits newest first, so overlapping dabs come back exactly. No emptiness check over
    the union: the dabs of one stroke all paint (or all erase) and each one changed something, so the
    merged edit does too, and comparing a whole-image box would cost more than the stroke.
    """
    if not edits:
        return None
    y0 = min(e.bbox[0] for e in edits)
    y1 = max(e.bbox[1] for e in edits)
    x0 = min(e.bbox[2] for e in edits)
    x1 = max(e.bbox[3] for e in edits)
    after = labels[y0:y1, x0:x1].copy()
    before = after.copy()
    for e in reversed(edits):
        ey0, ey1, ex0, ex1 = e.bbox
        before[ey0 - y0 : ey1 - y0, ex0 - x0 : ex1 - x0] = e.before
    return MaskEdit((y0, y1, x0, x1), before, after)
