"""File > Compare with Video...: a video rendered with the project's own motion is judged as following it."""

from __future__ import annotations

import json

from conftest import arrow_project

from kling_preview.core import render
from kling_preview.core.images import load_image
from kling_preview.core.video import encode_frames
from kling_preview.ui.dialogs.compare import compare_with_video


def moving_project():
    return arrow_project(9, (300, 110))


def test_compare_with_video_shows_verdicts_and_saves_reports(qtbot, window, tmp_path):
    project = moving_project()
    window.set_project(project)
    scene = render.snapshot(project, None, "kling", size=(480, 320)).with_clip(seconds=1.0, fps=12)
    renderer = render.Renderer(scene)
    video = tmp_path / "kling.mp4"
    encode_frames([renderer.frame(t) for t in renderer.times()], video, 12)

    assert window.act_compare in window.menuBar().actions()[0].menu().actions()
    running = compare_with_video(window, video)  # the menu entry asks for the file first
    with qtbot.waitSignal(running.done, timeout=20000):
        pass
    dialog = window.compare_dialog
    qtbot.waitExposed(dialog)
    assert dialog.verdicts.toPlainText().startswith("region 1: followed its trajectory")
    assert dialog.save(tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["regions"][0]["direction_cosine"] > 0.95
    assert dialog.save(tmp_path / "report.png")
    assert load_image(tmp_path / "report.png").pixels.shape == (320, 480, 3)
    assert not dialog.save(tmp_path / "report.txt")
    assert "not saved" in dialog.verdicts.toPlainText()
    dialog.close()
