"""GIF encoding: one palette for the whole clip, and static pixels that never change colour.

A GIF frame holds at most 256 colours, which makes three choices visible:

- **The palette.** Taken from the first frame it misses colours that only appear later. Here every frame goes
  through FFmpeg's `palettegen` as it arrives (a colour histogram, not a copy of the frames), and the 255
  colours it picks, in a perceptual colour space, serve the whole clip; index 255 stays transparent.
- **Dithering.** Error diffusion hides banding, but it spreads each pixel's error to its neighbours, so a
  static pixel next to motion got a different colour in every frame (12-29% of the static area flickered) and
  the file grew with the noise. Each frame is still dithered (`paletteuse`, Floyd-Steinberg), but a pixel keeps
  the index it had in the previous frame while its colour stays within `TOLERANCE` of the colour it had when
  that index was chosen. Static pixels therefore keep one index for the whole clip, slow gradients do not
  shimmer, and no pixel drifts more than `TOLERANCE` from its true colour plus the palette's own error.
- **Size.** FFmpeg's GIF encoder stores each frame as the rectangle that changed, with pixels equal to the
  previous frame as the transparent index; the stable indices above are what lets it skip most of a frame.

The palette needs every frame before the first one can be encoded, yet a clip is never held in memory: the
frames are spooled raw to an anonymous temporary file beside the output and read back once.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import IO

import av
import numpy as np

from .errors import Cancelled, InvalidError

#: Largest change (per RGB channel, 0-255) of a pixel's colour that keeps its palette index from the frame
#: before: 2 levels are invisible, yet they halve the file of a flowing clip (motion re-renders smooth areas
#: with tiny differences).
TOLERANCE = 2
#: Colours in the palette: GIF's 256 minus the transparent index that marks unchanged pixels.
COLOURS = 255
DITHER = "floyd_steinberg"
RGB24 = av.VideoFormat("rgb24")


def _pull_all(graph: av.filter.Graph) -> list[av.VideoFrame]:
    """Every frame the graph has ready (none is an answer, not an error)."""
    out: list[av.VideoFrame] = []
    while True:
        try:
            frame = graph.vpull()
        except (av.BlockingIOError, av.EOFError):
            return out
        out.append(frame)


class GifEncoder:
    """Frames in, an animated GIF out: spooled and sampled by `write`, encoded by `close`."""

    def __init__(self, path: Path, fps: float, cancel: threading.Event | None = None) -> None:
        self.path = path
        self.rate = Fraction(fps).limit_denominator(1001)
        self.cancel = cancel
        self.count = 0
        self.size: tuple[int, int] | None = None
        self._spool: IO[bytes] | None = None
        self._histogram: av.filter.Graph | None = None
        self._histogram_in: av.filter.context.FilterContext | None = None
        self._palettes: list[av.VideoFrame] = []

    def _buffer(
        self, graph: av.filter.Graph, fmt: av.VideoFormat, size: tuple[int, int], name: str
    ) -> av.filter.context.FilterContext:
        return graph.add_buffer(width=size[0], height=size[1], format=fmt, time_base=1 / self.rate, name=name)

    def _video_frame(self, rgb: np.ndarray, pts: int) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = pts
        frame.time_base = 1 / self.rate
        return frame

    def write(self, rgb: np.ndarray) -> None:
        """Spool one HxWx3 uint8 RGB frame and add its colours to the palette's histogram."""
        h, w = rgb.shape[:2]
        if self.size is None:
            self.size = (w, h)
            # Open across calls, closed by close() or abort(): a `with` block cannot span them.
            self._spool = tempfile.TemporaryFile(  # noqa: SIM115
                prefix=f".{self.path.name}.", suffix=".frames", dir=self.path.parent
            )
            graph = av.filter.Graph()
            self._histogram_in = self._buffer(graph, RGB24, self.size, "frames")
            palettegen = graph.add("palettegen", f"max_colors={COLOURS}:reserve_transparent=1:stats_mode=full")
            self._histogram_in.link_to(palettegen)
            palettegen.link_to(graph.add("buffersink"))
            graph.configure()
            self._histogram = graph
        elif (w, h) != self.size:
            raise InvalidError(f"frame {self.count + 1} is {w}x{h}, the first was {self.size[0]}x{self.size[1]}")
        assert self._spool is not None and self._histogram is not None and self._histogram_in is not None
        self._spool.write(np.ascontiguousarray(rgb).tobytes())
        self._histogram_in.push(self._video_frame(rgb, self.count))
        # Pulling runs the graph now; without it FFmpeg queues every frame until the end (the clip in memory).
        self._palettes.extend(_pull_all(self._histogram))
        self.count += 1

    def _palette(self) -> av.VideoFrame:
        """The clip's palette (a 16x16 image of 256 colours), once every frame has been seen."""
        assert self._histogram is not None and self._histogram_in is not None
        self._histogram_in.push(None)
        self._palettes.extend(_pull_all(self._histogram))
        if not self._palettes:
            raise RuntimeError("FFmpeg's palettegen gave no palette")
        palette = self._palettes[-1]
        palette.pts = 0
        palette.time_base = 1 / self.rate
        return palette

    def _mapper(self, palette: av.VideoFrame) -> tuple[av.filter.Graph, av.filter.context.FilterContext]:
        """A graph that maps RGB frames to `palette` (dithered), and its input."""
        assert self.size is not None
        graph = av.filter.Graph()
        frames_in = self._buffer(graph, RGB24, self.size, "frames")
        palette_in = self._buffer(graph, palette.format, (palette.width, palette.height), "palette")
        paletteuse = graph.add("paletteuse", f"dither={DITHER}:diff_mode=none:new=0")
        frames_in.link_to(paletteuse, 0, 0)
        palette_in.link_to(paletteuse, 0, 1)
        paletteuse.link_to(graph.add("buffersink"))
        graph.configure()
        palette_in.push(palette)
        palette_in.push(None)
        return graph, frames_in

    def _mapped(self, palette: av.VideoFrame) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(indices HxW, ARGB palette 256x4) of every spooled frame, in order, with stable indices."""
        assert self._spool is not None and self.size is not None
        w, h = self.size
        graph, frames_in = self._mapper(palette)
        stable = _StableIndices()
        pending: deque[np.ndarray] = deque()  # frames pushed whose mapped copy is not out yet
        self._spool.seek(0)
        for i in range(self.count + 1):
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled("cancelled; nothing was written")
            if i < self.count:
                rgb = np.frombuffer(self._spool.read(w * h * 3), np.uint8).reshape(h, w, 3)
                frames_in.push(self._video_frame(rgb, i))
                pending.append(rgb)
            else:
                frames_in.push(None)
            for mapped in _pull_all(graph):
                indices, argb = mapped.to_ndarray()
                yield stable.update(pending.popleft(), indices), argb

    def close(self) -> None:
        """Build the palette, map every frame to it and write the GIF (it loops forever)."""
        if self.size is None:
            return
        w, h = self.size
        with av.open(str(self.path), "w", format="gif") as container:
            stream = container.add_stream("gif", rate=self.rate)
            stream.pix_fmt = "pal8"
            stream.width, stream.height = w, h
            stream.options = {"gifflags": "+offsetting+transdiff"}  # FFmpeg's defaults, relied on above
            for pts, (indices, argb) in enumerate(self._mapped(self._palette())):
                # PyAV's stubs do not know the (indices, palette) form that pal8 frames take
                frame = av.VideoFrame.from_ndarray((indices, argb), format="pal8")  # type: ignore[arg-type]
                frame.pts = pts
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        self.abort()

    def abort(self) -> None:
        """Drop the spool (an anonymous file: nothing stays behind, whatever happened)."""
        if self._spool is not None:
            with contextlib.suppress(OSError):
                self._spool.close()
            self._spool = None
        self._histogram = self._histogram_in = None
        self._palettes.clear()


class _StableIndices:
    """Palette indices that only change where a pixel's colour really changed (see the module docstring)."""

    def __init__(self) -> None:
        self.indices: np.ndarray | None = None
        self.reference: np.ndarray | None = None  # the colour each pixel had when its index was chosen

    def update(self, rgb: np.ndarray, mapped: np.ndarray) -> np.ndarray:
        """This frame's indices: `mapped` where the colour moved more than TOLERANCE, else the previous ones."""
        colour = rgb.astype(np.int16)
        if self.indices is None or self.reference is None:
            self.indices, self.reference = mapped.copy(), colour
            return self.indices
        changed = np.abs(colour - self.reference).max(axis=2) > TOLERANCE
        np.copyto(self.indices, mapped, where=changed)
        np.copyto(self.reference, colour, where=changed[..., None])
        return self.indices.copy()
