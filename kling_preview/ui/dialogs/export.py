"""Export dialog: Kling bundle, MP4, GIF or WebM, run in the background with progress and cancel.

The dialog is modal, so the project cannot be edited while the export thread reads it. The core writes
atomically: a cancelled or failed export leaves nothing behind. A bundle refused only because the image is
over Kling's 10 MB can be exported from a downscaled copy instead; the user's project keeps its size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from kling_preview.core import exportfolder, limits, video
from kling_preview.core.errors import Cancelled
from kling_preview.core.privacy import face_warning
from kling_preview.core.project import PREVIEW_MODES, ClipMode
from kling_preview.core.spec import kling, rules
from kling_preview.core.spec.fit import fit_to_kling, only_too_large
from kling_preview.core.spec.targets import export_target
from kling_preview.core.spec.tracks import peer_files
from kling_preview.ui.panels.validation import severity_icon
from kling_preview.ui.worker import BackgroundJob, describe_exception, run_in_background

BUNDLE = "kling"
#: format key -> (button text, file suffix or None for a folder, file dialog filter)
FORMATS: dict[str, tuple[str, str | None, str]] = {
    BUNDLE: ("Kling bundle (folder)", None, ""),
    "mp4": ("MP4 video", ".mp4", "MP4 video (*.mp4)"),
    "gif": ("GIF animation", ".gif", "GIF animation (*.gif)"),
    "webm": ("WebM video", ".webm", "WebM video (*.webm)"),
}
BUNDLE_SUFFIX = "-kling"
#: Who the bundle's request.json is for: key -> combo text.
TARGETS = {
    "kling": "Kling API",
    "fal": "fal (fal-ai/kling-video)",
    "aimlapi": "AIMLAPI",
    "piapi": "PiAPI (one colour-coded mask)",
}
#: Said where trajectories leave for KJNodes: its paths are not Kling's.
PATHS_NOTE = (
    "Kling moves a region along its path, relative to where the region is. KJNodes' CutAndDragOnPath "
    "puts the mask's centre on each point: start a path at its region's centre when it is meant for KJNodes."
)
#: Non-native dialogs behave the same everywhere (and in tests); the overwrite question is asked on Export.
FILE_DIALOG_OPTIONS = QFileDialog.Option.DontUseNativeDialog | QFileDialog.Option.DontConfirmOverwrite


@dataclass
class FittedExport:
    """What a downscaled bundle export reports back: its warnings and the sizes before and after."""

    warnings: list
    original: tuple[int, int]
    size: tuple[int, int]
    scale: float


def export_fitted(
    project, out: Path, cancel: threading.Event, export: Callable[[Any, Path], list] = kling.export_bundle
) -> FittedExport | list:
    """Export a copy downscaled until its image fits Kling's limit (the project itself is not changed).

    Runs in the export thread. Returns the plain warnings when the image already fits.
    """
    fitted = fit_to_kling(project, cancel=cancel)
    if fitted is None:
        return export(project, out)
    small, scale = fitted
    if cancel.is_set():
        raise Cancelled("cancelled; nothing was written")
    warnings = export(small, out)
    return FittedExport(warnings, project.size, small.size, scale)


def bundle_export(target: str, allow_model: bool, peer_tracks: bool) -> Callable[[Any, Path], list]:
    """The bundle export the dialog's choices ask for: whose request, which models, trajectory files too."""

    def run(project, out: Path) -> list:
        extra = peer_files(project) if peer_tracks else None
        if target == "kling":
            return kling.export_bundle(project, out, allow_model=allow_model, extra=extra)
        return export_target(project, out, target, allow_model=allow_model, extra=extra)

    return run


class ExportDialog(QDialog):
    """Kling bundle, MP4, GIF or WebM export with progress, cancel and "open folder"."""

    #: Emitted when an export attempt ends: "succeeded", "failed", "cancelled" or "refused".
    exportFinished = Signal(str)

    def __init__(self, project, parent=None, start_dir: str = ""):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Export")
        self.setModal(True)
        self._start_dir = Path(start_dir) if start_dir else Path.cwd()
        self._stem = Path(getattr(project.image, "name", "") or "export").stem or "export"
        self._job: BackgroundJob | None = None
        self._out: Path | None = None
        self._exported: Path | None = None  # folder of the last successful export
        self._size_only = False  # the last check found only the image's file size (a copy can be downscaled)
        self._build()
        self.set_format(BUNDLE)

    # ----- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.format_group = QButtonGroup(self)
        formats = QHBoxLayout()
        self.format_buttons: dict[str, QRadioButton] = {}
        for key, (text, _suffix, _filter) in FORMATS.items():
            button = QRadioButton(text, self)
            self.format_group.addButton(button)
            self.format_buttons[key] = button
            formats.addWidget(button)
            button.toggled.connect(lambda on, k=key: on and self._on_format(k))
        formats.addStretch(1)

        self.path_edit = QLineEdit(self)
        self.path_edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        clip = self.project.clip
        self.video_box = QGroupBox("Video", self)
        self.mode_combo = QComboBox(self.video_box)
        self.mode_combo.addItems(list(PREVIEW_MODES))
        self.seconds_spin = QDoubleSpinBox(self.video_box, suffix=" s", decimals=1, singleStep=0.5)
        self.seconds_spin.setRange(0.5, limits.MAX_SECONDS)
        self.mode_combo.currentTextChanged.connect(self._on_video_mode)
        self.mode_combo.setCurrentText(clip.mode if clip.mode in PREVIEW_MODES else PREVIEW_MODES[0])
        self._on_video_mode(self.mode_combo.currentText())
        self.fps_spin = QSpinBox(self.video_box, suffix=" fps")
        self.fps_spin.setRange(1, 60)
        self.fps_spin.setValue(int(clip.fps))
        self.width_spin = QSpinBox(self.video_box, suffix=" px", singleStep=16)
        self.width_spin.setRange(0, limits.MAX_SIDE)
        self.width_spin.setSpecialValueText(f"Full size ({self.project.size[0]} px)")
        self.width_spin.setValue(0)
        form = QFormLayout(self.video_box)
        form.addRow("Mode", self.mode_combo)
        form.addRow("Length", self.seconds_spin)
        form.addRow("Frame rate", self.fps_spin)
        form.addRow("Width", self.width_spin)

        self.request_box = QGroupBox("Request", self)
        self.target_combo = QComboBox(self.request_box)
        for key, text in TARGETS.items():
            self.target_combo.addItem(text, key)
        self.target_combo.setToolTip(
            "Whose request body request.json holds: Kling's own, or fal's / AIMLAPI's / PiAPI's (images as data: "
            "URIs, endpoint.txt says where to send it; PiAPI wants them uploaded as public URLs)"
        )
        self.allow_model_check = QCheckBox("Allow a model Kling Preview does not know", self.request_box)
        self.allow_model_check.setToolTip(
            "A newer model name is a warning instead of an error; a known model without the motion brush stays an error"
        )
        self.allow_model_check.toggled.connect(self._on_allow_model)
        self.tracks_check = QCheckBox("Also write trajectory files for ATI and KJNodes", self.request_box)
        self.tracks_check.setToolTip(
            "tracks.pth (ATI's own loader), tracks-kjnodes.json (coordinates, 81 points per track) and "
            "tracks-spline.json (SplineEditor points_store)"
        )
        self.paths_note = QLabel(PATHS_NOTE, self.request_box, wordWrap=True)
        self.paths_note.setStyleSheet("color: palette(mid);")
        request_form = QFormLayout(self.request_box)
        request_form.addRow("Send to", self.target_combo)
        request_form.addRow(self.allow_model_check)
        request_form.addRow(self.tracks_check)
        request_form.addRow(self.paths_note)

        self.problem_list = QListWidget(self)
        self.problem_list.setWordWrap(True)
        self.status_label = QLabel(self, wordWrap=True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_bar = QProgressBar(self, visible=False)

        self.open_folder_button = QPushButton("Open folder", self, visible=False)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.fit_button = QPushButton("Downscale to fit", self, visible=False)
        self.fit_button.setToolTip(
            "Export a copy whose image, masks and trajectories are downscaled until the image fits "
            "Kling's 10 MB. Your project keeps its full size."
        )
        self.fit_button.clicked.connect(self.export_downscaled)
        self.export_button = QPushButton("Export", self, default=True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel export", self, enabled=False)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(formats)
        layout.addWidget(QLabel("Output", self))
        layout.addLayout(path_row)
        layout.addWidget(self.video_box)
        layout.addWidget(self.request_box)
        layout.addWidget(self.problem_list, 1)
        layout.addStretch(0)  # takes the room while the list is hidden
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress_bar)
        layout.addLayout(buttons)
        self.resize(560, 420)

    # ----- format and path ------------------------------------------------------------------------
    @property
    def format(self) -> str:
        return next(k for k, b in self.format_buttons.items() if b.isChecked())

    def set_format(self, key: str) -> None:
        if key not in FORMATS:
            raise ValueError(f"unknown export format {key!r}")
        if self.format_buttons[key].isChecked():
            self._on_format(key)
        else:
            self.format_buttons[key].setChecked(True)

    def set_output_path(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))

    def output_path(self) -> Path | None:
        """The typed path, with the format's suffix added when missing; None when empty."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        suffix = FORMATS[self.format][1]
        if suffix and path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        return path

    def _on_format(self, key: str) -> None:
        self.video_box.setVisible(key != BUNDLE)
        self.request_box.setVisible(key == BUNDLE)
        self.path_edit.setText(str(self._default_path(key)))
        self.open_folder_button.setVisible(False)
        self._set_status("")
        if key == BUNDLE:
            self._show_checks()
        else:
            self.fit_button.setVisible(False)
            self._fill_problems([])

    @Slot(bool)
    def _on_allow_model(self, _on: bool) -> None:
        """Check again: an unknown model's error becomes a warning (or back)."""
        self._set_status("")
        self._show_checks()

    @Slot(str)
    def _on_video_mode(self, mode: str) -> None:
        """A loop is exactly one loop period long by default, so the file repeats seamlessly."""
        clip = self.project.clip
        self.seconds_spin.setValue(float(clip.loop_seconds if mode == ClipMode.LOOP else clip.seconds))

    def _default_path(self, key: str) -> Path:
        """Keep the folder and name the user typed; change only the format's suffix."""
        current = Path(self.path_edit.text().strip()) if self.path_edit.text().strip() else None
        folder = current.parent if current is not None else self._start_dir
        name = current.name if current is not None else self._stem
        for _key, (_text, suffix, _filter) in FORMATS.items():
            if suffix and name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        name = name.removesuffix(BUNDLE_SUFFIX) or self._stem
        suffix = FORMATS[key][1]
        return folder / (name + BUNDLE_SUFFIX if suffix is None else name + suffix)

    @Slot()
    def browse(self) -> None:
        key = self.format
        current = self.output_path() or self._default_path(key)
        if key == BUNDLE:
            chosen = QFileDialog.getExistingDirectory(
                self,
                "Export the Kling bundle into folder",
                str(current),
                FILE_DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
            )
        else:
            chosen, _ = QFileDialog.getSaveFileName(
                self, f"Export {FORMATS[key][0]}", str(current), FORMATS[key][2], "", FILE_DIALOG_OPTIONS
            )
        if chosen:
            self.path_edit.setText(chosen)

    # ----- export ---------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None and self._job.is_running()

    def _show_checks(self) -> list:
        """List the project's problems; returns the errors."""
        try:
            problems = rules.validate_project(self.project, allow_model=self.allow_model_check.isChecked())
        except Exception as exc:
            self._size_only = False
            self.fit_button.setVisible(False)
            self._fill_problems([f"Could not check the project: {describe_exception(exc)}"], "error")
            return [exc]
        faces = face_warning(self.project)  # Kling's terms: no real people's faces without consent
        self._fill_problems(list(problems) + ([faces] if faces else []))
        errors = [p for p in problems if p.severity == "error"]
        self._size_only = only_too_large(problems)
        self.fit_button.setVisible(self._size_only)
        if self._size_only:
            self._set_status(
                "Kling would refuse this image: it is over 10 MB. Downscale to fit exports a smaller copy "
                "(image, masks and trajectories); your project is not changed.",
                error=True,
            )
        elif errors:
            noun = "error" if len(errors) == 1 else "errors"
            self._set_status(f"Kling would refuse this project ({len(errors)} {noun} above).", error=True)
        return errors

    def _fill_problems(self, items: list, severity: str = "warning") -> None:
        """Problems, or plain warning strings (a video export's), with their icons."""
        self.problem_list.clear()
        self.problem_list.setVisible(bool(items))
        for item in items:
            icon = severity_icon(self, getattr(item, "severity", severity))
            self.problem_list.addItem(QListWidgetItem(icon, getattr(item, "message", str(item))))

    @Slot()
    def start_export(self) -> None:
        self._start(fit=False)

    @Slot()
    def export_downscaled(self) -> None:
        """The Kling bundle of a copy downscaled until the image fits 10 MB; the project is not changed."""
        self._start(fit=True)

    def _start(self, fit: bool) -> None:
        if self.is_running():
            return
        self.progress_bar.reset()  # not the previous export's 100 % while this one is checked or refused
        self.progress_bar.setVisible(False)
        key, out = self.format, self.output_path()
        self.open_folder_button.setVisible(False)
        if out is None:
            self._set_status("Choose where to export.", error=True)
            return
        fit = fit and key == BUNDLE
        if key == BUNDLE:
            errors = self._show_checks()
            if errors and not (fit and self._size_only):
                if self._size_only:
                    text = "Export refused: the image is over Kling's 10 MB. Use Downscale to fit, or make it smaller."
                else:
                    text = "Export refused: Kling would reject this project. Fix the errors listed above."
                self._set_status(text, error=True)
                self.exportFinished.emit("refused")
                return
            if out.is_file():
                self._set_status(f"{out} is a file; choose a folder for the Kling bundle.", error=True)
                return
        else:
            self._fill_problems([])
            if out.is_dir():
                self._set_status(f"{out} is a folder; choose a file name.", error=True)
                return
        replaces = exportfolder.is_export_folder(out) if key == BUNDLE else out.exists()
        if replaces and not self._confirm_overwrite(out, key):
            return
        self._out = out
        self._set_running(True)
        self._set_status(f"Downscaling and exporting to {out}…" if fit else f"Exporting to {out}…")
        self._job = run_in_background(self._work(key, out, fit), parent=self)
        self._job.progress.connect(self._on_progress)
        self._job.succeeded.connect(self._on_succeeded)
        self._job.failed.connect(self._on_failed)
        self._job.cancelled.connect(self._on_cancelled)
        self._job.done.connect(self._forget_job)

    def _work(self, key: str, out: Path, fit: bool = False) -> Callable[[Any, threading.Event], Any]:
        project = self.project
        bundle = bundle_export(
            self.target_combo.currentData(), self.allow_model_check.isChecked(), self.tracks_check.isChecked()
        )
        if fit:
            return lambda _progress, cancel: export_fitted(project, out, cancel, bundle)
        if key == BUNDLE:
            return lambda _progress, _cancel: bundle(project, out)
        options = {
            "mode": self.mode_combo.currentText(),
            "seconds": self.seconds_spin.value(),
            "fps": self.fps_spin.value(),
            "width": self.width_spin.value() or None,
        }
        return lambda progress, cancel: video.render_to_file(project, out, progress=progress, cancel=cancel, **options)

    def _confirm_overwrite(self, out: Path, key: str) -> bool:
        what = f"The folder {out} holds a Kling export" if key == BUNDLE else f"The file {out} exists"
        answer = QMessageBox.question(self, "Replace?", f"{what}. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def cancel_export(self) -> None:
        if self.is_running():
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self._set_status("Cancelling…")

    @Slot()
    def _forget_job(self) -> None:
        if self._job is not None:
            self._job.deleteLater()
            self._job = None

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self._set_running(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        fitted = result if isinstance(result, FittedExport) else None
        notes = list((fitted.warnings if fitted else result) or [])
        self._fill_problems(notes)
        noun = "warning" if len(notes) == 1 else "warnings"
        text = f"Exported to {self._out}"
        if fitted is not None:
            (w0, h0), (w1, h1) = fitted.original, fitted.size
            text += (
                f", downscaled from {w0}x{h0} to {w1}x{h1} ({fitted.scale:.0%}) to fit Kling's 10 MB"
                " (your project keeps its size)"
            )
        self._set_status(text + (f" ({len(notes)} {noun} above)." if notes else "."))
        self._exported = self._out if self._out.is_dir() else self._out.parent
        self.open_folder_button.setVisible(True)
        self.exportFinished.emit("succeeded")

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self._set_running(False)
        self.progress_bar.setVisible(False)
        problems = getattr(exc, "problems", None)
        self._fill_problems(list(problems) if problems else [])
        self._set_status(f"Export failed: {describe_exception(exc)}", error=True)  # type: ignore[arg-type]
        self.exportFinished.emit("failed")

    @Slot()
    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.progress_bar.setVisible(False)
        self._set_status("Export cancelled; nothing was written.")
        self.exportFinished.emit("cancelled")

    def _set_running(self, running: bool) -> None:
        for w in (*self.format_buttons.values(), self.path_edit, self.browse_button, self.video_box, self.request_box):
            w.setEnabled(not running)
        self.export_button.setEnabled(not running)
        self.fit_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress_bar.setRange(0, 0)  # busy until the first progress report
            self.progress_bar.setVisible(True)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #d32f2f;" if error else "")

    # ----- after the export -----------------------------------------------------------------------
    def exported_folder(self) -> Path | None:
        """The folder holding the last successful export (the bundle itself, or the video's folder)."""
        return self._exported

    @Slot()
    def open_folder(self) -> None:
        folder = self.exported_folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def reject(self) -> None:
        """Closing while exporting cancels and waits (the core stops within a frame)."""
        if self.is_running():
            self._job.cancel()
            self._job.wait()
        super().reject()

    def closeEvent(self, event) -> None:  # Qt API
        if self.is_running():
            self._job.cancel()
            self._job.wait()
        super().closeEvent(event)
