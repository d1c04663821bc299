"""ATI's native track file (bytedance/ATI, `wan/utils/motion.py: get_tracks_inference`).

ATI loads a track file with `torch.load`, expects the result to be the bytes of an NPZ, and reads its
`array`: (N, 121, 1, 3) = x and y in the input image's pixels and a visibility flag, all times 8 (its
`quant_multi`). The positions are pixels of the image ATI is given, so unlike the JSON that ComfyUI's
ATI node takes, the file needs no resolution beside it.

Why no torch: the file is the zip `torch.save` (2.x) writes for a plain bytes object (a protocol-2
pickle of the bytes plus the `.format_version`, `.storage_alignment`, `byteorder`, `version` and
`serialization_id` records, each entry stored and aligned to 64 bytes), which the standard library
can write exactly; `bench/check_ati_torch.py` compares it byte for byte with torch's own.
Reading never unpickles anything but bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import limits
from ..errors import InvalidError, SpecError, describe_os_error
from ..fileio import atomic_write_bytes
from ..trajectory import Point, resample

#: Samples per ATI track: 121 frames at 24 fps (ATI's loader hard-codes this length).
ATI_FRAMES = 121
#: ATI's `quant_multi`: stored values are pixels (and visibility) times this.
QUANT = 8
#: Name of the folder inside the zip (torch.save names it after the file; any name loads).
ARCHIVE = "archive"
#: Largest record or NPZ member read from a track file (a real one is a few kilobytes).
MAX_RECORD_BYTES = 64 * 2**20
_ALIGN = 64


# ----- writing ------------------------------------------------------------------------------------


def track_array(tracks: Sequence[Sequence[Sequence[float]]], frames: int = ATI_FRAMES) -> np.ndarray:
    """(N, 121, 1, 3) float32 in ATI's units: each track at constant speed over its first `frames` samples.

    After `frames` the point holds still (visible) until sample 121, so a motion can end early.
    """
    if not 2 <= frames <= ATI_FRAMES:
        raise InvalidError(f"ATI tracks span 2 to {ATI_FRAMES} frames, not {frames}")
    out = np.zeros((len(tracks), ATI_FRAMES, 1, 3), np.float32)
    for i, track in enumerate(tracks):
        moving = np.asarray(resample(track, frames), np.float64)
        out[i, :frames, 0, :2] = moving * QUANT
        out[i, frames:, 0, :2] = moving[-1] * QUANT
        out[i, :, 0, 2] = QUANT  # visible in every frame
    return out


def npz_bytes(array: np.ndarray) -> bytes:
    """The NPZ ATI's `unzip_to_array` opens: one member, `array`, compressed like ATI's own examples."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, array=array)
    return buffer.getvalue()


def torch_save_bytes(payload: bytes, archive: str = ARCHIVE) -> bytes:
    """What `torch.save(payload, f)` writes for a bytes object, byte for byte in layout.

    The pickle is protocol 2 (torch.save's default), where bytes become `_codecs.encode(text, "latin1")`,
    a call torch.load's weights-only unpickler allows. The serialization id is derived from the content,
    so the same tracks always give the same file.
    """
    pickled = pickle.dumps(payload, protocol=2)
    serial = str(int.from_bytes(hashlib.sha256(pickled).digest()[:16], "big")).zfill(40)[:40]
    records = [
        (f"{archive}/data.pkl", pickled),
        (f"{archive}/.format_version", b"1"),
        (f"{archive}/.storage_alignment", b"64"),
        (f"{archive}/byteorder", b"little"),
        (f"{archive}/version", b"3\n"),
        (f"{archive}/.data/serialization_id", serial.encode("ascii")),
    ]
    return _stored_zip(records)


def _stored_zip(records: list[tuple[str, bytes]]) -> bytes:
    """A zip of stored entries with data descriptors and 64-byte aligned data, as PyTorch's writer makes."""
    out = bytearray()
    central = bytearray()
    flags = 0x0808  # sizes in a data descriptor; UTF-8 names
    for name, data in records:
        offset = len(out)
        encoded = name.encode("utf-8")
        start = offset + 30 + len(encoded) + 4
        pad = -start % _ALIGN
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(encoded), len(extra))
        out += encoded + extra + data
        out += struct.pack("<IIII", 0x08074B50, crc, len(data), len(data))
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            0,
            0,
            flags,
            0,
            0,
            0,
            crc,
            len(data),
            len(data),
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    cd_offset, cd_size, count = len(out), len(central), len(records)
    out += central
    zip64_at = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, count, count, cd_size, cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_offset, 0)
    return bytes(out)


def ati_file_bytes(tracks: Sequence[Sequence[Sequence[float]]], frames: int = ATI_FRAMES) -> bytes:
    """The whole `.pth` file for `tracks` (top-left image pixels)."""
    return torch_save_bytes(npz_bytes(track_array(tracks, frames)))


def write_ati_pth(path: str | Path, tracks: Sequence[Sequence[Sequence[float]]], frames: int = ATI_FRAMES) -> None:
    """Write ATI's native track file (atomic). Tracks must each have a point; none may be NaN."""
    path = Path(path)
    for i, track in enumerate(tracks, 1):
        if not len(track):
            raise InvalidError(f"{path}: track {i} has no points")
        if not np.isfinite(np.asarray(track, np.float64)).all():
            raise InvalidError(f"{path}: track {i} has a point that is not a number")
    atomic_write_bytes(path, ati_file_bytes(tracks, frames))


# ----- reading ------------------------------------------------------------------------------------


class _BytesOnly(pickle.Unpickler):
    """Unpickles a bytes object and nothing else: the one global allowed is what protocol 2 needs."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"holds {module}.{name}, not the bytes of an NPZ")

    def persistent_load(self, pid: object) -> object:
        raise pickle.UnpicklingError("holds a torch tensor, not the bytes of an NPZ")


def _record(archive: zipfile.ZipFile, path: Path) -> bytes:
    names = [i for i in archive.infolist() if i.filename.endswith("data.pkl")]
    if not names:
        raise SpecError(f"{path}: not a torch.save file (no data.pkl inside)")
    try:
        return limits.read_zip_member(archive, names[0], MAX_RECORD_BYTES, "an ATI track file")
    except limits.ZipMemberError as exc:
        raise SpecError(f"{path}: data.pkl {exc}") from None


def load_npz_payload(path: Path) -> bytes:
    """The bytes object a torch.save file holds (what ATI's `torch.load(tracks)` returns)."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickled = _record(archive, path)
    except OSError as exc:
        raise SpecError(describe_os_error(path, exc)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError):
        raise SpecError(f"{path}: not an ATI track file (not a torch.save zip)") from None
    try:
        payload = _BytesOnly(io.BytesIO(pickled)).load()
    except pickle.UnpicklingError as exc:
        raise SpecError(f"{path}: not an ATI track file ({exc})") from None
    except Exception as exc:  # a damaged pickle can raise almost anything; it is still just bad input
        raise SpecError(f"{path}: not an ATI track file (damaged data.pkl: {type(exc).__name__})") from None
    if not isinstance(payload, bytes):
        raise SpecError(f"{path}: holds {type(payload).__name__}, not the bytes of an NPZ (as ATI expects)")
    return payload


def _array(payload: bytes, path: Path) -> np.ndarray:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as inner:
            member = [i for i in inner.infolist() if i.filename == "array.npy"]
            if not member:
                raise SpecError(f"{path}: the NPZ inside has no `array` (ATI reads only that)")
            if member[0].file_size > MAX_RECORD_BYTES:
                raise SpecError(f"{path}: `array` is {member[0].file_size} bytes; an ATI track file is far smaller")
            with inner.open(member[0]) as npy:
                # numpy allocates what the header claims before reading: check the claim against the data.
                fmt = np.lib.format
                major, _minor = fmt.read_magic(npy)
                header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
                shape, _order, dtype = header(npy)
                if math.prod(shape) * dtype.itemsize > member[0].file_size:
                    raise SpecError(f"{path}: `array` claims shape {shape} but holds less data")
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            return np.asarray(npz["array"])
    except SpecError:
        raise
    except Exception as exc:  # zipfile/numpy raise many types for damaged data
        raise SpecError(f"{path}: the NPZ inside cannot be read ({type(exc).__name__})") from None


def read_ati_pth(path: str | Path) -> list[list[Point]]:
    """Tracks of an ATI `.pth` in image pixels: the visible samples of each track, in order.

    Shapes follow ATI's `process_tracks`: (N, 121, K, 3) or (121, N, K, 3); tracks never visible are left out.
    """
    path = Path(path)
    array = _array(load_npz_payload(path), path)
    if array.ndim != 4 or array.shape[-1] != 3 or ATI_FRAMES not in array.shape[:2] or array.dtype.kind not in "fiu":
        raise SpecError(
            f"{path}: `array` has shape {tuple(array.shape)} ({array.dtype}); "
            f"ATI expects (N, {ATI_FRAMES}, 1, 3) numbers"
        )
    values = array.astype(np.float64) / QUANT
    if values.shape[1] == ATI_FRAMES:  # ATI permutes (N, 121, ...) to (121, N, ...) the same way
        values = values.transpose(1, 0, 2, 3)
    values = values.reshape(ATI_FRAMES, -1, 3)
    if not np.isfinite(values).all():
        raise SpecError(f"{path}: `array` holds a value that is not a number")
    tracks: list[list[Point]] = []
    for n in range(values.shape[1]):
        visible = values[:, n, 2] > 0.5
        if visible.any():
            tracks.append([(float(x), float(y)) for x, y in values[visible, n, :2]])
    return tracks


def is_torch_zip(head: bytes) -> bool:
    """True for the start of a zip file (how torch.save files start), so readers can tell it from JSON text."""
    return head.startswith(b"PK\x03\x04")
