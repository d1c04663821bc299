"""One application-wide event filter that keeps touchpad scrolling and undo keys from editing by accident.

On a laptop the two-finger scroll over a panel passes over spin boxes, combo boxes and sliders; Qt lets
each of them take the wheel (and the focus), so scrolling a panel changed a region's strength or the
request's duration. Value widgets here take the wheel only while they have focus, and the wheel scrolls
the panel around them instead. Likewise a focused spin box or line edit claims Ctrl+Z for its own text
undo; the project's history must get it, so those keys are never claimed by an editor.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

#: Widgets whose value the wheel would change.
VALUE_WIDGETS = (QAbstractSpinBox, QComboBox, QAbstractSlider)

#: The project's undo and redo keys (the Edit menu's shortcuts).
HISTORY_KEYS = ("Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y")


def _value_widget(obj: QObject) -> QWidget | None:
    """The spin box, combo box or slider `obj` belongs to (a spin box's inner line edit counts), if any."""
    widget = obj if isinstance(obj, QWidget) else None
    while widget is not None and not widget.isWindow():
        if isinstance(widget, VALUE_WIDGETS) and not isinstance(widget, QScrollBar):
            return widget
        widget = widget.parentWidget()
    return None


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def is_history_key(event: QKeyEvent) -> bool:
    """Undo or redo, by the keys above or the platform's own (built here: key sequences need the app)."""
    combo = QKeySequence(event.keyCombination())
    keys = [QKeySequence(k) for k in HISTORY_KEYS]
    keys += [QKeySequence(QKeySequence.StandardKey.Undo), QKeySequence(QKeySequence.StandardKey.Redo)]
    return any(combo.matches(k) == QKeySequence.SequenceMatch.ExactMatch for k in keys if not k.isEmpty())


class InputGuard(QObject):
    """The filter; `install` puts one on the application."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # Qt API
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(obj, VALUE_WIDGETS) and not isinstance(obj, QScrollBar):
            if obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel never grabs focus
        elif kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            return self._wheel(obj, event)
        elif kind == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and is_history_key(event):
            event.ignore()  # the editor does not claim it: the Edit menu's Undo / Redo fires
            return True
        return False

    @staticmethod
    def _wheel(obj: QObject, event: QWheelEvent) -> bool:
        widget = _value_widget(obj)
        if widget is None or widget.hasFocus():
            return False
        area = _scroll_area(widget)
        if area is not None:
            # The panel scrolls as if the value widget were not there.
            QApplication.sendEvent(area.verticalScrollBar(), event.clone())
        return True


_guard: InputGuard | None = None


def install(app: QApplication) -> InputGuard:
    """Install the guard once per application (the window and `run` both call it)."""
    global _guard
    if _guard is None:
        _guard = InputGuard(app)
        app.installEventFilter(_guard)
    return _guard
