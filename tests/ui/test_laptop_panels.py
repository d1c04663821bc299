"""Laptop-first panels: a touchpad scroll over a panel never edits, undo keys always reach the history,
rows rename only on request and follow the selection."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from kling_preview.core.project import MAX_REGIONS

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def scroll_over(widget: QWidget, notches: int = -3) -> None:
    """A wheel/touchpad scroll (down for negative notches) over the middle of `widget`, as Qt delivers it."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(notches)):
        event = QWheelEvent(
            pos,
            QPointF(widget.mapToGlobal(pos.toPoint())),
            QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(widget, event)


def fill_regions(window, qtbot) -> None:
    while len(window.project.regions) < MAX_REGIONS:
        qtbot.mouseClick(window.regions.add_button, LEFT)


def test_scrolling_over_a_strength_box_scrolls_the_panel_and_edits_nothing(window, qtbot):
    fill_regions(window, qtbot)
    panel, project = window.regions, window.project
    window.resizeDocks([window.regions_dock], [160], Qt.Orientation.Vertical)
    first = project.regions[0]
    qtbot.mouseClick(panel.rows[first.label], LEFT)
    window.canvas.setFocus()
    qtbot.waitUntil(lambda: panel.scroll.verticalScrollBar().maximum() > 0)
    panel.scroll.verticalScrollBar().setValue(0)
    steps = window.doc.stack.count()
    box = panel.rows[first.label].strength
    assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus  # a wheel never takes the focus
    scroll_over(box.lineEdit())
    scroll_over(box)
    scroll_over(panel.rows[first.label].kind)
    assert project.region(first.label).strength == 1.0
    assert project.region(first.label).kind == first.kind
    assert window.doc.stack.count() == steps
    assert panel.scroll.verticalScrollBar().value() > 0  # the panel scrolled instead


def test_a_focused_spin_box_still_takes_the_wheel(window, qtbot):
    panel, project = window.regions, window.project
    label = project.regions[0].label
    qtbot.mouseClick(panel.rows[label], LEFT)
    box = panel.rows[label].strength
    box.setFocus()
    scroll_over(box, notches=2)
    assert project.region(label).strength > 1.0


def test_scrolling_over_the_kling_request_keeps_duration_and_cfg_scale(window, qtbot):
    window.kling_dock.raise_()
    panel, project = window.kling_settings, window.project
    window.canvas.setFocus()
    before = (project.kling.duration, project.kling.cfg_scale, project.kling.mode)
    for w in (panel.duration_combo, panel.cfg_spin, panel.cfg_slider, panel.mode_combo):
        scroll_over(w, notches=6)
        scroll_over(w, notches=-6)
    assert (project.kling.duration, project.kling.cfg_scale, project.kling.mode) == before
    assert window.doc.stack.count() == 0


def test_scrolling_over_the_preview_and_export_controls_changes_nothing(window, qtbot, make_dialog):
    preview = window.preview
    window.canvas.setFocus()
    controls = (preview.fps_spin, preview.mode_combo, preview.seconds_combo)
    before = [w.value() if hasattr(w, "value") else w.currentIndex() for w in controls]
    for w in controls:
        scroll_over(w, notches=3)
    assert [w.value() if hasattr(w, "value") else w.currentIndex() for w in controls] == before
    assert window.doc.stack.count() == 0
    dialog = make_dialog(window.project)
    dialog.set_format("mp4")
    seconds = dialog.seconds_spin.value()
    window.canvas.setFocus()
    scroll_over(dialog.seconds_spin, notches=3)
    assert dialog.seconds_spin.value() == seconds


def test_ctrl_z_reaches_the_history_while_a_spin_box_has_focus(window, qtbot):
    panel, project = window.regions, window.project
    label = project.regions[0].label
    qtbot.mouseClick(panel.rows[label], LEFT)
    box = panel.rows[label].strength
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Up)
    assert project.region(label).strength > 1.0 and window.doc.stack.count() == 1
    QTest.keyClick(box, Qt.Key.Key_Z, CTRL)
    assert project.region(label).strength == 1.0 and window.doc.stack.index() == 0
    QTest.keyClick(box, Qt.Key.Key_Z, CTRL | SHIFT)
    assert project.region(label).strength > 1.0
    window.undo()
    QTest.keyClick(box, Qt.Key.Key_Y, CTRL)
    assert project.region(label).strength > 1.0


def test_ctrl_z_reaches_the_history_from_a_name_being_renamed(window, qtbot):
    panel, project = window.regions, window.project
    water = project.regions[0].label
    panel.set_attr(water, "strength", 2.0)
    editor = panel.rows[water].name
    QTest.mouseDClick(editor, LEFT)
    assert editor.hasFocus()
    QTest.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert project.region(water).strength == 1.0


def test_ctrl_plus_zooms_in_once_without_an_ambiguous_shortcut(window, qtbot):
    sequences = [s.toString() for s in window.act_zoom_in.shortcuts()]
    # Ctrl+Shift+= is the same keys as Ctrl++ on most layouts: Qt found two matches and fired neither.
    assert sorted(sequences) == ["Ctrl++", "Ctrl+="]
    for act in window.actions():  # no other action claims the same keys
        if act is not window.act_zoom_in:
            assert not {s.toString() for s in act.shortcuts()} & set(sequences)
    triggered: list[bool] = []
    window.act_zoom_in.triggered.connect(lambda *_: triggered.append(True))
    window.canvas.setFocus()
    before = window.canvas.scale
    QTest.keyClick(window.canvas, Qt.Key.Key_Plus, CTRL)
    assert triggered == [True]
    assert window.canvas.scale > before
    before = window.canvas.scale
    QTest.keyClick(window.canvas, Qt.Key.Key_Equal, CTRL)
    assert triggered == [True, True] and window.canvas.scale > before


def test_tool_keys_after_a_click_on_a_row_do_not_type_into_its_name(window, qtbot):
    panel, project = window.regions, window.project
    water = project.regions[0].label
    editor = panel.rows[water].name
    qtbot.mouseClick(editor, LEFT)
    assert window.doc.target == water
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_T)
    assert project.region(water).name == "Water" and editor.text() == "Water"
    assert window.canvas.tool.name == "trajectory"


def test_f2_renames_the_selected_region(window, qtbot):
    panel, project = window.regions, window.project
    clouds = project.regions[1].label
    qtbot.mouseClick(panel.rows[clouds], LEFT)
    QTest.keyClick(window.canvas, Qt.Key.Key_F2)
    editor = panel.rows[clouds].name
    assert editor.hasFocus() and editor.selectedText() == "Clouds"
    QTest.keyClicks(editor, "Sky")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert project.region(clouds).name == "Sky" and editor.isReadOnly()


def test_the_regions_list_follows_the_selection_and_rows_are_compact(window, qtbot):
    fill_regions(window, qtbot)
    panel, project = window.regions, window.project
    window.regions_dock.raise_()
    window.resize(1366, 768)
    bar = panel.scroll.verticalScrollBar()
    viewport = panel.scroll.viewport()

    def in_view(label: int) -> bool:
        row = panel.rows[label]
        top = row.mapTo(viewport, QPoint(0, 0)).y()
        return top >= 0 and top + row.height() <= viewport.height()

    last, first = project.regions[-1].label, project.regions[0].label
    qtbot.waitUntil(lambda: in_view(last))  # the new region was scrolled into view
    window.select_region(first)  # as from the Kling check's "go to region"
    qtbot.waitUntil(lambda: in_view(first) and bar.value() == 0)
    window.select_region(last)
    qtbot.waitUntil(lambda: in_view(last))
    other = panel.rows[first]
    selected = panel.rows[last]
    assert not other.details.isVisibleTo(other) and selected.details.isVisibleTo(selected)
    assert other.sizeHint().height() < selected.sizeHint().height()
    assert viewport.height() / other.height() > 1.5  # at 768 px (two-line rows showed about 1.2)


def test_a_freehand_drag_over_a_path_says_it_replaced_it(window, mouse, qtbot):
    project, stack = window.project, window.doc.stack
    water = project.regions[0].label
    window.regions.select_label(water)
    window.set_tool("trajectory")
    mouse.drag([(50.0 + 4 * i, 60.0) for i in range(30)])
    assert stack.undoText() == "Draw trajectory" and "Replaced" not in window.statusBar().currentMessage()
    old = list(project.region(water).trajectory)
    mouse.drag([(60.0, 200.0 + 3 * i) for i in range(30)])
    assert project.region(water).trajectory != old and stack.undoText() == "Replace trajectory"
    message = window.statusBar().currentMessage()
    assert "Replaced the trajectory of Water" in message and "Ctrl+Z" in message
    assert window.act_undo.text() == "&Undo Replace trajectory"
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, CTRL)
    assert list(project.region(water).trajectory) == old
