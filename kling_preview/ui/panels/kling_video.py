"""The video Kling generated, beside the preview and in step with it.

The preview and the generated clip may have different frame counts, so the panel shows the frame at the same
point of the clip (same fraction of its length) as the preview's frame. Decoding runs in a background job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kling_preview.core.videoread import read_rgb_frames
from kling_preview.ui.qimage import rgb_to_qimage
from kling_preview.ui.worker import BackgroundJob, describe_exception, run_in_background


class KlingVideoPanel(QWidget):
    """Shows one generated video; `follow(index, count)` keeps it on the preview's point in time."""

    loaded = Signal(str)  # the video's path, once its frames are ready

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("klingVideoPanel")
        self.frames: list[np.ndarray] = []
        self.index = 0
        self.path: Path | None = None
        self.picture = QLabel("Double-click a finished task in Kling tasks to show its video here")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(160, 120)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        self._job: BackgroundJob | None = None

    def load(self, path: str | Path) -> BackgroundJob:
        video = Path(path)
        self.picture.setText(f"Reading {video.name}...")
        job = run_in_background(lambda progress, cancel: read_rgb_frames(video), self)
        job.succeeded.connect(lambda frames: self._on_loaded(video, frames))
        job.failed.connect(lambda exc: self.picture.setText(describe_exception(exc)))
        self._job = job
        return job

    def _on_loaded(self, video: Path, frames: list[np.ndarray]) -> None:
        self.path, self.frames = video, frames
        self._show(0)
        self.loaded.emit(str(video))

    def follow(self, index: int, count: int) -> None:
        """Show the frame at the preview's point in time: frame `index` of `count`."""
        if not self.frames:
            return
        fraction = index / (count - 1) if count > 1 else 0.0
        self._show(round(min(max(fraction, 0.0), 1.0) * (len(self.frames) - 1)))

    def _show(self, index: int) -> None:
        self.index = index
        pixmap = QPixmap.fromImage(rgb_to_qimage(self.frames[index]))
        self.picture.setPixmap(pixmap.scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))  # fmt: skip
