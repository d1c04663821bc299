"""The export dialog: Kling bundle and video exports in the background, refusal, failure and cancel."""

from __future__ import annotations

import json
import threading

import av
from export_cases import ready_project as shared_ready_project
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog

from kling_preview.core import video


def ready_project():
    """The shared ready project with a 1 s 8 fps clip."""
    project = shared_ready_project()
    project.clip.seconds = 1.0
    project.clip.fps = 8
    return project


def export(dialog, qtbot, timeout=30_000) -> str:
    with qtbot.waitSignal(dialog.exportFinished, timeout=timeout) as blocker:
        dialog.export_button.click()
    return blocker.args[0]


def test_kling_bundle_is_written_and_open_folder_shows_it(make_dialog, qtbot, tmp_path, monkeypatch):
    project = ready_project()
    dialog = make_dialog(project)
    assert dialog.format == "kling"
    out = tmp_path / "bundle"
    dialog.set_output_path(out)
    assert export(dialog, qtbot) == "succeeded"

    names = {p.name for p in out.iterdir()}
    assert {"request.json", "static_mask.png", "dynamic_mask_1.png", "trajectories.json", "overlay.png"} <= names
    assert names & {"image.png", "image.jpg"}
    request = json.loads((out / "request.json").read_text())
    assert len(request["dynamic_masks"]) == 1
    assert len(request["dynamic_masks"][0]["trajectories"]) == 2
    assert str(out) in dialog.status_label.text()

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert dialog.open_folder_button.isVisible()
    dialog.open_folder_button.click()
    assert [u.toLocalFile() for u in opened] == [str(out)]


def test_a_bundle_kling_would_refuse_is_not_written(make_dialog, qtbot, tmp_path):
    project = ready_project()
    project.regions[0].trajectory = [(100.0 + i, 100.0) for i in range(78)]
    dialog = make_dialog(project)
    # The errors are listed as soon as the bundle format is shown, before anything starts.
    texts = [dialog.problem_list.item(i).text() for i in range(dialog.problem_list.count())]
    assert any("78 points" in t for t in texts)
    out = tmp_path / "bundle"
    dialog.set_output_path(out)
    assert export(dialog, qtbot) == "refused"
    assert not out.exists()
    assert "refused" in dialog.status_label.text()
    assert list(tmp_path.iterdir()) == []


def test_mp4_is_written_with_the_chosen_settings(make_dialog, qtbot, tmp_path, monkeypatch):
    project = ready_project()
    dialog = make_dialog(project)
    dialog.set_format("mp4")
    assert (dialog.seconds_spin.value(), dialog.fps_spin.value()) == (1.0, 8)  # from project.clip
    assert dialog.output_path().suffix == ".mp4"
    out = tmp_path / "clip"  # the suffix is added
    dialog.set_output_path(out)
    seen: list[tuple[int, int]] = []
    dialog.progress_bar.valueChanged.connect(lambda v: seen.append((v, dialog.progress_bar.maximum())))
    assert export(dialog, qtbot) == "succeeded"

    path = tmp_path / "clip.mp4"
    assert path.is_file()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert len(frames) == 8
    assert (frames[0].width, frames[0].height) == (320, 320)
    assert seen and seen[-1][0] == seen[-1][1]
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog.open_folder()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path)]


def test_cancel_leaves_no_file(make_dialog, qtbot, tmp_path, monkeypatch):
    real = video.render_to_file

    def gated(project, out, *, progress, cancel, **options):
        """The real export, held after its first frame until the user has pressed Cancel."""

        def report(done, total):
            progress(done, total)
            cancel.wait(20)

        return real(project, out, progress=report, cancel=cancel, **options)

    monkeypatch.setattr(video, "render_to_file", gated)
    dialog = make_dialog(ready_project())
    dialog.set_format("mp4")
    out = tmp_path / "cancelled.mp4"
    dialog.set_output_path(out)
    with qtbot.waitSignal(dialog.exportFinished, timeout=30_000) as blocker:
        dialog.export_button.click()
        assert dialog.is_running() and dialog.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.progress_bar.value() >= 1, timeout=20_000)
        dialog.cancel_button.click()
    assert blocker.args == ["cancelled"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file either
    assert "cancelled" in dialog.status_label.text()
    assert dialog.export_button.isEnabled()


def test_a_failed_export_shows_the_error_and_leaves_nothing(make_dialog, qtbot, tmp_path):
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("x")
    dialog = make_dialog(ready_project())
    dialog.set_format("webm")
    dialog.set_output_path(blocker_file / "clip.webm")
    assert export(dialog, qtbot) == "failed"
    assert dialog.status_label.text().startswith("Export failed:")
    assert "not-a-folder" in dialog.status_label.text()
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-folder"]
    assert not dialog.open_folder_button.isVisible()


def test_browse_uses_the_file_dialogs(make_dialog, tmp_path, monkeypatch):
    dialog = make_dialog(ready_project())
    calls: list[str] = []

    def save_name(parent, caption, directory, filter_, selected, options):
        calls.append(filter_)
        assert options & QFileDialog.Option.DontUseNativeDialog
        return str(tmp_path / "picked.gif"), filter_

    def folder(parent, caption, directory, options):
        calls.append("folder")
        return str(tmp_path / "picked-folder")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    dialog.browse()
    assert dialog.output_path() == tmp_path / "picked-folder"
    dialog.set_format("gif")
    dialog.browse()
    assert dialog.output_path() == tmp_path / "picked.gif"
    assert calls == ["folder", "GIF animation (*.gif)"]


def test_a_loop_video_lasts_one_loop_period_by_default(make_dialog):
    project = ready_project()
    project.clip.loop_seconds = 3.0
    dialog = make_dialog(project)
    dialog.set_format("gif")
    assert dialog.seconds_spin.value() == 1.0
    dialog.mode_combo.setCurrentText("loop")
    assert dialog.seconds_spin.value() == 3.0
    dialog.mode_combo.setCurrentText("kling")
    assert dialog.seconds_spin.value() == 1.0


def test_switching_format_keeps_the_name_and_changes_the_suffix(make_dialog, tmp_path):
    dialog = make_dialog(ready_project())
    dialog.set_output_path(tmp_path / "holiday-kling")
    dialog.set_format("mp4")
    assert dialog.output_path() == tmp_path / "holiday.mp4"
    assert not dialog.video_box.isHidden()
    dialog.set_format("webm")
    assert dialog.output_path() == tmp_path / "holiday.webm"
    dialog.set_format("kling")
    assert dialog.output_path() == tmp_path / "holiday-kling"
    assert dialog.video_box.isHidden()


def test_closing_during_an_export_cancels_it(make_dialog, qtbot, tmp_path, monkeypatch):
    started = threading.Event()
    real = video.render_to_file

    def slow(project, out, *, progress, cancel, **options):
        def report(done, total):
            progress(done, total)
            started.set()
            cancel.wait(20)

        return real(project, out, progress=report, cancel=cancel, **options)

    monkeypatch.setattr(video, "render_to_file", slow)
    dialog = make_dialog(ready_project())
    dialog.set_format("mp4")
    out = tmp_path / "closed.mp4"
    dialog.set_output_path(out)
    dialog.export_button.click()
    qtbot.waitUntil(started.is_set, timeout=20_000)
    dialog.reject()
    assert not dialog.isVisible()
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_refusal_points_at_the_list_where_it_is_and_the_last_export_s_100_percent_goes(
    make_dialog, qtbot, tmp_path
):
    project = ready_project()
    dialog = make_dialog(project)
    dialog.set_output_path(tmp_path / "first")
    assert export(dialog, qtbot) == "succeeded"
    bar = dialog.progress_bar
    assert bar.isVisible() and bar.value() == bar.maximum()
    project.regions[0].trajectory = [(100.0 + i, 100.0) for i in range(78)]
    dialog.set_output_path(tmp_path / "second")
    assert export(dialog, qtbot) == "refused"
    assert not bar.isVisible() and bar.value() != bar.maximum()  # nothing of the first export is left
    text = dialog.status_label.text()
    layout = dialog.layout()
    list_above = layout.indexOf(dialog.problem_list) < layout.indexOf(dialog.status_label)
    assert ("above" in text and list_above) or ("below" in text and not list_above)
    assert dialog.problem_list.isVisible() and dialog.problem_list.count() > 0
