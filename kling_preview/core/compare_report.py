"""Writing a comparison: JSON numbers, or the tracked paths drawn over the video's first frame."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .compare import Comparison
from .errors import OutputError
from .fileio import atomic_write_bytes, atomic_write_text
from .images import encode_png

#: Path colours (RGB), one per region; the arrow the user drew is always white, the tracked path coloured.
COLORS = [(255, 64, 64), (64, 200, 255), (255, 200, 0), (120, 255, 80), (255, 90, 255), (255, 140, 40)]


def write_report(comparison: Comparison, out: Path) -> None:
    """REPORT.json or REPORT.png, by extension; atomic."""
    suffix = out.suffix.lower()
    if suffix == ".json":
        atomic_write_text(out, json.dumps(comparison.to_json(), indent=2) + "\n")
    elif suffix == ".png":
        atomic_write_bytes(out, encode_png(draw_report(comparison)))
    else:
        raise OutputError(f"{out}: the report is written as .json or .png")


def draw_report(comparison: Comparison) -> np.ndarray:
    """The first frame with, per region, the trajectory (white arrow) and the tracked path (coloured)."""
    canvas = np.ascontiguousarray(comparison.first_rgb.copy())
    video_w, video_h = comparison.video_size
    still_w, still_h = comparison.still_size
    scale = np.array([video_w / still_w, video_h / still_h])
    thick = max(2, round(max(video_w, video_h) / 400))
    for n, region in enumerate(comparison.regions):
        color = COLORS[n % len(COLORS)]
        if len(region.trajectory) >= 2:
            wanted = _pixels(region.trajectory, scale)
            for shade, width in (((0, 0, 0), thick + 2), ((255, 255, 255), thick)):  # outlined: seen on any image
                cv2.polylines(canvas, [wanted], False, shade, width, cv2.LINE_AA)
                cv2.arrowedLine(canvas, tuple(wanted[-2]), tuple(wanted[-1]), shade, width, cv2.LINE_AA, tipLength=0.2)
        if len(region.tracked_path) >= 2:
            got = _pixels(region.tracked_path, scale)
            cv2.polylines(canvas, [got], False, color, thick, cv2.LINE_AA)
            cv2.circle(canvas, tuple(got[0]), thick * 2, color, -1, cv2.LINE_AA)
            cv2.circle(canvas, tuple(got[-1]), thick * 3, color, thick, cv2.LINE_AA)
            cv2.putText(canvas, str(n + 1), (int(got[-1][0]) + thick * 4, int(got[-1][1])), cv2.FONT_HERSHEY_SIMPLEX,
                        thick * 0.4, color, thick, cv2.LINE_AA)  # fmt: skip
    return canvas


def _pixels(points: list[tuple[float, float]], scale: np.ndarray) -> np.ndarray:
    return np.asarray(np.round(np.array(points) * scale), dtype=np.int32)
