"""Laptop input through the real canvas: touchpad scroll and pinch, the pen, Space, arrow keys, zoom buttons."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QInputDevice, QNativeGestureEvent, QPointingDevice, QTabletEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from kling_preview.ui import canvas_input
from kling_preview.ui.viewport import ARROW_PAN, ARROW_PAN_BIG, PAN_PER_NOTCH, wheel_intent

NO_MODS = Qt.KeyboardModifier.NoModifier


def send_wheel(canvas, pos, angle=(0, 0), pixel=(0, 0), mods=NO_MODS, phase=Qt.ScrollPhase.NoScrollPhase):
    event = QWheelEvent(QPointF(pos), QPointF(canvas.mapToGlobal(QPointF(pos).toPoint())), QPoint(*pixel),
                        QPoint(*angle), Qt.MouseButton.NoButton, mods, phase, False)  # fmt: skip
    QApplication.sendEvent(canvas, event)


def touchpad():
    return QPointingDevice("touchpad", 7, QInputDevice.DeviceType.TouchPad, QPointingDevice.PointerType.Finger,
                           QInputDevice.Capability.Position, 2, 0)  # fmt: skip


def send_gesture(canvas, kind, pos, value=0.0):
    global_pos = QPointF(canvas.mapToGlobal(QPointF(pos).toPoint()))
    event = QNativeGestureEvent(kind, touchpad(), 2, QPointF(pos), QPointF(pos), global_pos, value, QPointF(0, 0))
    QApplication.sendEvent(canvas, event)


_PENS: dict = {}


def pen(kind=QPointingDevice.PointerType.Pen):
    if kind not in _PENS:  # one device per kind, alive for the session, as a real tablet's would be
        caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
        _PENS[kind] = QPointingDevice("pen", 11 + int(kind.value), QInputDevice.DeviceType.Stylus, kind, caps, 1, 2)
    return _PENS[kind]


def send_tablet(canvas, kind, pos, pressure, pointer=QPointingDevice.PointerType.Pen, buttons=None):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.TabletMove else Qt.MouseButton.NoButton
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
    event = QTabletEvent(kind, pen(pointer), QPointF(pos), QPointF(canvas.mapToGlobal(QPointF(pos).toPoint())),
                         pressure, 0.0, 0.0, 0.0, 0.0, 0.0, NO_MODS, button, buttons)  # fmt: skip
    QApplication.sendEvent(canvas, event)
    return event


def pen_stroke(canvas, mouse, points, pressure, pointer=QPointingDevice.PointerType.Pen):
    (x0, y0), *rest = points
    send_tablet(canvas, QEvent.Type.TabletPress, mouse.at(x0, y0), pressure, pointer)
    for x, y in rest:
        send_tablet(canvas, QEvent.Type.TabletMove, mouse.at(x, y), pressure, pointer)
    send_tablet(canvas, QEvent.Type.TabletRelease, mouse.at(*points[-1]), pressure, pointer)


# ----- wheel rules (Qt-free) ------------------------------------------------------------------------------
def test_wheel_rules():
    assert wheel_intent((0, 120), (0, 0), ctrl=False, shift=False, phased=False).zoom > 1  # a mouse notch
    assert wheel_intent((0, 120), (0, 0), ctrl=False, shift=True, phased=False).dx == PAN_PER_NOTCH
    assert wheel_intent((120, 0), (0, 0), ctrl=False, shift=False, phased=False).dx == PAN_PER_NOTCH
    part = wheel_intent((0, 36), (0, 0), ctrl=False, shift=False, phased=False)  # a touchpad without pixels
    assert part.zoom == 1.0 and part.dy == pytest.approx(36 * PAN_PER_NOTCH / 120)
    assert wheel_intent((0, 0), (0, 10), ctrl=True, shift=False, phased=True).zoom > 1


# ----- touchpad through the canvas ---------------------------------------------------------------------
def test_two_finger_scroll_pans_both_axes_in_every_phase(window):
    canvas = window.canvas
    canvas.set_zoom(2.0)
    scale = canvas.scale
    pos = QPointF(300, 200)
    for phase, px in ((Qt.ScrollPhase.ScrollBegin, (0, 0)), (Qt.ScrollPhase.ScrollUpdate, (-30, 12)),
                      (Qt.ScrollPhase.ScrollMomentum, (-6, 4)), (Qt.ScrollPhase.ScrollEnd, (0, 0))):  # fmt: skip
        ox, oy = canvas.offset
        send_wheel(canvas, pos, angle=(px[0] * 4, px[1] * 4), pixel=px, phase=phase)
        assert canvas.offset == pytest.approx((ox + px[0], oy + px[1]))
    assert canvas.scale == scale  # never zoomed
    ox, oy = canvas.offset
    send_wheel(canvas, pos, angle=(0, 30), pixel=(0, 0), phase=Qt.ScrollPhase.NoScrollPhase)  # part notch
    assert canvas.offset == pytest.approx((ox, oy + 30 * PAN_PER_NOTCH / 120)) and canvas.scale == scale


def test_shift_wheel_and_a_sideways_swipe_pan_and_never_zoom(window):
    canvas = window.canvas
    canvas.set_zoom(2.0)
    scale = canvas.scale
    ox, oy = canvas.offset
    send_wheel(canvas, QPointF(300, 200), angle=(0, -120), mods=Qt.KeyboardModifier.ShiftModifier)
    assert canvas.offset == pytest.approx((ox - PAN_PER_NOTCH, oy)) and canvas.scale == scale
    send_wheel(canvas, QPointF(300, 200), angle=(120, 0))  # a tilt wheel or a sideways swipe as notches
    assert canvas.offset == pytest.approx((ox, oy)) and canvas.scale == scale
    send_wheel(canvas, QPointF(300, 200), angle=(-80, 0), pixel=(-20, 0), phase=Qt.ScrollPhase.ScrollUpdate)
    assert canvas.offset == pytest.approx((ox - 20, oy)) and canvas.scale == scale


def test_ctrl_scroll_and_pinch_zoom_around_the_fingers(window, mouse):
    canvas = window.canvas
    spot = mouse.at(130.0, 70.0)
    before = canvas.scale
    send_wheel(canvas, spot, angle=(0, 40), pixel=(0, 20), mods=Qt.KeyboardModifier.ControlModifier,
               phase=Qt.ScrollPhase.ScrollUpdate)  # fmt: skip
    assert canvas.scale == pytest.approx(before * 2 ** (40 / 600))
    assert canvas.widget_to_image(spot) == pytest.approx((130.0, 70.0), abs=1e-6)
    before = canvas.scale
    spot = mouse.at(300.0, 200.0)
    send_gesture(canvas, Qt.NativeGestureType.BeginNativeGesture, spot)
    send_gesture(canvas, Qt.NativeGestureType.ZoomNativeGesture, spot, 0.25)
    send_gesture(canvas, Qt.NativeGestureType.ZoomNativeGesture, spot, 0.2)
    send_gesture(canvas, Qt.NativeGestureType.EndNativeGesture, spot)
    assert canvas.scale == pytest.approx(before * 1.25 * 1.2)
    assert canvas.widget_to_image(spot) == pytest.approx((300.0, 200.0), abs=1e-6)


def test_smart_zoom_fits_and_the_corner_buttons_fit_and_show_100(window, mouse, qtbot):
    canvas = window.canvas
    canvas.set_zoom(3.0, mouse.at(10, 10))
    send_gesture(canvas, Qt.NativeGestureType.SmartZoomNativeGesture, QPointF(200, 200))
    assert canvas.viewport.fit_mode and canvas.scale == pytest.approx(canvas.fit_scale())
    spot = mouse.at(100.0, 50.0)
    send_gesture(canvas, Qt.NativeGestureType.SmartZoomNativeGesture, spot)  # fitted: 100 % at the fingers
    assert canvas.scale == 1.0 and canvas.widget_to_image(spot) == pytest.approx((100.0, 50.0), abs=1e-6)
    fit_button = canvas.findChild(QToolButton, "fitButton")
    actual_button = canvas.findChild(QToolButton, "actualButton")
    assert fit_button.isVisible() and canvas.rect().contains(canvas.zoom_box.geometry())
    qtbot.mouseClick(fit_button, Qt.MouseButton.LeftButton)
    assert canvas.scale == pytest.approx(canvas.fit_scale())
    qtbot.mouseClick(actual_button, Qt.MouseButton.LeftButton)
    assert canvas.scale == 1.0 and window.zoom_label.text() == "100 %"
    assert not window.project.labels.any()


# ----- Space and the keyboard ---------------------------------------------------------------------------------
def test_space_drag_over_the_canvas_pans_and_never_plays_when_the_canvas_lacks_focus(window, mouse, monkeypatch):
    canvas = window.canvas
    taps = []
    monkeypatch.setattr(window.preview, "toggle_play", lambda: taps.append(1))
    canvas.actual_size()
    other = window.regions
    other.setFocus()
    assert not canvas.hasFocus()
    mouse._send(QEvent.Type.MouseMove, QPointF(300, 300), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, NO_MODS)
    ox, oy = canvas.offset
    QTest.keyPress(QApplication.focusWidget() or other, Qt.Key.Key_Space)
    mouse.drag_widget([QPointF(300, 300), QPointF(320, 310)])
    QTest.keyRelease(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert canvas.offset == pytest.approx((ox + 20, oy + 10))
    assert not taps and not window.project.labels.any()


def test_space_with_the_pointer_away_from_the_canvas_still_plays(window, monkeypatch):
    taps = []
    monkeypatch.setattr(window.preview, "toggle_play", lambda: taps.append(1))
    QApplication.sendEvent(window.canvas, QEvent(QEvent.Type.Leave))
    window.regions.setFocus()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert taps == [1]


def test_arrow_keys_pan_the_canvas(window, qtbot):
    canvas = window.canvas
    canvas.set_zoom(2.0)
    ox, oy = canvas.offset
    QTest.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.offset == pytest.approx((ox - ARROW_PAN, oy))
    QTest.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.offset == pytest.approx((ox - ARROW_PAN, oy + ARROW_PAN_BIG))


# ----- the pen -----------------------------------------------------------------------------------------------
def test_pen_pressure_scales_the_brush(window, mouse):
    canvas = window.canvas
    canvas.set_brush_size(40)
    canvas.pressure_enabled = True
    pen_stroke(canvas, mouse, [(100, 100), (101, 100)], pressure=1.0)
    full = int((window.project.labels == window.doc.target).sum())
    window.undo()
    pen_stroke(canvas, mouse, [(100, 100), (101, 100)], pressure=0.3)
    light = int((window.project.labels == window.doc.target).sum())
    assert 0 < light < full / 3
    window.undo()
    canvas.pressure_enabled = False  # the setting turned off: the full brush however light the touch
    pen_stroke(canvas, mouse, [(100, 100), (101, 100)], pressure=0.3)
    assert int((window.project.labels == window.doc.target).sum()) == full


def test_pressure_setting_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(tmp_path))
    assert canvas_input.pen_pressure_enabled()
    canvas_input.set_pen_pressure_enabled(False)
    assert not canvas_input.pen_pressure_enabled()


def test_the_eraser_end_erases_and_the_tool_comes_back(window, mouse):
    canvas = window.canvas
    label = window.doc.target
    tool = canvas.tool
    mouse.drag([(100, 100), (200, 100)])
    painted = int((window.project.labels == label).sum())
    pen_stroke(canvas, mouse, [(150, 100), (152, 100)], 1.0, QPointingDevice.PointerType.Eraser)
    left = int((window.project.labels == label).sum())
    assert 0 < left < painted and window.project.labels[100, 150] == 0
    assert canvas.tool is tool and canvas.pen_tool is None
    window.set_tool("trajectory")  # whatever the tool, the eraser end erases and adds no path point
    pen_stroke(canvas, mouse, [(120, 100), (122, 100)], 1.0, QPointingDevice.PointerType.Eraser)
    assert window.project.labels[100, 120] == 0 and not window.project.region(label).trajectory
    assert canvas.tool is canvas.tools["trajectory"]


def test_pen_hover_shows_the_brush_outline_and_leaves_mouse_strokes_whole(window, mouse):
    canvas = window.canvas
    canvas.pressure_enabled = True
    mouse.drag([(100, 100), (101, 100)])
    by_mouse = int(np.count_nonzero(window.project.labels))
    window.undo()
    QApplication.sendEvent(canvas, QEvent(QEvent.Type.Leave))
    assert not canvas._brush_circle_visible()
    send_tablet(canvas, QEvent.Type.TabletMove, mouse.at(120, 90), 0.0, buttons=Qt.MouseButton.NoButton)
    assert canvas._brush_circle_visible() and canvas._brush_circle_rect().contains(mouse.at(120, 90).toPoint())
    assert not np.any(window.project.labels)
    mouse.drag([(100, 100), (101, 100)])  # a light pen hover never thins a later mouse stroke
    assert int(np.count_nonzero(window.project.labels)) == by_mouse > 0


def test_a_dense_path_on_the_canvas_shows_thinned_handles_away_from_the_cursor(window, mouse, qtbot):
    canvas = window.canvas
    window.set_tool("trajectory")
    mouse.drag([(40 + 4 * i, 150.0) for i in range(48)])
    path = window.project.region(window.doc.target).trajectory
    assert len(path) >= 40
    wpts = [canvas.image_to_widget(x, y) for x, y in path]
    mouse.move(400, 300)  # away from the path
    assert 2 <= len(canvas.handles_shown(wpts, None)) < len(path) / 2
    mouse.move(*path[len(path) // 2])  # over it: the handles a click could grab are all there
    shown = set(canvas.handles_shown(wpts, None))
    assert {len(path) // 2 - 1, len(path) // 2, len(path) // 2 + 1} <= shown
    canvas.grab()  # paints without error (the window fixture checks paint_errors)


# ----- the preview on the canvas ---------------------------------------------------------------------------
def test_small_screens_start_maximised():
    from PySide6.QtCore import QRect

    from kling_preview.ui.app import starts_maximised

    assert starts_maximised(QRect(0, 0, 1366, 728)) and starts_maximised(QRect(0, 0, 1280, 1024))
    assert not starts_maximised(QRect(0, 0, 1920, 1040))


def test_p_plays_the_preview_on_the_canvas_with_overlays_hidden_and_a_split(window, mouse, qtbot):
    from kling_preview.ui.qimage import qimage_to_rgb

    canvas = window.canvas
    mouse.drag([(100, 100), (300, 100)])  # a region tint the preview must hide
    window.project.region(window.doc.target).trajectory = [(120.0, 100.0), (200.0, 140.0)]
    qtbot.waitUntil(lambda: window.preview.current_image() is not None, timeout=10_000)
    tinted = qimage_to_rgb(canvas.grab().toImage())
    QTest.keyClick(canvas, Qt.Key.Key_P)
    assert window.act_canvas_preview.isChecked() and canvas.preview.on and window.preview.is_playing()
    qtbot.waitUntil(lambda: canvas.preview.frame is not None, timeout=10_000)
    window.preview.pause()
    frame = canvas.preview.frame
    assert frame is window.preview.current_image()  # the panel's own frames, no second renderer
    shown = qimage_to_rgb(canvas.grab().toImage())
    spot = canvas.image_to_widget(200, 100).toPoint()
    assert not np.array_equal(shown[spot.y(), spot.x()], tinted[spot.y(), spot.x()])  # no tint
    w, h = window.project.size
    frame_px = qimage_to_rgb(frame)[int(100 * frame.height() / h), int(200 * frame.width() / w)]
    assert np.abs(shown[spot.y(), spot.x()].astype(int) - frame_px).max() < 40  # the frame, at canvas size
    labels = window.project.labels.copy()
    mouse.drag([(50, 50), (60, 60)])  # the tools rest while the preview plays
    assert np.array_equal(window.project.labels, labels)
    QTest.keyClick(canvas, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.preview.split == pytest.approx(0.5)
    mouse.drag([(w * 0.5, 50), (w * 0.25, 50)])
    assert canvas.preview.split == pytest.approx((w * 0.25 + 0.5) / w)
    split_shot = qimage_to_rgb(canvas.grab().toImage())
    left = canvas.image_to_widget(w * 0.1, h * 0.5).toPoint()
    still = window.project.image.pixels[int(h * 0.5), int(w * 0.1)]
    assert np.abs(split_shot[left.y(), left.x()].astype(int) - still).max() < 40  # "before" is the still
    QTest.keyClick(canvas, Qt.Key.Key_P)
    assert not canvas.preview.on and not window.act_split.isChecked()
    back = qimage_to_rgb(canvas.grab().toImage())
    assert np.array_equal(back[spot.y(), spot.x()], tinted[spot.y(), spot.x()])  # the tint is back
