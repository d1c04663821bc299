"""Preview player panel (interface stub; the full panel replaces it)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget


class PreviewPanel(QWidget):
    """Plays the project's motion preview, rendered in a worker thread at proxy size."""

    frameShown = Signal(int)

    def set_project(self, project) -> None:
        """Show `project` (or nothing for None); starts a fresh render."""

    def schedule_update(self) -> None:
        """Call after any edit: the next frames reflect it (debounced, never blocks the GUI)."""

    def toggle_play(self) -> None:
        """Play or pause (the main window binds Space to this)."""

    def shutdown(self) -> None:
        """Stop the worker thread; called when the window closes."""
