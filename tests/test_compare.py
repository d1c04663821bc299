"""`kling-preview compare`: videos rendered by the project with known motion, reversed, trimmed, resized, panned."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_project

from kling_preview import cli
from kling_preview.core import render
from kling_preview.core.compare import compare, read_clip
from kling_preview.core.images import load_image
from kling_preview.core.project import STATIC, Project
from kling_preview.core.projectfile import save_project
from kling_preview.core.trajectory import arc_length
from kling_preview.core.video import encode_frames

W, H = 480, 320


def known_motion() -> Project:
    """Two regions with different arrows (one bent) and a static strip along the top."""
    p = make_project(W, H, seed=5)
    for box, path in (
        ((90, 170, 70, 170), [(120, 130), (250, 95)]),
        ((190, 270, 300, 400), [(350, 230), (300, 245), (270, 215)]),
    ):
        region = p.add_region()
        mask = np.zeros((H, W), bool)
        y0, y1, x0, x1 = box
        mask[y0:y1, x0:x1] = True
        p.set_mask(region.label, mask)
        region.trajectory = path
    static = np.zeros((H, W), bool)
    static[0:50, :] = True
    p.set_mask(STATIC, static)
    return p


@pytest.fixture(scope="module")
def project() -> Project:
    return known_motion()


@pytest.fixture(scope="module")
def frames(project) -> list[np.ndarray]:
    scene = render.snapshot(project, None, "kling", size=(W, H)).with_clip(seconds=2.0, fps=12)
    renderer = render.Renderer(scene)
    return [renderer.frame(t) for t in renderer.times()]


def encode(frames: list[np.ndarray], path: Path, size: tuple[int, int] | None = None) -> Path:
    if size is not None:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    encode_frames(frames, path, 12)
    return path


def panned(frames: list[np.ndarray], total: float) -> list[np.ndarray]:
    """Every frame shifted right, growing to `total` px at the last frame (a camera drift)."""
    out = []
    for n, frame in enumerate(frames):
        dx = total * n / (len(frames) - 1)
        shift = np.float32([[1, 0, dx], [0, 1, 0]])
        out.append(cv2.warpAffine(frame, shift, (W, H), borderMode=cv2.BORDER_REFLECT))
    return out


def test_a_faithful_render_follows_every_trajectory(project, frames, tmp_path):
    result = compare(project, read_clip(encode(frames, tmp_path / "v.mp4")))
    assert [r.ref for r in result.regions] == ["region 1", "region 2"]
    for region in result.regions:
        assert region.direction_cosine > 0.97, region.verdict
        assert region.endpoint_error < 0.1, region.verdict
        assert "followed its trajectory" in region.verdict
        assert len(region.tracked_path) == len(frames)
    assert result.static_motion_px < 2


def test_a_reversed_video_moves_against_the_trajectories(project, frames, tmp_path):
    result = compare(project, read_clip(encode(frames[::-1], tmp_path / "v.mp4")))
    for region in result.regions:
        assert region.direction_cosine < -0.9, region.verdict
        assert region.endpoint_error > 0.8
        assert "against its trajectory" in region.verdict


def test_a_video_starting_late_at_another_size_is_located_by_appearance(project, frames, tmp_path):
    late = frames[len(frames) // 3 :]  # the clip starts after the content has moved a third of the way
    result = compare(project, read_clip(encode(late, tmp_path / "v.mp4", size=(720, 480))))
    for region in result.regions:
        assert region.direction_cosine > 0.9, region.verdict
        assert region.endpoint_error < 0.12, region.verdict  # judged from where the content is, not where it began
        assert np.hypot(*np.subtract(region.tracked_path[0], region.trajectory[0])) > 15


def test_a_static_area_that_drifts_48_px_reports_about_48(project, frames, tmp_path):
    result = compare(project, read_clip(encode(panned(frames, 48), tmp_path / "v.mp4", size=(360, 240))))
    assert result.static_motion_px == pytest.approx(48, abs=4)


def test_a_still_video_did_not_move(project, tmp_path):
    still = [project.image.pixels] * 12
    result = compare(project, read_clip(encode(still, tmp_path / "v.mp4")))
    for region in result.regions:
        assert region.direction_cosine is None
        assert "did not move" in region.verdict
        start, end = np.array(region.trajectory[0]), np.array(region.trajectory[-1])
        expected = np.hypot(*(end - start)) / arc_length(region.trajectory)  # still at the start point
        assert region.endpoint_error == pytest.approx(expected, abs=0.03)


def test_cli_writes_the_json_contract_and_a_png(project, frames, tmp_path, capsys):
    source = tmp_path / "p.klproj"
    save_project(project, source)
    video = encode(frames, tmp_path / "v.mp4", size=(600, 400))
    report = tmp_path / "report.json"
    assert cli.main(["compare", str(source), str(video), "-o", str(report)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("region 1: followed its trajectory")
    assert out[1].startswith("region 2: followed its trajectory")
    assert out[2].startswith("static area: moved up to")
    data = json.loads(report.read_text())
    assert isinstance(data["static_motion_px"], float)
    assert [r["region"] for r in data["regions"]] == ["region 1", "region 2"]
    for entry, region in zip(data["regions"], project.regions):
        assert entry["direction_cosine"] > 0.95 and entry["endpoint_error"] < 0.1
        assert entry["trajectory"][0] == list(region.trajectory[0])
    png = tmp_path / "report.png"
    assert cli.main(["compare", str(source), str(video), "-o", str(png)]) == 0
    drawn = load_image(png).pixels
    assert drawn.shape == (400, 600, 3)
    first = read_clip(video).first_rgb
    assert (np.abs(drawn.astype(int) - first).sum(axis=2) > 60).mean() > 0.005  # the paths are drawn on it


def test_cli_bad_video_and_bad_report_name_are_one_line_exit_2(project, tmp_path, capsys):
    source = tmp_path / "p.klproj"
    save_project(project, source)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    assert cli.main(["compare", str(source), str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {broken}:")
    assert cli.main(["compare", str(source), str(broken), "-o", str(tmp_path / "r.txt")]) == 2
    assert "json or .png" in capsys.readouterr().err
