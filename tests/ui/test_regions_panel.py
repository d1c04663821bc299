"""Regions panel: six regions at most, rows select the paint target, every change is undoable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QColorDialog

from kling_preview.core.edits import SetTrajectory
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MAX_REGIONS, MotionKind

LEFT = Qt.MouseButton.LeftButton


def test_up_to_six_regions_then_a_seventh_is_refused_with_klings_limit(window, qtbot, no_dialogs):
    panel, project = window.regions, window.project
    while len(project.regions) < MAX_REGIONS:
        qtbot.mouseClick(panel.add_button, LEFT)
    assert len(project.regions) == 6 and len(panel.rows) == 6
    assert "6/6" in panel.header.text()
    assert not no_dialogs
    qtbot.mouseClick(panel.add_button, LEFT)
    assert len(project.regions) == 6
    assert len(no_dialogs) == 1
    kind, text = no_dialogs[0]
    assert kind == "warning" and "6" in text and "Kling" in text
    QTest.keyClick(window.canvas, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(project.regions) == 6 and len(no_dialogs) == 2  # the shortcut is refused the same way


def test_added_region_is_selected_with_a_free_colour(window, qtbot):
    panel, project = window.regions, window.project
    qtbot.mouseClick(panel.add_button, LEFT)
    new = project.regions[-1]
    assert window.doc.target == new.label
    assert len({r.color for r in project.regions}) == 3
    assert panel.rows[new.label].property("selected")


def test_clicking_rows_sets_the_paint_target(window, qtbot):
    panel, project = window.regions, window.project
    water, clouds = (r.label for r in project.regions)
    qtbot.mouseClick(panel.rows[clouds], LEFT)
    assert window.doc.target == clouds
    assert panel.rows[clouds].property("selected") and not panel.rows[water].property("selected")
    qtbot.mouseClick(panel.static_row, LEFT)
    assert window.doc.target == STATIC and window.canvas.tool.name == "static_brush"
    qtbot.mouseClick(panel.rows[water].name, LEFT)  # a click in the name field selects the row too
    assert window.doc.target == water and window.canvas.tool.name == "motion_brush"


def test_rename_in_place_is_one_undoable_step(window, qtbot):
    panel, project = window.regions, window.project
    label = project.regions[0].label
    editor = panel.rows[label].name
    QTest.mouseDClick(editor, LEFT)  # double-click starts the rename with the whole name selected
    assert editor.hasFocus() and not editor.isReadOnly()
    QTest.keyClicks(editor, "River")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert project.region(label).name == "River"
    assert window.doc.stack.count() == 1
    window.undo()
    assert project.region(label).name == "Water" and editor.text() == "Water"


def test_colour_swatch_opens_a_colour_dialog(window, qtbot, monkeypatch):
    label = window.project.regions[0].label
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor(10, 20, 30))
    qtbot.mouseClick(window.regions.rows[label].swatch, LEFT)
    assert window.project.region(label).color == (10, 20, 30)
    table = window.canvas.overlay.image.colorTable()
    assert table[label] & 0xFFFFFF == (10 << 16) | (20 << 8) | 30


def test_visibility_kind_and_strength(window, qtbot):
    project = window.project
    label = project.regions[0].label
    row = window.regions.rows[label]
    qtbot.mouseClick(row.eye, LEFT)
    assert project.region(label).visible is False
    assert window.canvas.overlay.image.colorTable()[label] >> 24 == 0  # hidden: not tinted
    row.kind.setCurrentIndex(row.kind.findData(MotionKind.AMBIENT))
    assert project.region(label).kind == MotionKind.AMBIENT
    row.strength.setValue(2.0)
    assert project.region(label).strength == 2.0
    assert window.doc.stack.count() == 3
    for _ in range(3):
        window.undo()
    region = project.region(label)
    assert (region.visible, region.kind, region.strength) == (True, MotionKind.PATH, 1.0)
    assert row.eye.isChecked() and row.kind.currentData() == MotionKind.PATH and row.strength.value() == 1.0


def test_static_row_toggles_the_static_overlay(window, qtbot):
    window.project.paint(STATIC, [(10, 10)], 5)
    assert window.canvas.overlay.image.colorTable()[STATIC] >> 24 > 0
    qtbot.mouseClick(window.regions.static_row.eye, LEFT)
    assert window.doc.show_static is False
    assert window.canvas.overlay.image.colorTable()[STATIC] >> 24 == 0


def test_delete_and_move_buttons(window, qtbot):
    panel, project = window.regions, window.project
    water, clouds = (r.label for r in project.regions)
    panel.select_label(clouds)
    assert panel.up_button.isEnabled() and not panel.down_button.isEnabled()
    qtbot.mouseClick(panel.up_button, LEFT)
    assert [r.label for r in project.regions] == [clouds, water]
    assert list(panel.rows) == [clouds, water]
    qtbot.mouseClick(panel.delete_button, LEFT)
    assert [r.label for r in project.regions] == [water]
    assert window.doc.target == water
    window.undo()
    window.undo()
    assert [r.label for r in project.regions] == [water, clouds]


def test_deleting_the_static_row_clears_the_static_mask(window, qtbot):
    project = window.project
    project.paint(STATIC, [(50, 50), (150, 50)], 10)
    window.regions.select_label(STATIC)
    qtbot.mouseClick(window.regions.delete_button, LEFT)
    assert not (project.labels == STATIC).any()
    window.undo()
    assert (project.labels == STATIC).any()


def test_validation_panel_can_select_a_region(window):
    clouds = window.project.regions[1].label
    window.validation.regionActivated.emit(clouds)
    assert window.doc.target == clouds
    assert window.regions.rows[clouds].property("selected")


def test_trajectory_point_count_shown_per_row(window):
    label = window.project.regions[0].label
    row = window.regions.rows[label]
    assert row.points.text() == "0/77"
    window.set_tool("trajectory")
    window.canvas.run_actions([])
    window.doc.apply(SetTrajectory(label, [], [(1.0, 1.0), (5.0, 5.0)], "Draw trajectory"))
    assert row.points.text() == "2/77"
