"""Export dialog (interface stub; the full dialog replaces it)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


class ExportDialog(QDialog):
    """Kling bundle, MP4, GIF or WebM export with progress, cancel and "open folder"."""

    def __init__(self, project, parent=None, start_dir: str = ""):
        super().__init__(parent)
        self.project = project
