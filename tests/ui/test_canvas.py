"""The canvas with real mouse, wheel and key events: brushes, trajectories, zoom, pan, big images."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from kling_preview.core import masks
from kling_preview.core.edits import SetTrajectory
from kling_preview.core.images import SourceImage
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project
from kling_preview.ui.qimage import (
    MAX_PROXY_SIDE,
    QT_MAX_BYTES,
    ImagePyramid,
    LabelOverlay,
    check_qimage_size,
    proxy_scale,
    qimage_to_rgb,
    rgb_to_qimage,
    scaled_size,
)

LEFT = Qt.MouseButton.LeftButton


def expected_stroke(shape, points, radius, label):
    """The label map a stroke through `points` should produce on an empty image: dab, then segments."""
    expected = np.zeros(shape, np.uint8)
    masks.paint(expected, [points[0]], radius, label)
    for a, b in zip(points[:-1], points[1:]):
        masks.paint(expected, [a, b], radius, label)
    return expected


# ----- brushes -------------------------------------------------------------------------------------------
def test_stroke_paints_the_selected_region_under_the_brush_and_nowhere_else(window, mouse):
    canvas, project = window.canvas, window.project
    water = project.regions[0].label
    window.regions.select_label(water)
    canvas.set_zoom(1.7, QPointF(300, 200))  # a non-trivial transform between widget and image
    canvas.set_brush_size(20)
    path = [(100.0, 100.0), (140.0, 104.0), (190.0, 120.0), (230.0, 160.0)]
    mouse.drag(path)

    expected = expected_stroke(project.labels.shape, path, 10.0, water)
    assert np.array_equal(project.labels, expected)
    # independent of the mask code: on the path painted, a brush radius away from it not
    assert project.labels[100, 100] == water and project.labels[120, 190] == water
    assert project.labels[100, 60] == 0 and project.labels[200, 230] == 0 and project.labels[40, 140] == 0
    ys, xs = np.nonzero(project.labels)
    assert ys.min() >= 89 and ys.max() <= 171 and xs.min() >= 89 and xs.max() <= 241


def test_static_brush_and_eraser_by_keyboard(window, mouse, qtbot):
    canvas, project = window.canvas, window.project
    canvas.set_brush_size(16)
    QTest.keyClick(canvas, Qt.Key.Key_S)
    assert canvas.tool.name == "static_brush" and window.doc.target == STATIC
    mouse.drag([(50.0, 50.0), (150.0, 50.0)])
    assert project.labels[50, 100] == STATIC

    QTest.keyClick(canvas, Qt.Key.Key_E)
    assert canvas.tool.name == "eraser" and window.doc.target == STATIC
    mouse.drag([(90.0, 50.0), (110.0, 50.0)])
    assert project.labels[50, 100] == 0 and project.labels[50, 60] == STATIC

    QTest.keyClick(canvas, Qt.Key.Key_B)  # back to the motion brush: the target goes back to a region
    assert canvas.tool.name == "motion_brush" and window.doc.target == project.regions[0].label


def test_right_drag_erases_and_shift_click_draws_a_line(window, mouse):
    project = window.project
    label = window.doc.target
    window.canvas.set_brush_size(10)
    mouse.click(40.0, 200.0)
    mouse.click(240.0, 200.0, modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert (project.labels[200, 40:241] == label).all()  # a straight line between the clicks
    mouse.drag([(100.0, 200.0), (140.0, 200.0)], button=Qt.MouseButton.RightButton)
    assert (project.labels[200, 100:141] == 0).all()
    assert project.labels[200, 60] == label and project.labels[200, 200] == label


def test_motion_brush_without_regions_creates_one(qtbot, window, mouse):
    for label in [r.label for r in window.project.regions]:
        window.doc.set_target(label)
        window.regions.delete_selected()
    assert window.project.regions == [] and window.doc.target is None
    mouse.drag([(60.0, 60.0), (80.0, 60.0)])
    assert len(window.project.regions) == 1
    label = window.project.regions[0].label
    assert window.doc.target == label and window.project.labels[60, 70] == label


def test_brush_size_keys_and_slider(window, qtbot):
    canvas = window.canvas
    canvas.set_brush_size(40)
    QTest.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size == 48 and window.size_spin.value() == 48
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    QTest.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size == 33
    window.size_spin.setValue(120)
    assert canvas.brush_size == 120 and abs(window.size_slider.size_value() - 120) <= 2


def test_overlay_follows_the_stroke(window, mouse):
    canvas, project = window.canvas, window.project
    label = window.doc.target
    mouse.drag([(200.0, 150.0), (260.0, 150.0)])
    view = canvas.overlay.view
    assert canvas.overlay.identity and np.array_equal(view, project.labels)
    table = canvas.overlay.image.colorTable()
    assert table[label] >> 24 > 0 and table[0] == 0  # painted labels tinted, unpainted transparent
    rgb = qimage_to_rgb(window.canvas.grab().toImage())
    assert rgb.size and canvas.paint_errors == 0


# ----- trajectories -------------------------------------------------------------------------------------
def test_drag_draws_a_freehand_trajectory_fitted_to_77_points(window, mouse, qtbot):
    canvas, project = window.canvas, window.project
    QTest.keyClick(canvas, Qt.Key.Key_T)
    assert canvas.tool.name == "trajectory"
    cx, cy, r = 240.0, 200.0, 100.0
    arc = [(cx - r * math.cos(t), cy - r * math.sin(t)) for t in np.linspace(0, math.pi, 200)]
    mouse.drag(arc)
    points = project.region(window.doc.target).trajectory
    assert len(points) == 77
    assert points[0] == pytest.approx(arc[0], abs=1e-6) and points[-1] == pytest.approx(arc[-1], abs=1e-6)
    radii = [math.hypot(x - cx, y - cy) for x, y in points]
    assert max(abs(d - r) for d in radii) < 1.0  # on the drawn half circle
    assert all(y <= cy + 1e-6 for _, y in points)  # the upper half, left to right
    xs = [x for x, _ in points]
    assert xs == sorted(xs)
    assert "77/77" in window.points_label.text()


def test_clicks_add_points_enter_finishes_and_double_click_too(window, mouse, qtbot):
    canvas, project = window.canvas, window.project
    window.set_tool("trajectory")
    label = window.doc.target
    for x, y in [(50, 50), (120, 80), (200, 60)]:
        pos = mouse.at(x, y).toPoint()
        QTest.mouseClick(canvas, LEFT, Qt.KeyboardModifier.NoModifier, pos)
    pts = project.region(label).trajectory
    assert len(pts) == 3 and pts[1] == pytest.approx((120, 80), abs=1.0)
    assert canvas.tools["trajectory"].building
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    assert not canvas.tools["trajectory"].building
    assert window.doc.stack.count() == 3  # one undo step per point

    mouse.click(300.0, 100.0)
    mouse.double_click(300.0, 100.0)
    assert len(project.region(label).trajectory) == 4  # the double-click finishes, it adds nothing
    assert not canvas.tools["trajectory"].building


def test_drag_a_handle_moves_that_point(window, mouse):
    project = window.project
    window.set_tool("trajectory")
    region = project.region(window.doc.target)
    region.trajectory = [(100.0, 100.0), (200.0, 100.0), (300.0, 150.0)]
    mouse.move(200.0, 100.0)
    mouse.drag([(201.0, 101.0), (210.0, 120.0), (220.0, 160.0)])
    assert region.trajectory == [(100.0, 100.0), pytest.approx((220.0, 160.0)), (300.0, 150.0)]
    assert window.doc.stack.undoText() == "Move trajectory point"


def test_delete_removes_the_hovered_point(window, mouse, qtbot):
    canvas, project = window.canvas, window.project
    window.set_tool("trajectory")
    region = project.region(window.doc.target)
    region.trajectory = [(100.0, 100.0), (200.0, 100.0), (300.0, 150.0)]
    mouse.move(200.5, 99.5)
    assert canvas.tools["trajectory"].hover == 1
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    assert region.trajectory == [(100.0, 100.0), (300.0, 150.0)]
    mouse.move(20.0, 20.0)
    QTest.keyClick(canvas, Qt.Key.Key_Backspace)  # nothing hovered, not building: nothing removed
    assert len(region.trajectory) == 2


def test_a_78th_point_is_refused(window, mouse, no_dialogs):
    window.set_tool("trajectory")
    region = window.project.region(window.doc.target)
    region.trajectory = [(float(10 + 5 * i), 30.0) for i in range(77)]
    mouse.click(200.0, 250.0)
    assert len(region.trajectory) == 77
    assert any("77" in text for _kind, text in no_dialogs)


def test_resample_control(window):
    region = window.project.region(window.doc.target)
    window.doc.apply(SetTrajectory(region.label, [], [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)]))
    window.resample_spin.setValue(5)
    window.resample_button.click()
    assert np.allclose(region.trajectory, [(0, 0), (50, 0), (100, 0), (100, 50), (100, 100)])
    assert "5/77" in window.points_label.text()


def test_trajectory_tool_needs_a_motion_region(window, mouse, no_dialogs):
    window.set_tool("trajectory")
    window.regions.select_label(STATIC)
    mouse.click(100.0, 100.0)
    assert no_dialogs and "region" in no_dialogs[-1][1].lower()
    assert all(not r.trajectory for r in window.project.regions)


# ----- zoom and pan -------------------------------------------------------------------------------------
def test_wheel_zoom_keeps_the_point_under_the_cursor(window, mouse):
    canvas = window.canvas
    before = canvas.scale
    target = mouse.at(130.0, 70.0)
    mouse.wheel(130.0, 70.0, notches=2)
    assert canvas.scale == pytest.approx(before * 2 ** (240 / 600))
    assert canvas.widget_to_image(target) == pytest.approx((130.0, 70.0), abs=1e-6)
    mouse_pos = mouse.at(400.0, 300.0)
    mouse.wheel(400.0, 300.0, notches=-3)
    assert canvas.widget_to_image(mouse_pos) == pytest.approx((400.0, 300.0), abs=1e-6)


def test_zoom_shortcuts(window, qtbot):
    canvas = window.canvas
    QTest.keyClick(canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale == 1.0 and window.zoom_label.text() == "100 %"
    QTest.keyClick(canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale == 1.5
    QTest.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale == pytest.approx(0.6667)
    QTest.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale == pytest.approx(canvas.fit_scale())
    w, h = window.project.size
    frame_center = canvas.image_to_widget(w / 2 - 0.5, h / 2 - 0.5)
    assert frame_center.x() == pytest.approx(canvas.width() / 2) and frame_center.y() == pytest.approx(
        canvas.height() / 2
    )


def test_space_drag_pans_and_a_space_tap_plays(window, mouse, monkeypatch):
    canvas = window.canvas
    taps = []
    monkeypatch.setattr(window.preview, "toggle_play", lambda: taps.append(1))
    canvas.actual_size()
    ox, oy = canvas.offset
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    mouse.drag_widget([QPointF(300, 300), QPointF(310, 305), QPointF(330, 320)])
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.offset == pytest.approx((ox + 30, oy + 20))
    assert not taps and not window.project.labels.any()  # panning never paints
    QTest.keyClick(canvas, Qt.Key.Key_Space)
    assert taps == [1]


def test_middle_drag_pans(window, mouse):
    canvas = window.canvas
    canvas.actual_size()
    ox, oy = canvas.offset
    mouse.drag_widget([QPointF(300, 300), QPointF(280, 290)], button=Qt.MouseButton.MiddleButton)
    assert canvas.offset == pytest.approx((ox - 20, oy - 10))
    assert not window.project.labels.any()


# ----- painting safety and big images --------------------------------------------------------------------
def test_an_exception_while_painting_never_escapes(window, monkeypatch, caplog):
    canvas = window.canvas

    def broken(_painter):
        raise RuntimeError("boom")

    monkeypatch.setattr(canvas, "_paint_trajectories", broken)
    canvas.grab()
    assert canvas.paint_errors == 1
    monkeypatch.undo()
    canvas.paint_errors = 0
    canvas.grab()  # the painter was closed: painting works again
    assert canvas.paint_errors == 0


def test_a_50_megapixel_photo_opens_through_a_proxy_and_paints_at_full_resolution(qtbot, window, mouse):
    w, h = 12000, 4200
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:, :, 1] = 90
    project = Project(SourceImage(data=b"", name="huge.png", format="PNG", pixels=pixels))
    project.add_region("Sky")
    window.set_project(project)
    canvas = window.canvas
    proxy = canvas.pyramid.proxy
    assert max(proxy.width(), proxy.height()) <= MAX_PROXY_SIDE
    assert proxy.sizeInBytes() < QT_MAX_BYTES // 2
    assert (canvas.overlay.image.width(), canvas.overlay.image.height()) == (proxy.width(), proxy.height())
    assert project.labels.shape == (h, w)

    canvas.set_brush_size(200)
    mouse.drag([(3000.0, 2000.0), (3600.0, 2100.0)])
    label = project.regions[0].label
    assert project.labels[2050, 3300] == label and project.labels[2000, 2900] == label
    assert project.labels[2000, 2890] == 0 and project.labels[1800, 3300] == 0
    ov = canvas.overlay
    assert ov.view[int(2050 * ov.sy), int(3300 * ov.sx)] == label
    assert ov.view[int(1000 * ov.sy), int(8000 * ov.sx)] == 0
    stroke = window.doc.stack.command(window.doc.stack.count() - 1)
    y0, y1, x0, x1 = stroke.edit.mask.bbox  # the undo atom holds the stroke's box, not the image
    assert (y1 - y0) * (x1 - x0) < 400 * 900
    canvas.grab()
    assert canvas.paint_errors == 0


# ----- proxies, overlay and tools without Qt events -------------------------------------------------------
def test_proxy_limits():
    assert proxy_scale(640, 480) == 1.0
    for w, h in [(8660, 5773), (40000, 2500), (20000, 20000), (100, 32767 * 2)]:
        pw, ph = scaled_size(w, h, proxy_scale(w, h))
        assert max(pw, ph) <= MAX_PROXY_SIDE and pw * ph * 4 <= QT_MAX_BYTES // 2
    with pytest.raises(ValueError, match="32767"):
        check_qimage_size(40000, 10, 1)
    with pytest.raises(ValueError, match="256 MB"):
        check_qimage_size(10000, 10000, 4)


def test_pyramid_levels_halve_and_round_trip_pixels():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    assert np.array_equal(qimage_to_rgb(rgb_to_qimage(pixels)), pixels)
    pyr = ImagePyramid(np.zeros((3000, 5000, 3), np.uint8))
    sizes = [(img.width(), img.height()) for _sx, _sy, img in pyr.levels]
    assert sizes[0] == (5000, 3000) and sizes[-1][0] <= 1024
    assert all(b[0] == (a[0] + 1) // 2 for a, b in zip(sizes, sizes[1:]))
    assert pyr.level_for(1.0)[2] is pyr.proxy
    assert pyr.level_for(0.1)[0] >= 0.1 and pyr.level_for(0.1)[2].width() < 1000


def test_partial_overlay_refresh_equals_a_full_rebuild():
    rng = np.random.default_rng(3)
    labels = np.zeros((900, 1300), np.uint8)
    partial = LabelOverlay(labels.shape, scale=0.37)
    partial.refresh(labels)
    for _ in range(20):
        y, x, r = int(rng.integers(0, 900)), int(rng.integers(0, 1300)), float(rng.integers(2, 60))
        edit = masks.paint(labels, [(x, y), (x + 40, y + 10)], r, int(rng.integers(1, 4)))
        if edit is not None:
            partial.refresh(labels, edit.bbox)
    full = LabelOverlay(labels.shape, scale=0.37)
    full.refresh(labels)
    assert np.array_equal(partial.view, full.view)
    assert full.view.any()


def test_the_canvas_takes_the_keyboard_when_the_cursor_enters_unless_typing(window, qtbot):
    from PySide6.QtGui import QEnterEvent
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas
    qtbot.waitActive(window)

    def enter():
        pos = QPointF(50, 50)
        QApplication.sendEvent(canvas, QEnterEvent(pos, pos, QPointF(canvas.mapToGlobal(pos.toPoint()))))

    window.history.setFocus()
    enter()
    assert canvas.hasFocus()
    name = next(iter(window.regions.rows.values())).name
    name.setFocus()
    enter()
    assert name.hasFocus()
