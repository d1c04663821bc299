"""Fitting a too-large image into Kling's 10 MB: the downscaled copy, its masks and trajectories, the CLI flag.

The big case is real: a 4000x3000 noise PNG is over 10 MB both as PNG and as the JPEG q92 fallback. It is
built and fitted once per module (encoding it takes seconds), so its tests are marked `slow` and run with
`pytest -m slow`. Cases that need another limit (cannot fit
above 300 px, a JPEG that fits re-encoded) lower `rules.MAX_IMAGE_BYTES` on small images instead.
"""

from __future__ import annotations

import base64
import io
import json
import threading

import cv2
import numpy as np
import pytest
from conftest import make_project, textured_pixels
from PIL import Image

from kling_preview.cli import main
from kling_preview.core.errors import Cancelled, InvalidError
from kling_preview.core.images import decode_image, encode_jpeg, encode_png
from kling_preview.core.project import STATIC, MotionKind, Project
from kling_preview.core.projectfile import save_project
from kling_preview.core.spec import rules
from kling_preview.core.spec.fit import downscaled, fit_to_kling
from kling_preview.core.spec.kling import FALLBACK_JPEG_QUALITY, export_image_bytes
from kling_preview.core.spec.rules import MAX_IMAGE_BYTES, MIN_SIDE, validate_project
from kling_preview.core.trajectory import to_kling

BIG_W, BIG_H = 4000, 3000
PREFIXES = ("error: ", "warning: ", "note: ", "hint: ")


def noisy_project() -> Project:
    """4000x3000 random noise as a PNG (over 10 MB as PNG and as JPEG q92), two regions and a static area."""
    pixels = np.random.default_rng(5).integers(0, 256, (BIG_H, BIG_W, 3), dtype=np.uint8)
    project = Project(decode_image(encode_png(pixels), "noise.png"))
    sea = project.add_region("Sea")
    project.paint(sea.label, [(1000, 1000), (1400, 1100)], 200)
    sea.trajectory = [(1000.0, 1000.0), (2000.0, 1500.0), (2500.0, 800.0)]
    sky = project.add_region("Sky")
    project.paint(sky.label, [(3000, 700)], 150)
    sky.trajectory = [(3000.0, 700.0), (3300.0, 650.0)]
    project.paint(STATIC, [(2500, 2400)], 300)
    project.kling.prompt = "waves roll in"
    return project


@pytest.fixture(scope="module")
def big():
    """The noisy project, what it looked like before fitting, its problems, and the fitted copy."""
    project = noisy_project()
    before = {
        "data": project.image.data,
        "pixels": project.image.pixels.copy(),
        "labels": project.labels.copy(),
        "trajectories": [list(r.trajectory) for r in project.regions],
        "errors": [p.rule for p in validate_project(project) if p.severity == "error"],
        "bytes": len(export_image_bytes(project.image)[0]),
    }
    result = fit_to_kling(project)
    return project, before, result


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1)


@pytest.mark.slow
def test_the_noisy_image_breaks_only_the_size_rule(big):
    _project, before, _result = big
    assert before["bytes"] > MAX_IMAGE_BYTES
    assert before["errors"] == ["image-bytes"]


@pytest.mark.slow
def test_the_fitted_copy_fits_10_mb_and_stays_above_300_px(big):
    _project, _before, result = big
    assert result is not None
    fitted, scale = result
    assert 0 < scale < 1
    width, height = fitted.size
    assert (width, height) == (round(BIG_W * scale), round(BIG_H * scale))
    assert min(width, height) >= MIN_SIDE
    data, _ext = export_image_bytes(fitted.image)
    assert len(data) <= MAX_IMAGE_BYTES
    assert len(data) > 0.8 * MAX_IMAGE_BYTES, "shrunk far more than needed"
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (width, height)
    problems = validate_project(fitted)
    assert [p for p in problems if p.severity == "error"] == []
    # The copy's source is a faithful PNG of its pixels, named after the original.
    assert fitted.image.format == "PNG" and fitted.image.name == "noise.png"
    assert np.array_equal(decode_image(fitted.image.data, "x.png").pixels, fitted.image.pixels)


@pytest.mark.slow
def test_masks_stay_at_the_same_relative_places(big):
    project, _before, (fitted, _scale) = big
    size = fitted.size
    assert fitted.labels.shape == (size[1], size[0])
    assert set(np.unique(fitted.labels)) == set(np.unique(project.labels))
    for label in [r.label for r in project.regions] + [STATIC]:
        expected = cv2.resize(project.mask(label).astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 127
        assert iou(expected, fitted.mask(label)) > 0.97, label
    assert [(r.label, r.name, r.color) for r in fitted.regions] == [(r.label, r.name, r.color) for r in project.regions]


@pytest.mark.slow
def test_trajectories_are_scaled_with_the_pixels(big):
    project, _before, (fitted, _scale) = big
    sx, sy = fitted.size[0] / BIG_W, fitted.size[1] / BIG_H
    for old, new in zip(project.regions, fitted.regions):
        assert np.allclose(new.trajectory, [(x * sx, y * sy) for x, y in old.trajectory])
        x, y = new.trajectory[0]
        assert fitted.labels[int(y), int(x)] == new.label  # still starts on its region


@pytest.mark.slow
def test_the_original_project_is_untouched(big):
    project, before, _result = big
    assert project.image.data is before["data"]
    assert project.size == (BIG_W, BIG_H)
    assert np.array_equal(project.image.pixels, before["pixels"])
    assert np.array_equal(project.labels, before["labels"])
    assert [list(r.trajectory) for r in project.regions] == before["trajectories"]


def test_an_image_that_already_fits_gives_none(project):
    assert fit_to_kling(project) is None


def test_downscaled_copies_every_setting_and_leaves_the_original_alone(project):
    region = project.add_region("Water", kind=MotionKind.FLOW, strength=0.4, feather=3.0)
    project.paint(region.label, [(320, 200)], 60)
    region.trajectory = [(320.0, 200.0), (400.0, 260.0)]
    project.kling.prompt = "ripples"
    project.kling.extra = {"callback_url": "https://example.com/hook", "nested": {"a": 1}}
    project.clip.fps = 12
    project.camera.axis, project.camera.value = "zoom", 3.0
    labels = project.labels.copy()

    half = downscaled(project, 0.5)
    assert half.size == (320, 200)
    assert half.kling == project.kling and half.kling is not project.kling
    half.kling.extra["nested"]["a"] = 2
    assert project.kling.extra["nested"]["a"] == 1
    assert half.clip == project.clip and half.camera == project.camera
    (copy,) = half.regions
    assert (copy.name, copy.kind, copy.strength, copy.feather) == ("Water", MotionKind.FLOW, 0.4, 3.0)
    assert copy.trajectory == [(160.0, 100.0), (200.0, 130.0)]
    assert region.trajectory == [(320.0, 200.0), (400.0, 260.0)]
    assert project.size == (640, 400) and np.array_equal(project.labels, labels)
    with pytest.raises(ValueError):
        downscaled(project, 1.5)


def test_a_thin_region_keeps_at_least_one_pixel(project):
    region = project.add_region()
    project.labels[100, 50:60] = region.label  # one pixel high: nearest neighbour may skip its row
    small = downscaled(project, 0.25)
    assert np.count_nonzero(small.labels == region.label) >= 1


def test_a_jpeg_too_large_as_it_is_may_fit_re_encoded_at_full_size(monkeypatch):
    buf = io.BytesIO()
    Image.fromarray(textured_pixels(800, 600, seed=3)).save(buf, "JPEG", quality=100)
    project = Project(decode_image(buf.getvalue(), "photo.jpg"))
    original = len(export_image_bytes(project.image)[0])  # the JPEG as it is (metadata stripped)
    pixels = project.image.pixels
    refit = len(encode_jpeg(pixels, FALLBACK_JPEG_QUALITY))
    assert refit < original < len(encode_png(pixels))
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", (original + refit) // 2)
    fitted, scale = fit_to_kling(project)
    assert scale == 1.0 and fitted.size == project.size
    assert fitted.image.name == "photo.png"
    assert len(export_image_bytes(fitted.image)[0]) <= rules.MAX_IMAGE_BYTES


def test_an_image_that_cannot_fit_above_300_px_is_invalid(monkeypatch, project):
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", 20_000)  # the 480x300 version is larger than that
    with pytest.raises(InvalidError, match="even at 480x300"):
        fit_to_kling(project)
    small = make_project(320, 280)
    with pytest.raises(InvalidError, match="under 300 px"):
        fit_to_kling(small)


def test_a_small_limit_is_reached_in_a_few_steps(monkeypatch):
    project = make_project(1200, 900, seed=2)
    # Half of the full-size JPEG fallback: neither the PNG nor the JPEG of the full image fits.
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", len(encode_jpeg(project.image.pixels, FALLBACK_JPEG_QUALITY)) // 2)
    fitted, scale = fit_to_kling(project)
    nbytes = len(export_image_bytes(fitted.image)[0])
    assert 0.8 * rules.MAX_IMAGE_BYTES < nbytes <= rules.MAX_IMAGE_BYTES
    assert scale < 1 and min(fitted.size) >= MIN_SIDE


def test_fitting_can_be_cancelled(monkeypatch, project):
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", 100_000)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        fit_to_kling(project, cancel=cancel)


# ----- command line ------------------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_without_fit_size_hints_at_it(capsys, tmp_path, monkeypatch):
    project = make_project(640, 400, seed=1)
    region = project.add_region()
    project.paint(region.label, [(200, 200)], 40)
    region.trajectory = [(200.0, 200.0), (300.0, 220.0)]
    source = tmp_path / "big.klproj"
    save_project(project, source)
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", 60_000)  # a small stand-in for 10 MB, to stay fast
    out = tmp_path / "bundle"

    code, _stdout, err = run_cli(capsys, "export", str(source), "-o", str(out))
    assert code == 1
    lines = err.splitlines()
    assert all(line.startswith(PREFIXES) for line in lines), err
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {source}: ") and "at most" in errors[0]
    assert lines[-1].startswith("hint: add --fit-size to downscale")
    assert not out.exists()

    # Another broken rule besides the size: downscaling would not help, so no hint.
    project.regions[0].trajectory = [(200.0 + i, 200.0) for i in range(78)]
    save_project(project, source)
    code, _stdout, err = run_cli(capsys, "export", str(source), "-o", str(out))
    assert code == 1
    assert len([line for line in err.splitlines() if line.startswith("error: ")]) == 2
    assert "hint:" not in err


@pytest.mark.slow
def test_cli_fit_size_exports_a_bundle_within_10_mb(big, capsys, tmp_path):
    project, _before, (fitted, _scale) = big
    source = tmp_path / "noise.klproj"
    save_project(project, source)
    saved = source.stat().st_mtime_ns
    out = tmp_path / "bundle"
    code, stdout, err = run_cli(capsys, "export", str(source), "-o", str(out), "--fit-size")
    assert code == 0, err
    assert all(line.startswith(PREFIXES) for line in err.splitlines()), err
    width, height = fitted.size
    assert f"note: {source}: " in err and f"from 4000x3000 to {width}x{height}" in err
    assert "wrote" in stdout
    (image_file,) = [p for p in out.iterdir() if p.stem == "image"]
    assert image_file.stat().st_size <= MAX_IMAGE_BYTES
    request = json.loads((out / "request.json").read_text())
    assert len(base64.b64decode(request["image"])) <= MAX_IMAGE_BYTES
    with Image.open(io.BytesIO(base64.b64decode(request["image"]))) as im:
        assert im.size == (width, height)
    for n in (1, 2):
        with Image.open(out / f"dynamic_mask_{n}.png") as mask:
            assert mask.size == (width, height)
    tracks = [entry["trajectories"] for entry in request["dynamic_masks"]]
    assert tracks == [to_kling(r.trajectory, height) for r in fitted.regions]
    assert tracks[0][0] == {"x": round(1000 * width / BIG_W), "y": height - round(1000 * height / BIG_H)}
    assert source.stat().st_mtime_ns == saved  # the input is not rewritten


def test_cli_fit_size_on_an_image_that_fits_changes_nothing(capsys, tmp_path):
    source = tmp_path / "small.png"
    source.write_bytes(encode_png(textured_pixels(640, 400, seed=1)))
    code, _stdout, err = run_cli(capsys, "export", str(source), "-o", str(tmp_path / "b"), "--fit-size")
    assert code == 0, err
    assert "note:" not in err
    with Image.open(tmp_path / "b" / "image.png") as im:
        assert im.size == (640, 400)


def test_cli_reports_an_image_that_cannot_fit(capsys, tmp_path, monkeypatch):
    source = tmp_path / "small.png"
    source.write_bytes(encode_png(textured_pixels(640, 400, seed=1)))
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", 20_000)
    code, _stdout, err = run_cli(capsys, "export", str(source), "-o", str(tmp_path / "b"), "--fit-size")
    assert code == 1
    assert err.startswith(f"error: {source}: ") and err.count("\n") == 1, err
    assert not (tmp_path / "b").exists()
