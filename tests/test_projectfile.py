"""The .klproj file: lossless round trip, atomic saves, clear refusals of damaged or newer files."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest
from conftest import make_project
from PIL import Image

from kling_preview.core import projectfile
from kling_preview.core.errors import OutputError, ProjectFileError
from kling_preview.core.images import decode_image
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.resources import sample_project_path


def _rich_project() -> Project:
    p = make_project(500, 320)
    a = p.add_region("Sky", kind=MotionKind.FLOW, strength=0.7, feather=5.5)
    b = p.add_region("Water", color=(1, 2, 3), visible=False)
    p.paint(a.label, [(50, 50), (200, 60)], 20)
    p.paint(b.label, [(300, 200)], 40)
    p.paint(STATIC, [(450, 300)], 15)
    a.trajectory = [(10.25, 20.5), (100.125, 30.0), (1 / 3, 2 / 7)]
    b.trajectory = [(300.0, 200.0), (320.0, 180.0)]
    p.clip.mode, p.clip.fps, p.clip.seconds, p.clip.loop_seconds = "loop", 30, 10.0, 2.5
    p.kling.prompt, p.kling.negative_prompt, p.kling.cfg_scale = "waves ✓", "blur", 0.25
    p.kling.model_name, p.kling.mode = "kling-v1-5", "pro"
    p.kling.extra = {"callback_url": "https://example.invalid/cb"}
    p.camera.axis, p.camera.value = "zoom", -3.5
    return p


def test_round_trip_is_lossless(tmp_path):
    p = _rich_project()
    path = tmp_path / "a.klproj"
    save_project(p, path)
    q = load_project(path)
    assert q.image.data == p.image.data and np.array_equal(q.image.pixels, p.image.pixels)
    assert np.array_equal(q.labels, p.labels)
    assert [vars(r) for r in q.regions] == [vars(r) for r in p.regions]
    assert vars(q.clip) == vars(p.clip) and vars(q.kling) == vars(p.kling) and vars(q.camera) == vars(p.camera)
    save_project(q, tmp_path / "b.klproj")
    with zipfile.ZipFile(path) as za, zipfile.ZipFile(tmp_path / "b.klproj") as zb:
        assert {n: za.read(n) for n in za.namelist()} == {n: zb.read(n) for n in zb.namelist()}


def test_layout_matches_the_documented_format(tmp_path):
    path = tmp_path / "a.klproj"
    save_project(_rich_project(), path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {"project.json", "image.png", "masks/static.png", "masks/region-1.png", "masks/region-2.png"}
        doc = json.loads(zf.read("project.json"))
        mask = Image.open(io.BytesIO(zf.read("masks/region-1.png")))
    assert doc["format"] == "kling-preview-project" and doc["version"] == projectfile.FORMAT_VERSION
    assert mask.mode == "L" and mask.size == (500, 320) and set(np.unique(np.asarray(mask))) == {0, 255}


def test_original_jpeg_bytes_are_kept_untouched(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (9, 99, 199)).save(buf, "JPEG", quality=80)
    p = Project(decode_image(buf.getvalue(), "photo.jpg"))
    save_project(p, tmp_path / "j.klproj")
    with zipfile.ZipFile(tmp_path / "j.klproj") as zf:
        assert zf.read("image.jpg") == buf.getvalue()


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "a.klproj"
    save_project(make_project(), path)
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError, match="No space left"):
        save_project(_rich_project(), path)
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["a.klproj"]


def test_save_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OutputError, match="nowhere"):
        save_project(make_project(), tmp_path / "nowhere" / "a.klproj")


def _zip_with(tmp_path, files: dict[str, bytes]):
    path = tmp_path / "x.klproj"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _valid_files(tmp_path) -> dict[str, bytes]:
    save_project(_rich_project(), tmp_path / "ok.klproj")
    with zipfile.ZipFile(tmp_path / "ok.klproj") as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _with_doc(files, **changes) -> dict[str, bytes]:
    doc = json.loads(files["project.json"])
    doc.update(changes)
    return {**files, "project.json": json.dumps(doc).encode()}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: {k: v for k, v in f.items() if k != "project.json"}, "project.json is missing"),
        (lambda f: {**f, "project.json": b"{not json"}, "not valid JSON"),
        (lambda f: {**f, "project.json": b"[" * 100000 + b"]" * 100000}, "not valid JSON"),
        (lambda f: _with_doc(f, version=99), "newer Kling Preview"),
        (lambda f: _with_doc(f, format="something-else"), "not a Kling Preview project"),
        (lambda f: {k: v for k, v in f.items() if k != "image.png"}, "image.png is missing"),
        (lambda f: {**f, "image.png": b"garbage"}, "not an image"),
        (lambda f: {**f, "masks/region-1.png": b"garbage"}, "not a readable mask"),
        (lambda f: _with_doc(f, clip={"fps": float("nan")}), "finite number"),
        (lambda f: _with_doc(f, clip={"mode": "wobble"}), "unknown preview mode"),
        (lambda f: _with_doc(f, regions="nope"), "regions must be a list"),
    ],
)
def test_damaged_projects_are_refused_clearly(tmp_path, mutate, message):
    path = _zip_with(tmp_path, mutate(_valid_files(tmp_path)))
    with pytest.raises(ProjectFileError, match=message) as info:
        load_project(path)
    assert str(path) in str(info.value)


def test_mask_of_the_wrong_size_is_refused(tmp_path):
    files = _valid_files(tmp_path)
    buf = io.BytesIO()
    Image.new("L", (10, 10)).save(buf, "PNG")
    with pytest.raises(ProjectFileError, match="10x10 but the image is 500x320"):
        load_project(_zip_with(tmp_path, {**files, "masks/static.png": buf.getvalue()}))


@pytest.mark.parametrize("content", [b"", b"plain text, not a zip", b"PK\x03\x04broken"])
def test_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "bad.klproj"
    path.write_bytes(content)
    with pytest.raises(ProjectFileError, match="not a zip"):
        load_project(path)


def test_the_bundled_sample_opens_with_two_regions_and_a_static_mask():
    p = load_project(sample_project_path())
    assert [r.name for r in p.regions] == ["Clouds", "Water"]
    assert p.static_mask.any() and all(p.mask(r.label).any() for r in p.regions)
    assert all(2 <= len(r.trajectory) <= 77 for r in p.regions)
