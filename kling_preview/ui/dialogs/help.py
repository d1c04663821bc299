"""Help (keyboard shortcuts) and About dialogs (interface stub; the full dialogs replace it)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

#: (keys, action) rows shown in the Help dialog; the main window registers the same shortcuts.
SHORTCUTS: list[tuple[str, str]] = []


def show_shortcuts(parent: QWidget) -> None:
    """Modal dialog listing `SHORTCUTS`."""


def show_about(parent: QWidget) -> None:
    """Modal About dialog with the version."""
