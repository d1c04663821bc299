"""Our trajectory files and request bodies, fed to the peers' own parsing logic (tests/peers.py)."""

from __future__ import annotations

import base64
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from conftest import make_project
from peers import (
    ati_get_tracks_inference,
    kjnodes_cut_and_drag_positions,
    kjnodes_parse_json_tracks,
    kjnodes_single_track,
    piapi_check_task,
    spline_editor_parse,
    torch_load,
)
from PIL import Image

from kling_preview.core.errors import InvalidError, SpecError
from kling_preview.core.project import STATIC
from kling_preview.core.spec import ati, kjnodes, piapi, rules
from kling_preview.core.spec.kling import ExportRefused, build_request
from kling_preview.core.spec.targets import export_target, target_request
from kling_preview.core.spec.tracks import apply_tracks, read_track_file, write_track_file
from kling_preview.core.trajectory import resample

W, H = 1280, 720
FOUR = [(100.0, 100.0), (300.0, 120.0), (500.0, 200.0), (700.0, 180.0)]
TWO = [(900.0, 600.0), (1000.0, 500.0)]


# ----- ATI ----------------------------------------------------------------------------------------


def test_atis_loader_reads_our_pth_with_positions_in_image_pixels(tmp_path):
    path = tmp_path / "tracks.pth"
    write_track_file(path, [FOUR, TWO], "ati")
    out = ati_get_tracks_inference(path.read_bytes(), H, W)
    assert out.shape == (81, 2, 4)
    assert (out[..., 3] == 1).all()  # visible throughout
    # Undo ATI's normalisation: the positions are our image pixels (no 832x480 guess involved).
    pixels = out[..., 1:3] * min(W, H) / 2 + np.array([W, H]) / 2
    np.testing.assert_allclose(pixels[0, 0], FOUR[0], atol=1e-3)
    np.testing.assert_allclose(pixels[-1, 0], FOUR[-1], atol=1e-3)
    np.testing.assert_allclose(pixels[-1, 1], TWO[-1], atol=1e-3)
    # Frame 40 of ATI's 81 is sample 60 of our 121: halfway along the path at constant speed.
    np.testing.assert_allclose(pixels[40, 0], resample(FOUR, 121)[60], atol=1e-2)


def test_pth_is_the_zip_torch_save_writes_for_bytes(tmp_path):
    data = ati.ati_file_bytes([FOUR])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == [
            "archive/data.pkl",
            "archive/.format_version",
            "archive/.storage_alignment",
            "archive/byteorder",
            "archive/version",
            "archive/.data/serialization_id",
        ]
        assert archive.testzip() is None
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED and info.flag_bits == 0x808
            start = info.header_offset + 30 + len(info.filename) + len(info.extra or b"")
            # Local extra field "FB" pads every record's data to a 64-byte boundary, as PyTorch's writer does.
            name_end = info.header_offset + 30 + len(info.filename)
            extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
            assert data[name_end : name_end + 2] == b"FB"
            assert (name_end + extra_len) % 64 == 0 and start >= name_end
        pickled = archive.read("archive/data.pkl")
    assert pickled.startswith(b"\x80\x02c_codecs\nencode\n")  # protocol 2, as torch.save's default
    assert isinstance(torch_load(data), bytes)
    assert ati.ati_file_bytes([FOUR]) == data  # same tracks, same file


def test_pth_round_trip_and_early_end(tmp_path):
    path = tmp_path / "t.pth"
    write_track_file(path, [FOUR, TWO], "ati", frames=61)
    tracks = read_track_file(path).tracks
    assert [len(t) for t in tracks] == [121, 121]
    np.testing.assert_allclose(tracks[0][:61], resample(FOUR, 61), atol=1e-3)
    assert tracks[0][61:] == [tracks[0][60]] * 60  # holds still after frame 61
    with pytest.raises(InvalidError, match="121"):
        write_track_file(tmp_path / "u.pth", [FOUR], "ati", points=81)


def _npz(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, array=array)
    return buffer.getvalue()


def test_pth_as_ati_stores_it_reads_visible_points_in_either_axis_order(tmp_path):
    array = np.zeros((121, 2, 1, 3), np.uint16)  # (121, N, 1, 3), the other order ATI accepts
    array[:, 0, 0, :2] = (80, 160)
    array[:, 0, 0, 2] = 8
    array[:10, 1, 0] = (800, 80, 8)  # track 2 visible for 10 frames only
    path = tmp_path / "native.pth"
    path.write_bytes(ati.torch_save_bytes(_npz(array)))
    tracks = read_track_file(path).tracks
    assert tracks[0] == [(10.0, 20.0)] * 121
    assert tracks[1] == [(100.0, 10.0)] * 10


class _Evil:
    def __reduce__(self):
        return (print, ("ran",))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (pickle.dumps(_Evil(), protocol=2), r"builtin__\.print"),
        (pickle.dumps([1, 2], protocol=2), "list"),
        (b"\x80\x02X\x03\x00\x00\x00abcq\x00.", "str"),
        (b"\x80\x02cbuiltins\neval\nq\x00.", "builtins.eval"),
    ],
)
def test_pth_that_is_not_npz_bytes_is_refused_without_running_anything(tmp_path, capsys, payload, message):
    path = tmp_path / "bad.pth"
    path.write_bytes(ati._stored_zip([("archive/data.pkl", payload), ("archive/version", b"3\n")]))
    with pytest.raises(SpecError, match=message):
        read_track_file(path)
    assert "ran" not in capsys.readouterr().out


def test_pth_with_the_wrong_array_is_one_clear_error(tmp_path):
    path = tmp_path / "shape.pth"
    path.write_bytes(ati.torch_save_bytes(_npz(np.zeros((3, 50, 3)))))
    with pytest.raises(SpecError, match=r"shape.pth: `array` has shape \(3, 50, 3\)"):
        read_track_file(path)
    npy = io.BytesIO()  # a header claiming 10**8 tracks, followed by a few bytes of data
    np.lib.format.write_array_header_1_0(
        npy, {"descr": "<f4", "fortran_order": False, "shape": (100_000_000, 121, 1, 3)}
    )
    npy.write(b"\0" * 64)
    lying = io.BytesIO()
    with zipfile.ZipFile(lying, "w") as npz:
        npz.writestr("array.npy", npy.getvalue())
    path.write_bytes(ati.torch_save_bytes(lying.getvalue()))
    with pytest.raises(SpecError, match="claims shape"):
        read_track_file(path)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SpecError, match="broken.pth: not an ATI track file"):
        read_track_file(broken)


# ----- KJNodes ------------------------------------------------------------------------------------


def test_kjnodes_multi_track_file_survives_parse_json_tracks_and_cut_and_drag(tmp_path):
    path = tmp_path / "coords.json"
    write_track_file(path, [FOUR, TWO], "kjnodes")  # 4 and 2 control points: the IndexError case
    text = path.read_text("utf-8")
    tracks = kjnodes_parse_json_tracks(text)
    assert [len(t) for t in tracks] == [kjnodes.DEFAULT_FRAMES] * 2
    frames = kjnodes_cut_and_drag_positions(text, 40, 20)
    assert len(frames) == 81 and all(len(f) == 2 for f in frames)
    # CutAndDragOnPath centres the cut on each point.
    assert frames[0][0] == (100 - 20, 100 - 10) and frames[-1][1] == (1000 - 20, 500 - 10)


def test_kjnodes_single_track_is_flat_for_the_one_track_nodes(tmp_path):
    path = tmp_path / "one.json"
    write_track_file(path, [FOUR], "kjnodes", points=16)
    text = path.read_text("utf-8")
    flat = kjnodes_single_track(text)
    assert len(flat) == 16 and flat[0] == FOUR[0] and flat[-1] == FOUR[-1]
    assert len(kjnodes_parse_json_tracks(text)) == 1


def test_kjnodes_points_and_frames(tmp_path):
    path = tmp_path / "held.json"
    write_track_file(path, [FOUR], "kjnodes", points=30, frames=20)
    flat = kjnodes_single_track(path.read_text("utf-8"))
    assert len(flat) == 30 and flat[19] == FOUR[-1] and flat[19:] == [FOUR[-1]] * 11
    with pytest.raises(InvalidError, match="2 to 30 frames"):
        write_track_file(path, [FOUR], "kjnodes", points=30, frames=40)
    write_track_file(path, [FOUR], "kjnodes", frames=40)  # the default 81 points, moving over the first 40
    flat = kjnodes_single_track(path.read_text("utf-8"))
    assert len(flat) == 81 and flat[39] == FOUR[-1] and flat[38] != FOUR[-1]


def test_spline_points_store_is_what_the_spline_editor_parses(tmp_path):
    path = tmp_path / "store.json"
    write_track_file(path, [FOUR, TWO], "kjnodes-spline")
    splines = spline_editor_parse(path.read_text("utf-8"))
    assert [s["name"] for s in splines] == ["Spline 1", "Spline 2"]
    assert [s["color"] for s in splines] == ["#1f77b4", "#ff7f0e"]
    assert [[(p["x"], p["y"]) for p in s["points"]] for s in splines] == [FOUR, TWO]
    assert read_track_file(path).tracks == [FOUR, TWO]


@pytest.mark.parametrize("quote", ['"', "'"])
def test_text_coordinates_single_quoted_or_not(tmp_path, quote):
    text = json.dumps([[{"x": x, "y": y} for x, y in FOUR], [{"x": x, "y": y} for x, y in TWO]])
    path = tmp_path / "coords.txt"
    path.write_text(text.replace('"', quote), "utf-8")
    assert read_track_file(path).tracks == [FOUR, TWO]
    assert kjnodes_parse_json_tracks(path.read_text("utf-8"))  # what KJNodes itself makes of it


def _store(tracks) -> str:
    return json.dumps([{"points": [{"x": x, "y": y} for x, y in t], "color": "#1f77b4", "name": "s"} for t in tracks])


def test_workflow_with_a_spline_editor_ui_and_api_format(tmp_path):
    coords = json.dumps([[{"x": x, "y": y} for x, y in FOUR], [{"x": x, "y": y} for x, y in TWO]])
    ui = {
        "nodes": [
            {"id": 3, "type": "LoadImage", "widgets_values": ["a.png", "image"]},
            {"id": 7, "type": "SplineEditor", "widgets_values": [_store([FOUR]), coords, 640, 360, 16, "time"]},
        ],
        "links": [],
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(ui), "utf-8")
    found = read_track_file(path)
    assert found.tracks == [FOUR, TWO] and found.space == (640, 360)
    assert "SplineEditor node 7" in found.notes[0]
    api = {"7": {"class_type": "SplineEditor", "inputs": {"points_store": _store([TWO]), "coordinates": ""}}}
    path.write_text(json.dumps(api), "utf-8")
    assert read_track_file(path).tracks == [TWO]  # no sampled coordinates: the control points
    path.write_text(json.dumps({"1": {"class_type": "LoadImage", "inputs": {}}}), "utf-8")
    with pytest.raises(SpecError, match="without a SplineEditor"):
        read_track_file(path)


def test_apply_tracks_scales_from_the_spline_canvas_and_caps_at_six(tmp_path):
    project = make_project(W, H)
    project.add_region()
    found = read_track_file(_write(tmp_path / "s.json", [FOUR] * 7))
    found.space = (640, 360)
    notes = apply_tracks(project, found, "s.json")
    assert len(project.regions) == 6
    assert project.regions[0].trajectory == [(x * 2, y * 2) for x, y in FOUR]
    assert any("640x360" in n for n in notes) and any("7 left out" in n or "7 to 7" in n for n in notes)


def _write(path, tracks):
    path.write_text(json.dumps([[{"x": x, "y": y} for x, y in t] for t in tracks]), "utf-8")
    return path


# ----- fal and AIMLAPI ----------------------------------------------------------------------------


def brush_project():
    project = make_project(640, 400)
    for x, y in ((120, 120), (450, 120)):
        region = project.add_region()
        project.paint(region.label, [(x, y)], 30)
        region.trajectory = [(x, y), (x + 60, y - 40), (x + 90, y - 20)]
    project.paint(STATIC, [(320, 320)], 40)
    project.kling.prompt = "waves roll in"
    return project


#: fal's documented input schema for fal-ai/kling-video/v1/standard/image-to-video (and v1/pro, v1.5/pro).
FAL_FIELDS = {"prompt", "image_url", "duration", "negative_prompt", "cfg_scale", "static_mask_url", "dynamic_masks"}


def _decode_data_uri(uri: str) -> bytes:
    head, _, data = uri.partition(",")
    assert head in ("data:image/png;base64", "data:image/jpeg;base64")
    return base64.b64decode(data, validate=True)


def check_fal_schema(body: dict) -> None:
    """fal's schema: required prompt and image_url; duration "5" or "10"; cfg_scale 0..1; dynamic_masks
    items {mask_url, trajectories [{x, y} integers]}; unknown fields (model_name, mode) are not in it."""
    assert set(body) <= FAL_FIELDS, set(body) - FAL_FIELDS
    assert isinstance(body["prompt"], str) and isinstance(body["image_url"], str)
    assert body["duration"] in ("5", "10")
    assert 0 <= body["cfg_scale"] <= 1
    for entry in body.get("dynamic_masks", []):
        assert set(entry) == {"mask_url", "trajectories"}
        assert all(set(p) == {"x", "y"} and all(isinstance(v, int) for v in p.values()) for p in entry["trajectories"])


def test_fal_body_matches_its_schema_with_klings_coordinates():
    project = brush_project()
    body, where, _files = target_request(project, "fal")
    check_fal_schema(body)
    assert where.endswith("fal-ai/kling-video/v1/standard/image-to-video")
    kling = build_request(project)
    assert [d["trajectories"] for d in body["dynamic_masks"]] == [d["trajectories"] for d in kling["dynamic_masks"]]
    assert body["dynamic_masks"][0]["trajectories"][0] == {"x": 120, "y": 400 - 120}  # bottom-left origin
    mask = np.asarray(Image.open(io.BytesIO(_decode_data_uri(body["dynamic_masks"][0]["mask_url"]))))
    assert np.array_equal(mask > 0, project.mask(project.regions[0].label) > 0)
    assert _decode_data_uri(body["image_url"]) == base64.b64decode(kling["image"])


def test_aimlapi_body_names_the_model_and_an_integer_duration(tmp_path):
    project = brush_project()
    project.kling.model_name, project.kling.mode = "kling-v1-5", "pro"
    body, where, _files = target_request(project, "aimlapi")
    assert body["model"] == "kling-video/v1.5/pro/image-to-video" and where.startswith("https://api.aimlapi.com/")
    assert body["duration"] == 5 and isinstance(body["duration"], int)
    check_fal_schema({**{k: v for k, v in body.items() if k != "model"}, "duration": str(body["duration"])})
    export_target(project, tmp_path / "out", "aimlapi")
    assert json.loads((tmp_path / "out" / "request.json").read_text("utf-8")) == body
    assert (tmp_path / "out" / "endpoint.txt").read_text().startswith("POST https://api.aimlapi.com/")


def test_target_without_an_endpoint_for_the_model_is_refused():
    project = brush_project()
    project.kling.model_name = "kling-v9"
    with pytest.raises(InvalidError, match="fal has no motion-brush endpoint for kling-v9 std"):
        target_request(project, "fal")


# ----- models -------------------------------------------------------------------------------------


def test_allow_model_turns_an_unknown_model_into_a_warning_but_not_a_known_one():
    project = brush_project()
    project.kling.model_name = "kling-v9-turbo"
    assert [p.severity for p in rules.validate_project(project) if p.rule == "brush-model"] == ["error"]
    assert [p.severity for p in rules.validate_project(project, allow_model=True) if p.rule == "brush-model"] == [
        "warning"
    ]
    project.kling.model_name = "kling-v2-master"  # documented, and without the motion brush
    assert [p.severity for p in rules.validate_project(project, allow_model=True) if p.rule == "brush-model"] == [
        "error"
    ]
    body = build_request(project)
    body["model_name"] = "kling-v9-turbo"
    found = rules.validate_request(body, "r", allow_model=True)
    assert [p.severity for p in found if p.rule == "brush-model"] == ["warning"]


# ----- PiAPI --------------------------------------------------------------------------------------


def _decode_rgba(uri: str) -> np.ndarray:
    with Image.open(io.BytesIO(_decode_data_uri(uri))) as im:
        assert im.mode == "RGBA"
        return np.asarray(im).copy()


def decode_composite(rgba: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The static area and dynamic areas 1..6 of a composite, read by exact colour of opaque pixels;
    any other opaque colour, or a pixel neither opaque nor clear, fails."""
    opaque = rgba[..., 3] == 255
    assert np.all(opaque | (rgba[..., 3] == 0))

    def area(colour):
        return opaque & np.all(rgba[..., :3] == colour, axis=-1)

    static = area(piapi.STATIC_COLOUR)
    dynamic = [area(colour) for colour in piapi.DYNAMIC_COLOURS]
    assert np.array_equal(static | np.logical_or.reduce(dynamic), opaque), "an opaque pixel of no known colour"
    return static, dynamic


def six_region_project():
    project = make_project(480, 320, seed=3)
    for n in range(6):
        region = project.add_region()
        x, y = 50 + 75 * n, 100 + 20 * (n % 2)
        project.paint(region.label, [(x, y), (x + 30, y + 40)], 28)  # neighbours touch: no gap between colours
        region.trajectory = [(x + 0.4, y - 0.6), (x + 20.6, y + 60.49), (x + 10, y + 150)]
    project.paint(STATIC, [(60, 280), (420, 280)], 25)
    return project


def test_piapi_task_has_the_shape_piapis_own_tool_sends(tmp_path):
    project = brush_project()
    body, where, files = target_request(project, "piapi")
    piapi_check_task(body)
    assert where == "https://api.piapi.ai/api/v1/task"
    task = body["input"]
    assert task["version"] == "1.0" and task["mode"] == "std" and task["duration"] == 5
    assert task["prompt"] == "waves roll in"
    kling = build_request(project)
    assert _decode_data_uri(task["image_url"]) == base64.b64decode(kling["image"])
    assert len(task["motion_brush"]["dynamic_masks"]) == 2
    assert set(files) == {"image.png", "motion_brush_mask.png"}  # one composite, not Kling's per-area masks
    assert _decode_data_uri(task["motion_brush"]["mask_url"]) == files["motion_brush_mask.png"]


def test_piapi_colour_table_starts_with_piapis_green_and_keeps_every_area_apart():
    assert piapi.DYNAMIC_COLOURS[0] == (114, 229, 40)  # the colour PiAPI's tool paints its dynamic area in
    assert len(piapi.DYNAMIC_COLOURS) == 6
    assert len({*piapi.DYNAMIC_COLOURS, piapi.STATIC_COLOUR}) == 7


def test_piapi_composite_mask_decodes_back_to_the_regions_exactly():
    project = six_region_project()
    body, _where, _files = target_request(project, "piapi")
    static, dynamic = decode_composite(_decode_rgba(body["input"]["motion_brush"]["mask_url"]))
    assert np.array_equal(static, project.static_mask) and static.any()
    for region, area in zip(project.regions, dynamic):
        assert np.array_equal(area, project.mask(region.label)) and area.any()
    nobody = ~(project.labels > 0)
    assert not np.any(_decode_rgba(body["input"]["motion_brush"]["mask_url"])[nobody][:, 3])


def test_piapi_points_are_top_left_image_pixels_on_their_own_area():
    project = six_region_project()
    body, _where, _files = target_request(project, "piapi")
    brush = body["input"]["motion_brush"]
    static, dynamic = decode_composite(_decode_rgba(brush["mask_url"]))
    kling = build_request(project)
    for n, (entry, region) in enumerate(zip(brush["dynamic_masks"], project.regions)):
        x, y = region.trajectory[0]
        assert entry["points"][0] == {"x": round(x), "y": round(y)}
        first = entry["points"][0]
        assert dynamic[n][first["y"], first["x"]]  # row = y from the top: the point lies on its own colour
        assert entry["points"] == [{"x": p["x"], "y": 320 - p["y"]} for p in kling["dynamic_masks"][n]["trajectories"]]
    assert brush["dynamic_masks"][1]["points"][1] == {"x": 146, "y": 180}  # (145.6, 180.49), rounded as for Kling


def test_piapi_versions_and_models_it_has_none_for(tmp_path):
    project = brush_project()
    project.kling.model_name, project.kling.mode = "kling-v1-5", "pro"
    body, _where, _files = target_request(project, "piapi")
    assert body["input"]["version"] == "1.5" and body["input"]["mode"] == "pro"
    plain = make_project(400, 400)
    plain.kling.model_name = "kling-v1-6"  # no masks: a plain image-to-video task, no motion_brush
    body, _where, files = target_request(plain, "piapi")
    piapi_check_task(body)
    assert body["input"]["version"] == "1.6" and "motion_brush" not in body["input"] and list(files) == ["image.png"]
    project.kling.model_name = "kling-v9"
    with pytest.raises(InvalidError, match="piapi has no Kling version for kling-v9"):
        export_target(project, tmp_path / "v9", "piapi", allow_model=True)
    project.kling.model_name = "kling-v2-master"  # known to Kling, without the motion brush
    with pytest.raises(ExportRefused, match="motion brush works only with"):
        export_target(project, tmp_path / "v2", "piapi", allow_model=True)
    assert not (tmp_path / "v9").exists() and not (tmp_path / "v2").exists()


def test_piapi_export_folder_says_where_to_upload_and_replaces_per_area_masks(tmp_path):
    project = brush_project()
    out = tmp_path / "out"
    export_target(project, out, "fal")
    assert (out / "dynamic_mask_2.png").exists() and (out / "static_mask.png").exists()
    export_target(project, out, "piapi")
    assert sorted(p.name for p in out.iterdir()) == [
        ".kling-export.json",  # the manifest of what the export wrote
        "endpoint.txt",
        "image.png",
        "motion_brush_mask.png",
        "overlay.png",
        "request.json",
        "trajectories.json",
    ]
    body = json.loads((out / "request.json").read_text("utf-8"))
    piapi_check_task(body)
    endpoint = (out / "endpoint.txt").read_text()
    assert endpoint.startswith("POST https://api.piapi.ai/api/v1/task\n")
    assert "x-api-key" in endpoint and "public URLs" in endpoint and "motion_brush_mask.png" in endpoint
    tracks = json.loads((out / "trajectories.json").read_text("utf-8"))
    assert tracks == [entry["points"] for entry in body["input"]["motion_brush"]["dynamic_masks"]]
    assert tracks[0][0] == {"x": 120, "y": 120}
    export_target(project, out, "fal")
    assert not (out / "motion_brush_mask.png").exists()
