"""Laptop input on the canvas: touchpad scroll and pinch, the pen, arrow keys, the fit / 100 % buttons.

Kept apart from `canvas.py` so the mouse tools and the drawing stay readable. A laptop has no middle
button and often no wheel: every way to pan and zoom here has a touchpad, pen or keyboard form. The
zoom / pan rules themselves are Qt-free (`viewport.wheel_intent`); this module turns Qt events into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QNativeGestureEvent, QPointingDevice, QTabletEvent, QWheelEvent
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from . import tools as T
from .settings import settings
from .viewport import ARROW_PAN, ARROW_PAN_BIG, wheel_intent

if TYPE_CHECKING:
    from .canvas import Canvas

PEN_PRESSURE_KEY = "pen/pressure"
#: Smallest share of the brush a feather-light pen touch paints (so a stroke never vanishes).
MIN_PRESSURE_SHARE = 0.15

_ARROWS = {
    Qt.Key.Key_Left: (1.0, 0.0),
    Qt.Key.Key_Right: (-1.0, 0.0),
    Qt.Key.Key_Up: (0.0, 1.0),
    Qt.Key.Key_Down: (0.0, -1.0),
}


def pen_pressure_enabled() -> bool:
    """Whether pen pressure scales the brush (on unless turned off in Tools > Pen Pressure)."""
    return str(settings().value(PEN_PRESSURE_KEY, "true")).lower() in ("true", "1")


def set_pen_pressure_enabled(on: bool) -> None:
    store = settings()
    store.setValue(PEN_PRESSURE_KEY, on)
    store.sync()


def pressure_radius(radius: float, pressure: float) -> float:
    """The brush radius for a pen pressure 0..1: proportional, never below MIN_PRESSURE_SHARE."""
    share = MIN_PRESSURE_SHARE + (1 - MIN_PRESSURE_SHARE) * min(1.0, max(0.0, pressure))
    return max(0.5, radius * share)


def wheel(canvas: Canvas, event: QWheelEvent) -> None:
    """Two-finger scroll pans, Ctrl+scroll zooms around the cursor, a mouse wheel notch zooms."""
    angle, pixel = event.angleDelta(), event.pixelDelta()
    mods = event.modifiers()
    intent = wheel_intent(
        (angle.x(), angle.y()),
        (pixel.x(), pixel.y()),
        ctrl=bool(mods & Qt.KeyboardModifier.ControlModifier),
        shift=bool(mods & Qt.KeyboardModifier.ShiftModifier),
        phased=event.phase() != Qt.ScrollPhase.NoScrollPhase,
    )
    if intent.zoom != 1.0:
        canvas.zoom_by(intent.zoom, event.position())
    elif intent.dx or intent.dy:
        canvas.pan_by(intent.dx, intent.dy)
    event.accept()


def native_gesture(canvas: Canvas, event: QNativeGestureEvent) -> bool:
    """Pinch zooms around the fingers; smart zoom (two-finger double tap) fits, or shows 100 % when fitted."""
    kind = event.gestureType()
    if kind == Qt.NativeGestureType.ZoomNativeGesture:
        canvas.zoom_by(1.0 + event.value(), event.position())
    elif kind == Qt.NativeGestureType.SmartZoomNativeGesture:
        if canvas.viewport.fit_mode:
            canvas.set_zoom(1.0, event.position())
        else:
            canvas.fit()
    elif kind not in (Qt.NativeGestureType.BeginNativeGesture, Qt.NativeGestureType.EndNativeGesture):
        return False
    event.accept()
    return True


def arrow_key(canvas: Canvas, event: QKeyEvent) -> bool:
    """Arrow keys pan the canvas (Shift: further): the keyboard form of a drag with the hand."""
    step = _ARROWS.get(Qt.Key(event.key()))
    if step is None or canvas.project is None:
        return False
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
        return False
    dist = ARROW_PAN_BIG if mods == Qt.KeyboardModifier.ShiftModifier else ARROW_PAN
    canvas.pan_by(step[0] * dist, step[1] * dist)
    return True


def tablet(canvas: Canvas, event: QTabletEvent) -> None:
    """The pen drives the same tools as the mouse; its pressure scales the brush, its eraser end erases,
    and hovering shows the brush outline. Accepted, so Qt makes no mouse events of it as well."""
    kind = event.type()
    touching = canvas.pressure_enabled and bool(event.buttons()) and kind != QEvent.Type.TabletRelease
    canvas.pen_pressure = event.pressure() if touching else None  # a hover must not thin a later mouse stroke
    if kind == QEvent.Type.TabletPress:
        if event.pointerType() == QPointingDevice.PointerType.Eraser and canvas.pen_tool is None:
            canvas.pen_tool = canvas.tool
            canvas.tool = canvas.tools[T.ToolName.ERASER]
        canvas.mousePressEvent(event)
    elif kind == QEvent.Type.TabletMove:
        canvas.mouseMoveEvent(event)
    elif kind == QEvent.Type.TabletRelease:
        canvas.mouseReleaseEvent(event)
        if canvas.pen_tool is not None:
            canvas.tool, canvas.pen_tool = canvas.pen_tool, None
    event.accept()


def zoom_buttons(canvas: Canvas) -> QWidget:
    """Two small buttons in the canvas's corner: fit the image, and 100 % (one image px per screen px)."""
    box = QWidget(canvas)
    box.setObjectName("zoomButtons")
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for name, text, tip, slot in (
        ("fitButton", "Fit", "Fit the image to the window (Ctrl+0, or a two-finger double tap)", canvas.fit),
        ("actualButton", "100%", "Actual pixels (Ctrl+1)", canvas.actual_size),
    ):
        button = QToolButton(box)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click must leave the keyboard with the canvas
        button.clicked.connect(slot)
        layout.addWidget(button)
    box.adjustSize()
    return box


def place_corner(canvas: Canvas, box: QWidget) -> None:
    """Keep the zoom buttons in the canvas's bottom-right corner."""
    box.move(canvas.width() - box.width() - 8, canvas.height() - box.height() - 8)
