"""Smart selection in the window: magic wand clicks, Snap to Edges, the smart brush, cancelling."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project
from kling_preview.ui import smart_select
from kling_preview.ui import tools as T

SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def two_lakes() -> tuple[Project, np.ndarray, np.ndarray]:
    """Orange land with two blue lakes of ragged outline; returns the project and the two lakes' masks."""
    h, w = 320, 480
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    ragged = 8 * np.sin(xx / 9.0) + 6 * np.cos(yy / 7.0)
    a = (np.abs(xx - 120) < 80 + ragged) & (np.abs(yy - 160) < 110 + ragged)
    b = (np.abs(xx - 360) < 70 + ragged) & (np.abs(yy - 160) < 100 - ragged)
    pixels = np.where((a | b)[:, :, None], (60, 100, 200), (220, 140, 60)) + rng.normal(0, 5, (h, w, 3))
    project = Project(decode_image(encode_png(np.clip(pixels, 0, 255).astype(np.uint8)), "lakes.png"))
    project.add_region("Water")
    project.add_region("Clouds")
    return project, a, b


@pytest.fixture
def lakes(window):
    project, a, b = two_lakes()
    window.set_project(project)
    window.canvas.setFocus()
    return project, a, b


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.smart.busy, timeout=20000)


def iou(x: np.ndarray, y: np.ndarray) -> float:
    return np.count_nonzero(x & y) / max(np.count_nonzero(x | y), 1)


def test_wand_click_shift_click_alt_click_each_one_undo_step(qtbot, window, mouse, lakes):
    project, a, b = lakes
    water = project.regions[0].label
    window.regions.select_label(water)
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_W)
    assert window.canvas.tool.name == smart_select.WAND
    tools_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Tools")
    assert {window.smart.act_wand, window.smart.act_snap, window.smart.act_smart_brush} <= set(tools_menu.actions())

    mouse.click(120.0, 160.0)
    wait_idle(qtbot, window)
    assert iou(project.labels == water, a) > 0.97 and not (project.labels == water)[b].any()

    mouse.click(360.0, 160.0, modifiers=SHIFT)
    wait_idle(qtbot, window)
    assert iou(project.labels == water, a | b) > 0.97

    mouse.click(120.0, 160.0, modifiers=ALT)
    wait_idle(qtbot, window)
    assert iou(project.labels == water, b) > 0.97 and not (project.labels == water)[a].any()

    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert iou(project.labels == water, a | b) > 0.97
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert iou(project.labels == water, a) > 0.97 and not (project.labels == water)[b].any()


def test_snap_to_edges_grows_a_rough_stroke_in_one_undo_step(qtbot, window, mouse, lakes):
    project, a, _ = lakes
    water = project.regions[0].label
    window.regions.select_label(water)
    window.canvas.setFocus()
    window.canvas.set_brush_size(30)
    mouse.drag([(80.0, 120.0), (160.0, 130.0), (150.0, 200.0), (90.0, 190.0)])
    stroke = project.labels.copy()
    assert 0 < iou(stroke == water, a) < 0.5

    QTest.keyClick(window.canvas, Qt.Key.Key_G, CTRL_SHIFT)
    wait_idle(qtbot, window)
    assert iou(project.labels == water, a) > 0.97
    assert window.doc.stack.undoText().startswith("Snap Water to edges")

    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(project.labels, stroke)


def test_smart_brush_snaps_each_stroke_and_the_newest_paint_wins(qtbot, window, mouse, lakes):
    project, a, b = lakes
    water, clouds = project.regions[0].label, project.regions[1].label
    project.set_mask(water, b)  # the right lake already belongs to another region
    QTest.keyClick(window.canvas, Qt.Key.Key_B, CTRL_SHIFT)
    assert window.smart.act_smart_brush.isChecked()

    window.regions.select_label(clouds)
    window.canvas.setFocus()
    window.canvas.set_brush_size(24)
    mouse.drag([(330.0, 130.0), (390.0, 150.0), (360.0, 200.0)])
    wait_idle(qtbot, window)
    assert iou(project.labels == clouds, b) > 0.97
    # the newer paint took the lake from the other region (all but a few pixels of its outline)
    assert np.count_nonzero(project.labels == water) < 0.03 * np.count_nonzero(b)

    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the snap only
    assert 0 < np.count_nonzero(project.labels == clouds) < 0.5 * np.count_nonzero(b)
    assert (project.labels == water).any()  # what the raw stroke did not cover is the other region's again

    QTest.keyClick(window.canvas, Qt.Key.Key_S)  # the static mask too
    assert window.doc.target == STATIC
    mouse.drag([(90.0, 140.0), (150.0, 170.0)])
    wait_idle(qtbot, window)
    assert iou(project.labels == STATIC, a) > 0.97


def test_escape_cancels_a_running_selection_and_the_window_keeps_working(qtbot, window, mouse, lakes, monkeypatch):
    project, a, _ = lakes
    water = project.regions[0].label
    release = threading.Event()
    started = threading.Event()
    real_snap = smart_select.selection.snap

    def slow_snap(image, scribble):
        started.set()
        release.wait(10)
        return real_snap(image, scribble)

    monkeypatch.setattr(smart_select.selection, "snap", slow_snap)
    window.regions.select_label(water)
    window.canvas.setFocus()
    window.canvas.set_brush_size(30)
    mouse.drag([(80.0, 120.0), (160.0, 130.0)])
    QTest.keyClick(window.canvas, Qt.Key.Key_G, CTRL_SHIFT)
    (job,) = window.smart.jobs
    assert started.wait(10)

    mouse.drag([(100.0, 240.0), (140.0, 240.0)])  # the canvas still paints while edges are being found
    painted = project.labels.copy()
    assert painted[240, 120] == water
    steps = window.doc.stack.count()

    QTest.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert not window.smart.busy
    release.set()
    job.wait()
    qtbot.wait(50)  # let the job's queued outcome arrive: it must be dropped
    assert np.array_equal(project.labels, painted)
    assert window.doc.stack.count() == steps


def test_wand_without_a_target_says_what_to_do(qtbot, window, mouse, lakes, no_dialogs):
    project, _, _ = lakes
    for label in [r.label for r in project.regions]:
        window.doc.set_target(label)
        window.regions.delete_selected()
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_W)
    mouse.click(120.0, 160.0)
    assert not window.smart.busy
    assert any("Select a region" in text for _, text in no_dialogs)


def test_two_quick_smart_brush_strokes_both_snap(qtbot, window, mouse, lakes):
    project, a, b = lakes
    water = project.regions[0].label
    window.smart.act_smart_brush.setChecked(True)
    window.regions.select_label(water)
    window.canvas.setFocus()
    window.canvas.set_brush_size(24)
    mouse.drag([(90.0, 140.0), (150.0, 170.0)])
    mouse.drag([(340.0, 140.0), (380.0, 170.0)])  # before the first stroke's edges are found
    wait_idle(qtbot, window)
    assert iou(project.labels == water, a | b) > 0.97


def test_undo_while_edges_are_looked_for_drops_the_result(qtbot, window, mouse, lakes, monkeypatch):
    project, a, _ = lakes
    water = project.regions[0].label
    release = threading.Event()
    real_snap = smart_select.selection.snap
    monkeypatch.setattr(
        smart_select.selection, "snap", lambda image, scribble: release.wait(10) and real_snap(image, scribble)
    )
    window.smart.act_smart_brush.setChecked(True)
    window.regions.select_label(water)
    window.canvas.setFocus()
    window.canvas.set_brush_size(24)
    mouse.drag([(90.0, 140.0), (150.0, 170.0)])
    (job,) = window.smart.jobs
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the stroke
    assert not window.smart.busy and not (project.labels == water).any()
    release.set()
    job.wait()
    qtbot.wait(50)
    assert not (project.labels == water).any()
    assert not window.doc.stack.canUndo()


def test_the_wand_is_a_tool_among_the_others_with_its_own_icon(window):
    """W picks it like T picks the trajectory tool; its toolbar button shows an icon, not a word."""
    act = window.tool_actions[T.ToolName.MAGIC_WAND]
    assert act is window.smart.act_wand and act.isCheckable() and not act.icon().isNull()
    assert [s.toString() for s in act.shortcuts()] == ["W"]


def test_the_wand_s_tolerance_is_in_the_tool_options_and_decides_how_much_it_takes(qtbot, window, mouse):
    """A colour ramp: a low tolerance takes a narrow band round the click, a high one much more."""
    ramp = np.repeat(np.linspace(0, 255, 480)[None, :, None], 320, axis=0).repeat(3, axis=2).astype(np.uint8)
    project = Project(decode_image(encode_png(ramp), "ramp.png"))
    water = project.add_region("Water").label
    window.set_project(project)
    window.regions.select_label(water)
    spin = window.smart.tolerance_spin
    assert not spin.isVisible()
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_W)
    assert window.canvas.tool.name == smart_select.WAND
    qtbot.waitUntil(spin.isVisible, timeout=5000)  # the tool bar lays its widgets out on the next pass

    taken = []
    for tolerance in (3, 40):
        spin.selectAll()
        QTest.keyClicks(spin, str(tolerance))
        QTest.keyClick(spin, Qt.Key.Key_Return)
        assert spin.value() == tolerance
        window.canvas.setFocus()
        mouse.click(240.0, 160.0)
        wait_idle(qtbot, window)
        taken.append(int(np.count_nonzero(project.labels == water)))
    assert 0 < taken[0] < taken[1] / 2

    QTest.keyClick(window.canvas, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: not spin.isVisible(), timeout=5000)
