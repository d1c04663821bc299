"""Every bound on what the user hands us, in one place: input file sizes and clip settings.

Why one module: the CLI, the project loader, the renderer and the app must refuse the same absurd
values (a 6 GB "image", a FIFO, a clip at 1e9 fps) with the same one-line reason, and they must do it
from sizes and headers, before anything is read into memory or allocated.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidError, UnreadableError, describe_os_error

#: Largest image or project file we read. A 100 MP photo is at most ~300 MB even as a 16-bit PNG.
MAX_IMAGE_FILE_BYTES = 400 * 2**20
MAX_PROJECT_FILE_BYTES = 400 * 2**20
#: A request.json holds at most 8 Base64 files of Kling's 10 MB (~110 MB); more is not a request.
MAX_REQUEST_FILE_BYTES = 160 * 2**20
#: Trajectory files are a few kilobytes; 20 MB of JSON points would already take gigabytes to parse.
MAX_TRACK_FILE_BYTES = 20 * 2**20

#: Clip settings (preview, render and project file): frame rate, length, output size.
MIN_FPS = 1
MAX_FPS = 120
MAX_SECONDS = 60.0
MAX_SIDE = 8192
#: What rendering one output pixel costs at peak (source, labels, float warp maps, blend buffers,
#: encoder copies), measured on 4K renders; the estimate is checked before the first frame is made.
RENDER_BYTES_PER_PIXEL = 60
MAX_RENDER_BYTES = 3 * 2**30


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def open_input_file(path: str | Path, limit: int, what: str = "file") -> BinaryIO:
    """A regular file of at most `limit` bytes, opened for reading; anything else is refused first.

    Opened non-blocking, so a FIFO or a device never hangs us; type and size come from fstat on the
    open file, so nothing can be swapped in between the check and the read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise UnreadableError(f"{path}: is a folder, not {_article(what)}") from None
    except OSError as exc:
        raise UnreadableError(describe_os_error(path, exc)) from None
    try:
        check_regular(path, os.fstat(fd), limit, what)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input_file(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file no larger than `limit`, checked before reading (see `open_input_file`).

    At most `limit` + 1 bytes are read, so a file growing behind our back cannot pass the bound either.
    """
    path = Path(path)
    with open_input_file(path, limit, what) as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise UnreadableError(describe_os_error(path, exc)) from None
    if len(data) > limit:
        raise UnreadableError(f"{path}: grew beyond the {_mb(limit)} limit for {_article(what)} while being read")
    return data


def check_input_file(path: str | Path, limit: int, what: str = "file") -> None:
    """Refuse `path` unless it is a regular file of at most `limit` bytes (for readers that open it themselves)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnreadableError(describe_os_error(path, exc)) from None
    check_regular(path, info, limit, what)


def check_regular(path: Path, info: os.stat_result, limit: int, what: str) -> None:
    """The type and size rule shared by `read_input_file` and `check_input_file`."""
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableError(f"{path}: is a folder, not {_article(what)}")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableError(f"{path}: not a regular file (a pipe, socket or device cannot be {_article(what)})")
    if info.st_size > limit:
        raise UnreadableError(f"{path}: is {_mb(info.st_size)}; the limit for {_article(what)} is {_mb(limit)}")


def _article(what: str) -> str:
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


# ----- zip members ------------------------------------------------------------------------------------

#: The compression methods Kling Preview writes (projects) and torch.save writes (ATI tracks).
ZIP_READ_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_CHUNK = 1 << 20


class ZipMemberError(Exception):
    """A zip member that cannot be read within its bounds; the text completes "<member> ..."."""


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, whose: str) -> bytes:
    """A member's bytes, read through a stream that stops at `limit` whatever the zip header claims.

    Only stored and deflate members are read, never encrypted ones: other methods (bzip2, LZMA,
    Deflate64...) would let a small file inflate without a bound, or fail deep inside zipfile.
    `whose` names what the zip should be ("a Kling Preview project") in the messages.
    """
    if info.flag_bits & 0x1:
        raise ZipMemberError(f"is encrypted; {whose} is never encrypted")
    if info.compress_type not in ZIP_READ_METHODS:
        raise ZipMemberError(f"uses zip compression method {info.compress_type}; {whose} only uses stored or deflate")
    if info.file_size > limit:
        raise ZipMemberError(f"is {info.file_size} bytes; that is beyond any real {whose.split(' ', 1)[1]}")
    chunks: list[bytes] = []
    total = 0
    try:
        with zf.open(info) as stream:
            # Small reads: zipfile inflates as much as one read asks for before it trims to the claimed size.
            while total <= limit and (chunk := stream.read(min(_ZIP_CHUNK, limit + 1 - total))):
                chunks.append(chunk)
                total += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, zlib.error) as exc:
        raise ZipMemberError(f"is damaged ({exc})") from None
    if total > limit:
        raise ZipMemberError(f"unpacks to more than {limit} bytes; that is beyond any real {whose.split(' ', 1)[1]}")
    return b"".join(chunks)


# ----- clip settings ----------------------------------------------------------------------------------


def fps_problem(fps: float) -> str | None:
    """Why a frame rate cannot be used, or None."""
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps):
        return f"fps must be a number from {MIN_FPS} to {MAX_FPS}"
    if not MIN_FPS <= fps <= MAX_FPS:
        return f"fps is {fps:g}; use {MIN_FPS} to {MAX_FPS}"
    if fps != int(fps):
        return f"fps is {fps:g}; use a whole number"
    return None


def seconds_problem(seconds: float, name: str = "seconds") -> str | None:
    """Why a clip length (or loop length) cannot be used, or None."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return f"{name} must be a number above 0 and up to {MAX_SECONDS:g}"
    if not 0 < seconds <= MAX_SECONDS:
        return f"{name} is {seconds:g}; use more than 0 and up to {MAX_SECONDS:g} seconds"
    return None


def side_problem(value: float, name: str = "width") -> str | None:
    """Why an output width or height cannot be used, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"{name} must be a whole number from 1 to {MAX_SIDE}"
    if not 1 <= value <= MAX_SIDE or value != int(value):
        return f"{name} is {value:g}; use a whole number from 1 to {MAX_SIDE} px"
    return None


#: Points per track a trajectory file may be asked for (KJNodes reads one per frame: a minute at 120 fps).
MAX_TRACK_POINTS = 7200


def points_problem(value: float, name: str = "points") -> str | None:
    """Why a trajectory file's point or frame count cannot be used, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"{name} must be a whole number from 1 to {MAX_TRACK_POINTS}"
    if not 1 <= value <= MAX_TRACK_POINTS or value != int(value):
        return f"{name} is {value:g}; use a whole number from 1 to {MAX_TRACK_POINTS}"
    return None


def check_clip(seconds: float, fps: float, loop_seconds: float | None = None) -> None:
    """Raise InvalidError with a one-line reason when a clip setting is out of bounds."""
    problem = (
        fps_problem(fps)
        or seconds_problem(seconds)
        or (seconds_problem(loop_seconds, "loop_seconds") if loop_seconds is not None else None)
    )
    if problem:
        raise InvalidError(f"clip: {problem}")


def check_frame_size(width: int, height: int) -> None:
    """Refuse an output frame size whose sides or rendering memory are beyond the bounds, before rendering."""
    for value, name in ((width, "width"), (height, "height")):
        problem = side_problem(value, name)
        if problem:
            raise InvalidError(f"frame {width}x{height}: {problem}")
    need = width * height * RENDER_BYTES_PER_PIXEL
    if need > MAX_RENDER_BYTES:
        raise InvalidError(
            f"frame {width}x{height} would need about {need / 2**30:.1f} GB to render "
            f"(limit {MAX_RENDER_BYTES / 2**30:.0f} GB); choose a smaller width"
        )
