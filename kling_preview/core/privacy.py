"""Privacy checks before an export: faces in the picture, metadata in the written files.

Kling's terms forbid real people's faces without their consent, so the app and the CLI warn before an
export when the still seems to hold faces (OpenCV's bundled Haar cascade: no network, no model download).
`metadata_report` lists what an image file carries besides pixels (EXIF, GPS, XMP, ICC, text chunks);
the tests use it to prove that exported images carry none.
"""

from __future__ import annotations

import io
import struct
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageLoadError, UnreadableError
from .images import pillow_reason
from .limits import MAX_IMAGE_FILE_BYTES, read_input_file
from .project import Project

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Faces are searched on a copy whose long side is about this many pixels: fast on 50 MP photos, and a
#: face big enough to matter (more than ~3% of the picture's long side) is still found.
DETECT_LONG_SIDE = 800
#: Smallest face looked for, in pixels of the downscaled copy.
MIN_FACE = 24
#: Overlapping hits a face needs. The cascade's default (3) fires on foliage, gravel and noise; 8 keeps
#: real faces (tested on a NASA portrait down to ~50 px) and drops nearly all of those false alarms.
MIN_NEIGHBOURS = 8

FACE_TERMS = "Kling's terms forbid real people's faces without their consent."

Box = tuple[int, int, int, int]  # x, y, width, height in image pixels

_lock = threading.Lock()
_cascade: cv2.CascadeClassifier | None = None
_cascade_loaded = False


def cascade_path() -> Path | None:
    """Where OpenCV keeps its bundled face cascade, or None when this OpenCV build has none."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not folder:
        return None
    return Path(folder) / CASCADE_FILE


def _detector() -> cv2.CascadeClassifier | None:
    """The cascade, loaded on first use; None if the file is missing or unreadable. Call with `_lock` held."""
    global _cascade, _cascade_loaded
    if not _cascade_loaded:
        _cascade_loaded = True
        path = cascade_path()
        if path is not None and path.is_file():
            try:
                classifier = cv2.CascadeClassifier(str(path))
            except cv2.error:
                classifier = None
            _cascade = None if classifier is None or classifier.empty() else classifier
    return _cascade


def _detect(grey: np.ndarray) -> list[Box]:
    """Run the cascade on a small 8-bit grey image (boxes in its own pixels).

    The lock covers detection too: a CascadeClassifier keeps per-call state and is not safe to share
    between threads (the preview worker and an export may ask at the same time).
    """
    with _lock:
        detector = _detector()
        if detector is None:
            return []
        found = detector.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=MIN_NEIGHBOURS, minSize=(MIN_FACE, MIN_FACE)
        )
    return [tuple(int(v) for v in box) for box in np.asarray(found).reshape(-1, 4)]  # type: ignore[misc]


def downscaled_grey(pixels: np.ndarray, long_side: int = DETECT_LONG_SIDE) -> tuple[np.ndarray, float]:
    """An 8-bit grey copy whose long side is at most `long_side`, and the factor back to image pixels."""
    arr = np.asarray(pixels)
    if arr.ndim not in (2, 3) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an HxW or HxWxC image, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        # Shrink before converting to grey: INTER_AREA averages, so 50 MP cost one pass.
        arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    if arr.ndim == 3:
        channels = arr.shape[2]
        if channels == 1:
            arr = arr[:, :, 0]
        else:
            arr = cv2.cvtColor(np.ascontiguousarray(arr[:, :, :3]), cv2.COLOR_RGB2GRAY)
    back = max(h, w) / max(arr.shape[:2])
    return np.ascontiguousarray(arr), back


def find_faces(pixels: np.ndarray) -> list[Box]:
    """Faces in an RGB (or grey) image as (x, y, w, h) boxes in image pixels, largest first.

    An empty list when there are none, and also when OpenCV's cascade file is missing (a build without
    data files): the check is a courtesy warning, never a reason to block the user's work.
    """
    grey, back = downscaled_grey(pixels)
    h, w = np.asarray(pixels).shape[:2]
    boxes = []
    for x, y, bw, bh in _detect(grey):
        x0, y0 = max(0, round(x * back)), max(0, round(y * back))
        x1, y1 = min(w, round((x + bw) * back)), min(h, round((y + bh) * back))
        if x1 > x0 and y1 > y0:
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return boxes


def face_message(count: int) -> str:
    return f"The image seems to contain {count} face(s). {FACE_TERMS}"


def face_warning(project: Project) -> str | None:
    """The warning shown before an export when the project's image seems to show faces; None if not."""
    count = len(find_faces(project.image.pixels))
    return face_message(count) if count else None


# ----- metadata -------------------------------------------------------------------------------------
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_JPEG_EXT = b"http://ns.adobe.com/xmp/extension/\x00"
_GPS_IFD = 0x8825
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}


def metadata_report(path: str | Path) -> list[str]:
    """What an image file carries besides its pixels: one entry per EXIF, GPS, XMP, ICC, IPTC or text block.

    An empty list means the file holds pixels only. Unreadable files raise `ImageLoadError`.
    """
    path = Path(path)
    try:
        data = read_input_file(path, MAX_IMAGE_FILE_BYTES, "image")
    except UnreadableError as exc:
        raise ImageLoadError(str(exc)) from None
    return metadata_in_bytes(data, str(path))


def metadata_in_bytes(data: bytes, label: str = "image") -> list[str]:
    """`metadata_report` for bytes in memory (a request's Base64 image, a zip member)."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg_metadata(data)
        if data.startswith(_PNG_SIGNATURE):
            return _png_metadata(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_metadata(data)
        return _pillow_metadata(data)
    except (struct.error, IndexError, ValueError, OSError, SyntaxError, UnidentifiedImageError) as exc:
        raise ImageLoadError(f"{label}: not a readable image ({pillow_reason(exc)})") from None


def _exif_entries(exif: bytes, where: str) -> list[str]:
    """EXIF, plus GPS when the EXIF block holds a GPS directory."""
    found = [f"EXIF ({where}, {len(exif)} bytes)"]
    try:
        parsed = Image.Exif()
        parsed.load(exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
        gps = parsed.get_ifd(_GPS_IFD) if _GPS_IFD in parsed else {}
    except Exception:  # noqa: BLE001 - a damaged EXIF block is still a block we report
        gps = {}
    if gps:
        found.append(f"GPS position ({where}, {len(gps)} tags)")
    return found


def _jpeg_metadata(data: bytes) -> list[str]:
    found: list[str] = []
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("damaged JPEG marker")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker in (0xDA, 0xD9):  # image data (or the end): no metadata after it is read by anyone
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        body = data[i + 4 : i + 2 + length]
        app = f"APP{marker - 0xE0}"
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            found += _exif_entries(body, app)
        elif marker == 0xE1 and (body.startswith(_XMP_JPEG) or body.startswith(_XMP_JPEG_EXT)):
            found.append(f"XMP ({app}, {len(body)} bytes)")
        elif marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
            found.append(f"ICC profile ({app}, {len(body)} bytes)")
        elif marker == 0xED:
            found.append(f"IPTC/Photoshop ({app}, {len(body)} bytes)")
        elif marker == 0xFE:
            found.append(f"comment (COM, {len(body)} bytes)")
        elif 0xE1 <= marker <= 0xEF:
            tag = body[:12].split(b"\0")[0].decode("latin-1")
            found.append(f"{app} block ({tag!r}, {len(body)} bytes)")
        i += 2 + length
    return found


def _png_metadata(data: bytes) -> list[str]:
    found: list[str] = []
    i = len(_PNG_SIGNATURE)
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        body = data[i + 8 : i + 8 + length]
        if kind == b"eXIf":
            found += _exif_entries(body, "eXIf chunk")
        elif kind == b"iCCP":
            found.append(f"ICC profile (iCCP chunk, {length} bytes)")
        elif kind in _PNG_TEXT:
            key = body.split(b"\x00", 1)[0].decode("latin-1")
            if key == "XML:com.adobe.xmp":
                found.append(f"XMP ({kind.decode()} chunk, {length} bytes)")
            elif key == "Raw profile type exif":
                found.append(f"EXIF ({kind.decode()} chunk {key!r}, {length} bytes)")
            else:
                found.append(f"text ({kind.decode()} chunk {key!r}, {length} bytes)")
        elif kind == b"tIME":
            found.append("modification time (tIME chunk)")
        elif kind == b"IEND":
            break
        i += 12 + length
    return found


def _webp_metadata(data: bytes) -> list[str]:
    found: list[str] = []
    i = 12
    while i + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[i : i + 8])
        body = data[i + 8 : i + 8 + length]
        if kind == b"EXIF":
            found += _exif_entries(body, "EXIF chunk")
        elif kind == b"XMP ":
            found.append(f"XMP (XMP chunk, {length} bytes)")
        elif kind == b"ICCP":
            found.append(f"ICC profile (ICCP chunk, {length} bytes)")
        i += 8 + length + (length & 1)
    return found


def _pillow_metadata(data: bytes) -> list[str]:
    """Other formats (TIFF, GIF, BMP): what Pillow exposes."""
    with Image.open(io.BytesIO(data)) as im:
        found: list[str] = []
        exif = im.getexif()
        if len(exif):
            found.append(f"EXIF ({len(exif)} tags)")
            if exif.get_ifd(_GPS_IFD):
                found.append("GPS position")
        for key in ("icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"):
            if im.info.get(key):
                found.append(key.replace("_", " "))
        return found

