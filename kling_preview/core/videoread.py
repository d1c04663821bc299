"""Reading a generated video back, small, to show it beside the preview."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from .errors import UnreadableError


def read_rgb_frames(path: Path, max_side: int = 480) -> list[np.ndarray]:
    """Every frame as RGB with its long side at most `max_side` (scaled by the decoder, aspect kept)."""
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                scale = min(1.0, max_side / max(frame.width, frame.height))
                width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
                frames.append(frame.to_ndarray(format="rgb24", width=width, height=height))
    except (av.error.FFmpegError, OSError) as exc:
        if not frames:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise UnreadableError(f"{path}: not a video that can be read ({reason})") from None
    if not frames:
        raise UnreadableError(f"{path}: the video has no frames")
    return frames
