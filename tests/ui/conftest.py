"""Fixtures for the desktop UI: leak check, a main window on a synthetic project, real mouse events."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence

import pytest
from conftest import make_project
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from kling_preview.core.project import Project
from kling_preview.ui.canvas import Canvas
from kling_preview.ui.main_window import MainWindow
from kling_preview.ui.panels.preview import PreviewPanel


@pytest.fixture(autouse=True)
def no_leaked_widgets(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves top-level widgets behind (a window or dialog nobody closed and deleted).

    When this fails, something keeps a widget alive or a test forgot `qtbot.addWidget`.
    """
    before = len(qapp.topLevelWidgets())
    failures_before = request.session.testsfailed
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if request.session.testsfailed > failures_before:
        return
    remaining = qapp.topLevelWidgets()
    if len(remaining) > before:
        lines = [f"{len(remaining) - before} top-level widget(s) leaked by {request.node.name}:"]
        for widget in remaining:
            lines.append(f"  {widget!r} {widget.objectName()!r}")
        raise AssertionError("\n".join(lines))


@pytest.fixture
def ui_project() -> Project:
    """A 480x320 textured still with two empty regions."""
    project = make_project(480, 320, seed=7)
    project.add_region("Water")
    project.add_region("Clouds")
    return project


@pytest.fixture
def no_dialogs(monkeypatch) -> list[tuple[str, str]]:
    """Message boxes answer at once and are recorded as (kind, text); questions answer Discard."""
    calls: list[tuple[str, str]] = []

    def recorder(kind, answer):
        def box(parent, title, text, *args, **kwargs):
            calls.append((kind, text))
            return answer

        return box

    monkeypatch.setattr(QMessageBox, "critical", recorder("critical", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "information", recorder("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", recorder("warning", QMessageBox.StandardButton.Discard))
    return calls


@pytest.fixture
def window(qtbot, ui_project, no_dialogs) -> Iterator[MainWindow]:
    """A shown MainWindow on `ui_project`; closed (discarding changes) after the test."""
    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.doc.stack.setClean())
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.set_project(ui_project)
    win.activateWindow()
    win.canvas.setFocus()
    yield win
    assert win.canvas.paint_errors == 0


class Mouse:
    """Real QMouseEvents on the canvas at image coordinates (sub-pixel exact, mapped by the view).

    QTest.mouseMove carries no buttons, so moves with a button held are sent as QMouseEvents directly.
    """

    def __init__(self, canvas: Canvas):
        self.canvas = canvas

    def at(self, x: float, y: float) -> QPointF:
        return self.canvas.image_to_widget(x, y)

    def _send(self, kind, pos: QPointF, button, buttons, modifiers) -> None:
        global_pos = QPointF(self.canvas.mapToGlobal(pos.toPoint()))
        event = QMouseEvent(kind, pos, global_pos, button, buttons, modifiers)
        QApplication.sendEvent(self.canvas, event)

    def press(self, x, y, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self._send(QEvent.Type.MouseButtonPress, self.at(x, y), button, button, modifiers)

    def move(self, x, y, buttons=Qt.MouseButton.NoButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self._send(QEvent.Type.MouseMove, self.at(x, y), Qt.MouseButton.NoButton, buttons, modifiers)

    def release(self, x, y, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self._send(QEvent.Type.MouseButtonRelease, self.at(x, y), button, Qt.MouseButton.NoButton, modifiers)

    def double_click(self, x, y, button=Qt.MouseButton.LeftButton):
        self._send(QEvent.Type.MouseButtonDblClick, self.at(x, y), button, button, Qt.KeyboardModifier.NoModifier)
        self.release(x, y, button)

    def click(self, x, y, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self.press(x, y, button, modifiers)
        self.release(x, y, button, modifiers)

    def drag(
        self,
        points: Sequence[tuple[float, float]],
        button=Qt.MouseButton.LeftButton,
        modifiers=Qt.KeyboardModifier.NoModifier,
    ) -> None:
        (x0, y0), *rest = points
        self.press(x0, y0, button, modifiers)
        for x, y in rest:
            self.move(x, y, button, modifiers)
        self.release(*points[-1], button, modifiers)

    def drag_widget(self, points: Sequence[QPointF], button=Qt.MouseButton.LeftButton) -> None:
        """A drag at fixed widget positions (for panning, where image coordinates move under the cursor)."""
        mods = Qt.KeyboardModifier.NoModifier
        self._send(QEvent.Type.MouseButtonPress, points[0], button, button, mods)
        for pos in points[1:]:
            self._send(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, button, mods)
        self._send(QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton, mods)

    def wheel(self, x: float, y: float, notches: float = 1.0) -> None:
        pos = self.at(x, y)
        event = QWheelEvent(
            pos,
            QPointF(self.canvas.mapToGlobal(pos.toPoint())),
            QPointF(0, 0).toPoint(),
            QPointF(0, 120 * notches).toPoint(),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(self.canvas, event)


@pytest.fixture
def mouse(window) -> Mouse:
    return Mouse(window.canvas)


@pytest.fixture
def make_dialog(qtbot, tmp_path):
    """Export dialogs on given projects, closed (and any running export cancelled) after the test."""
    from kling_preview.ui.dialogs.export import ExportDialog

    made: list[ExportDialog] = []

    def make(project):
        dialog = ExportDialog(project, None, str(tmp_path))
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.reject()  # cancels and waits for a running export
        dialog.close()
        dialog.deleteLater()


@pytest.fixture
def preview_panel(qtbot) -> Iterator[PreviewPanel]:
    """A shown preview panel of its own; its render thread is stopped after the test."""
    widget = PreviewPanel()
    widget.resize(480, 360)
    widget.show()
    yield widget
    widget.shutdown()
    widget.close()
    widget.deleteLater()
