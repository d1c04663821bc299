"""Decoding stills into 8-bit RGB pixels, with the original bytes kept untouched.

Why here and not in the UI: the project file, the Kling export and the CLI all need the same pixels from
the same bytes, so decoding is deterministic and lives in one place. Limits are checked from the header,
before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError, UnreadableError
from .limits import MAX_IMAGE_FILE_BYTES, read_input_file

#: Largest image we decode (width x height). 50 MP photos must open; beyond ~100 MP a laptop struggles.
MAX_PIXELS = 100_000_000
#: Background that transparent pixels are composited over (a neutral grey, recorded in the project).
DEFAULT_BACKGROUND: tuple[int, int, int] = (128, 128, 128)
#: Formats the loader accepts. GIF is read as its first frame.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")

# Our own limit is checked first; Pillow's bomb check stays as a second guard just above ours.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass
class SourceImage:
    """A decoded still: original bytes (exported and saved as they are) plus cached RGB pixels."""

    data: bytes
    name: str
    format: str
    pixels: np.ndarray
    background: tuple[int, int, int] = DEFAULT_BACKGROUND
    notes: list[str] = field(default_factory=list)
    exif_orientation: int = 1

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), the order Pillow and Kling use."""
        return self.width, self.height

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tif"}.get(
            self.format, "bin"
        )


_OBJECT_REPR = re.compile(r"\s*<[^<>]* object at 0x[0-9a-fA-F]+>")


def pillow_reason(exc: BaseException) -> str:
    """What Pillow said, for a user: without the `<_io.BytesIO object at 0x...>` it names data in memory by."""
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    return _OBJECT_REPR.sub("", str(exc)).strip() or type(exc).__name__


def load_image(path: str | Path, background: tuple[int, int, int] = DEFAULT_BACKGROUND) -> SourceImage:
    """Read an image file; every failure is an `ImageLoadError` naming the file.

    Type and size are checked before reading (a FIFO or a 6 GB file named .png costs nothing).
    """
    path = Path(path)
    try:
        data = read_input_file(path, MAX_IMAGE_FILE_BYTES, "image")
    except UnreadableError as exc:
        raise ImageLoadError(str(exc)) from None
    return decode_image(data, path.name, background, label=str(path))


def decode_image(
    data: bytes,
    name: str,
    background: tuple[int, int, int] = DEFAULT_BACKGROUND,
    label: str | None = None,
) -> SourceImage:
    """Decode image bytes to 8-bit RGB, applying EXIF rotation and compositing alpha."""
    label = label or name
    if not data:
        raise ImageLoadError(f"{label}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns (on stderr) about a damaged MPO index or EXIF tag and decodes on; the user
            # gets our notes or one error line instead.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            im_format = im.format or "?"
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    f"{label}: {width}x{height} is {width * height / 1e6:.0f} megapixels; "
                    f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
                )
            notes: list[str] = []
            if im_format == "MPO":
                # Camera 3D pairs and Ultra HDR photos: a plain JPEG first, more pictures after it. The
                # first is the photo; the export strips the rest (images.strip_jpeg_metadata).
                notes.append(f"{name} holds {getattr(im, 'n_frames', 1)} pictures; the first is used")
                im_format = "JPEG"
            elif getattr(im, "n_frames", 1) > 1:
                notes.append(f"{name} is animated; its first frame is used")
            if im_format not in ACCEPTED_FORMATS:
                raise ImageLoadError(f"{label}: {im_format} images are not supported (use JPEG, PNG or WebP)")
            im.seek(0)
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            im.load()
            im = ImageOps.exif_transpose(im) or im  # type: ignore[assignment]
            if orientation not in (0, 1):
                notes.append(f"EXIF orientation {orientation} applied")
            pixels = _to_rgb8(im, background, notes)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(
            f"{label}: the image is larger than the {MAX_PIXELS // 1_000_000} megapixel limit"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{label}: not an image (or a format that cannot be read)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(f"{label}: the image is truncated or damaged ({pillow_reason(exc)})") from None
    except MemoryError:
        raise ImageLoadError(f"{label}: not enough memory to decode the image") from None
    return SourceImage(
        data=data,
        name=name,
        format=im_format,
        pixels=pixels,
        background=background,
        notes=notes,
        exif_orientation=orientation,
    )


def _to_rgb8(im: Image.Image, background: tuple[int, int, int], notes: list[str]) -> np.ndarray:
    """Any Pillow mode to a contiguous HxWx3 uint8 array."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im).astype(np.float64)
        peak = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        gray = np.clip(arr * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        notes.append("16-bit image reduced to 8 bits")
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        gray = np.clip((np.nan_to_num(arr) - lo) * scale + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "CMYK":
        notes.append("CMYK image converted to RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba)[:, :, 3]
        if alpha.min() < 255:
            notes.append(
                "transparent pixels composited over RGB({}, {}, {})".format(*background)
            )
        base = Image.new("RGBA", rgba.size, (*background, 255))
        im = Image.alpha_composite(base, rgba)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes without any metadata; deterministic for the same pixels (used by exports).

    Grey (2-D), RGB or RGBA (PiAPI's composite mask needs transparency) pixels.
    """
    buf = io.BytesIO()
    mode = "L" if pixels.ndim == 2 else ("RGBA" if pixels.shape[2] == 4 else "RGB")
    Image.fromarray(np.ascontiguousarray(pixels), mode).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def encode_jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    """JPEG bytes without EXIF or other metadata."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The JPEG's codec data only: what decoding needs, bit for bit, and nothing else.

    Kept: SOI, SOFn, DHT, DAC, DQT, DRI, DNL, every SOS with its entropy-coded data (also the scans of
    a progressive JPEG and whatever tables sit between them), Adobe APP14 (CMYK and YCCK need its
    colour transform flag) and EOI. Dropped: every other APPn (EXIF, GPS, XMP, ICC, JFIF/JFXX
    thumbnails, MPF), COM, and every byte after EOI (motion-photo trailers, a second picture).
    No re-encoding, so no generation loss, and stripping twice gives the same bytes.
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    out = bytearray(data[:2])
    i, size, scanned = 2, len(data), False
    while i < size:
        if data[i] != 0xFF:
            raise ValueError("damaged JPEG marker")
        marker = data[i + 1] if i + 1 < size else -1
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # end of image: anything after it is not part of this picture
            if not scanned:
                raise ValueError("JPEG stream ends before its image data")
            out += b"\xff\xd9"
            return bytes(out)
        if marker == -1 or marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            raise ValueError(f"unexpected JPEG marker at byte {i}")
        if i + 4 > size:
            raise ValueError("JPEG stream is truncated")
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > size or end < i + 4:
            raise ValueError("JPEG segment runs past the end of the file")
        if _codec_segment(marker, data[i + 4 : min(end, i + 9)]):
            out += data[i:end]
        i = end
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart or a stuffed 0
            scanned = True
            scan_end = _scan_end(data, i)
            out += data[i:scan_end]
            i = scan_end
    raise ValueError("JPEG stream has no end-of-image marker")


def _codec_segment(marker: int, head: bytes) -> bool:
    """Whether a segment is needed to decode the pixels (see `strip_jpeg_metadata`)."""
    if 0xC0 <= marker <= 0xCF or marker in (0xDA, 0xDB, 0xDC, 0xDD):
        return True
    return marker == 0xEE and head.startswith(b"Adobe")


def _scan_end(data: bytes, start: int) -> int:
    """Index of the marker that ends the entropy-coded data starting at `start` (or len(data))."""
    i = start
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= len(data):
            return len(data)
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            i += 1 if following == 0xFF else 2
            continue
        return i

