"""Shrink a project whose exported image is over Kling's 10 MB: image, masks and trajectories together.

Why a copy: the user keeps the full-resolution project; only what is sent to Kling gets smaller. The label
map is resized by nearest neighbour, so every pixel still belongs to exactly one region (no overlaps, no
new labels), and trajectories are scaled by the same factors as the pixels, so they stay on their regions.

Why a search: the exported size does not follow the pixel count exactly (PNG versus the JPEG fallback,
how well the picture compresses), so the scale is estimated from the size (bytes grow with the area),
checked by encoding, and refined in a few steps.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePath

import cv2
import numpy as np

from ..errors import Cancelled, InvalidError
from ..images import SourceImage, encode_jpeg, encode_png
from ..masks import UNPAINTED
from ..project import Project
from ..trajectory import scale_points
from . import rules
from .kling import FALLBACK_JPEG_QUALITY, export_image_bytes

#: Aim this much under the limit, so that one step usually lands inside it.
SAFETY = 0.97
#: A fitting image this close to the limit is good enough; no further step tries a larger one.
CLOSE_ENOUGH = 0.9
#: Each step shrinks by at least this factor, so the search always ends.
MIN_SHRINK = 0.95
MAX_STEPS = 8
#: A PNG estimated over this multiple of the limit is not encoded while searching (photos: always).
PNG_MARGIN = 1.25
BAND_ROWS = 32


#: The rule a downscaled copy fixes: the exported image is over Kling's 10 MB.
SIZE_RULE = "image-bytes"


def only_too_large(problems: Sequence[rules.Problem]) -> bool:
    """True when there are errors and every one is the image's file size: then `fit_to_kling` can help."""
    errors = [p for p in problems if p.severity == "error"]
    return bool(errors) and all(p.rule == SIZE_RULE for p in errors)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(width, height) of an image of `size` resized by `scale` (at least 1 px each)."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def downscaled(project: Project, scale: float) -> Project:
    """A new project at `scale` (0 < scale <= 1) of the original's size; the original is not touched.

    The image is resized with area averaging and becomes a PNG source; the label map is resized by
    nearest neighbour; trajectories are scaled with the pixels; every setting is copied.
    """
    if not (math.isfinite(scale) and 0 < scale <= 1):
        raise ValueError(f"scale must be in (0, 1], not {scale!r}")
    return _resized(project, scaled_size(project.size, scale))


def _resized_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels.copy()
    return np.ascontiguousarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA))


def _resized_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize (pixel centres, no shift). A label too thin to survive keeps one pixel."""
    if (labels.shape[1], labels.shape[0]) == size:
        return labels.copy()
    small = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST_EXACT)
    before = np.bincount(labels.ravel(), minlength=256)
    after = np.bincount(small.ravel(), minlength=256)
    sx, sy = size[0] / labels.shape[1], size[1] / labels.shape[0]
    for label in np.flatnonzero((before > 0) & (after == 0)):
        if label == UNPAINTED:
            continue
        rows, cols = np.nonzero(labels == label)
        i = len(rows) // 2
        y = min(int(rows[i] * sy), size[1] - 1)
        x = min(int(cols[i] * sx), size[0] - 1)
        small[y, x] = label
    return small


def _resized(
    project: Project, size: tuple[int, int], pixels: np.ndarray | None = None, png: bytes | None = None
) -> Project:
    """The project at `size`; `pixels` and `png` may be passed when already computed for that size."""
    source = project.image
    width, height = project.size
    if pixels is None:
        pixels = _resized_pixels(source.pixels, size)
    image = SourceImage(
        data=encode_png(pixels) if png is None else png,
        name=(PurePath(source.name).stem or "image") + ".png",
        format="PNG",
        pixels=pixels,
        background=source.background,
        notes=list(source.notes),
        exif_orientation=1,
    )
    new = Project(image)
    new.labels = _resized_labels(project.labels, size)
    sx, sy = size[0] / width, size[1] / height
    new.regions = [replace(r, trajectory=scale_points(r.trajectory, sx, sy)) for r in project.regions]
    new.clip = replace(project.clip)
    new.kling = copy.deepcopy(project.kling)
    new.camera = replace(project.camera)
    return new


def _png_too_large(pixels: np.ndarray, limit: int) -> bool:
    """True when a PNG of `pixels` is surely over `limit`, judged from bands of rows spread over the image
    (an eighth of the work). A wrong guess only costs size: the JPEG then measured is never smaller."""
    height = pixels.shape[0]
    if height < 16 * BAND_ROWS:
        return False
    bands = np.concatenate([pixels[y : y + BAND_ROWS] for y in range(0, height, 8 * BAND_ROWS)])
    return bool(len(encode_png(bands)) * height / bands.shape[0] > PNG_MARGIN * limit)


def _export_size(pixels: np.ndarray) -> tuple[int, bytes | None]:
    """Bytes Kling would get for these pixels as a PNG source (the rule of `export_image_bytes`: the PNG if
    it fits, else the JPEG fallback), and the PNG when it was encoded."""
    limit = rules.MAX_IMAGE_BYTES
    png = None if _png_too_large(pixels, limit) else encode_png(pixels)
    if png is not None and len(png) <= limit:
        return len(png), png
    return len(encode_jpeg(pixels, FALLBACK_JPEG_QUALITY)), png


def fit_to_kling(project: Project, *, cancel: threading.Event | None = None) -> tuple[Project, float] | None:
    """A copy of `project` whose exported image fits Kling's 10 MB, and the scale used; None if it fits.

    The scale is the largest found (at most 1: a JPEG too large as it is may fit re-encoded at full size)
    while both sides stay at least 300 px; InvalidError when even that is too large. `cancel` is checked
    between steps (Cancelled).
    """
    limit = rules.MAX_IMAGE_BYTES
    first = len(export_image_bytes(project.image)[0])
    if first <= limit:
        return None
    width, height = project.size
    if min(width, height) < rules.MIN_SIDE:
        raise InvalidError(
            f"the exported image is {_mb(first)} at {width}x{height}; it cannot be downscaled to fit "
            f"{_mb(limit)} because it is already under {rules.MIN_SIDE} px on one side"
        )
    search = _Search(lowest=rules.MIN_SIDE / min(width, height), limit=limit)
    # Scale 1 is known to be too large unless the original JPEG was sent as it is (a re-encode may fit).
    search.measured(1.0, first, known=project.image.format != "JPEG")
    tried: set[tuple[int, int]] = set()
    fitting: tuple[float, np.ndarray, bytes | None] | None = None
    for _ in range(MAX_STEPS):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled; nothing was written")
        scale = search.next_scale()
        if scale is None:
            break
        size = scaled_size(project.size, scale)
        if size in tried:
            break
        tried.add(size)
        pixels = _resized_pixels(project.image.pixels, size)
        nbytes, png = _export_size(pixels)
        search.measured(scale, nbytes)
        if nbytes <= limit:
            fitting = (scale, pixels, png)
            if nbytes >= CLOSE_ENOUGH * limit or scale >= 1.0:
                break
    if fitting is None:
        if search.above is not None and search.above <= search.lowest:
            low_w, low_h = scaled_size(project.size, search.above)
            raise InvalidError(
                f"the exported image is {_mb(first)} at {width}x{height}; even at {low_w}x{low_h} "
                f"({rules.MIN_SIDE} px on the short side, the least Kling accepts) it is {_mb(search.above_bytes)}, "
                f"over Kling's {_mb(limit)}"
            )
        raise InvalidError(f"the exported image is {_mb(first)} at {width}x{height}; no smaller size fits {_mb(limit)}")
    scale, pixels, png = fitting
    fitted = _resized(project, scaled_size(project.size, scale), pixels, png)
    final = len(export_image_bytes(fitted.image)[0])  # the real export decides
    if final > limit:
        raise InvalidError(f"the exported image is {_mb(final)} even at {fitted.size[0]}x{fitted.size[1]}")
    return fitted, scale


class _Search:
    """Which scale to try next: estimated from the last measurement (bytes grow with the area), and kept
    between the largest scale that fits and the smallest that is known to be too large."""

    def __init__(self, lowest: float, limit: int):
        self.lowest, self.limit = lowest, limit
        self.above: float | None = None  # smallest scale known too large
        self.above_bytes = 0
        self.below: float | None = None  # largest scale known to fit
        self.last = (1.0, 0)

    def measured(self, scale: float, nbytes: int, known: bool = True) -> None:
        self.last = (scale, nbytes)
        if not known:
            return
        if nbytes > self.limit:
            if self.above is None or scale < self.above:
                self.above, self.above_bytes = scale, nbytes
        elif self.below is None or scale > self.below:
            self.below = scale

    def next_scale(self) -> float | None:
        """None when nothing is left to try (the bracket is closed, or the lowest scale is too large)."""
        scale, nbytes = self.last
        estimate = min(scale * math.sqrt(self.limit / nbytes) * SAFETY, 1.0)
        if nbytes > self.limit:
            estimate = min(estimate, scale * MIN_SHRINK)  # always progress
        high = 1.0 if self.above is None else self.above
        if self.below is not None:
            if high - self.below < 0.005:
                return None
            # Between the two; scale 1 itself may be tried while it is not known to be too large.
            if estimate <= self.below or (self.above is not None and estimate >= self.above):
                estimate = (self.below + high) / 2
        elif self.above is not None and estimate >= self.above:
            estimate = self.above * MIN_SHRINK
        if estimate < self.lowest:
            if self.above is not None and self.above <= self.lowest:
                return None
            estimate = self.lowest
        return estimate
