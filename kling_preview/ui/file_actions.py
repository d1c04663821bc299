"""Opening, saving and closing files, recent files and drag and drop: the window's File menu.

A mixin of `MainWindow`, kept apart so the window module holds only the window's construction and its
wiring. Errors become one message box naming the file; the project on screen is never lost to one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from kling_preview.core.errors import KlingPreviewError
from kling_preview.core.inputs import load_input
from kling_preview.core.projectfile import save_project
from kling_preview.resources import sample_project_path

from . import settings as app_settings

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".klproj"
IMAGE_PATTERNS = "*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff"
OPEN_FILTERS = ";;".join(
    [
        f"Images, projects and Kling requests (*.klproj *.json {IMAGE_PATTERNS})",
        "Kling Preview projects (*.klproj)",
        f"Images ({IMAGE_PATTERNS})",
        "Kling requests (*.json)",
        "All files (*)",
    ]
)
SAVE_FILTER = "Kling Preview project (*.klproj)"


@contextmanager
def busy_cursor() -> Iterator[None]:
    """The wait cursor while the body runs; restored however it ends (before any message box)."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


class FileActions:
    """Open / save / close / recent files / drop, for `MainWindow` (self is the window)."""

    def _failed(self: MainWindow, title: str, path: Path, doing: str, exc: Exception) -> None:
        """Say that a file action failed (call it in the except block): our own errors already name the file
        and the problem; anything else is a bug, logged with its trace and shown with the file's name."""
        if isinstance(exc, KlingPreviewError):
            self._error(title, str(exc))
        else:
            log.exception("%s %s failed", doing, path)
            self._error(title, f"{path}: {exc}")

    def _start_dir(self: MainWindow) -> str:
        for p in (self.path, self.source):
            if p is not None:
                return str(p.parent)
        last = app_settings.settings().value("lastDir")
        return str(last) if last else str(Path.home())

    def _remember_dir(self: MainWindow, path: Path) -> None:
        store = app_settings.settings()
        store.setValue("lastDir", str(path if path.is_dir() else path.parent))

    def display_name(self: MainWindow) -> str:
        if self.path is not None:
            return self.path.name
        if self.source is not None:
            return self.source.name
        return self.project.image.name if self.project is not None else ""

    def maybe_save(self: MainWindow, doing: str = "closing") -> bool:
        """True when it is fine to drop the project: nothing unsaved, saved now, or the user discards."""
        self.canvas.commit_pending()
        if self.project is None or self.doc.stack.isClean():
            return True
        answer = QMessageBox.warning(
            self,
            "Unsaved changes",
            f"{self.display_name()} has unsaved changes. Save them before {doing}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def open_path(self: MainWindow, path: str | Path, ask: bool = True) -> bool:
        """Open an image, a .klproj, a Kling request.json or an export folder; errors become a message box."""
        if ask and not self.maybe_save("opening another file"):
            return False
        path = Path(path)
        try:
            with busy_cursor():
                project, notes = load_input(str(path))
        except Exception as exc:  # a bug must not take the window down with it
            self._failed("Could not open", path, "opening", exc)
            return False
        self.set_project(project, path)
        self.preview.play()  # show the motion at once, for a new image as for the sample
        app_settings.add_recent_file(path)
        self._remember_dir(path)
        if notes:
            self.statusBar().showMessage("; ".join(notes), 15000)
        else:
            self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def open_dialog(self: MainWindow) -> None:
        if not self.maybe_save("opening another file"):
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open", self._start_dir(), OPEN_FILTERS)
        if path:
            self.open_path(path, ask=False)

    def open_folder_dialog(self: MainWindow) -> None:
        if not self.maybe_save("opening another file"):
            return
        path = QFileDialog.getExistingDirectory(self, "Open Kling export folder", self._start_dir())
        if path:
            self.open_path(path, ask=False)

    def new_from_image(self: MainWindow) -> None:
        if not self.maybe_save("starting a new project"):
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "New project from image", self._start_dir(), f"Images ({IMAGE_PATTERNS});;All files (*)"
        )
        if path:
            self.open_path(path, ask=False)

    def open_sample(self: MainWindow) -> None:
        try:
            path = sample_project_path()
        except FileNotFoundError as exc:
            self._error("Sample missing", str(exc))
            return
        if self.open_path(path):
            self.path = None  # Save asks where: the bundled sample stays untouched
            self._update_title()

    def open_recent(self: MainWindow, path: str) -> None:
        if not Path(path).exists():
            app_settings.remove_recent_file(path)
            self._error("Could not open", f"{path}: the file no longer exists")
            return
        self.open_path(path)

    def _fill_recent_menu(self: MainWindow) -> None:
        menu = self.recent_menu
        menu.clear()
        items = app_settings.recent_files()
        for i, item in enumerate(items, 1):
            act = menu.addAction(f"&{i % 10}  {Path(item).name}")
            act.setToolTip(item)
            act.setStatusTip(item)
            act.triggered.connect(lambda _checked=False, p=item: self.open_recent(p))
        if not items:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear Recent Files", app_settings.clear_recent_files).setEnabled(bool(items))

    def save(self: MainWindow) -> bool:
        if self.project is None:
            return False
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self: MainWindow, path: str | Path | None = None) -> bool:
        if self.project is None:
            return False
        if path is None:
            base = self.path or self.source
            stem = base.stem if base is not None else Path(self.project.image.name).stem
            folder = Path(self._start_dir())
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save project", str(folder / f"{stem}{PROJECT_SUFFIX}"), SAVE_FILTER
            )
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        return self._write(path)

    def _write(self: MainWindow, path: Path) -> bool:
        self.canvas.commit_pending()
        project = self.project
        if project is None:
            return False
        try:
            with busy_cursor():
                save_project(project, path)
        except OSError as exc:
            self._error("Could not save", f"{path}: {exc.strerror or exc}")
            return False
        except Exception as exc:
            self._failed("Could not save", path, "saving", exc)
            return False
        self.path = path
        self.source = path
        self.doc.mark_clean()
        app_settings.add_recent_file(path)
        self._remember_dir(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    def close_project(self: MainWindow) -> bool:
        if not self.maybe_save("closing it"):
            return False
        self.set_project(None)
        return True

    def export(self: MainWindow) -> None:
        if self.project is None:
            return
        self.canvas.commit_pending()
        from .dialogs.export import ExportDialog  # on demand: it pulls in the video encoders

        ExportDialog(self.project, self, self._start_dir()).exec()

    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None

    def dragEnterEvent(self: MainWindow, event: QDragEnterEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self: MainWindow, event: QDragMoveEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self: MainWindow, event: QDropEvent) -> None:
        path = self._dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # open after the drop returns, so a message box does not run inside the drag-and-drop loop
        QTimer.singleShot(0, lambda: self.open_path(path))
