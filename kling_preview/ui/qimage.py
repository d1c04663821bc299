"""numpy <-> QImage helpers and the display proxies the canvas paints.

Why proxies: Qt refuses (or misbehaves with) images over its 256 MB allocation limit and over 32767 px
a side, and painting a 50 MP photo every frame is slow. The canvas therefore never shows the full image:
it shows a proxy whose long side is at most 8192 px and whose RGB32 form stays well under the limit,
plus a pyramid of halved copies for zoomed-out views. The label map is shown through an Indexed8 image
of the same proxy size with a colour lookup table, so changing a region's colour or visibility costs a
256-entry table, and a brush stroke refreshes only the proxy rows and columns its box covers. The project's
masks always stay full resolution; the view transform maps proxy pixels back onto image pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtGui import QImage

#: Longest proxy side (Qt paints up to 32767 px a side; 8192 keeps textures and memory sane).
MAX_PROXY_SIDE = 8192
#: Most proxy pixels: 4 bytes each in RGB32 is 128 MB, half Qt's 256 MB allocation limit.
MAX_PROXY_PIXELS = 32_000_000
#: Qt's limits, checked before any QImage is allocated.
QT_MAX_SIDE = 32767
QT_MAX_BYTES = 256 * 1024 * 1024
#: The pyramid stops halving below this long side.
MIN_LEVEL_SIDE = 1024

BBox = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open), image pixels


def proxy_scale(width: int, height: int, max_side: int = MAX_PROXY_SIDE, max_pixels: int = MAX_PROXY_PIXELS) -> float:
    """Scale (<= 1) that brings an image within the proxy limits."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} is empty")
    scale = min(1.0, max_side / max(width, height), math.sqrt(max_pixels / (width * height)))
    return scale


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def check_qimage_size(width: int, height: int, bytes_per_pixel: int) -> None:
    """Refuse sizes Qt cannot hold, with a clear message instead of Qt's misleading one."""
    if width > QT_MAX_SIDE or height > QT_MAX_SIDE:
        raise ValueError(f"{width}x{height} is over Qt's limit of {QT_MAX_SIDE} px a side")
    if width * height * bytes_per_pixel > QT_MAX_BYTES:
        raise ValueError(f"{width}x{height} needs more than Qt's {QT_MAX_BYTES // 2**20} MB image limit")


def rgb_to_qimage(pixels: np.ndarray) -> QImage:
    """HxWx3 uint8 RGB to a Qt-owned RGB32 QImage (the fastest format to paint)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError("expected an HxWx3 uint8 RGB array")
    h, w = pixels.shape[:2]
    check_qimage_size(w, h, 4)
    arr = np.ascontiguousarray(pixels)
    view = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return view.convertToFormat(QImage.Format.Format_RGB32)  # a copy Qt owns: `arr` may go


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Any QImage to an HxWx3 uint8 RGB array (a copy)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    arr = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return arr[:, : 3 * w].reshape(h, w, 3).copy()


def resize_area(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale with area averaging (no aliasing); `size` is (width, height)."""
    h, w = pixels.shape[:2]
    if (w, h) == size:
        return pixels
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


class ImagePyramid:
    """The still at display resolution: level 0 is the proxy, each next level half as large.

    `level_for(view_scale)` picks the smallest level that still has at least one texel per screen pixel,
    so a zoomed-out view of a big photo paints a small image instead of sampling a huge one.
    """

    def __init__(self, pixels: np.ndarray):
        h, w = pixels.shape[:2]
        self.width, self.height = w, h
        scale = proxy_scale(w, h)
        size = scaled_size(w, h, scale)
        level = resize_area(pixels, size)
        self.levels: list[tuple[float, float, QImage]] = []
        while True:
            lh, lw = level.shape[:2]
            self.levels.append((lw / w, lh / h, rgb_to_qimage(level)))
            if max(lw, lh) <= MIN_LEVEL_SIDE:
                break
            level = resize_area(level, ((lw + 1) // 2, (lh + 1) // 2))

    @property
    def proxy(self) -> QImage:
        return self.levels[0][2]

    @property
    def proxy_scale(self) -> float:
        return self.levels[0][0]

    def level_for(self, view_scale: float) -> tuple[float, float, QImage]:
        """(scale_x, scale_y, image) of the level to paint at `view_scale` screen px per image px."""
        chosen = self.levels[0]
        for lvl in self.levels[1:]:
            if lvl[0] >= view_scale:
                chosen = lvl
        return chosen


class LabelOverlay:
    """The label map at proxy size as an Indexed8 QImage; the colour table does the tinting.

    `view` shares the QImage's memory, so refreshing a box is a slice assignment. Proxy pixel
    (px, py) shows image pixel (floor((px + .5) / sx), floor((py + .5) / sy)), the same rule for a full
    rebuild and for a box, so partial refreshes never drift from a full one.
    """

    def __init__(self, shape: tuple[int, int], scale: float | None = None):
        h, w = shape
        self.height, self.width = h, w
        scale = proxy_scale(w, h) if scale is None else scale
        pw, ph = scaled_size(w, h, scale)
        check_qimage_size(pw, ph, 1)
        self.sx, self.sy = pw / w, ph / h
        self.identity = (pw, ph) == (w, h)
        self.image = QImage(pw, ph, QImage.Format.Format_Indexed8)
        self.image.setColorTable([0] * 256)
        self.view[:] = 0
        self._rows = np.minimum(((np.arange(ph) + 0.5) / self.sy).astype(np.int64), h - 1)
        self._cols = np.minimum(((np.arange(pw) + 0.5) / self.sx).astype(np.int64), w - 1)

    @property
    def view(self) -> np.ndarray:
        """The pixels as a writable (h, w) uint8 array sharing the QImage's memory.

        Taken afresh on each use: `bits()` detaches the image if anything shares it, so a write never
        lands in a stale buffer.
        """
        h, w, bpl = self.image.height(), self.image.width(), self.image.bytesPerLine()
        return np.frombuffer(self.image.bits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, :w]

    def refresh(self, labels: np.ndarray, bbox: BBox | None = None) -> None:
        """Copy the labels of `bbox` (or everything) into the overlay."""
        h, w = labels.shape
        if (h, w) != (self.height, self.width):
            raise ValueError("label map size does not match the overlay")
        y0, y1, x0, x1 = bbox if bbox is not None else (0, h, 0, w)
        view = self.view
        if self.identity:
            view[y0:y1, x0:x1] = labels[y0:y1, x0:x1]
            return
        ph, pw = view.shape
        py0 = max(0, int(math.floor(y0 * self.sy)) - 1)
        py1 = min(ph, int(math.ceil(y1 * self.sy)) + 1)
        px0 = max(0, int(math.floor(x0 * self.sx)) - 1)
        px1 = min(pw, int(math.ceil(x1 * self.sx)) + 1)
        if py0 >= py1 or px0 >= px1:
            return
        cols = self._cols[px0:px1]
        step = max(1, 4_000_000 // max(1, px1 - px0))  # bounded temporaries on a full rebuild
        for start in range(py0, py1, step):
            stop = min(py1, start + step)
            view[start:stop, px0:px1] = labels[np.ix_(self._rows[start:stop], cols)]

    def set_colors(self, table: list[int]) -> None:
        """256 non-premultiplied ARGB values, index = label (0 should stay transparent)."""
        if len(table) != 256:
            raise ValueError("the colour table needs 256 entries")
        self.image.setColorTable(table)
