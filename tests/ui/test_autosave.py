"""Autosave and restore: a killed app loses nothing; saved or closed work leaves no recovery behind."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project
from PySide6.QtWidgets import QMessageBox

from kling_preview.core import recovery
from kling_preview.core.masks import STATIC
from kling_preview.core.projectfile import save_project
from kling_preview.ui import autosave
from kling_preview.ui.main_window import MainWindow


class FakeWindow:
    """The autosaver's whole view of a window: a project, a path, a modified flag and the revision."""

    def __init__(self, project=None, path=None, modified=False):
        self.project, self.path, self.modified = project, path, modified
        self.revision = 0

    def state(self) -> autosave.SaveState:
        return autosave.SaveState(self.project, self.path, self.modified, self.revision)


def _edited():
    p = make_project(240, 160, seed=11)
    r = p.add_region("Leaves")
    p.paint(r.label, [(40, 40), (90, 60)], 12)
    r.trajectory = [(40.0, 40.0), (70.0, 20.0)]
    return p


def _files() -> list[str]:
    folder = recovery.recovery_dir()
    return sorted(f.name for f in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def saver_for(qtbot):
    made = []

    def make(win: FakeWindow, **kwargs) -> autosave.Autosaver:
        saver = autosave.Autosaver(win.state, interval=kwargs.pop("interval", 3_600_000), **kwargs)
        made.append(saver)
        return saver

    yield make
    for saver in made:
        saver.wait()
        saver.deleteLater()


def answer_with(monkeypatch, text: str, asked: list | None = None) -> None:
    """QMessageBox.exec clicks the button called `text` instead of waiting for the user."""

    def exec_(box):
        if asked is not None:
            asked.append(box.text())
        for button in box.buttons():
            if button.text() == text:
                button.click()
                return 0
        raise AssertionError(f"no {text!r} button in {[b.text() for b in box.buttons()]}")

    monkeypatch.setattr(QMessageBox, "exec", exec_)


# ----- the autosaver on its own ---------------------------------------------------------------------
def test_interval_defaults_to_30_s_and_the_environment_overrides_it(monkeypatch):
    monkeypatch.delenv(autosave.INTERVAL_ENV, raising=False)
    assert autosave.interval_ms() == 30_000
    monkeypatch.setenv(autosave.INTERVAL_ENV, "250")
    assert autosave.interval_ms() == 250
    for bad in ("0", "-5", "soon", ""):
        monkeypatch.setenv(autosave.INTERVAL_ENV, bad)
        assert autosave.interval_ms() == 30_000


def test_the_timer_writes_a_modified_project(qtbot, saver_for):
    win = FakeWindow(_edited(), "/photos/leaves.klproj", modified=True)
    saver = saver_for(win, interval=20)
    with qtbot.waitSignal(saver.written, timeout=10_000) as blocker:
        pass
    path = Path(blocker.args[0])
    assert path.parent == recovery.recovery_dir()
    assert json.loads(path.with_suffix(".json").read_text())["source_path"] == "/photos/leaves.klproj"
    assert saver.has_recovery


def test_writes_only_when_modified_since_the_last_write(qtbot, saver_for):
    win = FakeWindow(_edited(), None, modified=False)
    saver = saver_for(win)
    saver.tick()
    assert not saver.busy and _files() == []  # unmodified: nothing to keep

    win.modified = True
    assert saver.write_now()
    writes = []
    saver.written.connect(writes.append)
    saver.tick()
    assert not saver.busy and writes == []  # nothing changed since

    win.project.regions[0].trajectory.append((100.0, 10.0))
    win.revision += 1  # an edit moves the document's revision, announced or not
    assert saver.write_now() and len(writes) == 1
    saver.tick()
    win.project.paint(STATIC, [(200, 120)], 9)
    saver.notify_changed()
    assert saver.write_now() and len(writes) == 2
    latest = recovery.Recovery(saver.session_id, Path(writes[-1]), None, 0, 0, "", 0).load()
    assert np.array_equal(latest.labels, win.project.labels)
    assert latest.regions[0].trajectory == [(40.0, 40.0), (70.0, 20.0), (100.0, 10.0)]


def test_a_clean_save_and_a_normal_close_remove_the_recovery(qtbot, saver_for):
    win = FakeWindow(_edited(), None, modified=True)
    saver = saver_for(win)
    assert saver.write_now() and _files()
    win.modified = False  # the window saved
    saver.notify_changed()
    assert _files() == [] and not saver.has_recovery

    win.modified = True
    win.project.paint(STATIC, [(10, 10)], 5)
    assert saver.write_now() and _files()
    saver.close()
    assert _files() == [] and not saver.timer.isActive()
    saver.tick()
    assert _files() == []  # closed for good


def test_closing_the_project_removes_the_recovery(qtbot, saver_for):
    win = FakeWindow(_edited(), None, modified=True)
    saver = saver_for(win)
    assert saver.write_now()
    win.project, win.modified = None, False
    saver.tick()
    assert _files() == []


def test_a_save_during_a_write_in_flight_leaves_no_file(qtbot, saver_for):
    win = FakeWindow(make_project(1600, 1200, seed=2), None, modified=True)
    win.project.paint(STATIC, [(50, 50)], 40)
    saver = saver_for(win)
    saver.tick()
    assert saver.busy
    win.modified = False
    saver.saved()  # waits for the write, then removes it
    qtbot.waitUntil(lambda: not saver.busy)
    assert _files() == [] and not saver.has_recovery


def test_a_failing_write_is_reported_once_and_retried(qtbot, saver_for, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(blocker))
    win = FakeWindow(_edited(), None, modified=True)
    saver = saver_for(win)
    messages = []
    saver.failed.connect(messages.append)
    assert not saver.write_now()
    win.project.paint(STATIC, [(5, 5)], 3)
    assert not saver.write_now()
    assert len(messages) == 1 and "Autosave failed" in messages[0] and "not-a-folder" in messages[0]
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(tmp_path / "ok"))
    assert saver.write_now()  # the next try works once the disk is back


def test_app_quit_keeps_the_recovery_only_while_the_window_is_still_open(qtbot, saver_for):
    win = FakeWindow(_edited(), None, modified=True)
    still_open = [True]
    saver = saver_for(win, still_open=lambda: still_open[0])
    assert saver.write_now()
    saver.on_app_quit()  # ended by something else while the user's window was up
    assert _files() and not saver.timer.isActive()
    still_open[0] = False
    saver.timer.start()
    saver.on_app_quit()  # the user closed the window: a normal close
    assert _files() == []


# ----- offering the recovery at start ---------------------------------------------------------------
def _crashed(project, source, session="crashed-1"):
    """The files a process that died after an autosave leaves behind (no lock held any more)."""
    folder = recovery.recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    save_project(project, folder / f"{session}.klproj")
    sidecar = {"format": recovery.SIDECAR_FORMAT, "version": 1, "session": session, "source_path": source,
               "saved_at": time.time(), "pid": 1234, "image": project.image.name, "regions": len(project.regions)}
    (folder / f"{session}.json").write_text(json.dumps(sidecar))
    return session


def test_restore_opens_the_project_and_the_old_file_goes_once_the_new_one_is_written(
    qtbot, saver_for, monkeypatch
):
    p = _edited()
    old = _crashed(p, "/photos/leaves.klproj")
    asked = []
    answer_with(monkeypatch, "Restore", asked)
    opened = []
    win = FakeWindow()

    def opener(project, source):
        opened.append(source)
        win.project, win.path, win.modified = project, source, True

    saver = saver_for(win)
    assert autosave.offer_restore(None, opener, saver)
    assert opened == ["/photos/leaves.klproj"] and "leaves.klproj" in asked[0]
    assert np.array_equal(win.project.labels, p.labels)
    assert any(name.startswith(old) for name in _files())  # kept until the new recovery exists
    qtbot.waitUntil(lambda: saver.has_recovery and not any(n.startswith(old) for n in _files()))
    assert recovery.list_recoveries() == []


def test_discard_deletes_and_later_keeps(qtbot, monkeypatch):
    _crashed(_edited(), None)
    answer_with(monkeypatch, "Later")
    assert not autosave.offer_restore(None, lambda *a: pytest.fail("nothing to open"))
    assert len(recovery.list_recoveries()) == 1
    answer_with(monkeypatch, "Discard")
    assert not autosave.offer_restore(None, lambda *a: pytest.fail("nothing to open"))
    assert recovery.list_recoveries() == [] and _files() == []


def test_nothing_to_restore_asks_nothing(monkeypatch):
    monkeypatch.setattr(QMessageBox, "exec", lambda box: pytest.fail("asked without a reason"))
    assert not autosave.offer_restore(None, lambda *a: pytest.fail("nothing to open"))


def test_a_recovery_damaged_after_listing_is_reported_and_kept(qtbot, monkeypatch):
    session = _crashed(_edited(), None)
    found = recovery.list_recoveries()
    damaged = recovery.recovery_dir() / f"{session}.klproj"
    damaged.write_bytes(damaged.read_bytes()[:200])  # cut after the listing saw a zip
    monkeypatch.setattr(recovery, "list_recoveries", lambda: found)
    answer_with(monkeypatch, "Restore")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    assert not autosave.offer_restore(None, lambda *a: pytest.fail("must not open a damaged file"))
    assert len(warnings) == 1 and session in warnings[0] and "kept" in warnings[0]
    assert damaged.exists()


# ----- the real window, killed and restarted ------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from kling_preview.ui.main_window import MainWindow

    project_path, expected_path = sys.argv[1], sys.argv[2]
    app = QApplication([])
    win = MainWindow()
    win.resize(1100, 760)
    win.show()
    assert win.open_path(project_path, ask=False)
    saver = win.autosaver
    app.processEvents()
    canvas = win.canvas
    canvas.fit()
    app.processEvents()

    def send(kind, x, y, button, buttons):
        pos = canvas.image_to_widget(x, y)
        event = QMouseEvent(kind, pos, QPointF(canvas.mapToGlobal(pos.toPoint())), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, event)

    def drag(points):
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        send(QEvent.Type.MouseButtonPress, *points[0], left, left)
        for x, y in points[1:]:
            send(QEvent.Type.MouseMove, x, y, none, left)
        send(QEvent.Type.MouseButtonRelease, *points[-1], left, none)

    win.act_add_region.trigger()                        # a second region, selected
    win.set_tool("motion_brush")
    canvas.set_brush_size(24)
    drag([(200, 150), (240, 170), (280, 160)])          # a real brush stroke
    win.set_tool("trajectory")
    for x, y in [(210, 150), (260, 120), (300, 90)]:    # three clicks: three trajectory points
        drag([(x, y)])
    win.set_tool("static_brush")
    drag([(40, 250), (90, 260)])
    assert not win.doc.stack.isClean()

    def ready(_path):
        project = win.project
        np.save(expected_path + ".npy", project.labels)
        with open(expected_path + ".json", "w") as fh:
            json.dump([r.trajectory for r in project.regions], fh)
        print("READY", flush=True)

    saver.written.connect(ready)
    app.exec()
    """
)


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    """A line of the child's stdout, or '' if it printed none in `timeout` seconds."""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sel.select(timeout=deadline - time.monotonic()):
                return proc.stdout.readline()
    return ""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_app_restores_every_edit_on_the_next_start(qtbot, tmp_path, monkeypatch):
    start = make_project(400, 300, seed=5)
    first = start.add_region("Water")
    start.paint(first.label, [(60, 60)], 20)
    first.trajectory = [(60.0, 60.0), (100.0, 80.0)]
    source = tmp_path / "scene.klproj"
    save_project(start, source)
    original = source.read_bytes()
    expected = tmp_path / "expected"

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KLING_PREVIEW_AUTOSAVE_MS="100")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(source), str(expected)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = _read_line(child, 120)
        if line.strip() != "READY":
            child.kill()
            pytest.fail(f"the app did not autosave: {line!r} {child.communicate()[1][-3000:]}")
        assert recovery.list_recoveries() == []  # it is alive: its recovery is not offered
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    labels = np.load(str(expected) + ".npy")
    trajectories = [[tuple(p) for p in t] for t in json.loads(Path(str(expected) + ".json").read_text())]
    assert len(trajectories) == 2 and len(trajectories[1]) == 3  # the edits really happened
    assert (labels == STATIC).any() and (labels == 2).any()
    assert source.read_bytes() == original  # autosave never touches the user's own file

    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: w.doc.stack.setClean())
    win.show()
    saver = win.autosaver
    opener = win.open_recovered
    asked = []
    answer_with(monkeypatch, "Restore", asked)
    assert autosave.offer_restore(win, opener, saver)
    assert "scene.klproj" in asked[0]
    project = win.project
    assert np.array_equal(project.labels, labels)
    assert [r.trajectory for r in project.regions] == trajectories
    assert win.path == source and not win.doc.stack.isClean() and win.isWindowModified()
    qtbot.waitUntil(lambda: saver.has_recovery)  # this session took over the recovery
    assert [f for f in _files() if f.endswith(".klproj")] == [f"{saver.session_id}.klproj"]
    saver.close()
    assert _files() == []
