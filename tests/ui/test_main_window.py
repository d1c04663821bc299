"""Main window: open, save, reopen, ask before losing changes, recent files, drops, status bar, menus."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import textured_pixels
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from kling_preview.core.masks import STATIC
from kling_preview.core.projectfile import load_project
from kling_preview.ui import main_window as main_window_module
from kling_preview.ui import settings as app_settings
from kling_preview.ui.app import run
from kling_preview.ui.dialogs.help import SHORTCUTS
from kling_preview.ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
PORTABLE = QKeySequence.SequenceFormat.PortableText


@pytest.fixture
def png(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(textured_pixels(360, 240, seed=2)).save(path)
    return path


@pytest.fixture
def empty_window(qtbot, no_dialogs) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.doc.stack.setClean())
    win.resize(1100, 760)
    win.show()
    qtbot.waitExposed(win)
    return win


def answer(monkeypatch, button, calls: list | None = None):
    """Make the Save / Discard / Cancel question answer `button`."""

    def box(parent, title, text, *args, **kwargs):
        if calls is not None:
            calls.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "warning", box)


# ----- open ----------------------------------------------------------------------------------------------
def test_empty_window_invites_to_open(empty_window):
    assert empty_window.project is None
    assert empty_window.windowTitle() == "Kling Preview"
    assert not empty_window.act_save.isEnabled() and not empty_window.act_export.isEnabled()
    empty_window.canvas.grab()
    assert empty_window.canvas.paint_errors == 0


def test_open_an_image_through_load_input(empty_window, png):
    win = empty_window
    assert win.open_path(png)
    assert win.project.size == (360, 240)
    assert np.array_equal(win.project.image.pixels, textured_pixels(360, 240, seed=2))
    assert win.windowTitle().startswith("photo.png[*]") and not win.isWindowModified()
    assert win.path is None  # an image is not a project file: Save will ask where
    assert win.canvas.scale == pytest.approx(win.canvas.fit_scale())
    assert app_settings.recent_files()[0] == str(png.resolve())
    assert "360 x 240" in win.size_label.text()
    assert win.preview.is_playing()  # a new image starts moving at once, as the sample does


def test_a_bad_file_is_a_one_line_message_and_the_project_stays(window, tmp_path, no_dialogs):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a picture")
    project = window.project
    assert not window.open_path(bad)
    assert window.project is project
    assert len(no_dialogs) == 1
    kind, text = no_dialogs[0]
    assert kind == "critical" and "broken.png" in text and "\n" not in text
    assert not window.open_path(tmp_path / "missing.klproj")
    assert "missing.klproj" in no_dialogs[-1][1]


def test_run_reports_a_bad_file_and_leaves_an_empty_window(qapp, tmp_path, monkeypatch, no_dialogs):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    shown: list[MainWindow] = []
    original_show = MainWindow.show

    def spy_show(self):
        shown.append(self)
        original_show(self)

    monkeypatch.setattr(MainWindow, "show", spy_show)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    palette, style, name = qapp.palette(), qapp.style().name(), qapp.applicationName()
    quitter = QTimer()
    quitter.timeout.connect(qapp.quit)  # quit() only works once the loop runs: keep asking
    quitter.start(10)
    try:
        code = run(str(bad))
        assert qapp.applicationName() == "Kling Preview" and qapp.organizationName() == "KlingPreview"
    finally:
        quitter.stop()
        # a quit request left over from the repeated asking would end every later event loop at once:
        # one more (immediately quit) run of the loop consumes it and resets Qt's quit flag
        once = QTimer()
        once.setSingleShot(True)
        once.timeout.connect(qapp.quit)
        once.start(0)
        qapp.exec()
        once.stop()
        qapp.setPalette(palette)
        qapp.setStyle(style)
        qapp.setApplicationName(name)
    assert code == 0
    assert len(shown) == 1 and shown[0].project is None
    assert no_dialogs and no_dialogs[0][0] == "critical" and "broken.jpg" in no_dialogs[0][1]


def test_open_the_sample_project(empty_window):
    empty_window.open_sample()
    project = empty_window.project
    assert project is not None and project.regions
    assert empty_window.path is None  # Save asks where, so the bundled sample is never overwritten
    assert (project.labels != 0).any()
    assert empty_window.preview.is_playing()  # the demonstration starts moving at once


def _drag(window: MainWindow, mime: QMimeData) -> bool:
    """A drag entering and moving over the window, as Qt delivers it; True if the window wants it."""
    args = (QPoint(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with warnings.catch_warnings():  # PySide marks these QPoint constructors deprecated but has no QPointF one
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(*args)
        move = QDragMoveEvent(*args)
    enter.setAccepted(False)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(window, move)
    return move.isAccepted()


def test_dropping_a_file_opens_it(empty_window, png, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    assert _drag(empty_window, mime)
    drop = QDropEvent(
        QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(empty_window, drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: empty_window.project is not None)
    assert empty_window.project.image.name == "photo.png"

    text_only = QMimeData()
    text_only.setText("hello")
    assert not _drag(empty_window, text_only)


# ----- save ----------------------------------------------------------------------------------------------
def test_save_as_then_reopen_gives_back_masks_and_trajectories(window, mouse, tmp_path, qtbot):
    project = window.project
    water = project.regions[0].label
    mouse.drag([(100.0, 100.0), (180.0, 130.0)])
    window.set_tool("static_brush")
    mouse.drag([(300.0, 50.0), (300.0, 250.0)])
    project.region(water).trajectory = [(110.0, 100.0), (200.0, 90.0), (260.0, 140.0)]
    assert window.isWindowModified()
    target = tmp_path / "scene"
    assert window.save_as(target)  # the suffix is added
    saved = tmp_path / "scene.klproj"
    assert saved.is_file() and window.path == saved
    assert not window.isWindowModified() and window.windowTitle().startswith("scene.klproj[*]")
    labels = project.labels.copy()

    other = MainWindow()
    qtbot.addWidget(other)
    assert other.open_path(saved)
    reopened = other.project
    assert np.array_equal(reopened.labels == water, labels == water)
    assert np.array_equal(reopened.labels == STATIC, labels == STATIC)
    assert [r.name for r in reopened.regions] == ["Water", "Clouds"]
    assert np.allclose(reopened.regions[0].trajectory, [(110, 100), (200, 90), (260, 140)])
    assert other.path == saved
    recent = app_settings.recent_files()
    assert recent[0] == str(saved.resolve())


def test_ctrl_s_asks_for_a_name_once_then_saves_in_place(window, mouse, tmp_path, monkeypatch):
    asked = []
    target = tmp_path / "picked.klproj"

    def pick(*args, **kwargs):
        asked.append(args)
        return str(target), "Kling Preview project (*.klproj)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", pick)
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    QTest.keyClick(window.canvas, Qt.Key.Key_S, CTRL)
    assert target.is_file() and len(asked) == 1 and not window.isWindowModified()
    mouse.drag([(40.0, 90.0), (80.0, 90.0)])
    QTest.keyClick(window.canvas, Qt.Key.Key_S, CTRL)
    assert len(asked) == 1 and not window.isWindowModified()
    assert np.array_equal(load_project(target).labels, window.project.labels)  # the second stroke is in it
    assert not list(tmp_path.glob("*.tmp*"))


def test_a_failed_save_is_reported_and_keeps_the_changes(window, mouse, tmp_path, no_dialogs):
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    assert not window.save_as(tmp_path / "no" / "such" / "folder" / "x.klproj")
    assert window.isWindowModified()
    assert no_dialogs[-1][0] == "critical" and "x.klproj" in no_dialogs[-1][1]


# ----- unsaved changes -----------------------------------------------------------------------------------
def test_closing_with_unsaved_changes_asks(window, mouse, monkeypatch, tmp_path, qtbot):
    calls: list[str] = []
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, calls)
    assert not window.close()
    assert window.isVisible() and len(calls) == 1 and "unsaved" in calls[0]

    window.path = tmp_path / "kept.klproj"
    answer(monkeypatch, QMessageBox.StandardButton.Save, calls)
    assert window.close()
    assert (tmp_path / "kept.klproj").is_file() and len(calls) == 2


def test_closing_and_discarding(window, mouse, monkeypatch):
    calls: list[str] = []
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    answer(monkeypatch, QMessageBox.StandardButton.Discard, calls)
    assert window.close() and len(calls) == 1


def test_no_question_without_changes(window, monkeypatch):
    calls: list[str] = []
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, calls)
    assert window.close() and not calls


def test_preview_clip_settings_are_undoable_edits_that_close_and_autosave_keep(window, monkeypatch, qtbot):
    """Frame rate, mode and length changed in the preview panel mark the project modified (regression:
    they were written to the project behind the undo stack, so closing dropped them unasked)."""
    clip, panel = window.project.clip, window.preview
    assert (clip.fps, clip.mode, clip.seconds) == (24, "kling", 5.0)
    panel.fps_spin.setFocus()
    QTest.keyClick(panel.fps_spin, Qt.Key.Key_Up)
    QTest.keyClick(panel.fps_spin, Qt.Key.Key_Up)
    assert clip.fps == 26 and window.isWindowModified()
    assert window.doc.stack.count() == 1  # the steps of one spin box merge
    QTest.keyClick(panel.mode_combo, Qt.Key.Key_Down)
    assert clip.mode == "loop"
    panel.seconds_combo.setCurrentIndex(panel.seconds_combo.findData(10.0))
    assert clip.loop_seconds == 10.0 and clip.seconds == 5.0
    assert window.doc.stack.count() == 3

    written: list[str] = []
    window.autosaver.written.connect(written.append)
    assert window.autosaver.write_now() and written  # autosave keeps them
    kept = load_project(written[-1]).clip
    assert (kept.fps, kept.mode, kept.loop_seconds) == (26, "loop", 10.0)

    window.undo()
    window.undo()
    assert (clip.mode, clip.loop_seconds) == ("kling", 5.0) and panel.mode_combo.currentText() == "kling"
    window.undo()
    assert clip.fps == 24 and panel.fps_spin.value() == 24 and not window.isWindowModified()
    window.redo()
    assert clip.fps == 26 and panel.fps_spin.value() == 26

    calls: list[str] = []
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, calls)
    assert not window.close() and len(calls) == 1 and "unsaved" in calls[0]


def test_opening_another_file_asks_and_cancel_keeps_the_work(window, mouse, monkeypatch, png):
    calls: list[str] = []
    project = window.project
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, calls)
    assert not window.open_path(png)
    assert window.project is project and len(calls) == 1
    assert not window.close_project() and window.project is project and len(calls) == 2
    answer(monkeypatch, QMessageBox.StandardButton.Discard, calls)
    assert window.open_path(png)
    assert window.project.image.name == "photo.png" and not window.isWindowModified()
    assert window.doc.stack.count() == 0


# ----- recent files, status bar, menus ---------------------------------------------------------------------
def test_recent_files_menu(empty_window, png, tmp_path):
    second = tmp_path / "second.png"
    Image.fromarray(textured_pixels(200, 150, seed=4)).save(second)
    empty_window.open_path(png)
    empty_window.open_path(second)
    assert app_settings.recent_files()[:2] == [str(second.resolve()), str(png.resolve())]
    menu = empty_window.recent_menu
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if a.toolTip().endswith(".png")]
    assert [a.toolTip() for a in entries] == [str(second.resolve()), str(png.resolve())]
    entries[1].trigger()
    assert empty_window.project.image.name == "photo.png"
    assert app_settings.recent_files()[0] == str(png.resolve())


def test_settings_stay_in_the_test_folder(tmp_path_factory):
    path = Path(app_settings.settings().fileName())
    assert path.name == "settings.ini"
    assert str(path.parent) == str(Path(__import__("os").environ["KLING_PREVIEW_CONFIG_DIR"]))


def test_status_bar_shows_image_and_kling_coordinates(window, mouse):
    window.canvas.actual_size()
    mouse.move(10.0, 20.0)
    text = window.pos_label.text()
    assert "x 10, y 20" in text and "Kling x 10, y 300" in text
    assert window.zoom_label.text() == "100 %"
    window.project.paint(window.project.regions[0].label, [(10, 20)], 3)
    mouse.move(10.0, 20.0)
    assert "Water" in window.pos_label.text()


def test_edits_reach_preview_and_validation(window, mouse, monkeypatch):
    calls = []
    monkeypatch.setattr(window.preview, "schedule_update", lambda: calls.append("preview"))
    monkeypatch.setattr(window.validation, "schedule_update", lambda: calls.append("validation"))
    mouse.drag([(40.0, 40.0), (80.0, 40.0)])
    assert "preview" in calls and "validation" in calls
    calls.clear()
    window.undo()
    assert "preview" in calls and "validation" in calls


def test_export_opens_the_export_dialog(window, monkeypatch):
    from kling_preview.ui.dialogs import export as export_module

    opened = []

    class FakeDialog:
        def __init__(self, project, parent=None, start_dir=""):
            opened.append((project, parent, start_dir))

        def exec(self):
            return 0

    monkeypatch.setattr(export_module, "ExportDialog", FakeDialog)
    QTest.keyClick(window.canvas, Qt.Key.Key_E, CTRL)
    assert opened == [(window.project, window, window._start_dir())]


def test_help_menu(window, monkeypatch):
    shown = []
    monkeypatch.setattr(main_window_module, "show_shortcuts", lambda parent: shown.append("shortcuts"))
    monkeypatch.setattr(main_window_module, "show_about", lambda parent: shown.append("about"))
    QTest.keyClick(window.canvas, Qt.Key.Key_F1)
    window.act_about.trigger()
    assert shown == ["shortcuts", "about"]
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Tools", "Help"]


def _registered(window: MainWindow) -> set[str]:
    return {seq.toString(PORTABLE) for act in window.findChildren(QAction) for seq in act.shortcuts()}


#: Keys the canvas handles itself while it has focus.
CANVAS_KEYS = {"Space", "Return", "Enter", "Delete", "Backspace", "Escape"}


def test_every_listed_shortcut_is_registered(window):
    registered = _registered(window)
    for keys, _what in SHORTCUTS:
        for part in keys.split(" / "):
            if QKeySequence(part).toString(PORTABLE) != part:
                continue  # a gesture such as "Space+drag", not a key sequence
            assert part in registered or part in CANVAS_KEYS, f"{part} ({_what}) is not registered"
