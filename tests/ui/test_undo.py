"""Undo: one command per gesture, exact mask restoration, region edits with old and new values."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kling_preview.core.edits import MoveRegion, RemoveRegion, SetRegionAttr, SetTrajectory
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MotionKind
from kling_preview.ui.commands import Document


def test_a_stroke_is_one_undo_step_and_undo_redo_restore_the_mask_exactly(window, mouse):
    project, stack = window.project, window.doc.stack
    water, clouds = (r.label for r in project.regions)
    project.paint(clouds, [(150, 150), (250, 150)], 30)
    project.paint(STATIC, [(200, 60), (200, 260)], 12)
    window.set_project(project)  # painted before the window shows it
    before = project.labels.copy()
    revision = dict(project.mask_revision)
    window.regions.select_label(water)
    window.canvas.set_brush_size(24)
    zigzag = [(60.0 + 12 * i, 120.0 + (40 if i % 2 else 0)) for i in range(25)] + [(100.0, 150.0), (300.0, 140.0)]
    mouse.drag(zigzag)
    after = project.labels.copy()
    assert stack.count() == 1 and not np.array_equal(before, after)
    assert project.mask_revision[water] > revision.get(water, 0)

    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(project.labels, before)
    assert np.array_equal(window.canvas.overlay.view, before)  # the view follows undo
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(project.labels, after)
    window.undo()
    QTest.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(project.labels, after)
    assert np.array_equal(window.canvas.overlay.view, after)


def test_undo_marks_follow_the_clean_state(window, mouse):
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("textured.png[*]")
    mouse.drag([(30.0, 30.0), (60.0, 30.0)])
    assert window.isWindowModified()
    window.undo()
    assert not window.isWindowModified()
    assert window.act_redo.isEnabled() and not window.act_undo.isEnabled()


def test_history_view_lists_every_step(window, mouse):
    mouse.drag([(30.0, 30.0), (60.0, 30.0)])
    window.regions.add_region()
    model = window.history.model()
    assert model.rowCount() == 3  # "<opened>" plus two steps
    texts = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert texts[1] == "Paint Water" and texts[2] == "Add region"
    window.history.setCurrentIndex(model.index(0, 0))  # clicking the first row goes back to the start
    assert not window.project.labels.any() and len(window.project.regions) == 2


def test_region_edits_undo_to_their_old_values(window):
    doc, project = window.doc, window.project
    water = project.regions[0]
    cases = [
        ("name", "Sea"),
        ("color", (1, 2, 3)),
        ("kind", MotionKind.FLOW),
        ("strength", 2.5),
        ("feather", 20.0),
        ("visible", False),
    ]
    for attr, value in cases:
        old = getattr(water, attr)
        doc.apply(SetRegionAttr(label=water.label, attr=attr, old=old, new=value))
        assert getattr(water, attr) == value
        doc.stack.undo()
        assert getattr(water, attr) == old
        doc.stack.redo()
        assert getattr(water, attr) == value
    assert doc.stack.count() == len(cases)


def test_spin_box_steps_merge_into_one_command(window):
    doc = window.doc
    label = window.project.regions[0].label
    row = window.regions.rows[label]
    for _ in range(4):
        row.strength.stepUp()
    assert window.project.region(label).strength == pytest.approx(1.4)
    assert doc.stack.count() == 1
    doc.stack.undo()
    assert window.project.region(label).strength == 1.0


def test_delete_region_undo_brings_back_pixels_trajectory_and_place(window):
    doc, project = window.doc, window.project
    water, clouds = project.regions
    project.paint(water.label, [(100, 100), (200, 120)], 20)
    water.trajectory = [(100.0, 100.0), (200.0, 120.0)]
    water.strength = 1.7
    labels = project.labels.copy()
    doc.apply(RemoveRegion(water.label))
    assert [r.label for r in project.regions] == [clouds.label]
    assert not (project.labels == water.label).any()
    doc.stack.undo()
    assert [r.name for r in project.regions] == ["Water", "Clouds"]
    restored = project.region(water.label)
    assert restored.trajectory == [(100.0, 100.0), (200.0, 120.0)] and restored.strength == 1.7
    assert np.array_equal(project.labels, labels)
    assert np.array_equal(window.canvas.overlay.view, labels)


def test_move_and_trajectory_commands(window):
    doc, project = window.doc, window.project
    water, clouds = (r.label for r in project.regions)
    doc.apply(MoveRegion(clouds, 1, 0))
    assert [r.label for r in project.regions] == [clouds, water]
    doc.apply(SetTrajectory(water, [], [(1.0, 2.0), (3.0, 4.0)], "Draw trajectory"))
    assert project.region(water).trajectory == [(1.0, 2.0), (3.0, 4.0)]
    doc.stack.undo()
    assert project.region(water).trajectory == []
    doc.stack.undo()
    assert [r.label for r in project.regions] == [water, clouds]


def test_new_region_painted_with_no_region_undoes_in_one_step(window, mouse):
    doc, project = window.doc, window.project
    for label in [r.label for r in project.regions]:
        doc.set_target(label)
        window.regions.delete_selected()
    count = doc.stack.count()
    mouse.drag([(60.0, 60.0), (90.0, 60.0)])
    assert doc.stack.count() == count + 1 and len(project.regions) == 1
    window.undo()
    assert project.regions == [] and not project.labels.any()


def test_document_target_falls_back_when_its_region_goes(qtbot, ui_project):
    doc = Document()
    doc.set_project(ui_project)
    water, clouds = (r.label for r in ui_project.regions)
    assert doc.target == water
    doc.set_target(clouds)
    doc.apply(RemoveRegion(clouds))
    assert doc.target == water
    doc.set_target(12345)
    assert doc.target is None
