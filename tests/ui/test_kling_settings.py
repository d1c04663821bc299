"""Kling request panel: every setting edited with real clicks and keys is one undo step that undo restores,
the prompt counter and Kling's rules follow the text, and a camera move shows in the check and the preview."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import make_project
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionSlider,
    QWidget,
)

from kling_preview.core.edits import SetSetting
from kling_preview.core.project import CameraMove
from kling_preview.core.spec.rules import MAX_PROMPT_CHARS
from kling_preview.ui.qimage import qimage_to_rgb

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def panel(window):
    window.kling_dock.raise_()  # tabbed behind the regions: bring it up as a user clicks its tab
    QApplication.processEvents()
    assert on_screen(window.kling_dock)
    return window.kling_settings


def on_screen(widget: QWidget) -> bool:
    """Shown to the user: a dock in a tab behind another one is visible but has no visible region."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Open the combo's list with a click, walk to the item `text` with the arrow keys and press Enter."""
    index = combo.findText(text)
    assert index >= 0, f"{text!r} is not offered"
    if combo.isEditable():  # the text field takes clicks: open the list with the arrow
        opt = QStyleOptionComboBox()
        combo.initStyleOption(opt)
        arrow = combo.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxArrow, combo
        )
        qtbot.mouseClick(combo, LEFT, pos=arrow.center())
    else:
        qtbot.mouseClick(combo, LEFT)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    steps = index - combo.currentIndex()
    for _ in range(abs(steps)):
        QTest.keyClick(view, Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up)
    QTest.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.isVisible())
    assert combo.currentText() == text


def type_into(qtbot, widget: QWidget, text: str, enter: bool = True) -> None:
    """Click into a field, select what is there, type `text` (and Enter)."""
    qtbot.mouseClick(widget, LEFT)
    QTest.keyClick(widget, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(widget, text)
    if enter:
        QTest.keyClick(widget, Qt.Key.Key_Return)


def drag_slider(slider: QSlider, fractions: list[float]) -> None:
    """Press on the handle and drag it through `fractions` of the groove with real mouse events."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider)
    groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider)
    y = handle.center().y()

    def send(kind, x: float, buttons) -> None:
        pos = QPointF(x, y)
        button = LEFT if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        event = QMouseEvent(kind, pos, QPointF(slider.mapToGlobal(pos.toPoint())), button, buttons, Qt.NoModifier)
        QApplication.sendEvent(slider, event)

    send(QEvent.Type.MouseButtonPress, handle.center().x(), LEFT)
    x = handle.center().x()
    for f in fractions:
        x = groove.left() + f * groove.width()
        send(QEvent.Type.MouseMove, x, LEFT)
    send(QEvent.Type.MouseButtonRelease, x, Qt.MouseButton.NoButton)


def undo_restores(window, read, before, after) -> None:
    """One undo step for the edit; undo gives `before` back, redo `after`; the modified mark follows."""
    stack = window.doc.stack
    assert read() == after
    assert stack.count() == 1
    assert window.isWindowModified()
    window.undo()
    assert read() == before
    assert not window.isWindowModified()
    window.redo()
    assert read() == after


def test_model_typed_in_the_combo_is_one_undo_step(window, panel, qtbot):
    k = window.project.kling
    type_into(qtbot, panel.model_combo.lineEdit(), "kling-v1-5")
    undo_restores(window, lambda: k.model_name, "kling-v1", "kling-v1-5")
    window.undo()
    assert panel.model_combo.currentText() == "kling-v1"


def test_model_mode_and_duration_chosen_from_the_lists(window, panel, qtbot):
    k, stack = window.project.kling, window.doc.stack
    choose(qtbot, panel.model_combo, "kling-v2-master")
    choose(qtbot, panel.mode_combo, "pro")
    choose(qtbot, panel.duration_combo, "10 s")
    assert (k.model_name, k.mode, k.duration) == ("kling-v2-master", "pro", "10")
    assert stack.count() == 3
    assert [stack.text(i) for i in range(3)] == ["Change model", "Change mode", "Change duration"]
    window.undo()
    assert k.duration == "5" and panel.duration_combo.currentData() == "5"
    window.undo()
    assert k.mode == "std" and panel.mode_combo.currentText() == "std"
    window.undo()
    assert k.model_name == "kling-v1" and panel.model_combo.currentText() == "kling-v1"
    assert not window.isWindowModified()


def test_an_emptied_model_name_is_not_taken(window, panel, qtbot):
    type_into(qtbot, panel.model_combo.lineEdit(), "   ")
    assert window.project.kling.model_name == "kling-v1"
    assert panel.model_combo.currentText() == "kling-v1"
    assert window.doc.stack.count() == 0


def test_cfg_scale_spin_steps_merge_into_one_undo_step(window, panel, qtbot):
    k = window.project.kling
    qtbot.mouseClick(panel.cfg_spin, LEFT)
    for _ in range(3):
        QTest.keyClick(panel.cfg_spin, Qt.Key.Key_Up)
    assert panel.cfg_slider.value() == 65  # the slider follows the spin box
    undo_restores(window, lambda: k.cfg_scale, 0.5, 0.65)
    window.undo()
    assert panel.cfg_spin.value() == 0.5 and panel.cfg_slider.value() == 50


def test_cfg_scale_slider_drag_is_one_undo_step(window, panel, qtbot):
    k = window.project.kling
    seen: list[float] = []
    window.doc.settingsChanged.connect(lambda _key: seen.append(k.cfg_scale))
    drag_slider(panel.cfg_slider, [0.6, 0.7, 0.8, 0.9])
    assert len(set(seen)) >= 3  # the value followed the drag...
    after = k.cfg_scale
    assert after > 0.8 and panel.cfg_spin.value() == pytest.approx(after)
    undo_restores(window, lambda: k.cfg_scale, 0.5, after)  # ...and it is one step
    drag_slider(panel.cfg_slider, [0.2])
    assert window.doc.stack.count() == 2  # a second drag is a second step


def test_typing_a_prompt_is_one_step_per_burst_and_ctrl_z_undoes_it(window, panel, qtbot):
    k, stack, edit = window.project.kling, window.doc.stack, panel.prompt_edit
    qtbot.mouseClick(edit.viewport(), LEFT)
    QTest.keyClicks(edit, "A boat sails east")  # the window's single-key shortcuts (B, S, E, Space) do not fire
    assert k.prompt == "A boat sails east"
    assert window.canvas.tool.name == "motion_brush" and not window.preview.is_playing()
    assert panel.prompt_counter.text() == f"17/{MAX_PROMPT_CHARS}"
    assert stack.count() == 1 and window.isWindowModified()

    qtbot.mouseClick(panel.negative_edit.viewport(), LEFT)  # focus moves: the burst ends
    QTest.keyClicks(panel.negative_edit, "blur")
    qtbot.mouseClick(edit.viewport(), LEFT)
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    QTest.keyClicks(edit, ", slowly")
    assert k.prompt == "A boat sails east, slowly" and k.negative_prompt == "blur"
    assert stack.count() == 3

    QTest.keyClick(edit, Qt.Key.Key_Z, CTRL)  # the document's undo, not the text box's own
    assert k.prompt == "A boat sails east" and edit.toPlainText() == "A boat sails east"
    assert panel.prompt_counter.text() == f"17/{MAX_PROMPT_CHARS}"
    QTest.keyClick(edit, Qt.Key.Key_Z, CTRL)
    assert k.negative_prompt == "" and panel.negative_edit.toPlainText() == ""
    QTest.keyClick(edit, Qt.Key.Key_Z, CTRL)
    assert k.prompt == "" and edit.toPlainText() == "" and not window.isWindowModified()
    QTest.keyClick(edit, Qt.Key.Key_Z, CTRL | SHIFT)
    assert k.prompt == "A boat sails east"


def test_typing_after_undo_and_redo_is_a_new_step(window, panel, qtbot):
    k, stack, edit = window.project.kling, window.doc.stack, panel.prompt_edit
    qtbot.mouseClick(edit.viewport(), LEFT)
    QTest.keyClicks(edit, "waves")
    QTest.keyClick(edit, Qt.Key.Key_Z, CTRL)
    QTest.keyClick(edit, Qt.Key.Key_Y, CTRL)
    assert k.prompt == "waves" and edit.toPlainText() == "waves"
    QTest.keyClicks(edit, " crash")  # the cursor is where the redo left it: at the end
    assert k.prompt == "waves crash"
    assert stack.count() == 2
    window.undo()
    assert k.prompt == "waves"


def test_counter_turns_red_over_2500_and_the_check_lists_the_prompt(window, panel, qtbot):
    edit = panel.prompt_edit
    QApplication.clipboard().setText("x" * (MAX_PROMPT_CHARS - 1))
    qtbot.mouseClick(edit.viewport(), LEFT)
    QTest.keyClick(edit, Qt.Key.Key_V, CTRL)  # paste
    assert panel.prompt_counter.text() == f"{MAX_PROMPT_CHARS - 1}/{MAX_PROMPT_CHARS}"
    assert "#e0604f" not in panel.prompt_counter.styleSheet()
    QTest.keyClicks(edit, "yz")
    assert len(window.project.kling.prompt) == MAX_PROMPT_CHARS + 1
    assert panel.prompt_counter.text() == f"{MAX_PROMPT_CHARS + 1}/{MAX_PROMPT_CHARS}"
    assert "#e0604f" in panel.prompt_counter.styleSheet()
    qtbot.waitUntil(lambda: any(p.rule == "prompt-length" for p in window.validation.problems), timeout=10_000)
    texts = [window.validation.list.item(i).text() for i in range(window.validation.list.count())]
    assert any(f"prompt has {MAX_PROMPT_CHARS + 1} characters" in t for t in texts)
    assert window.doc.stack.count() == 1  # the paste and the typing that followed: one burst
    window.undo()
    qtbot.waitUntil(lambda: not any(p.rule == "prompt-length" for p in window.validation.problems), timeout=10_000)


def test_a_camera_axis_with_masks_is_listed_by_the_check(window, panel, qtbot):
    camera, stack = window.project.camera, window.doc.stack
    assert not panel.camera_value.isEnabled()
    qtbot.waitUntil(lambda: window.validation.summary() not in ("Checking…", ""), timeout=10_000)
    assert not any(p.rule == "camera-masks" for p in window.validation.problems)
    choose(qtbot, panel.camera_axis, "zoom")
    assert (camera.axis, camera.value) == ("zoom", 5.0)  # a new axis starts with a move that shows
    assert panel.camera_value.isEnabled() and panel.camera_value.value() == 5.0
    qtbot.waitUntil(lambda: any(p.rule == "camera-masks" for p in window.validation.problems), timeout=10_000)
    texts = [window.validation.list.item(i).text() for i in range(window.validation.list.count())]
    assert any("camera move cannot be combined with motion-brush masks" in t for t in texts)

    type_into(qtbot, panel.camera_value, "-3")
    assert (camera.axis, camera.value) == ("zoom", -3.0)
    assert stack.count() == 2
    window.undo()
    assert (camera.axis, camera.value) == ("zoom", 5.0) and panel.camera_value.value() == 5.0
    window.undo()
    assert (camera.axis, camera.value) == (None, 0.0)
    assert panel.camera_axis.currentText() == "none" and not panel.camera_value.isEnabled()
    qtbot.waitUntil(lambda: not any(p.rule == "camera-masks" for p in window.validation.problems), timeout=10_000)


def test_choosing_none_removes_the_move_in_one_step(window, panel, qtbot):
    camera = window.project.camera
    choose(qtbot, panel.camera_axis, "roll")
    choose(qtbot, panel.camera_axis, "none")
    assert (camera.axis, camera.value) == (None, 0.0) and not camera.active
    window.undo()
    assert (camera.axis, camera.value) == ("roll", 5.0)


def test_the_preview_renders_the_camera_move(window, panel, qtbot):
    preview = window.preview
    qtbot.waitUntil(lambda: preview.frame_count() > 10, timeout=10_000)
    last = preview.frame_count() - 1  # the move is full at the clip's end (the first frame is the still)
    preview.seek(last)
    qtbot.waitUntil(lambda: preview.shown_index() == last, timeout=10_000)
    still = qimage_to_rgb(preview.current_image())

    choose(qtbot, panel.camera_axis, "horizontal")
    qtbot.waitUntil(
        lambda: preview.shown_index() == last and not np.array_equal(qimage_to_rgb(preview.current_image()), still),
        timeout=10_000,
    )
    moved = qimage_to_rgb(preview.current_image()).astype(int)
    # Camera right: the content slid left, so the left part of the new frame shows what was further right.
    w = moved.shape[1]
    shift = round(w * 0.25 * 5 / 10)
    slid = np.abs(moved[:, : w - shift - 8] - still[:, shift + 8 :].astype(int)).mean()
    kept = np.abs(moved[:, : w - shift - 8] - still[:, : w - shift - 8].astype(int)).mean()
    assert slid < kept

    window.undo()
    qtbot.waitUntil(
        lambda: preview.shown_index() == last and np.array_equal(qimage_to_rgb(preview.current_image()), still),
        timeout=10_000,
    )


def test_only_the_camera_restarts_the_preview_every_setting_rechecks(window, panel, qtbot, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(window.preview, "schedule_update", lambda: calls.append("preview"))
    monkeypatch.setattr(window.validation, "schedule_update", lambda: calls.append("check"))
    qtbot.mouseClick(panel.prompt_edit.viewport(), LEFT)
    QTest.keyClicks(panel.prompt_edit, "rain")
    choose(qtbot, panel.mode_combo, "pro")
    assert calls == ["check"] * 5  # four keys and a mode: the frames do not depend on them
    calls.clear()
    choose(qtbot, panel.camera_axis, "pan")
    window.undo()
    assert calls == ["preview", "check"] * 2
    calls.clear()
    window.regions.add_region()  # other edits still restart the preview
    assert calls == ["preview", "check"]


def test_the_panel_shows_each_opened_project_and_is_off_without_one(window, panel):
    project = make_project(400, 300, seed=2)
    k = project.kling
    k.model_name, k.mode, k.duration, k.cfg_scale = "my-model", "fast", "7", 1.5
    k.prompt, k.negative_prompt = "waves", "people"
    project.camera = CameraMove("tilt", -2.5)
    k.extra["camera_control"] = {"type": "down_back"}
    window.set_project(project)
    assert panel.model_combo.currentText() == "my-model"
    assert panel.mode_combo.currentText() == "fast"  # values from a file are shown as they are
    assert panel.duration_combo.currentData() == "7"
    assert panel.cfg_spin.value() == 1.5 and panel.cfg_slider.value() == 100
    assert panel.prompt_edit.toPlainText() == "waves" and panel.negative_edit.toPlainText() == "people"
    assert panel.prompt_counter.text() == f"5/{MAX_PROMPT_CHARS}"
    assert panel.camera_axis.currentText() == "tilt" and panel.camera_value.value() == -2.5
    assert panel.camera_extra_note.isVisible() and "down_back" in panel.camera_extra_note.text()
    assert window.doc.stack.count() == 0  # showing values is not an edit
    assert (k.model_name, k.mode, k.duration, k.cfg_scale) == ("my-model", "fast", "7", 1.5)

    window.set_project(None)
    assert not panel.isEnabled()
    assert panel.prompt_edit.toPlainText() == ""


def test_the_dock_is_a_tab_beside_the_regions_and_the_view_menu_toggles_it(window):
    assert window.tabifiedDockWidgets(window.regions_dock) == [window.kling_dock]
    assert on_screen(window.regions_dock) and not on_screen(window.kling_dock)  # the regions come first
    action = window.kling_dock.toggleViewAction()
    panels = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    titles = [a.text() for m in panels.actions() if m.menu() for a in m.menu().actions()]
    assert "Kling request" in titles
    assert window.kling_dock.isVisibleTo(window)
    action.trigger()
    assert not window.kling_dock.isVisibleTo(window)
    action.trigger()
    assert window.kling_dock.isVisibleTo(window)


def test_setting_command_merges_only_within_a_burst(window):
    doc, k = window.doc, window.project.kling
    doc.apply(SetSetting(key="prompt", old="", new="a", burst=1))
    doc.apply(SetSetting(key="prompt", old="a", new="ab", burst=1))
    doc.apply(SetSetting(key="prompt", old="ab", new="abc", burst=2))
    assert doc.stack.count() == 2 and k.prompt == "abc"
    doc.apply(SetSetting(key="prompt", old="abc", new="ab", burst=2))  # back where the burst began
    assert doc.stack.count() == 1 and k.prompt == "ab"  # the emptied step is dropped
    old = replace(window.project.camera)
    doc.apply(SetSetting(key="camera", old=old, new=CameraMove("pan", 2.0)))
    window.project.camera.value = 9.0  # the command keeps its own copies
    window.undo()
    assert window.project.camera == old
    with pytest.raises(ValueError):
        SetSetting(key="seconds", old=5, new=10)


def test_cfg_typed_in_the_spin_box_commits_on_enter(window, panel, qtbot):
    """Keyboard tracking is off: typing does not push a step per digit, Enter commits the value."""
    qtbot.mouseClick(panel.cfg_spin, LEFT, pos=QPoint(5, panel.cfg_spin.height() // 2))
    QTest.keyClick(panel.cfg_spin, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(panel.cfg_spin, "0.3")
    assert window.project.kling.cfg_scale == 0.5  # not while typing
    QTest.keyClick(panel.cfg_spin, Qt.Key.Key_Return)
    assert window.project.kling.cfg_scale == 0.3
    assert panel.cfg_slider.value() == 30
