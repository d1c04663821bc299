"""Hostile inputs refused from headers and sizes: zip bombs and odd zip structures, huge or special
files, requests with thousands of masks, absurd clip settings. Each ends in one line, never a traceback.

The files are small and crafted (sparse files stand in for huge ones), so the suite stays fast.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project

from kling_preview.cli import main
from kling_preview.core import limits
from kling_preview.core.errors import InvalidError, ProjectFileError, SpecError, UnreadableError
from kling_preview.core.images import encode_png
from kling_preview.core.inputs import load_input
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.core.spec.ati import write_ati_pth
from kling_preview.core.spec.rules import MAX_REPEATS, validate_request
from kling_preview.core.spec.tracks import read_tracks
from kling_preview.core.video import render_to_file


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _small_project():
    project = make_project(320, 200, seed=1)
    region = project.add_region()
    project.paint(region.label, [(100, 100)], 30)
    region.trajectory = [(100.0, 100.0), (200.0, 120.0)]
    return project


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rezip(path: Path, members: dict[str, bytes], methods: dict[str, int] | None = None) -> Path:
    methods = methods or {}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, methods.get(name, zipfile.ZIP_STORED))
    return path


def _patch_headers(
    data: bytes,
    name: bytes,
    *,
    flags: int = 0,
    method: int | None = None,
    size: int | None = None,
    new_name: bytes | None = None,
) -> bytes:
    """Edit a member's local and central headers in place: flag bits, method, claimed size, name bytes."""
    out = bytearray(data)
    for signature, flag_at, method_at, size_at, name_at in (
        (b"PK\x03\x04", 6, 8, 22, 30),
        (b"PK\x01\x02", 8, 10, 24, 46),
    ):
        start = 0
        while (i := out.find(signature, start)) >= 0:
            start = i + 4
            if out[i + name_at : i + name_at + len(name)] != name:
                continue
            struct.pack_into("<H", out, i + flag_at, struct.unpack_from("<H", out, i + flag_at)[0] | flags)
            if method is not None:
                struct.pack_into("<H", out, i + method_at, method)
            if size is not None:
                struct.pack_into("<I", out, i + size_at, size)
            if new_name is not None:
                out[i + name_at : i + name_at + len(name)] = new_name
    return bytes(out)


@pytest.fixture
def klproj(tmp_path) -> Path:
    path = tmp_path / "good.klproj"
    save_project(_small_project(), path)
    return path


# ----- 7: a member that inflates beyond what its header claims -----------------------------------------
def test_a_bzip2_bomb_is_refused_by_its_method_without_inflating(tmp_path, klproj):
    members = _members(klproj)
    members["image.png"] = b"\0" * 5_000_000  # a few hundred bytes as bzip2
    bomb = _rezip(tmp_path / "bomb.klproj", members, {"image.png": zipfile.ZIP_BZIP2})
    bomb.write_bytes(_patch_headers(bomb.read_bytes(), b"image.png", size=1000))
    assert bomb.stat().st_size < 20_000
    with pytest.raises(ProjectFileError, match="compression method 12") as info:
        load_project(bomb)
    assert str(bomb) in str(info.value)


def test_an_ati_track_file_with_a_bzip2_record_is_refused_by_its_method(tmp_path):
    """ATI .pth files are zips too: their data.pkl goes through the same bounded member reader."""
    good = tmp_path / "good.pth"
    write_ati_pth(good, [[(10.0, 10.0), (40.0, 30.0)]])
    members = _members(good)
    record = next(name for name in members if name.endswith("data.pkl"))
    members[record] = members[record] + b"\0" * 5_000_000
    bomb = _rezip(tmp_path / "bomb.pth", members, {record: zipfile.ZIP_BZIP2})
    bomb.write_bytes(_patch_headers(bomb.read_bytes(), record.encode(), size=1000))
    with pytest.raises(SpecError, match="compression method 12") as info:
        read_tracks(bomb)
    assert str(bomb) in str(info.value)


def test_a_deflate_member_longer_than_claimed_is_never_inflated_whole(tmp_path, klproj):
    members = _members(klproj)
    members["image.png"] = b"\0" * 40_000_000
    lying = _rezip(tmp_path / "lying.klproj", members, {"image.png": zipfile.ZIP_DEFLATED})
    lying.write_bytes(_patch_headers(lying.read_bytes(), b"image.png", size=1000))
    tracemalloc.start()
    try:
        with pytest.raises(ProjectFileError, match="image.png"):
            load_project(lying)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 15_000_000  # the 40 MB behind the 1000-byte claim were never held


# ----- 8: zip structures ------------------------------------------------------------------------------
def test_a_zip_listing_thousands_of_members_is_refused_from_its_directory(tmp_path, klproj):
    members = _members(klproj)
    listed = len(members) + 5000
    members.update({f"junk/{i}": b"" for i in range(5000)})
    crowded = _rezip(tmp_path / "crowded.klproj", members)
    with pytest.raises(ProjectFileError, match=f"{listed} members"):
        load_project(crowded)


def _encrypted(tmp_path: Path, klproj: Path) -> Path:
    path = tmp_path / "encrypted.klproj"
    path.write_bytes(_patch_headers(klproj.read_bytes(), b"project.json", flags=0x1))
    return path


def _deflate64(tmp_path: Path, klproj: Path) -> Path:
    path = tmp_path / "deflate64.klproj"
    path.write_bytes(_patch_headers(klproj.read_bytes(), b"project.json", method=9))
    return path


def _lzma(tmp_path: Path, klproj: Path) -> Path:
    return _rezip(tmp_path / "lzma.klproj", _members(klproj), {"project.json": zipfile.ZIP_LZMA})


def _bad_utf8_name(tmp_path: Path, klproj: Path) -> Path:
    path = tmp_path / "badname.klproj"
    data = _patch_headers(klproj.read_bytes(), b"masks/static.png", flags=0x800, new_name=b"masks/st\xfftic.png")
    path.write_bytes(data)
    return path


def _truncated(tmp_path: Path, klproj: Path) -> Path:
    path = tmp_path / "truncated.klproj"
    path.write_bytes(klproj.read_bytes()[: klproj.stat().st_size // 2])
    return path


def _garbage(tmp_path: Path, klproj: Path) -> Path:
    path = tmp_path / "garbage.klproj"
    path.write_bytes(b"PK\x05\x06" + bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)))
    return path


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (_encrypted, "encrypted"),
        (_deflate64, "compression method 9"),
        (_lzma, "compression method 14"),
        (_bad_utf8_name, "UTF-8"),
        (_truncated, "zip"),
        (_garbage, "zip"),
    ],
    ids=["encrypted", "deflate64", "lzma", "bad-utf8-name", "truncated", "garbage"],
)
def test_odd_zip_structures_exit_2_with_one_line(capsys, tmp_path, klproj, build, words):
    path = build(tmp_path, klproj)
    with pytest.raises(ProjectFileError, match=words):  # what the app shows
        load_project(path)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


# ----- 9: special and huge files ----------------------------------------------------------------------
def _sparse(path: Path, size: int = 6 * 2**30) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


@pytest.mark.parametrize("name", ["huge.png", "huge.klproj", "request.json"])
def test_a_huge_input_is_refused_from_its_size(capsys, tmp_path, name):
    path = _sparse(tmp_path / name)
    with pytest.raises(UnreadableError, match="limit"):
        load_input(path)
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and err.count("\n") == 1 and str(path) in err and "MB" in err


def test_a_huge_request_in_an_export_folder_is_refused(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    _sparse(folder / "request.json")
    with pytest.raises(UnreadableError, match="limit"):
        load_input(folder)


def test_a_huge_image_behind_a_url_field_is_not_read(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    _sparse(folder / "image.png")
    problems = validate_request({"image": "https://example.com/a.png"}, "request.json", base_dir=folder)
    url = [p for p in problems if p.rule == "url"]
    assert url and "limit" in url[0].message


def test_a_huge_track_file_is_refused(tmp_path):
    with pytest.raises(UnreadableError, match="limit"):
        read_tracks(_sparse(tmp_path / "tracks.json", limits.MAX_TRACK_FILE_BYTES + 1))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("name", ["pipe.png", "pipe.klproj", "pipe.json"])
def test_a_fifo_is_refused_without_waiting(capsys, tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    with pytest.raises(UnreadableError, match="not a regular file"):
        load_input(path)
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and err.count("\n") == 1 and str(path) in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_track_file_is_refused(tmp_path):
    path = tmp_path / "tracks.json"
    os.mkfifo(path)
    with pytest.raises(UnreadableError, match="not a regular file"):
        read_tracks(path)


# ----- 10: thousands of masks -------------------------------------------------------------------------
def _mask_b64(size: tuple[int, int]) -> str:
    return base64.b64encode(encode_png(np.full((size[1], size[0]), 255, np.uint8))).decode()


def _request(masks: int, static: bool = False) -> dict:
    size = (320, 320)
    body: dict = {"image": base64.b64encode(encode_png(make_project(*size).image.pixels)).decode()}
    mask = _mask_b64(size)
    if static:
        body["static_mask"] = mask
    body["dynamic_masks"] = [{"mask": mask, "trajectories": [{"x": 10, "y": 10}, {"x": 20, "y": 20}]}] * masks
    return body


def test_thousands_of_masks_are_counted_before_decoding(capsys, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(_request(3000)))
    problems = validate_request(json.loads(path.read_text()), str(path))
    assert [p.rule for p in problems if p.rule.startswith("mask")] == ["masks-count"]
    assert len(problems) < 10
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 1 and "3000" in err and err.count("\n") < 10
    code, _, err = run_cli(capsys, "import", str(path), "-o", str(tmp_path / "out.klproj"))
    assert code == 1 and "3000" in err and err.count("\n") < 10


def test_repeated_problems_are_capped():
    problems = validate_request(_request(6, static=True), "request.json")
    overlaps = [p for p in problems if p.rule == "mask-overlap"]
    # 21 overlapping pairs: the first MAX_REPEATS, then one line that counts the rest.
    assert len(overlaps) == MAX_REPEATS + 1
    assert overlaps[-1].message.startswith(f"... and {21 - MAX_REPEATS} more")


# ----- 11: clip settings ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--seconds", "1e308", "up to 60"), ("--fps", "1e38", "1 to 120"), ("--width", "16384", "8192")],
)
def test_absurd_render_options_are_refused_with_a_reason(capsys, tmp_path, klproj, option, value, words):
    out = tmp_path / "x.gif"
    code, _, err = run_cli(capsys, "render", str(klproj), "-o", str(out), option, value)
    assert code == 2 and words in err and "Traceback" not in err
    assert not out.exists()


def _with_clip(tmp_path: Path, klproj: Path, **clip) -> Path:
    members = _members(klproj)
    doc = json.loads(members["project.json"])
    doc["clip"].update(clip)
    members["project.json"] = json.dumps(doc).encode()
    return _rezip(tmp_path / "clip.klproj", members)


@pytest.mark.parametrize(("key", "value"), [("fps", 1e9), ("seconds", 1e9), ("loop_seconds", 1e9), ("fps", 0)])
def test_a_project_with_an_absurd_clip_is_refused(capsys, tmp_path, klproj, key, value):
    path = _with_clip(tmp_path, klproj, **{key: value})
    with pytest.raises(InvalidError, match=key):
        load_project(path)
    code, _, err = run_cli(capsys, "render", str(path), "-o", str(tmp_path / "x.gif"))
    assert code == 1 and err.count("\n") == 1 and str(path) in err


def test_a_render_too_tall_for_the_bounds_is_refused_before_rendering(tmp_path):
    project = make_project(40, 400)  # 8192 wide keeps the aspect: 81920 tall
    with pytest.raises(InvalidError, match="height"):
        render_to_file(project, tmp_path / "x.gif", width=8192)
    assert list(tmp_path.iterdir()) == []


def test_the_frame_memory_estimate_is_checked_before_rendering(tmp_path):
    project = make_project(400, 400)  # 8192 x 8192 frames
    with pytest.raises(InvalidError, match="GB"):
        render_to_file(project, tmp_path / "x.gif", width=8192)
    assert list(tmp_path.iterdir()) == []


def test_the_bounds_accept_what_the_app_offers():
    assert limits.fps_problem(24) is None and limits.seconds_problem(10.0) is None
    assert limits.side_problem(4096) is None
    limits.check_frame_size(3840, 2160)
    with pytest.raises(InvalidError, match="fps"):
        limits.check_clip(5.0, 121)
    assert "1e" in (limits.seconds_problem(1e308) or "")
