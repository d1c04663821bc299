"""Decoding stills into 8-bit RGB pixels, with the original bytes kept untouched.

Why here and not in the UI: the project file, the Kling export and the CLI all need the same pixels from
the same bytes, so decoding is deterministic and lives in one place. Limits are checked from the header,
before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError, describe_os_error

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


def load_image(path: str | Path, background: tuple[int, int, int] = DEFAULT_BACKGROUND) -> SourceImage:
    """Read an image file; every failure is an `ImageLoadError` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ImageLoadError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageLoadError(describe_os_error(path, exc)) from None
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
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            im_format = im.format or "?"
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    f"{label}: {width}x{height} is {width * height / 1e6:.0f} megapixels; "
                    f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
                )
            if im_format not in ACCEPTED_FORMATS:
                raise ImageLoadError(f"{label}: {im_format} images are not supported (use JPEG, PNG or WebP)")
            notes: list[str] = []
            if getattr(im, "n_frames", 1) > 1:
                notes.append(f"{name} is animated; its first frame is used")
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
        raise ImageLoadError(f"{label}: the image is truncated or damaged ({exc})") from None
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
    """PNG bytes without any metadata; deterministic for the same pixels (used by exports)."""
    buf = io.BytesIO()
    mode = "L" if pixels.ndim == 2 else "RGB"
    Image.fromarray(np.ascontiguousarray(pixels), mode).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def encode_jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    """JPEG bytes without EXIF or other metadata."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def strip_jpeg_metadata(data: bytes) -> bytes:
    """Drop APP1..APP15 and COM segments (EXIF, GPS, XMP, IPTC, comments) without re-encoding.

    The compressed image data is kept bit for bit, so there is no generation loss, and the result is
    stable: stripping twice gives the same bytes (the Kling round trip depends on that).
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("damaged JPEG marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        seg_len = int.from_bytes(data[i + 2 : i + 4], "big")
        segment = data[i : i + 2 + seg_len]
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += segment
        i += 2 + seg_len
    raise ValueError("JPEG stream ends before its image data")
