"""Video export: MP4 (H.264), WebM (VP9), GIF (see `gif`) or a folder of PNG frames.

Frames are streamed to the encoder one at a time (a clip is never held in memory; a GIF, whose palette
needs every frame first, spools them to an anonymous temporary file), and every output is atomic: it is
written under a temporary name in the destination folder and renamed into place at the end, so a cancel,
Ctrl+C or encoder failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from . import limits, render
from .errors import Cancelled, InvalidError, OutputError, describe_os_error
from .fileio import atomic_path, fsync_dir, temp_prefix
from .gif import GifEncoder
from .project import Project

#: Output types by file extension; any other path is a folder of PNG frames (or an error, see below).
FORMATS = {".mp4": "mp4", ".webm": "webm", ".gif": "gif"}
#: x264 keeps about `rc-lookahead` frames in flight; capping it by frame size keeps a 4K export's memory
#: bounded (about 60 MB of pixels in the lookahead) at no visible cost for a short preview clip.
LOOKAHEAD_PIXELS = 48_000_000
FRAME_NAME = "frame_{:05d}.png"
_FRAME_RE = re.compile(r"^frame_\d{5,}\.png$")

Progress = Callable[[int, int], None]


# ----- checks ---------------------------------------------------------------------------------------
def output_format(out: Path) -> str:
    """Output type of a path: "mp4", "webm", "gif", or "png" for a folder of frames."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in FORMATS:
        if out.is_dir():
            raise OutputError(f"{out}: is a folder; give a file name ending in {suffix}")
        return FORMATS[suffix]
    if out.is_dir() or suffix == "":
        return "png"
    raise OutputError(
        f"{out}: unknown output type {out.suffix!r}; use .mp4, .webm, .gif, or a folder name for PNG frames"
    )


def _positive(name: str, value: float | None, *, integer: bool = False) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidError(f"{name} must be greater than zero, got {value!r}")
    if integer and number != int(number):
        raise InvalidError(f"{name} must be a whole number, got {value!r}")
    return number


def _check_folder(out: Path) -> None:
    parent = out.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"{out}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the folder {parent} is not writable")


def _temp_name(out: Path, suffix: str = ".part") -> Path:
    return out.parent / f"{temp_prefix(out.name)}{uuid.uuid4().hex[:8]}{suffix}"


def _as_output_error(exc: BaseException, out: Path, fmt: str) -> BaseException:
    """Encoder and file-system failures become one clear OutputError; anything else stays as it is."""
    if isinstance(exc, OSError):  # before FFmpegError: PyAV's file errors are both
        return OutputError(describe_os_error(out, exc))
    if isinstance(exc, av.FFmpegError):
        return OutputError(f"{out}: the {fmt.upper()} encoder failed: {exc}")
    return exc


def _frames_checked(frames: Iterable[np.ndarray], cancel: threading.Event | None) -> Generator[np.ndarray]:
    """The frames, checking for a cancel before each one is made (so a cancel costs at most one frame)."""
    it = iter(frames)
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled; nothing was written")
        try:
            frame = next(it)
        except StopIteration:
            return
        arr = np.asarray(frame)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise InvalidError(f"frames must be HxWx3 uint8 RGB, got {arr.shape} {arr.dtype}")
        yield arr


# ----- encoders -------------------------------------------------------------------------------------
class _AvWriter:
    """One PyAV container and video stream, opened at the first frame (which fixes the size)."""

    def __init__(self, path: Path, fmt: str, fps: float):
        self.path = path
        self.fmt = fmt
        self.rate = Fraction(fps).limit_denominator(1001)
        self.container: av.container.OutputContainer | None = None
        self.stream: av.VideoStream | None = None
        self.size: tuple[int, int] | None = None  # encoded size (padded to even for yuv420p)
        self.first: tuple[int, int] | None = None  # size of the frames given
        self.count = 0

    def _open(self, width: int, height: int) -> None:
        options = {"movflags": "+faststart"} if self.fmt == "mp4" else {}
        self.container = av.open(str(self.path), "w", format=self.fmt, options=options)
        if self.fmt == "mp4":
            width, height = width + width % 2, height + height % 2  # yuv420p needs even sizes: pad
            stream = self.container.add_stream("libx264", rate=self.rate)
            stream.pix_fmt = "yuv420p"
            lookahead = max(5, min(30, LOOKAHEAD_PIXELS // (width * height)))
            stream.options = {"crf": "20", "preset": "fast", "x264-params": f"rc-lookahead={lookahead}"}
        elif self.fmt == "webm":
            width, height = width + width % 2, height + height % 2
            stream = self.container.add_stream("libvpx-vp9", rate=self.rate)
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = 0
            stream.options = {"crf": "32", "b": "0", "deadline": "good", "cpu-used": "5", "row-mt": "1"}
        stream.width, stream.height = width, height
        cc = stream.codec_context
        cc.colorspace = 1  # BT.709, matching the conversion in _yuv()
        cc.color_primaries = 1
        cc.color_trc = 1
        cc.color_range = 1  # limited ("TV") range, what browsers expect
        self.stream = stream
        self.size = (width, height)

    def write(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if self.container is None:
            self._open(w, h)
            self.first = (w, h)
        elif self.first is not None and (w, h) != self.first:
            raise InvalidError(f"frame {self.count + 1} is {w}x{h}, the first was {self.first[0]}x{self.first[1]}")
        assert self.size is not None and self.stream is not None and self.container is not None
        if (w, h) != self.size:
            rgb = cv2.copyMakeBorder(rgb, 0, self.size[1] - h, 0, self.size[0] - w, cv2.BORDER_REPLICATE)
        frame = self._yuv(rgb)
        frame.pts = self.count
        self.count += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    @staticmethod
    def _yuv(rgb: np.ndarray) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return frame.reformat(format="yuv420p", dst_colorspace="itu709")

    def close(self) -> None:
        if self.container is None or self.stream is None:
            return
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()
        self.container = None

    def abort(self) -> None:
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.close()
            self.container = None


def _encode_file(
    frames: Iterator[np.ndarray],
    out: Path,
    fmt: str,
    fps: float,
    total: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> int:
    with atomic_path(out, suffix=".part") as tmp:
        writer: _AvWriter | GifEncoder = GifEncoder(tmp, fps, cancel) if fmt == "gif" else _AvWriter(tmp, fmt, fps)
        try:
            for frame in frames:
                writer.write(frame)
                if progress is not None:
                    progress(writer.count, max(total or 0, writer.count))
            if writer.count == 0:
                raise InvalidError(f"{out}: no frames to write")
            writer.close()
        except BaseException as exc:
            writer.abort()
            err = _as_output_error(exc, out, fmt)
            if err is exc:
                raise
            raise err from exc
    return writer.count


def _write_png(path: Path, rgb: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OutputError(f"{path}: the PNG encoder failed")
    with open(path, "wb") as fh:
        fh.write(data.tobytes())
        fh.flush()
        os.fsync(fh.fileno())


def _encode_folder(frames: Iterator[np.ndarray], out: Path, total: int | None, progress: Progress | None) -> int:
    """PNG frames into a temporary folder, renamed into place (or moved into an existing folder) at the end."""
    tmp = _temp_name(out, ".tmp")
    count = 0
    try:
        tmp.mkdir()
        for frame in frames:
            _write_png(tmp / FRAME_NAME.format(count), frame)
            count += 1
            if progress is not None:
                progress(count, max(total or 0, count))
        if count == 0:
            raise InvalidError(f"{out}: no frames to write")
        if out.is_dir():
            names = {FRAME_NAME.format(i) for i in range(count)}
            for name in sorted(names):
                os.replace(tmp / name, out / name)
            for stale in out.iterdir():  # frames of an older, longer render would mix with ours
                if _FRAME_RE.match(stale.name) and stale.name not in names:
                    stale.unlink()
            tmp.rmdir()
        else:
            os.rename(tmp, out)
        fsync_dir(out.parent)
        return count
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        err = _as_output_error(exc, out, "png")
        if err is exc:
            raise
        raise err from exc


def encode_frames(
    frames: Iterable[np.ndarray],
    out: Path,
    fps: float,
    *,
    total: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Encode RGB frames (HxWx3 uint8, all the same size) to `out`; returns the number written.

    The type follows the extension (see `output_format`). Frames are pulled one at a time, so a
    generator keeps memory flat. Atomic: nothing appears at `out` unless every frame was written.
    """
    out = Path(out)
    fmt = output_format(out)
    rate = _positive("fps", fps)
    if rate is None:
        raise InvalidError("fps is required")
    _check_folder(out)
    checked = _frames_checked(frames, cancel)
    try:
        if fmt == "png":
            return _encode_folder(checked, out, total, progress)
        return _encode_file(checked, out, fmt, rate, total, progress, cancel)
    finally:
        checked.close()


# ----- the export -----------------------------------------------------------------------------------
#: A GIF's size and frame rate when the command line is given none: at full size and 24 fps a GIF runs to
#: tens of MB, while 480 px at 12 fps is what GIFs are usually shared at (a few hundred KB to 2 MB).
GIF_WIDTH = 480
GIF_FPS = 12


def gif_defaults(
    out: Path, image_size: tuple[int, int], project_fps: float, width: int | None, fps: float | None
) -> tuple[int | None, float | None]:
    """(width, fps) for a render to `out`: the ones given; for a GIF without them at most `GIF_WIDTH` px wide
    and `GIF_FPS` frames per second (a smaller image or a slower project keeps its own); None means the
    image's width or the project's fps."""
    if Path(out).suffix.lower() == ".gif":
        if width is None and image_size[0] > GIF_WIDTH:
            width = GIF_WIDTH
        if fps is None and project_fps > GIF_FPS:
            fps = GIF_FPS
    return width, fps


def export_size(image_size: tuple[int, int], width: int | None) -> tuple[int, int]:
    """Output (w, h): the image's own size, or `width` wide with the aspect ratio kept."""
    w0, h0 = image_size
    if width is None:
        return w0, h0
    return int(width), max(1, round(h0 * width / w0))


def render_to_file(
    project: Project,
    out: Path,
    *,
    mode: str | None = None,
    seconds: float | None = None,
    fps: float | None = None,
    width: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[str]:
    """Render the project's preview clip to `out` at full resolution (or `width`); returns warnings.

    In loop mode the clip is one loop period unless `seconds` is given, so the file repeats seamlessly.
    """
    out = Path(out)
    output_format(out)  # an unknown extension fails before any work
    seconds = _positive("seconds", seconds)
    fps = _positive("fps", fps)
    if width is not None:
        width = int(_positive("width", width, integer=True) or 0)
        problem = limits.side_problem(width, "width")
        if problem:
            raise InvalidError(problem)
    _check_folder(out)
    size = export_size(project.size, width)
    # Every bound from the one place that keeps them, before the first frame is allocated.
    limits.check_frame_size(*size)
    try:
        scene = render.snapshot(project, None, mode, size=size).with_clip(seconds=seconds, fps=fps)
    except MemoryError:
        raise InvalidError(f"{size[0]}x{size[1]} frames do not fit in memory; choose a smaller width") from None
    limits.check_clip(scene.seconds, scene.fps)
    renderer = render.Renderer(scene)
    times = renderer.times()
    try:
        encode_frames(
            (renderer.frame(t) for t in times), out, scene.fps, total=len(times), progress=progress, cancel=cancel
        )
    except MemoryError:
        raise OutputError(f"{out}: ran out of memory at {size[0]}x{size[1]}; choose a smaller width") from None
    return list(renderer.warnings)
