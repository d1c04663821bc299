"""Validation panel (interface stub; the full panel replaces it)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget


class ValidationPanel(QWidget):
    """Kling's rules checked live; clicking a problem selects its region."""

    regionActivated = Signal(int)  # region label

    def set_project(self, project) -> None:
        """Check `project` (or clear for None)."""

    def schedule_update(self) -> None:
        """Call after any edit; re-checks shortly after (debounced)."""
