"""The Kling tasks panel and File > Send to Kling..., against the Kling-compatible server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from conftest import arrow_project, make_project
from kling_server import KlingServer
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kling_preview.core.send.tasks import SentTask, load_tasks, save_tasks
from kling_preview.ui.panels.sent_tasks import SentTasksPanel

ACCESS, SECRET = "ak-ui-access-5678", "sk-UI-SECRET-never-stored-0123456789abcdef"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)
    srv = KlingServer(ACCESS, SECRET, video=VIDEO)
    srv.start()
    monkeypatch.setenv("KLING_API_BASE", srv.url)
    yield srv
    srv.stop()


@pytest.fixture
def sendable():
    """A small project Kling accepts: one painted region with an arrow."""
    return arrow_project(4, (300, 120))


def cell(panel: SentTasksPanel, row: int, column: int) -> str:
    return panel.table.item(row, column).text()


def check_until(qtbot, panel: SentTasksPanel, status: str) -> None:
    for _ in range(6):
        with qtbot.waitSignal(panel.changed, timeout=5000):
            qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
        if cell(panel, 0, 1).startswith(status):
            return
    raise AssertionError(f"never reached {status}: {cell(panel, 0, 1)}")


def test_sent_task_is_followed_downloaded_and_survives_a_restart(qtbot, server, sendable, tmp_path):
    store = tmp_path / "tasks.json"
    panel = SentTasksPanel(store)
    qtbot.addWidget(panel)
    panel.videos_dir = tmp_path / "videos"
    with qtbot.waitSignal(panel.changed, timeout=10000):
        panel.send(sendable, "scene.klproj")
    task_id = cell(panel, 0, 0)
    assert task_id in server.tasks
    assert cell(panel, 0, 1) == "submitted"
    assert cell(panel, 0, 3).startswith("kling-v1 std 5 s")
    assert panel.timer.isActive()  # an unfinished task is polled
    check_until(qtbot, panel, "succeed")
    video = tmp_path / "videos" / f"{task_id}.mp4"
    assert video.read_bytes() == VIDEO
    assert panel.tasks[0].videos == [str(video)]
    assert SECRET not in store.read_text() and ACCESS not in store.read_text()
    assert not (tmp_path / "videos" / f".{task_id}.mp4.part").exists()

    again = SentTasksPanel(store)  # the app started anew
    qtbot.addWidget(again)
    assert cell(again, 0, 0) == task_id and cell(again, 0, 1) == "succeed"
    assert not again.timer.isActive()


def test_failed_task_shows_kling_reason(qtbot, server, sendable, tmp_path):
    server.lifecycle = ("processing", "failed")
    panel = SentTasksPanel(tmp_path / "tasks.json")
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.changed, timeout=10000):
        panel.send(sendable)
    check_until(qtbot, panel, "failed")
    assert "risk control" in cell(panel, 0, 1)


def test_missing_keys_say_so_and_nothing_is_listed(qtbot, server, sendable, tmp_path, monkeypatch):
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setattr("keyring.get_keyring", lambda: type("Nothing", (), {"priority": 0})())
    panel = SentTasksPanel(tmp_path / "tasks.json")
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.message, timeout=10000) as said:
        panel.send(sendable)
    assert said.args[0].startswith("not sent: no Kling keys")


def test_a_project_kling_would_refuse_is_not_sent(qtbot, server, tmp_path):
    project = make_project(480, 320)
    project.add_region()  # nothing painted
    panel = SentTasksPanel(tmp_path / "tasks.json")
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.message, timeout=10000) as said:
        panel.send(project)
    assert said.args[0].startswith("not sent: ") and "mask is empty" in said.args[0]
    assert "\n" not in said.args[0]
    assert not server.requests

    assert panel.table.rowCount() == 0 and not server.requests


def test_in_the_app_tasks_and_videos_live_in_the_data_folder(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(tmp_path))
    panel = SentTasksPanel()
    qtbot.addWidget(panel)
    assert panel.store == tmp_path / "sent_tasks.json"
    assert panel.videos_dir == tmp_path / "videos"


def test_a_damaged_task_list_is_set_aside(tmp_path):
    store = tmp_path / "tasks.json"
    store.write_text("{not json")
    assert load_tasks(store) == []
    assert (tmp_path / "tasks.json.damaged").read_text() == "{not json"
    save_tasks([SentTask("t1", "http://x", 1.0)], store)
    assert json.loads(store.read_text())["tasks"][0]["task_id"] == "t1"


def test_send_to_kling_from_the_file_menu_asks_first(qtbot, window, server, sendable, monkeypatch):
    window.set_project(sendable)
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.No if len(asked) == 1 else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    # The tasks list is a tab on the right, behind the Kling check, until there is a task to follow.
    tabs = window.tabifiedDockWidgets(window.sent_tasks_dock)
    assert window.dockWidgetArea(window.sent_tasks_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.validation_dock in tabs and window.sent_tasks_dock.visibleRegion().isEmpty()
    file_menu = window.menuBar().actions()[0].menu()
    assert window.act_send in file_menu.actions()
    window.act_send.trigger()  # declined: nothing is sent
    assert not server.requests and "spends credits" in asked[0]
    assert "1 unit (Kling's price as of" in asked[0]  # kling-v1 std 5 s
    with qtbot.waitSignal(window.sent_tasks.changed, timeout=10000):
        window.act_send.trigger()
    assert window.sent_tasks.table.rowCount() == 1
    assert cell(window.sent_tasks, 0, 0) in server.tasks
    assert not window.sent_tasks_dock.visibleRegion().isEmpty()  # the new task's tab came to the front


def test_cost_follows_model_mode_and_duration():
    from kling_preview.core.send.pricing import cost_line, units_for

    assert units_for("kling-v1", "std", "5") == 1.0
    assert units_for("kling-v1", "pro", "10") == 7.0
    assert units_for("kling-v9", "std", "5") is None
    assert cost_line("kling-v1-5", "pro", "5", tasks=3).startswith("10.5 units (3.5 each)")
    assert cost_line("kling-v9", "std", "5").startswith("cost unknown")


def test_variants_are_sent_as_a_batch_of_the_same_masks(qtbot, window, server, sendable):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QDialogButtonBox

    from kling_preview.ui.dialogs.variants import VariantsDialog
    from kling_preview.ui.send_action import send_variants

    window.set_project(sendable)
    dialog = VariantsDialog(sendable.kling, window)
    dialog.prompts_edit.clear()
    qtbot.keyClicks(dialog.prompts_edit, "clouds drift left")
    qtbot.keyClick(dialog.prompts_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.prompts_edit, "clouds race left")
    dialog.cfg_edit.clear()
    qtbot.keyClicks(dialog.cfg_edit, "0.3, 2")
    send_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not send_button.isEnabled() and "outside 0 to 1" in dialog.summary.text()
    qtbot.keyClick(dialog.cfg_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.cfg_edit, "0.8")
    assert send_button.isEnabled()
    assert dialog.summary.text().startswith("4 tasks, 4 units (1 each)")

    QTimer.singleShot(0, lambda: qtbot.mouseClick(send_button, Qt.MouseButton.LeftButton))
    with qtbot.waitSignal(window.sent_tasks.changed, timeout=15000):
        assert send_variants(window, window.sent_tasks, dialog)
    bodies = [json.loads(r.body) for r in server.requests if r.method == "POST"]
    assert sorted((b["prompt"], b["cfg_scale"]) for b in bodies) == [
        ("clouds drift left", 0.3), ("clouds drift left", 0.8), ("clouds race left", 0.3), ("clouds race left", 0.8)
    ]
    assert len({json.dumps(b["dynamic_masks"]) for b in bodies}) == 1
    assert window.sent_tasks.table.rowCount() == 4


def test_a_refusal_midway_keeps_the_tasks_already_sent(qtbot, server, sendable, tmp_path):
    from kling_server import Fault

    panel = SentTasksPanel(tmp_path / "tasks.json")
    qtbot.addWidget(panel)
    original = server.next_fault
    calls = []

    def third_is_refused(path):
        calls.append(path)
        return Fault("error", 1303) if len(calls) == 3 else original(path)

    server.next_fault = third_is_refused
    with qtbot.waitSignal(panel.changed, timeout=15000):
        panel.send(sendable, prompts=["a", "b", "c", "d"])
    assert panel.table.rowCount() == 2
    assert "2 of 4 not sent" in panel.status.text() and "concurrency limit" in panel.status.text()


def test_a_downloaded_video_plays_beside_the_preview_in_step(qtbot, window, tmp_path):
    from kling_preview.core import render
    from kling_preview.core.video import encode_frames

    project = window.doc.project
    scene = render.snapshot(project, None, "kling", size=(240, 160)).with_clip(seconds=1.0, fps=12)
    renderer = render.Renderer(scene)
    video = tmp_path / "task.mp4"
    encode_frames([renderer.frame(t) for t in renderer.times()], video, 12)
    panel = window.sent_tasks
    panel.tasks = [SentTask("t-video", "http://127.0.0.1:9", 1.0, status="succeed", finished_at=2.0,
                            videos=[str(video)])]  # fmt: skip
    panel._show()
    assert not window.kling_video_dock.isVisible()
    rect = panel.table.visualItemRect(panel.table.item(0, 0))
    assert rect.isValid()
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(window.kling_video.loaded, timeout=10000):
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.kling_video_dock.isVisible() and window.preview_dock.isVisible()
    frames = len(window.kling_video.frames)
    assert frames == 12
    window.kling_video.follow(0, 120)
    assert window.kling_video.index == 0
    window.kling_video.follow(119, 120)  # the preview's last frame: the video's last frame
    assert window.kling_video.index == frames - 1
    window.preview.frameShown.emit(window.preview.frame_count() - 1)
    assert window.kling_video.index == frames - 1
