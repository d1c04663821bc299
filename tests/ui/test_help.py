"""Help (shortcuts) and About dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

import kling_preview
from kling_preview.ui.dialogs.help import (
    SHORTCUTS,
    AboutDialog,
    ShortcutsDialog,
    native_keys,
    show_about,
    show_shortcuts,
)

#: What the app promises: a key (or gesture) and a word of what it does.
EXPECTED = [
    ("Ctrl+O", "open"),
    ("Ctrl+S", "save"),
    ("Ctrl+Shift+S", "save"),
    ("Ctrl+E", "export"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z", "redo"),
    ("Ctrl+Y", "redo"),
    ("B", "motion brush"),
    ("S", "static brush"),
    ("E", "eraser"),
    ("T", "trajectory"),
    ("[", "brush"),
    ("]", "brush"),
    ("Space", "play"),
    ("Ctrl+=", "zoom in"),
    ("Ctrl+-", "zoom out"),
    ("Ctrl+0", "fit"),
    ("Ctrl+1", "100 %"),
    ("Space+drag", "pan"),
    ("middle drag", "pan"),
    ("Enter", "finish"),
    ("Delete", "remove"),
    ("F1", "shortcuts"),
]


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


def test_every_shortcut_is_listed_once():
    keys = [k for row_keys, _ in SHORTCUTS for k in row_keys.split(" / ")]
    assert len(keys) == len(set(keys))
    for key, word in EXPECTED:
        actions = [action.lower() for row_keys, action in SHORTCUTS if key in row_keys.split(" / ")]
        assert len(actions) == 1, key
        assert word in actions[0], (key, actions[0])


def test_the_dialog_shows_the_table(parent):
    dialog = ShortcutsDialog(parent)
    try:
        rows = dialog.rows()
        assert len(rows) == len(SHORTCUTS)
        assert [action for _, action in rows] == [action for _, action in SHORTCUTS]
        assert [keys for keys, _ in rows] == [native_keys(keys) for keys, _ in SHORTCUTS]
    finally:
        dialog.deleteLater()


def test_keys_that_are_not_key_sequences_stay_as_written():
    assert native_keys("Space+drag / middle drag") == "Space+drag / middle drag"
    assert native_keys("[ / ]") == "[ / ]"


def _close_modal_later(seen: list) -> None:
    """Once the modal dialog runs, note it and what it shows, then close it."""

    def close():
        modal = QApplication.activeModalWidget()
        seen.append(modal)
        if isinstance(modal, ShortcutsDialog):
            seen.append(modal.rows())
        if modal is not None:
            modal.reject()

    QTimer.singleShot(0, close)


def test_show_shortcuts_is_modal_and_returns_when_closed(parent):
    seen: list = []
    _close_modal_later(seen)
    show_shortcuts(parent)
    assert isinstance(seen[0], ShortcutsDialog)
    assert len(seen[1]) == len(SHORTCUTS)


def test_about_names_the_app_its_version_and_that_it_stays_local(parent):
    dialog = AboutDialog(parent)
    try:
        text = "\n".join(label.text() for label in dialog.findChildren(QLabel))
        assert "Kling Preview" in text
        assert kling_preview.__version__ in text
        assert "nothing is uploaded" in text
    finally:
        dialog.deleteLater()
    seen: list = []
    _close_modal_later(seen)
    show_about(parent)
    assert isinstance(seen[0], AboutDialog)
