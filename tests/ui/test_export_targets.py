"""Export dialog: the request for fal, AIMLAPI or PiAPI, an unknown model let through, ATI/KJNodes track files."""

from __future__ import annotations

import json

from export_cases import click_export as export
from export_cases import ready_project
from peers import ati_get_tracks_inference, kjnodes_parse_json_tracks, piapi_check_task, spline_editor_parse
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kling_preview.ui.dialogs.export import PATHS_NOTE


def choose(qtbot, combo, key: str) -> None:
    """Pick a combo item with the keyboard, as a user would."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentData() != key:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"{key} not offered"


def test_fal_request_with_track_files(make_dialog, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog = make_dialog(ready_project())
    assert dialog.request_box.isVisible() and dialog.paths_note.text() == PATHS_NOTE
    choose(qtbot, dialog.target_combo, "fal")
    qtbot.mouseClick(dialog.tracks_check, Qt.MouseButton.LeftButton)
    assert dialog.tracks_check.isChecked()
    out = tmp_path / "fal-bundle"
    dialog.set_output_path(out)
    assert export(dialog, qtbot) == "succeeded"
    body = json.loads((out / "request.json").read_text("utf-8"))
    assert body["image_url"].startswith("data:image/") and "model_name" not in body
    assert (out / "endpoint.txt").read_text().startswith("POST https://queue.fal.run/fal-ai/kling-video/v1/")
    ati = ati_get_tracks_inference((out / "tracks.pth").read_bytes(), 320, 320)
    assert ati.shape == (81, 1, 4)
    assert [len(t) for t in kjnodes_parse_json_tracks((out / "tracks-kjnodes.json").read_text("utf-8"))] == [81]
    assert spline_editor_parse((out / "tracks-spline.json").read_text("utf-8"))[0]["points"][0] == {"x": 100, "y": 100}
    # The track files are listed as the export's own, so exporting again (here without them) replaces them.
    assert export(dialog, qtbot) == "succeeded"
    qtbot.mouseClick(dialog.tracks_check, Qt.MouseButton.LeftButton)
    assert export(dialog, qtbot) == "succeeded"
    assert not (out / "tracks.pth").exists() and (out / "request.json").exists()
    dialog.set_format("mp4")
    assert not dialog.request_box.isVisible()


def test_an_unknown_model_exports_when_allowed(make_dialog, qtbot, tmp_path):
    project = ready_project()
    project.kling.model_name = "kling-v9"
    dialog = make_dialog(project)
    out = tmp_path / "bundle"
    dialog.set_output_path(out)
    assert export(dialog, qtbot) == "refused" and not out.exists()
    qtbot.mouseClick(dialog.allow_model_check, Qt.MouseButton.LeftButton)
    items = [dialog.problem_list.item(i).text() for i in range(dialog.problem_list.count())]
    assert any("kling-v9" in text for text in items)
    assert "refuse" not in dialog.status_label.text()
    assert export(dialog, qtbot) == "succeeded"
    assert json.loads((out / "request.json").read_text("utf-8"))["model_name"] == "kling-v9"


def test_file_import_trajectories_reads_an_ati_pth(window, tmp_path, monkeypatch, no_dialogs):
    from PySide6.QtWidgets import QFileDialog

    from kling_preview.core.spec.tracks import write_track_file

    path = tmp_path / "scene.pth"
    write_track_file(path, [[(40.0, 60.0), (200.0, 90.0)]], "ati")
    offered: list[str] = []

    def dialog(parent, title, folder, filters, *args, **kwargs):
        offered.append(filters)
        return str(path), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog)
    window.act_import_tracks.trigger()
    assert "*.pth" in offered[0]
    track = window.project.regions[0].trajectory
    assert len(track) == 77 and track[0] == (40.0, 60.0) and track[-1] == (200.0, 90.0)
    assert not no_dialogs


def test_piapi_is_offered_and_writes_its_task(make_dialog, qtbot, tmp_path):
    dialog = make_dialog(ready_project())
    choose(qtbot, dialog.target_combo, "piapi")
    assert "PiAPI" in dialog.target_combo.currentText()
    out = tmp_path / "piapi-bundle"
    dialog.set_output_path(out)
    assert export(dialog, qtbot) == "succeeded"
    body = json.loads((out / "request.json").read_text("utf-8"))
    piapi_check_task(body)
    assert body["input"]["motion_brush"]["dynamic_masks"] == [{"points": [{"x": 100, "y": 100}, {"x": 200, "y": 160}]}]
    assert (out / "motion_brush_mask.png").is_file() and not (out / "dynamic_mask_1.png").exists()
    assert "x-api-key" in (out / "endpoint.txt").read_text()
