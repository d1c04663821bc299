"""Kling request: build, export bundle (clean, atomic), import, and the byte-identical round trip."""

from __future__ import annotations

import base64
import errno
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project, textured_pixels
from PIL import ExifTags, Image

from kling_preview.core.errors import InvalidError, OutputError, SpecError
from kling_preview.core.images import decode_image, encode_jpeg, encode_png, strip_jpeg_metadata
from kling_preview.core.project import STATIC, CameraMove, Project
from kling_preview.core.spec import kling, rules
from kling_preview.core.spec.kling import (
    ExportRefused,
    build_request,
    dumps_request,
    export_bundle,
    export_image_bytes,
    import_request,
    load_spec,
)

W, H = 640, 400


def jpeg_with_gps(pixels: np.ndarray, orientation: int = 1) -> bytes:
    """A JPEG carrying a camera name and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def jpeg_project(orientation: int = 1) -> Project:
    return Project(decode_image(jpeg_with_gps(textured_pixels(W, H, 3), orientation), "x.jpg"))


def decorate(project: Project, regions: int = 2, static: bool = True) -> Project:
    """Painted regions with trajectories, a static mask and a prompt: an export Kling accepts."""
    spots = [(120, 120), (450, 110), (130, 300)]
    h = project.image.height
    for i in range(regions):
        x, y = spots[i]
        region = project.add_region()
        project.paint(region.label, [(x, y), (x + 20, y + 5)], 28)
        region.trajectory = [(x, y), (x + 70.4, y - 30.6), (x + 110, min(y + 40, h))]
    if static:
        project.paint(STATIC, [(330, 320)], 35)
    project.kling.prompt = "wind in the trees, 微风"
    project.kling.negative_prompt = "blur"
    project.kling.cfg_scale = 0.7
    return project


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def open_image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ----- build_request ------------------------------------------------------------------------------


def test_request_has_every_field_and_bare_base64_image_of_the_projects_pixels():
    project = decorate(make_project(W, H))
    body = build_request(project)
    assert list(body) == [
        "model_name",
        "mode",
        "duration",
        "prompt",
        "negative_prompt",
        "cfg_scale",
        "image",
        "static_mask",
        "dynamic_masks",
    ]
    assert (body["model_name"], body["mode"], body["duration"], body["cfg_scale"]) == ("kling-v1", "std", "5", 0.7)
    assert body["prompt"] == project.kling.prompt
    assert not body["image"].startswith("data:")
    exported = decode_image(unb64(body["image"]), "request-image")
    assert exported.format == "PNG"
    assert np.array_equal(exported.pixels, project.image.pixels)


def test_static_mask_masks_and_camera_only_when_present():
    project = make_project(W, H)
    body = build_request(project)
    assert "static_mask" not in body and "dynamic_masks" not in body and "camera_control" not in body
    project.camera = CameraMove("zoom", 0)
    assert "camera_control" not in build_request(project)
    project.camera = CameraMove("zoom", 5.0)
    assert build_request(project)["camera_control"] == {"type": "simple", "config": {"zoom": 5}}
    project.camera = CameraMove("roll", -2.5)
    assert build_request(project)["camera_control"] == {"type": "simple", "config": {"roll": -2.5}}


def test_masks_are_8_bit_single_channel_0_255_image_size_in_region_order():
    project = decorate(make_project(W, H), regions=3)
    project.move_region(project.regions[2].label, 0)
    body = build_request(project)
    static = open_image(unb64(body["static_mask"]))
    assert static.mode == "L" and static.size == (W, H) and static.format == "PNG"
    assert np.array_equal(np.asarray(static) == 255, project.static_mask)
    assert len(body["dynamic_masks"]) == 3
    for region, entry in zip(project.regions, body["dynamic_masks"]):
        mask = open_image(unb64(entry["mask"]))
        arr = np.asarray(mask)
        assert mask.mode == "L" and mask.size == (W, H)
        assert set(np.unique(arr).tolist()) == {0, 255}
        assert np.array_equal(arr == 255, project.mask(region.label))
        assert entry["trajectories"][0]["x"] == round(region.trajectory[0][0])


def test_coordinates_are_integer_pixels_from_the_bottom_left():
    project = decorate(make_project(W, H), regions=1)
    project.regions[0].trajectory = [(120, 120), (200.4, 10), (10, 399.6), (640, 0)]
    (entry,) = build_request(project)["dynamic_masks"]
    assert entry["trajectories"] == [
        {"x": 120, "y": H - 120},
        {"x": 200, "y": H - 10},
        {"x": 10, "y": 0},
        {"x": 640, "y": H},
    ]
    assert all(isinstance(v, int) for p in entry["trajectories"] for v in p.values())


def test_extra_fields_are_kept_and_never_override_ours():
    project = make_project(W, H)
    project.kling.extra = {"callback_url": "https://example.com/cb", "external_task_id": "t-1", "mode": "pro"}
    body = build_request(project)
    assert body["callback_url"] == "https://example.com/cb" and body["external_task_id"] == "t-1"
    assert body["mode"] == "std"


def test_dumps_request_is_deterministic_whatever_the_key_order():
    body = build_request(decorate(make_project(W, H)))
    shuffled = {k: body[k] for k in reversed(list(body))}
    shuffled["dynamic_masks"] = [{"trajectories": d["trajectories"], "mask": d["mask"]} for d in body["dynamic_masks"]]
    text = dumps_request(body)
    assert text == dumps_request(shuffled)
    assert text.endswith("}\n") and '\n  "model_name"' in text and "微风" in text
    assert json.loads(text) == body
    assert text.index('"model_name"') < text.index('"image"') < text.index('"dynamic_masks"')


# ----- the exported image -------------------------------------------------------------------------


def test_upright_jpeg_is_exported_losslessly_without_exif_or_gps():
    project = decorate(jpeg_project())
    assert b"SecretCam" in project.image.data
    data, ext = export_image_bytes(project.image)
    assert ext == "jpg"
    assert data == strip_jpeg_metadata(project.image.data)
    assert b"SecretCam" not in data and b"Exif\x00\x00" not in data
    im = open_image(data)
    assert im.format == "JPEG" and len(im.getexif()) == 0 and not im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert np.array_equal(np.asarray(im.convert("RGB")), project.image.pixels)
    assert unb64(build_request(project)["image"]) == data


def test_rotated_jpeg_is_exported_as_the_pixels_the_user_sees():
    project = jpeg_project(orientation=6)
    assert project.image.size == (H, W)  # EXIF rotation applied on load
    data, ext = export_image_bytes(project.image)
    assert ext == "png"
    im = open_image(data)
    assert im.size == (H, W) and len(im.getexif()) == 0 and b"SecretCam" not in data
    assert np.array_equal(np.asarray(im.convert("RGB")), project.image.pixels)


def test_cmyk_jpeg_is_exported_as_png_of_its_rgb_pixels():
    buf = io.BytesIO()
    Image.fromarray(textured_pixels(W, H, 5)).convert("CMYK").save(buf, "JPEG", quality=90)
    image = decode_image(buf.getvalue(), "print.jpg")
    data, ext = export_image_bytes(image)
    assert ext == "png"
    im = open_image(data)
    assert im.mode == "RGB" and np.array_equal(np.asarray(im), image.pixels)


def test_png_too_large_for_kling_becomes_a_quality_92_jpeg(monkeypatch):
    project = make_project(W, H)
    png = encode_png(project.image.pixels)
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", len(png) - 1)
    data, ext = export_image_bytes(project.image)
    assert ext == "jpg" and data == encode_jpeg(project.image.pixels, 92)
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", len(png))
    assert export_image_bytes(project.image) == (png, "png")


# ----- export_bundle ------------------------------------------------------------------------------


def test_bundle_holds_request_image_masks_trajectories_and_overlay(tmp_path):
    project = decorate(make_project(W, H))
    out = tmp_path / "bundle"
    assert export_bundle(project, out) == []
    assert sorted(os.listdir(out)) == [
        ".kling-export.json",  # the manifest: which files a later export may replace
        "dynamic_mask_1.png",
        "dynamic_mask_2.png",
        "image.png",
        "overlay.png",
        "request.json",
        "static_mask.png",
        "trajectories.json",
    ]
    body = build_request(project)
    assert (out / "request.json").read_text("utf-8") == dumps_request(body)
    assert (out / "image.png").read_bytes() == unb64(body["image"])
    assert (out / "static_mask.png").read_bytes() == unb64(body["static_mask"])
    for n, entry in enumerate(body["dynamic_masks"], 1):
        mask = open_image((out / f"dynamic_mask_{n}.png").read_bytes())
        assert mask.mode == "L" and mask.size == (W, H)
        assert (out / f"dynamic_mask_{n}.png").read_bytes() == unb64(entry["mask"])
    tracks = json.loads((out / "trajectories.json").read_text())
    assert tracks == [entry["trajectories"] for entry in body["dynamic_masks"]]
    overlay = open_image((out / "overlay.png").read_bytes())
    assert overlay.mode == "RGB" and overlay.size == (W, H)
    shown = np.asarray(overlay).astype(int)
    inside = project.mask(project.regions[0].label)
    assert np.abs(shown[inside] - project.image.pixels[inside]).mean() > 20  # tinted
    far = np.zeros((H, W), bool)
    far[:60, 560:] = True
    assert np.array_equal(shown[far], project.image.pixels[far])  # untouched away from masks and paths


def test_jpeg_bundle_carries_no_metadata(tmp_path):
    project = decorate(jpeg_project())
    export_bundle(project, tmp_path / "out")
    data = (tmp_path / "out" / "image.jpg").read_bytes()
    assert b"SecretCam" not in data and len(open_image(data).getexif()) == 0
    assert not (tmp_path / "out" / "image.png").exists()


def test_reexport_removes_stale_files_and_keeps_unrelated_ones(tmp_path):
    out = tmp_path / "bundle"
    project = decorate(make_project(W, H), regions=3)
    export_bundle(project, out)
    (out / "notes.txt").write_text("mine")
    project.remove_region(project.regions[2].label)
    project.labels[project.static_mask] = 0
    export_bundle(decorate(jpeg_project(), regions=2, static=False), out)
    names = set(os.listdir(out))
    assert "dynamic_mask_3.png" not in names and "static_mask.png" not in names and "image.png" not in names
    assert {"dynamic_mask_1.png", "dynamic_mask_2.png", "image.jpg", "notes.txt"} <= names


def test_invalid_project_is_refused_and_nothing_is_written(tmp_path):
    project = decorate(make_project(W, H))
    project.regions[1].trajectory = [(450, 110)] * 78
    project.camera = CameraMove("zoom", 3)
    with pytest.raises(ExportRefused) as caught:
        export_bundle(project, tmp_path / "out")
    assert isinstance(caught.value, InvalidError) and caught.value.exit_code == 1
    assert {p.rule for p in caught.value.problems} >= {"trajectory-points", "camera-masks"}
    lines = str(caught.value).splitlines()
    assert "region 2: trajectory has 78 points; Kling accepts 2 to 77" in lines
    assert any("Kling forbids" in line for line in lines)
    assert list(tmp_path.iterdir()) == []


def test_warnings_are_returned_and_validate_false_exports_anyway(tmp_path):
    project = decorate(make_project(W, H))
    project.regions[0].trajectory = [(120, 120), (120, 120)]
    assert [p.rule for p in export_bundle(project, tmp_path / "a")] == ["trajectory-still"]
    project.regions[0].trajectory = [(120, 120)] * 78
    assert export_bundle(project, tmp_path / "b", validate=False) == []
    body = json.loads((tmp_path / "b" / "request.json").read_text())
    assert len(body["dynamic_masks"][0]["trajectories"]) == 78


def fail_on(monkeypatch, name: str, folder: Path) -> None:
    """Make os.replace fail the first time it moves a file called `name` into `folder` (or `folder` itself)."""
    real = os.replace
    failed = []

    def replace(src, dst):
        dst = Path(dst)
        if not failed and (dst == folder or (dst.name == name and dst.parent == folder)):
            failed.append(dst)
            raise OSError(errno.EACCES, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_failed_export_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    fail_on(monkeypatch, "request.json", out)
    with pytest.raises(OutputError, match="Permission denied") as caught:
        export_bundle(decorate(make_project(W, H)), out)
    assert str(out) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", ["dynamic_mask_1.png", "request.json", "dynamic_mask_3.png"])
def test_failed_export_over_an_old_one_puts_the_old_one_back(tmp_path, monkeypatch, failing):
    out = tmp_path / "bundle"
    export_bundle(decorate(make_project(W, H), regions=3), out)
    before = tree(out)
    fail_on(monkeypatch, failing, out)
    project = decorate(jpeg_project(), regions=2 if failing != "dynamic_mask_3.png" else 3)
    if failing == "dynamic_mask_3.png":
        project.regions[0].trajectory.append((300, 300))  # a change, so the new files differ
    with pytest.raises(OutputError):
        export_bundle(project, out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    out = tmp_path / "bundle"
    with pytest.raises(OutputError, match="No space left on device") as caught:
        export_bundle(decorate(make_project(W, H)), out)
    assert str(out) in str(caught.value) and caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_file_path_is_an_output_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        export_bundle(decorate(make_project(W, H)), target)
    assert target.read_text() == "x"


# ----- import -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "regions", "static", "camera"),
    [("jpeg", 2, True, False), ("png", 3, True, False), ("png", 0, False, True), ("jpeg", 0, False, True)],
)
def test_round_trip_is_byte_identical(tmp_path, source, regions, static, camera):
    project = decorate(jpeg_project() if source == "jpeg" else make_project(W, H), regions, static)
    if camera:
        project.camera = CameraMove("horizontal", -4)
        project.kling.extra["external_task_id"] = "order-7"
    export_bundle(project, tmp_path / "first")
    loaded, warnings = load_spec(tmp_path / "first")
    assert warnings == []
    export_bundle(loaded, tmp_path / "second")
    assert tree(tmp_path / "first") == tree(tmp_path / "second")
    again, _ = load_spec(tmp_path / "second" / "request.json")
    assert np.array_equal(again.labels, project.labels)
    assert [r.trajectory for r in again.regions] == [
        [(float(round(x)), float(round(y))) for x, y in r.trajectory] for r in project.regions
    ]


def test_camera_with_masks_round_trips_when_validation_is_skipped(tmp_path):
    project = decorate(make_project(W, H))
    project.camera = CameraMove("zoom", 2.5)
    export_bundle(project, tmp_path / "a", validate=False)
    loaded, _ = load_spec(tmp_path / "a")
    assert (loaded.camera.axis, loaded.camera.value) == ("zoom", 2.5)
    export_bundle(loaded, tmp_path / "b", validate=False)
    assert (tmp_path / "a" / "request.json").read_bytes() == (tmp_path / "b" / "request.json").read_bytes()


def test_import_fills_settings_extra_camera_and_default_names():
    body = build_request(decorate(make_project(W, H)))
    body.update(model_name="kling-v1-5", mode="pro", callback_url="https://example.com/cb", future_field=[1, 2])
    project, warnings = import_request(body, base_dir=None, label="request.json")
    assert warnings == []
    k = project.kling
    assert (k.model_name, k.mode, k.duration, k.prompt, k.negative_prompt, k.cfg_scale) == (
        "kling-v1-5",
        "pro",
        "5",
        "wind in the trees, 微风",
        "blur",
        0.7,
    )
    assert k.extra == {"callback_url": "https://example.com/cb", "future_field": [1, 2]}
    assert [r.name for r in project.regions] == ["Region 1", "Region 2"]
    assert len({r.color for r in project.regions}) == 2


def test_preset_camera_is_kept_for_the_round_trip():
    body = build_request(make_project(W, H))
    body["camera_control"] = {"type": "forward_up"}
    project, warnings = import_request(body, base_dir=None, label="r.json")
    assert not project.camera.active and project.kling.extra["camera_control"] == {"type": "forward_up"}
    assert warnings and "camera_control" in warnings[0]
    assert build_request(project)["camera_control"] == {"type": "forward_up"}


def test_camera_out_of_range_is_kept_verbatim_and_reported():
    body = build_request(make_project(W, H))
    body["camera_control"] = {"type": "simple", "config": {"zoom": 15}}
    project, _ = import_request(body, base_dir=None, label="r.json")
    assert not project.camera.active
    assert build_request(project)["camera_control"] == {"type": "simple", "config": {"zoom": 15}}
    assert [p.rule for p in rules.validate_project(project)] == ["camera-value"]


def write_request(folder: Path, body: object, name: str = "request.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(body), "utf-8")
    return path


def test_not_json_is_a_spec_error_naming_the_file(tmp_path):
    path = tmp_path / "request.json"
    path.write_text("{ not json", "utf-8")
    with pytest.raises(SpecError, match="not JSON") as caught:
        load_spec(path)
    assert str(path) in str(caught.value) and caught.value.exit_code == 2
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="request.json"):
        load_spec(path)
    path.write_text('{"image": NaN}', "utf-8")
    with pytest.raises(SpecError, match="NaN"):
        load_spec(path)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2, 3], "JSON object"),
        ({"model_name": "kling-v1"}, "image is missing"),
        ({"image": "!!!"}, "image is not valid Base64"),
        ({"image": base64.b64encode(b"not an image").decode()}, "image"),
        ({"image": 12}, "image must be a Base64 string"),
    ],
)
def test_unreadable_requests_are_spec_errors(tmp_path, body, field):
    path = write_request(tmp_path, body)
    with pytest.raises(SpecError, match=field) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)


def test_folder_without_request_json(tmp_path):
    with pytest.raises(SpecError, match="no request.json"):
        load_spec(tmp_path)


def test_seven_masks_are_invalid_not_unreadable(tmp_path):
    body = build_request(decorate(make_project(W, H), regions=1, static=False))
    body["dynamic_masks"] *= 7
    with pytest.raises(InvalidError, match="at most 6") as caught:
        load_spec(write_request(tmp_path, body))
    assert not isinstance(caught.value, SpecError) and caught.value.exit_code == 1


def test_overlapping_masks_are_refused_or_resolved_by_paint_order(tmp_path):
    project = decorate(make_project(W, H))
    body = build_request(project)
    second = project.mask(project.regions[1].label)
    widened = second | project.mask(project.regions[0].label)
    body["dynamic_masks"][1]["mask"] = base64.b64encode(encode_png(np.where(widened, 255, 0).astype(np.uint8))).decode()
    path = write_request(tmp_path, body)
    with pytest.raises(InvalidError, match="region 1 and region 2 overlap") as caught:
        load_spec(path)
    assert not isinstance(caught.value, SpecError)
    loaded, warnings = load_spec(path, resolve_overlaps=True)
    assert len(warnings) == 1 and "region 1 and region 2" in warnings[0]
    assert np.array_equal(loaded.mask(loaded.regions[1].label), widened)  # the later mask wins
    assert not loaded.mask(loaded.regions[0].label).any()


def test_mask_of_another_size_is_invalid(tmp_path):
    body = build_request(decorate(make_project(W, H), regions=1, static=False))
    body["dynamic_masks"][0]["mask"] = base64.b64encode(encode_png(np.zeros((200, 320), np.uint8))).decode()
    with pytest.raises(InvalidError, match="320x200"):
        load_spec(write_request(tmp_path, body))


def test_masks_with_alpha_or_in_jpeg_are_read_as_painted_where_bright_and_opaque():
    project = decorate(make_project(W, H), regions=2, static=False)
    body = build_request(project)
    first = project.mask(project.regions[0].label)
    rgba = np.full((H, W, 4), 255, np.uint8)
    rgba[..., 3] = np.where(first, 255, 0)  # white everywhere, transparent outside the region
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    body["dynamic_masks"][0]["mask"] = base64.b64encode(buf.getvalue()).decode()
    second = project.mask(project.regions[1].label)
    body["dynamic_masks"][1]["mask"] = base64.b64encode(
        encode_jpeg(np.repeat(np.where(second, 255, 0).astype(np.uint8)[..., None], 3, axis=2))
    ).decode()
    loaded, _ = import_request(body, base_dir=None, label="r.json")
    assert np.array_equal(loaded.mask(loaded.regions[0].label), first)
    assert np.count_nonzero(loaded.mask(loaded.regions[1].label) != second) < 0.01 * second.sum()


def test_data_prefix_is_stripped_with_a_warning():
    project = decorate(make_project(W, H))
    body = build_request(project)
    body["image"] = "data:image/png;base64," + body["image"]
    body["dynamic_masks"][0]["mask"] = "data:image/png;base64," + body["dynamic_masks"][0]["mask"]
    loaded, warnings = import_request(body, base_dir=None, label="req.json")
    assert len(warnings) == 2 and all(w.startswith("req.json: ") and "data:" in w for w in warnings)
    assert np.array_equal(loaded.image.pixels, project.image.pixels)
    assert np.array_equal(loaded.labels, project.labels)


def test_78_points_are_kept_for_validation_to_report():
    body = build_request(decorate(make_project(W, H), regions=1, static=False))
    body["dynamic_masks"][0]["trajectories"] = [{"x": 120 + i, "y": 280} for i in range(78)]
    project, _ = import_request(body, base_dir=None, label="r.json")
    assert len(project.regions[0].trajectory) == 78
    assert project.regions[0].trajectory[0] == (120.0, H - 280.0)
    assert [p.message for p in rules.validate_project(project) if p.severity == "error"] == [
        "region 1: trajectory has 78 points; Kling accepts 2 to 77"
    ]


def test_url_fields_are_read_from_the_export_folder(tmp_path):
    project = decorate(make_project(W, H))
    export_bundle(project, tmp_path / "bundle")
    body = json.loads((tmp_path / "bundle" / "request.json").read_text())
    body["image"] = "https://cdn.example.com/still.png"
    body["static_mask"] = "https://cdn.example.com/static.png"
    for entry in body["dynamic_masks"]:
        entry["mask"] = "https://cdn.example.com/mask.png"
    write_request(tmp_path / "bundle", body)
    loaded, warnings = load_spec(tmp_path / "bundle")
    assert np.array_equal(loaded.labels, project.labels)
    assert np.array_equal(loaded.image.pixels, project.image.pixels)
    assert len(warnings) == 4 and all("URL" in w for w in warnings)

    lonely = write_request(tmp_path / "elsewhere", body)
    with pytest.raises(SpecError, match="image is a URL") as caught:
        load_spec(lonely)
    assert "never downloads" in str(caught.value)


def test_import_error_messages_name_kling_fields_for_bad_points(tmp_path):
    body = build_request(decorate(make_project(W, H), regions=2, static=False))
    body["dynamic_masks"][1]["trajectories"][0] = {"x": "10", "y": 4}
    with pytest.raises(SpecError, match=r"region 2: dynamic_masks\[1\]\.trajectories\[0\]"):
        load_spec(write_request(tmp_path, body))


def test_export_cache_follows_the_image(monkeypatch):
    first, second = make_project(W, H, seed=1), make_project(W, H, seed=2)
    calls = []
    real = kling._encode_export_image
    monkeypatch.setattr(kling, "_encode_export_image", lambda image: calls.append(image) or real(image))
    a = export_image_bytes(first.image)
    assert export_image_bytes(first.image) == a and len(calls) == 1
    b = export_image_bytes(second.image)
    assert b != a and len(calls) == 2
    assert export_image_bytes(first.image) == a and calls[-1] is first.image
