"""Compare with Video...: did the generated video follow each region's arrow? The paths drawn, a verdict each.

The tracking runs in a background job (a 5 s clip takes seconds); the dialog shows the video's first frame
with the arrows (white) and the tracked paths (coloured), the verdict lines, and saves the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kling_preview.core.compare import Comparison, compare, read_clip
from kling_preview.core.compare_report import draw_report, write_report
from kling_preview.core.project import Project
from kling_preview.ui.qimage import rgb_to_qimage
from kling_preview.ui.worker import BackgroundJob, describe_exception, run_in_background

VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv);;All files (*)"


def verdict_text(comparison: Comparison) -> str:
    lines = [r.verdict for r in comparison.regions]
    if comparison.static_motion_px is not None:
        lines.append(f"static area: moved up to {comparison.static_motion_px:.1f} px")
    return "\n".join(lines)


class CompareDialog(QDialog):
    """Shows one comparison and saves it as REPORT.json or REPORT.png."""

    def __init__(self, comparison: Comparison, video: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle(f"Compare with {video.name}")
        self.comparison = comparison
        picture = QPixmap.fromImage(rgb_to_qimage(draw_report(comparison)))
        self.picture = QLabel()
        self.picture.setPixmap(picture.scaled(720, 480, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))  # fmt: skip
        self.verdicts = QPlainTextEdit(verdict_text(comparison))
        self.verdicts.setReadOnly(True)
        self.verdicts.setObjectName("compareVerdicts")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = QPushButton("Save Report...")
        self.save_button.setObjectName("saveReportButton")
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.clicked.connect(lambda: self.save())
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.verdicts)
        layout.addWidget(buttons)

    def save(self, path: str | Path | None = None) -> bool:
        """Write the report (JSON or PNG by extension); asks where when no path is given."""
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save report", "report.json", "JSON (*.json);;PNG (*.png)")
            if not chosen:
                return False
            path = chosen
        try:
            write_report(self.comparison, Path(path))
        except Exception as exc:  # shown, not raised: the dialog and its result stay
            self.verdicts.appendPlainText(f"not saved: {describe_exception(exc)}")
            return False
        return True


def start_compare(project: Project, video: Path, parent: Any) -> BackgroundJob:
    """Compare in the background; the job's `succeeded` carries the Comparison."""
    return run_in_background(lambda progress, cancel: compare(project, read_clip(video)), parent)


def compare_with_video(window: Any, video: str | Path | None = None) -> BackgroundJob | None:
    """File > Compare with Video...: pick the video, track it, show the dialog."""
    project = window.doc.project
    if project is None:
        window.statusBar().showMessage("Open the project that was sent first", 8000)
        return None
    if video is None:
        chosen, _ = QFileDialog.getOpenFileName(window, "Compare with video", "", VIDEO_FILTER)
        if not chosen:
            return None
        video = chosen
    path = Path(video)
    window.statusBar().showMessage(f"Comparing with {path.name}...")
    job = start_compare(project, path, window)

    def show(comparison: Comparison) -> None:
        window.statusBar().clearMessage()
        dialog = CompareDialog(comparison, path, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.compare_dialog = dialog
        dialog.show()

    job.succeeded.connect(show)
    job.failed.connect(lambda exc: window.statusBar().showMessage(f"Compare failed: {describe_exception(exc)}", 10000))
    return job
