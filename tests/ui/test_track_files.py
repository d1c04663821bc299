"""File > Import / Export Trajectories: KJNodes and Wan ATI files to and from the regions, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers import ati_get_tracks_inference, kjnodes_parse_json_tracks
from PySide6.QtWidgets import QFileDialog

from kling_preview.core import trajectory as traj
from kling_preview.core.project import MAX_REGIONS
from kling_preview.core.spec.tracks import ATI_POINTS, read_tracks
from kling_preview.ui import track_actions


def kjnodes(path: Path, tracks: list[list[tuple[float, float]]], as_string: bool = False) -> Path:
    """A KJNodes `coordinates` file: a list of lists of {"x", "y"} (optionally as a JSON string)."""
    data = [[{"x": x, "y": y} for x, y in t] for t in tracks]
    path.write_text(json.dumps({"coordinates": json.dumps(data)} if as_string else data), encoding="utf-8")
    return path


def line(x0: float, y0: float, x1: float, y1: float, n: int) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / (n - 1), y0 + (y1 - y0) * i / (n - 1)) for i in range(n)]


@pytest.fixture
def pick_open(monkeypatch):
    """File > Import Trajectories answers the open dialog with the path given to it."""

    def choose(path: Path) -> list[tuple]:
        calls: list[tuple] = []

        def dialog(parent, title, folder, filters, *args, **kwargs):
            calls.append((title, filters))
            return str(path), filters.split(";;")[0]

        monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog)
        return calls

    return choose


@pytest.fixture
def pick_save(monkeypatch):
    """File > Export Trajectories answers the save dialog with a path and the filter (format) chosen."""

    def choose(path: Path, selected: str) -> list[tuple]:
        calls: list[tuple] = []

        def dialog(parent, title, start, filters, *args, **kwargs):
            calls.append((title, start, filters))
            assert selected in filters.split(";;")
            return str(path), selected

        monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
        return calls

    return choose


def test_import_sets_each_regions_trajectory_as_one_undo_step(window, tmp_path, pick_open, no_dialogs):
    project, stack = window.project, window.doc.stack
    first = [(40.0, 60.0), (120.5, 80.25), (200.0, 90.0)]
    long = line(300, 50, 420, 250, 150)  # more than Kling's 77 points
    calls = pick_open(kjnodes(tmp_path / "spline.json", [first, long]))
    assert window.act_import_tracks.isEnabled()
    window.act_import_tracks.trigger()
    assert calls and "Import" in calls[0][0]
    water, clouds = project.regions
    assert water.trajectory == first
    assert len(clouds.trajectory) == traj.MAX_POINTS
    assert clouds.trajectory == traj.fit_to_limit(long)
    assert clouds.trajectory[0] == long[0] and clouds.trajectory[-1] == long[-1]
    assert stack.count() == 1 and window.isWindowModified()
    assert window.regions.rows[water.label].points.text() == f"3/{traj.MAX_POINTS}"
    assert "2 trajectories" in window.statusBar().currentMessage()
    assert not no_dialogs

    window.undo()
    assert water.trajectory == [] and clouds.trajectory == []
    assert not window.isWindowModified()
    window.redo()
    assert water.trajectory == first and len(clouds.trajectory) == traj.MAX_POINTS


def test_more_tracks_than_regions_add_regions_in_the_same_step(window, tmp_path, no_dialogs):
    project = window.project
    tracks = [line(10 + 50 * i, 20, 30 + 50 * i, 200, 5) for i in range(4)]
    path = kjnodes(tmp_path / "four.json", tracks, as_string=True)
    assert window.import_trajectories(path)
    assert len(project.regions) == 4
    assert [r.trajectory for r in project.regions] == tracks
    assert window.doc.stack.count() == 1
    assert len(window.regions.rows) == 4
    window.undo()
    assert len(project.regions) == 2 and all(not r.trajectory for r in project.regions)


def test_a_seventh_track_is_refused_with_a_message(window, tmp_path, no_dialogs):
    project = window.project
    tracks = [line(10 + 40 * i, 20, 10 + 40 * i, 250, 3) for i in range(MAX_REGIONS + 1)]
    assert window.import_trajectories(kjnodes(tmp_path / "seven.json", tracks))
    assert len(project.regions) == MAX_REGIONS
    assert [r.trajectory for r in project.regions] == tracks[:MAX_REGIONS]
    assert window.doc.stack.count() == 1
    assert len(no_dialogs) == 1
    kind, text = no_dialogs[0]
    assert kind == "warning"
    assert f"{MAX_REGIONS + 1} trajectories" in text and f"at most {MAX_REGIONS}" in text
    assert f"trajectory {MAX_REGIONS + 1}" in text


def test_points_outside_the_image_are_kept_for_the_check(window, qtbot, tmp_path, no_dialogs):
    outside = [(100.0, 100.0), (700.0, 100.0)]  # the image is 480 px wide
    window.import_trajectories(kjnodes(tmp_path / "out.json", [outside]))
    assert window.project.regions[0].trajectory == outside
    qtbot.waitUntil(lambda: any(p.rule == "trajectory-outside" for p in window.validation.problems), timeout=10_000)


def test_an_unreadable_file_shows_its_one_line_message(window, tmp_path, pick_open, no_dialogs):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"x": 1, "y": "two"}]', encoding="utf-8")
    pick_open(bad)
    window.act_import_tracks.trigger()
    assert len(no_dialogs) == 1
    kind, text = no_dialogs[0]
    assert kind == "critical" and "bad.json" in text and "point 1" in text and "\n" not in text
    assert window.doc.stack.count() == 0
    assert all(not r.trajectory for r in window.project.regions)
    window.import_trajectories(tmp_path / "missing.json")
    assert no_dialogs[-1][0] == "critical" and "missing.json" in no_dialogs[-1][1]


def give_trajectories(window) -> list[list[tuple[float, float]]]:
    tracks = [[(10.123456, 20.5), (100.0, 40.987654), (150.25, 300.0)], line(200, 300, 400, 20, 40)]
    for region, points in zip(window.project.regions, tracks):
        region.trajectory = list(points)
    return tracks


def rounded(tracks) -> list[list[tuple[float, float]]]:
    """What the files hold: coordinates rounded to 3 decimals."""
    return [[(round(x, 3), round(y, 3)) for x, y in t] for t in tracks]


def test_export_kjnodes_gives_every_track_the_frame_count_kjnodes_reads(window, tmp_path, pick_save, no_dialogs):
    """KJNodes reads a track's point count as the frame count and indexes every track by the first one's
    length: a 3-point and a 40-point track must both become 81 points, from the same start to the same end."""
    tracks = give_trajectories(window)
    out = tmp_path / "coords.json"
    pick_save(out, track_actions.KJNODES_FILTER)
    window.act_export_tracks.trigger()
    parsed = kjnodes_parse_json_tracks(out.read_text("utf-8"))
    assert [len(t) for t in parsed] == [81, 81]
    for drawn, written in zip(tracks, parsed):
        assert abs(written[0]["x"] - drawn[0][0]) <= 1 and abs(written[-1]["y"] - drawn[-1][1]) <= 1


def test_export_ati_pth_reads_in_atis_loader(window, tmp_path, pick_save, no_dialogs):
    give_trajectories(window)
    out = tmp_path / "tracks"
    pick_save(out, track_actions.ATI_PTH_FILTER)
    window.act_export_tracks.trigger()
    width, height = window.project.size
    assert ati_get_tracks_inference(out.with_suffix(".pth").read_bytes(), height, width).shape[1] == 2


def test_export_spline_points_read_back_equal(window, tmp_path, pick_save, no_dialogs):
    tracks = give_trajectories(window)
    out = tmp_path / "spline.json"
    calls = pick_save(out, track_actions.SPLINE_FILTER)
    window.act_export_tracks.trigger()
    assert calls and calls[0][1].endswith("-trajectories.json")
    assert read_tracks(out) == rounded(tracks)
    assert window.doc.stack.count() == 0  # exporting is not an edit
    assert not no_dialogs
    # ...and importing the file gives the same trajectories back.
    for region in window.project.regions:
        region.trajectory = []
    window.import_trajectories(out)
    assert [r.trajectory for r in window.project.regions] == rounded(tracks)


def test_export_ati_resamples_to_121_points(window, tmp_path, pick_save, no_dialogs):
    tracks = give_trajectories(window)
    out = tmp_path / "tracks.json"
    pick_save(out, track_actions.ATI_FILTER)
    window.act_export_tracks.trigger()
    back = read_tracks(out)
    assert [len(t) for t in back] == [ATI_POINTS, ATI_POINTS]
    assert back == rounded([traj.resample(t, ATI_POINTS) for t in tracks])


def test_export_without_trajectories_says_so_and_writes_nothing(window, tmp_path, pick_save, no_dialogs):
    out = tmp_path / "none.json"
    pick_save(out, track_actions.KJNODES_FILTER)
    window.act_export_tracks.trigger()
    assert not out.exists()
    assert len(no_dialogs) == 1 and no_dialogs[0][0] == "information" and "trajectory" in no_dialogs[0][1]


def test_export_leaves_out_regions_without_a_trajectory_and_says_which(window, tmp_path, no_dialogs):
    water, clouds = window.project.regions
    clouds.trajectory = [(5.0, 5.0), (50.0, 60.0)]
    out = tmp_path / "one"
    assert window.export_trajectories(out, "kjnodes-spline")
    written = out.with_suffix(".json")
    assert read_tracks(written) == [clouds.trajectory]
    assert water.name in window.statusBar().currentMessage()


def test_an_export_that_cannot_be_written_shows_the_reason(window, tmp_path, no_dialogs):
    give_trajectories(window)
    target = tmp_path / "missing-folder" / "tracks.json"
    assert not window.export_trajectories(target, "ati-json")
    assert len(no_dialogs) == 1 and no_dialogs[0][0] == "critical" and "tracks.json" in no_dialogs[0][1]
    assert not target.parent.exists()


def test_the_actions_need_a_project(window):
    window.set_project(None)
    assert not window.act_import_tracks.isEnabled() and not window.act_export_tracks.isEnabled()
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    assert window.act_import_tracks in file_menu.actions() and window.act_export_tracks in file_menu.actions()


def test_a_comfyui_workflow_is_scaled_from_the_spline_canvas_to_the_image(window, tmp_path, no_dialogs):
    """A SplineEditor draws on its own mask_width x mask_height canvas: the app scales like `tracks --import`."""
    width, height = window.project.size
    drawn = [(10.0, 20.0), (30.0, 40.0)]
    store = json.dumps([{"points": [{"x": x, "y": y} for x, y in drawn], "color": "#1f77b4", "name": "s"}])
    workflow = {"nodes": [{"id": 7, "type": "SplineEditor", "widgets_values": [store, "", width * 2, height * 2]}]}
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow), "utf-8")
    assert window.import_trajectories(path)
    assert window.project.regions[0].trajectory == [(x / 2, y / 2) for x, y in drawn]
    assert "scaled from the spline canvas" in window.statusBar().currentMessage()
