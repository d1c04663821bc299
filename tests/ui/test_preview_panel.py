"""The preview player: frames from the worker thread, edits, playback, scrubbing, errors, settings."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import make_project
from PySide6.QtCore import QObject, Signal

from kling_preview.core import render
from kling_preview.ui.panels.preview import PreviewPanel
from kling_preview.ui.qimage import qimage_to_rgb as pixels
from kling_preview.ui.qimage import rgb_to_qimage


def moving_project(trajectory=((100, 100), (220, 140))):
    """320x200 still with one painted region; `trajectory` None leaves it without one."""
    project = make_project(320, 200, seed=3)
    region = project.add_region()
    project.paint(region.label, [(100, 100)], 30)
    if trajectory is not None:
        region.trajectory = [tuple(map(float, p)) for p in trajectory]
    project.clip.fps = 8
    project.clip.seconds = 5.0
    return project


@pytest.fixture
def panel(preview_panel):
    return preview_panel


def shown_at(panel: PreviewPanel, index: int) -> bool:
    return panel.shown_index() == index


def test_shows_the_projects_image(panel, qtbot):
    project = make_project(320, 200, seed=1)
    with qtbot.waitSignal(panel.frameShown, timeout=10_000) as blocker:
        panel.set_project(project)
    assert blocker.args == [0]
    frame = pixels(panel.current_image())
    assert frame.shape == (200, 320, 3)
    # No regions: the first frame is the still itself.
    assert np.abs(frame.astype(int) - project.image.pixels.astype(int)).mean() < 2


def test_an_edit_shows_in_the_next_frame(panel, qtbot):
    project = moving_project(trajectory=None)
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    panel.seek(20)
    qtbot.waitUntil(lambda: shown_at(panel, 20), timeout=10_000)
    before = pixels(panel.current_image())

    project.region(1).trajectory = [(100.0, 100.0), (220.0, 140.0)]
    panel.schedule_update()
    qtbot.waitUntil(lambda: not np.array_equal(pixels(panel.current_image()), before), timeout=10_000)
    assert panel.current_index() == 20
    after = pixels(panel.current_image())
    changed = np.abs(after.astype(int) - before.astype(int)).sum(axis=2) > 30
    # Halfway through, the disc (centre 100,100, radius 30) has moved by (60, 20): the change is there
    # and around where it was; far from both, nothing changed.
    assert changed[90:150, 130:190].mean() > 0.5
    assert not changed[:, :50].any() and not changed[:, 260:].any() and not changed[:40].any()


def test_play_advances_frame_by_frame_and_pauses(panel, qtbot):
    panel.set_project(moving_project())
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    seen: list[int] = []
    panel.frameShown.connect(seen.append)
    panel.toggle_play()
    assert panel.is_playing()
    qtbot.waitUntil(lambda: len(seen) >= 5, timeout=10_000)
    panel.toggle_play()
    assert not panel.is_playing()
    assert seen[:5] == list(range(1, 6))
    stopped_at = panel.current_index()
    assert panel.slider.value() == stopped_at


def test_playback_stops_at_the_end_without_loop(panel, qtbot):
    project = moving_project()
    project.clip.seconds = 5.0
    project.clip.fps = 8
    panel.set_project(project)
    panel.loop_check.setChecked(False)
    panel.seek(panel.frame_count() - 3)
    qtbot.waitUntil(lambda: shown_at(panel, panel.frame_count() - 3), timeout=10_000)
    panel.toggle_play()
    qtbot.waitUntil(lambda: not panel.is_playing(), timeout=10_000)
    assert panel.current_index() == panel.frame_count() - 1


def test_scrubbing_shows_the_frame_at_that_time(panel, qtbot):
    project = moving_project()
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    with qtbot.waitSignal(panel.frameShown, timeout=10_000, check_params_cb=lambda i: i == 30):
        panel.slider.setValue(30)
    assert panel.current_index() == 30
    renderer = render.Renderer()
    renderer.update(render.snapshot(project, max_side=panel.max_side))
    expected = pixels(rgb_to_qimage(renderer.frame(renderer.times()[30])))
    assert np.array_equal(pixels(panel.current_image()), expected)
    first = pixels(rgb_to_qimage(renderer.frame(renderer.times()[0])))
    assert not np.array_equal(expected, first)  # the scrub really moved in time


def test_a_worker_error_is_shown_and_the_panel_keeps_working(panel, qtbot, monkeypatch):
    def broken(self, t):
        raise RuntimeError("synthetic render failure")

    monkeypatch.setattr(render.Renderer, "frame", broken)
    panel.set_project(moving_project())
    qtbot.waitUntil(lambda: "synthetic render failure" in panel.error_text(), timeout=10_000)
    assert panel.current_image() is None
    assert panel.worker.is_running()

    monkeypatch.undo()
    panel.seek(4)
    qtbot.waitUntil(lambda: shown_at(panel, 4), timeout=10_000)
    assert panel.error_text() == ""


def test_a_failing_scene_update_is_shown_and_the_next_edit_recovers(panel, qtbot, monkeypatch):
    original = render.Renderer.update

    def broken(self, scene):
        raise ValueError("bad scene")

    monkeypatch.setattr(render.Renderer, "update", broken)
    project = moving_project()
    panel.set_project(project)
    qtbot.waitUntil(lambda: "bad scene" in panel.error_text(), timeout=10_000)

    monkeypatch.setattr(render.Renderer, "update", original)
    panel.schedule_update()
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    assert panel.error_text() == ""


def test_a_failing_snapshot_is_shown_until_a_snapshot_works(panel, qtbot, monkeypatch):
    project = moving_project()
    panel.set_project(project)
    qtbot.waitUntil(lambda: shown_at(panel, 0), timeout=10_000)
    original = render.snapshot

    def broken(*args, **kwargs):
        raise MemoryError("no room for the proxy")

    monkeypatch.setattr(render, "snapshot", broken)
    panel.schedule_update()
    qtbot.waitUntil(lambda: "no room for the proxy" in panel.error_text(), timeout=5_000)
    panel.seek(3)  # frames of the last good scene still come, and do not hide the error
    qtbot.waitUntil(lambda: shown_at(panel, 3), timeout=10_000)
    assert "no room for the proxy" in panel.error_text()

    monkeypatch.setattr(render, "snapshot", original)
    panel.schedule_update()
    qtbot.waitUntil(lambda: panel.error_text() == "", timeout=5_000)


def test_clip_controls_write_the_project_and_rerender(panel, qtbot):
    project = moving_project()
    project.clip.loop_seconds = 3.0
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    assert panel.frame_count() == 40

    panel.fps_spin.setValue(12)
    assert project.clip.fps == 12
    panel.seconds_combo.setCurrentIndex(panel.seconds_combo.findData(10.0))
    assert project.clip.seconds == 10.0
    qtbot.waitUntil(lambda: panel.frame_count() == 120, timeout=10_000)
    panel.seek(119)
    qtbot.waitUntil(lambda: shown_at(panel, 119), timeout=10_000)
    panel.mode_combo.setCurrentText("loop")
    assert project.clip.mode == "loop"
    # A loop lasts the project's loop length, and the length control now shows and sets that.
    assert panel.seconds_combo.currentData() == 3.0
    qtbot.waitUntil(lambda: panel.frame_count() == 36, timeout=10_000)
    panel.seconds_combo.setCurrentIndex(panel.seconds_combo.findData(5.0))
    assert (project.clip.loop_seconds, project.clip.seconds) == (5.0, 10.0)
    qtbot.waitUntil(lambda: panel.frame_count() == 60, timeout=10_000)


def test_controls_follow_the_project(panel):
    project = moving_project()
    project.clip.fps, project.clip.seconds, project.clip.mode = 15, 10.0, "ambient"
    panel.set_project(project)
    assert (panel.fps_spin.value(), panel.seconds_combo.currentData(), panel.mode_combo.currentText()) == (
        15,
        10.0,
        "ambient",
    )
    panel.set_project(None)
    assert not panel.play_button.isEnabled()
    assert panel.current_image() is None


def test_renderer_warnings_are_shown(panel, qtbot):
    project = moving_project(trajectory=None)
    renderer = render.Renderer()
    renderer.update(render.snapshot(project))
    assert renderer.warnings, "a region without a trajectory should be reported by the renderer"
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.warning_text() != "", timeout=10_000)
    assert all(w in panel.warning_text() for w in renderer.warnings)


def test_trajectory_overlay_is_drawn_on_request(panel, qtbot):
    panel.set_project(moving_project())
    qtbot.waitUntil(lambda: panel.current_image() is not None, timeout=10_000)
    plain = pixels(panel.view.grab().toImage())
    panel.trajectories_check.setChecked(True)
    drawn = pixels(panel.view.grab().toImage())
    assert not np.array_equal(plain, drawn)
    panel.trajectories_check.setChecked(False)
    assert np.array_equal(pixels(panel.view.grab().toImage()), plain)


def test_installed_qt_binding_does_not_leak_none_or_true():
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call and to True on every
    emit until the interpreter aborts; pyproject.toml excludes that release, and this guards the pin."""

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.setObjectName("probe")
        probe.ping.emit()
    for obj, count in zip((None, True), before):
        assert count - sys.getrefcount(obj) < 1000


def test_shutdown_stops_the_thread(qtbot):
    widget = PreviewPanel()
    widget.set_project(moving_project())
    worker = widget.worker
    assert worker.is_running()
    widget.shutdown()
    assert not worker.is_running()
    widget.shutdown()  # twice is harmless
    widget.schedule_update()  # and edits after it are ignored
    widget.deleteLater()


def test_destroying_the_panel_stops_the_thread(qtbot):
    widget = PreviewPanel()
    widget.set_project(moving_project())
    worker = widget.worker
    with qtbot.waitSignal(widget.destroyed, timeout=5_000):
        widget.deleteLater()
    assert not worker.is_running()


def test_paths_over_the_preview_end_in_an_arrowhead(qtbot):
    from PySide6.QtGui import QColor, QImage

    from kling_preview.ui.panels.preview import FrameView

    view = FrameView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    still = QImage(400, 200, QImage.Format.Format_RGB888)
    still.fill(QColor(40, 40, 40))
    view.set_image(still)
    view.set_overlay([(QColor(255, 0, 0), [(0.1, 0.5), (0.8, 0.5)])], [])
    rgb = pixels(view.grab().toImage())
    tip_x, y = int(0.8 * 400), 100
    # 2 px off the line's axis, a few px before the tip, only an arrowhead is red
    beside = rgb[y + 2, tip_x - 8]
    assert beside[0] > 150 and beside[1] < 80
    assert rgb[y + 2, int(0.5 * 400)][0] < 100  # the line itself is thinner than that
