"""Uncaught exceptions: one readable message box, the window stays alive, no avalanche of dialogs."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton, QVBoxLayout, QWidget

from kling_preview.core.errors import ProjectFileError
from kling_preview.ui import crash

pytestmark = pytest.mark.qt_no_exception_capture  # these tests install their own hook


class Victim(QWidget):
    """A window whose buttons fail in various ways, and one that still works."""

    def __init__(self) -> None:
        super().__init__()
        self.clicks = 0
        self.fail_paint = False
        layout = QVBoxLayout(self)
        self.boom = QPushButton("boom", self)
        self.boom.clicked.connect(self.explode)
        self.own = QPushButton("own", self)
        self.own.clicked.connect(self.refuse)
        self.ok = QPushButton("ok", self)
        self.ok.clicked.connect(self.count)
        for b in (self.boom, self.own, self.ok):
            layout.addWidget(b)

    def explode(self) -> None:
        raise RuntimeError("boom in a slot\nsecond line")

    def refuse(self) -> None:
        raise ProjectFileError("/tmp/a.klproj: project.json is missing")

    def count(self) -> None:
        self.clicks += 1

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.fail_paint:
            raise ValueError("paint failed")
        super().paintEvent(event)


@pytest.fixture
def reporter(qapp, monkeypatch):
    def blocking(*_args, **_kwargs):
        raise AssertionError("the error message must not run a nested event loop")

    monkeypatch.setattr(QMessageBox, "exec", blocking)  # proves the box never blocks
    rep = crash.install_excepthook(qapp)
    yield rep
    rep.uninstall()
    if rep.box is not None:
        rep.box.done(0)


@pytest.fixture
def victim(qtbot):
    w = Victim()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _boxes(qapp) -> list[QMessageBox]:
    return [w for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def _close(qtbot, rep) -> None:
    box = rep.box
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: rep.box is None)


def test_an_error_in_a_slot_shows_one_line_and_details_and_the_window_lives(qtbot, qapp, reporter, victim):
    assert sys.excepthook == reporter.excepthook
    victim.boom.click()
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible())
    box = reporter.box
    assert box.text() == "RuntimeError: boom in a slot"
    assert "Traceback" in box.detailedText() and "explode" in box.detailedText()
    assert "still open" in box.informativeText()
    assert victim.isVisible()
    victim.ok.click()  # the window still works while the message is shown
    assert victim.clicks == 1
    _close(qtbot, reporter)
    assert victim.isVisible() and _boxes(qapp) == []


def test_our_own_errors_show_just_their_message(qtbot, reporter, victim):
    victim.own.click()
    qtbot.waitUntil(lambda: reporter.box is not None)
    assert reporter.box.text() == "/tmp/a.klproj: project.json is missing"
    assert reporter.box.detailedText() == ""
    _close(qtbot, reporter)


def test_errors_while_the_box_is_open_join_it_instead_of_stacking(qtbot, qapp, reporter, victim):
    for _ in range(12):
        victim.boom.click()
    victim.own.click()
    qtbot.waitUntil(lambda: reporter.extra == 12)
    assert len(_boxes(qapp)) == 1 and reporter.shown == 1
    assert "12 more error(s)" in reporter.box.informativeText()
    assert "project.json is missing" in reporter.box.detailedText()
    _close(qtbot, reporter)


def test_the_same_error_stops_opening_boxes_after_a_few(qtbot, qapp, reporter, victim):
    for _ in range(crash.MAX_REPEATS + 3):
        victim.boom.click()
        qtbot.waitUntil(lambda: reporter.box is not None or sum(reporter.seen.values()) > crash.MAX_REPEATS)
        if reporter.box is not None:
            _close(qtbot, reporter)
    assert reporter.shown == crash.MAX_REPEATS
    victim.own.click()  # a different error is still shown
    qtbot.waitUntil(lambda: reporter.box is not None)
    assert reporter.shown == crash.MAX_REPEATS + 1
    _close(qtbot, reporter)


def test_a_paint_event_failing_on_every_repaint_gives_one_box(qtbot, qapp, reporter, victim):
    victim.fail_paint = True
    victim.update()  # painted by the event loop, which hands the error to the hook
    qtbot.waitUntil(lambda: reporter.box is not None)
    for n in range(2, 7):
        victim.update()
        qtbot.waitUntil(lambda n=n: sum(reporter.seen.values()) >= n)
    assert len(_boxes(qapp)) == 1 and reporter.shown == 1 and reporter.extra >= 5
    victim.fail_paint = False
    _close(qtbot, reporter)
    assert victim.isVisible()


def test_an_error_in_a_worker_thread_is_shown_from_the_gui_thread(qtbot, qapp, reporter, victim):
    def work():
        raise OSError("disk vanished")

    t = threading.Thread(target=work)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: reporter.box is not None)
    assert reporter.box.text() == "OSError: disk vanished"
    assert reporter.box.thread() is qapp.thread()
    _close(qtbot, reporter)


def test_keyboard_interrupt_goes_to_the_previous_hook(qapp, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: seen.append(a[0]))
    rep = crash.install_excepthook(qapp)
    try:
        rep.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        rep.uninstall()
    assert seen == [KeyboardInterrupt]
    assert rep.box is None


def test_installing_twice_keeps_one_reporter_and_uninstall_restores(qapp):
    before = sys.excepthook
    first = crash.install_excepthook(qapp)
    second = crash.install_excepthook(qapp)
    assert sys.excepthook == second.excepthook
    second.uninstall()
    assert sys.excepthook == before
    assert first.box is None
