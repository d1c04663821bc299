"""Property tests on every importer: whatever the input, a valid project (or tracks) or one of the
project's own errors, never anything else.

Inputs start from a valid document and are damaged step by step (fields replaced by arbitrary JSON,
huge numbers, NaN, wrong types, members dropped, truncated or swapped), so most examples get deep into
the readers instead of stopping at the first check.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from kling_preview.core.errors import KlingPreviewError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MAX_REGIONS, Project
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.core.spec.kling import build_request, dumps_request, import_request, load_spec
from kling_preview.core.spec.rules import REQUEST_FIELDS, validate_project, validate_request
from kling_preview.core.spec.tracks import read_tracks

W, H = 64, 48
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----- a valid starting point --------------------------------------------------------------------------
def _base_project() -> Project:
    p = make_project(W, H, seed=13)
    a = p.add_region("A")
    p.paint(a.label, [(12, 12)], 6)
    a.trajectory = [(12.0, 12.0), (30.0, 20.0), (40.0, 10.0)]
    b = p.add_region("B")
    p.paint(b.label, [(45, 35)], 5)
    b.trajectory = [(45.0, 35.0), (50.0, 40.0)]
    p.paint(STATIC, [(5, 42)], 4)
    p.kling.prompt = "wind"
    return p


BASE = _base_project()
BASE_REQUEST = build_request(BASE)
with tempfile.TemporaryDirectory() as _folder:
    save_project(BASE, Path(_folder) / "base.klproj")
    with zipfile.ZipFile(Path(_folder) / "base.klproj") as _zf:
        BASE_MEMBERS = {n: _zf.read(n) for n in _zf.namelist()}
BASE_DOC = json.loads(BASE_MEMBERS["project.json"])


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


MASK_OTHER_SIZE = _png(np.full((H // 2, W // 2), 255, np.uint8))
MASK_RGBA = _png(np.dstack([np.full((H, W, 3), 255, np.uint8), np.full((H, W), 100, np.uint8)]))
MASK_FULL = _png(np.full((H, W), 255, np.uint8))
IMAGE_TINY = _png(np.zeros((2, 2, 3), np.uint8))
TEXT = b"not an image at all"
ONE_BIT_BOMB = _png(np.zeros((1, 1), np.uint8))[:16] + b"\x00\x00\x75\x30\x00\x00\x75\x30"  # header of 30000^2

# ----- arbitrary JSON ----------------------------------------------------------------------------------
numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, 1, -1, 2, 77, 78, 255, 256, 10**9, 10**18, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, -0.0, 1e-300, 1e308, 1e300 * 10]),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=10,
)
blobs = st.sampled_from(
    [
        _b64(MASK_OTHER_SIZE),
        _b64(MASK_RGBA),
        _b64(MASK_FULL),
        _b64(IMAGE_TINY),
        _b64(TEXT),
        _b64(ONE_BIT_BOMB),
        "data:image/png;base64," + _b64(MASK_FULL),
        "data:",
        "!!!",
        "",
        "https://example.invalid/image.png",
        BASE_REQUEST["image"][: len(BASE_REQUEST["image"]) // 2],
    ]
)
points = st.one_of(
    st.fixed_dictionaries({"x": numbers, "y": numbers}),
    st.fixed_dictionaries({"x": st.integers(-5, W + 5), "y": st.integers(-5, H + 5)}),
    json_values,
)
trajectories = st.one_of(st.lists(points, max_size=80), json_values)


@st.composite
def regions(draw) -> object:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return copy.deepcopy(draw(st.sampled_from(BASE_REQUEST["dynamic_masks"])))
    if kind == 1:
        return {"mask": draw(st.one_of(blobs, json_values)), "trajectories": draw(trajectories)}
    if kind == 2:
        entry = copy.deepcopy(BASE_REQUEST["dynamic_masks"][0])
        entry["trajectories"] = draw(trajectories)
        return entry
    return draw(json_values)


@st.composite
def request_bodies(draw) -> dict:
    body = copy.deepcopy(BASE_REQUEST)
    keys = st.sampled_from([*REQUEST_FIELDS, "image_tail", "callback_url", "external_task_id", "x"])
    for _ in range(draw(st.integers(0, 4))):
        key = draw(keys)
        action = draw(st.integers(0, 3))
        if action == 0:
            body.pop(key, None)
        elif action == 1:
            body[key] = draw(json_values)
        elif action == 2:
            body[key] = draw(blobs)
        else:
            body["dynamic_masks"] = draw(st.lists(regions(), max_size=8))
    return body


# ----- what a valid result is --------------------------------------------------------------------------
def outcome(exc: BaseException | None) -> None:
    """Labels for `pytest --hypothesis-show-statistics`: how far the examples get."""
    event("accepted" if exc is None else f"refused: {type(exc).__name__}")


def assert_valid_project(project: Project) -> None:
    assert isinstance(project, Project)
    h, w = project.image.pixels.shape[:2]
    assert project.image.pixels.dtype == np.uint8 and project.image.pixels.shape == (h, w, 3)
    assert project.labels.shape == (h, w) and project.labels.dtype == np.uint8
    assert len(project.regions) <= MAX_REGIONS
    labels = [r.label for r in project.regions]
    assert len(set(labels)) == len(labels) and all(1 <= lab < STATIC for lab in labels)
    assert set(np.unique(project.labels).tolist()) <= {0, STATIC, *labels}
    for r in project.regions:
        for point in r.trajectory:
            assert len(point) == 2 and all(isinstance(c, float) for c in point)


def assert_usable(project: Project) -> None:
    """What the app does next with an imported project (check, export) must not crash either."""
    problems = validate_project(project)
    assert all(p.severity in ("error", "warning") for p in problems)
    with contextlib.suppress(KlingPreviewError):
        dumps_request(build_request(project))


# ----- request.json --------------------------------------------------------------------------------------
@FUZZ
@given(request_bodies())
def test_import_request_gives_a_project_or_our_error(body):
    problems = validate_request(body, "request.json")
    assert all(isinstance(p.message, str) and p.message for p in problems)
    try:
        project, warnings = import_request(body, base_dir=None, label="request.json")
    except KlingPreviewError as exc:
        outcome(exc)
        assert str(exc)
        return
    outcome(None)
    assert_valid_project(project)
    assert all(isinstance(w, str) for w in warnings)
    assert_usable(project)


@settings(max_examples=20, deadline=None)
@given(request_bodies())
@example(dict(BASE_REQUEST, model_name="\n"))
def test_every_problem_is_one_line(body):
    assert all("\n" not in p.message for p in validate_request(body, "request.json"))


@FUZZ
@given(json_values)
def test_import_request_of_any_json_value(value):
    try:
        project, _ = import_request(value, base_dir=None, label="request.json")  # type: ignore[arg-type]
    except KlingPreviewError:
        return
    assert_valid_project(project)


@settings(max_examples=30, deadline=None)
@given(request_bodies())
@example(dict(BASE_REQUEST, cfg_scale=math.inf))
@example(dict(BASE_REQUEST, cfg_scale=1e10))
def test_an_imported_project_survives_save_and_reopen(body):
    try:
        project, _ = import_request(body, base_dir=None, label="request.json")
    except KlingPreviewError:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imported.klproj"
        save_project(project, path)
        again = load_project(path)
    assert np.array_equal(again.labels, project.labels)
    assert [r.trajectory for r in again.regions] == [r.trajectory for r in project.regions]


# ----- export folders -------------------------------------------------------------------------------------
FOLDER_FILES = ("image.png", "static_mask.png", "dynamic_mask_1.png", "dynamic_mask_2.png")
file_contents = st.sampled_from(
    [None, "dir", MASK_FULL, MASK_OTHER_SIZE, MASK_RGBA, IMAGE_TINY, TEXT, b"", ONE_BIT_BOMB, BASE_MEMBERS["image.png"]]
)


@FUZZ
@given(
    request_bodies(),
    st.fixed_dictionaries({name: file_contents for name in FOLDER_FILES}),
    st.sets(st.sampled_from(["image", "static_mask", "mask1", "mask2"])),
    st.one_of(st.none(), st.binary(max_size=40)),
)
def test_export_folders_give_a_project_or_our_error(body, files, as_urls, raw_request):
    """Fields given as URLs are read from the folder's files, which may be missing, empty or broken."""
    url = "https://example.invalid/file.png"
    if "image" in as_urls:
        body["image"] = url
    if "static_mask" in as_urls and "static_mask" in body:
        body["static_mask"] = url
    masks = body.get("dynamic_masks")
    if isinstance(masks, list):
        for i, key in enumerate(("mask1", "mask2")):
            if key in as_urls and i < len(masks) and isinstance(masks[i], dict):
                masks[i]["mask"] = url
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name) / "bundle"
        folder.mkdir()
        for name, data in files.items():
            if data == "dir":
                (folder / name).mkdir()
            elif data is not None:
                (folder / name).write_bytes(data)
        if raw_request is None:
            (folder / "request.json").write_text(json.dumps(body, allow_nan=True), encoding="utf-8")
        else:
            (folder / "request.json").write_bytes(raw_request)
        try:
            project, warnings = load_spec(folder)
        except KlingPreviewError as exc:
            outcome(exc)
            assert str(exc)
            return
    outcome(None)
    assert_valid_project(project)
    assert all(isinstance(w, str) for w in warnings)


# ----- .klproj ---------------------------------------------------------------------------------------------
@st.composite
def damaged_docs(draw) -> dict:
    """project.json with a few values anywhere in the tree replaced, removed or retyped."""
    doc = copy.deepcopy(BASE_DOC)
    for _ in range(draw(st.integers(0, 3))):
        node = doc
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.integers(0, 2))
            if action == 0 and isinstance(node, dict):
                del node[key]
            elif action == 1 and isinstance(node, dict):
                node[draw(st.text(max_size=6))] = draw(json_values)
            else:
                node[key] = draw(json_values)
            break
    return doc


member_damage = st.dictionaries(
    st.sampled_from(sorted(n for n in BASE_MEMBERS if n != "project.json")),
    st.sampled_from(["drop", "truncate", "garbage", "other-size", "empty", "rgba", "tiny"]),
    max_size=2,
)


@FUZZ
@given(
    st.one_of(damaged_docs(), damaged_docs(), json_values),
    member_damage,
    st.booleans(),
)
def test_project_files_give_a_project_or_our_error(doc, damage, extra_member):
    members = dict(BASE_MEMBERS)
    members["project.json"] = json.dumps(doc, allow_nan=True).encode()
    for name, how in damage.items():
        data = members[name]
        if how == "drop":
            del members[name]
        elif how == "truncate":
            members[name] = data[: len(data) // 3]
        elif how == "garbage":
            members[name] = TEXT
        elif how == "other-size":
            members[name] = MASK_OTHER_SIZE
        elif how == "empty":
            members[name] = b""
        elif how == "rgba":
            members[name] = MASK_RGBA
        elif how == "tiny":
            members[name] = IMAGE_TINY
    if extra_member:
        members["masks/region-9.png"] = MASK_FULL
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.klproj"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        try:
            project = load_project(path)
        except KlingPreviewError as exc:
            outcome(exc)
            assert "fuzz.klproj" in str(exc)
            return
    outcome(None)
    assert_valid_project(project)
    assert_usable(project)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_project_file(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.klproj"
        path.write_bytes(data)
        try:
            load_project(path)
        except KlingPreviewError:
            return
    pytest.fail("random bytes opened as a project")


# ----- KJNodes and ATI tracks ----------------------------------------------------------------------------
track_points = st.one_of(
    st.fixed_dictionaries({"x": st.floats(-1e4, 1e4), "y": st.floats(-1e4, 1e4)}),
    st.fixed_dictionaries({"x": st.integers(-(10**6), 10**6), "y": st.integers(-(10**6), 10**6)}),
    st.fixed_dictionaries({"x": st.integers(0, 99), "y": st.integers(0, 99)}, optional={"z": json_values}),
)


@st.composite
def tracks_of_points(draw) -> list:
    """Mostly good points, sometimes one bad one somewhere."""
    track = draw(st.lists(track_points, max_size=10))
    if draw(st.integers(0, 3)) == 0:
        track.insert(draw(st.integers(0, len(track))), draw(points))
    return track


@st.composite
def track_documents(draw) -> bytes:
    shape = draw(st.integers(0, 5))
    track = tracks_of_points()
    if shape == 0:
        value: object = draw(json_values)
    elif shape == 1:
        value = draw(track)  # one KJNodes spline
    elif shape == 2:
        value = draw(st.lists(track, max_size=4))  # ATI: several tracks
    elif shape == 3:
        value = {"coordinates": draw(st.one_of(track, st.lists(track, max_size=3)))}
    elif shape == 4:
        inner = json.dumps(draw(st.one_of(track, st.lists(track, max_size=3))), allow_nan=True)
        value = inner.replace('"', "'") if draw(st.booleans()) else inner  # KJNodes: JSON inside a string
    else:
        value = [json.dumps(draw(track), allow_nan=True) for _ in range(draw(st.integers(0, 3)))]
    text = json.dumps(value, allow_nan=True)
    if draw(st.integers(0, 3)):
        return text.encode()
    cut = draw(st.integers(0, len(text)))
    return text[:cut].encode() + draw(st.binary(max_size=4))


@FUZZ
@given(track_documents())
@example(b'[{"x": 1e400, "y": 0}]')
@example(b'"[[{\'x\': 1, \'y\': 2}]]"')
def test_track_files_give_tracks_or_our_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tracks.json"
        path.write_bytes(data)
        try:
            tracks = read_tracks(path)
        except KlingPreviewError as exc:
            outcome(exc)
            assert "tracks.json" in str(exc)
            return
    outcome(None)
    assert isinstance(tracks, list)
    for track in tracks:
        assert isinstance(track, list) and track
        for point in track:
            assert len(point) == 2 and all(isinstance(c, float) and math.isfinite(c) for c in point)
