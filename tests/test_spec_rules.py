"""Kling's rules: every rule of shared/kling-spec.md on a project and on a raw request."""

from __future__ import annotations

import base64
import copy
import io

import numpy as np
import pytest
from conftest import make_project
from PIL import Image

from kling_preview.core.images import encode_jpeg, encode_png
from kling_preview.core.project import STATIC, CameraMove
from kling_preview.core.spec import rules
from kling_preview.core.spec.kling import build_request
from kling_preview.core.spec.rules import validate_project, validate_request

W, H = 640, 400


def ready_project(regions: int = 2, static: bool = True):
    """A project Kling accepts: painted regions with trajectories starting on them, a static mask, a prompt."""
    project = make_project(W, H)
    spots = [(120, 120), (450, 120), (120, 300), (520, 320)]
    for i in range(regions):
        x, y = spots[i]
        region = project.add_region()
        project.paint(region.label, [(x, y)], 30)
        region.trajectory = [(x, y), (x + 60, y - 40), (x + 90, y - 20)]
    if static:
        project.paint(STATIC, [(320, 320)], 40)
    project.kling.prompt = "waves roll in"
    return project


def error_rules(problems) -> set[str]:
    return {p.rule for p in problems if p.severity == "error"}


def all_rules(problems) -> set[str]:
    return {p.rule for p in problems}


def test_ready_project_has_no_problem():
    assert validate_project(ready_project()) == []


# ----- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("model_name", "kling-v1-5", "brush-model"),  # kling-v1-5 motion brush is pro only; mode is std
        ("model_name", "kling-v2-master", "brush-model"),
        ("model_name", "", "model-name"),
        ("mode", "turbo", "mode"),
        ("duration", "7", "duration"),
        ("duration", "10", "duration-masks"),
        ("prompt", "x" * 2501, "prompt-length"),
        ("negative_prompt", "x" * 2501, "prompt-length"),
        ("cfg_scale", 1.01, "cfg-scale"),
        ("cfg_scale", -0.01, "cfg-scale"),
        ("cfg_scale", float("nan"), "cfg-scale"),
        ("cfg_scale", "0.5", "field-type"),
    ],
)
def test_each_broken_setting_is_one_error(field, value, rule):
    project = ready_project()
    setattr(project.kling, field, value)
    problems = validate_project(project)
    assert error_rules(problems) == {rule}
    assert all(p.region is None for p in problems)


@pytest.mark.parametrize(("model", "mode"), [("kling-v1", "std"), ("kling-v1", "pro"), ("kling-v1-5", "pro")])
def test_motion_brush_models_kling_documents_pass(model, mode):
    project = ready_project()
    project.kling.model_name, project.kling.mode = model, mode
    assert validate_project(project) == []


def test_limits_themselves_are_allowed():
    project = ready_project()
    project.kling.prompt = "x" * 2500
    project.kling.negative_prompt = "y" * 2500
    for cfg in (0, 1, 0.0, 1.0):
        project.kling.cfg_scale = cfg
        assert validate_project(project) == []


def test_ten_seconds_is_fine_without_masks_and_any_model_without_masks():
    project = make_project(W, H)
    project.kling.duration = "10"
    project.kling.model_name, project.kling.mode = "kling-v1-6", "std"
    assert validate_project(project) == []


def test_static_mask_alone_counts_as_masks():
    project = ready_project(regions=0, static=True)
    project.kling.duration = "10"
    assert error_rules(validate_project(project)) == {"duration-masks"}


# ----- camera and image_tail --------------------------------------------------------------------------


def test_camera_move_with_masks_is_refused_and_says_kling_forbids_it():
    project = ready_project()
    project.camera = CameraMove("zoom", 5)
    problems = [p for p in validate_project(project) if p.severity == "error"]
    assert [p.rule for p in problems] == ["camera-masks"]
    assert "Kling forbids" in problems[0].message and "mask" in problems[0].message


def test_camera_move_alone_is_valid():
    project = make_project(W, H)
    project.camera = CameraMove("pan", -10)
    assert validate_project(project) == []


@pytest.mark.parametrize(("axis", "value", "rule"), [("zoom", 10.5, "camera-value"), ("spin", 3, "camera-axis")])
def test_camera_axis_and_value_are_checked(axis, value, rule):
    project = make_project(W, H)
    project.camera = CameraMove(axis, value)
    assert rule in error_rules(validate_project(project))


def test_image_tail_cannot_join_masks_or_camera():
    project = ready_project()
    project.kling.extra["image_tail"] = "iVBORw0KGgo="
    problems = validate_project(project)
    assert error_rules(problems) == {"image-tail"} and "mask" in problems[0].message

    camera_only = make_project(W, H)
    camera_only.kling.extra["image_tail"] = "iVBORw0KGgo="
    assert validate_project(camera_only) == []
    camera_only.camera = CameraMove("tilt", 2)
    assert error_rules(validate_project(camera_only)) == {"image-tail"}


def test_preset_camera_kept_in_extra_is_checked_like_the_project_camera():
    project = ready_project()
    project.kling.extra["camera_control"] = {"type": "down_back"}
    assert error_rules(validate_project(project)) == {"camera-masks"}
    project.kling.extra["camera_control"] = {"type": "somersault"}
    assert "camera" in error_rules(validate_project(project))


# ----- image ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "rule"),
    [(299, 400, "image-size"), (400, 299, "image-size"), (751, 300, "image-aspect"), (300, 751, "image-aspect")],
)
def test_image_size_and_aspect(width, height, rule):
    assert error_rules(validate_project(make_project(width, height))) == {rule}


@pytest.mark.parametrize(("width", "height"), [(300, 300), (750, 300), (300, 750)])
def test_image_at_the_limits_is_valid(width, height):
    assert validate_project(make_project(width, height)) == []


def test_image_over_ten_megabytes_falls_back_to_jpeg_then_is_refused(monkeypatch):
    project = make_project(W, H)
    png = len(encode_png(project.image.pixels))
    jpeg = len(encode_jpeg(project.image.pixels, 92))
    assert jpeg < png
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", (png + jpeg) // 2)
    problems = validate_project(project)
    assert error_rules(problems) == set() and all_rules(problems) == {"image-reencoded"}
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", jpeg - 1)
    problems = validate_project(project)
    assert error_rules(problems) == {"image-bytes"}
    assert problems[0].message.startswith("the exported image is") and "Kling accepts at most" in problems[0].message


# ----- regions --------------------------------------------------------------------------------------


def test_78_points_names_the_region_by_position():
    project = ready_project(regions=3)
    third = project.regions[2]
    third.trajectory = [(100 + i, 250 + i % 3) for i in range(78)]
    project.paint(third.label, [(100, 250)], 5)
    problems = validate_project(project)
    assert [(p.message, p.region) for p in problems if p.severity == "error"] == [
        ("region 3: trajectory has 78 points; Kling accepts 2 to 77", third.label)
    ]


@pytest.mark.parametrize("count", [2, 77])
def test_two_to_77_points_pass(count):
    project = ready_project()
    x, y = 120, 120
    project.regions[0].trajectory = [(x + i, y + (i % 2)) for i in range(count)]
    assert validate_project(project) == []


def test_one_point_is_refused():
    project = ready_project()
    project.regions[0].trajectory = [(120, 120)]
    problems = validate_project(project)
    assert error_rules(problems) == {"trajectory-points"}
    assert "1 point;" in problems[0].message


def test_region_is_named_by_position_and_name_after_a_move():
    project = ready_project()
    sky = project.regions[1]
    sky.name = "Sky"
    sky.trajectory = [(450 + i, 120) for i in range(80)]
    project.move_region(sky.label, 0)
    (problem,) = [p for p in validate_project(project) if p.severity == "error"]
    assert problem.message.startswith("region 1 (Sky): trajectory has 80 points")
    assert problem.region == sky.label


def test_empty_mask_with_a_trajectory_is_an_error():
    project = ready_project()
    region = project.add_region()
    region.trajectory = [(10, 10), (20, 20)]
    problems = validate_project(project)
    assert [(p.rule, p.region) for p in problems] == [("mask-empty", region.label)]
    assert problems[0].message.startswith("region 3: mask is empty") and "trajectory" in problems[0].message


def test_empty_region_without_trajectory_is_an_error_too():
    project = ready_project()
    project.add_region()
    assert error_rules(validate_project(project)) == {"mask-empty"}


def test_mask_without_trajectory_is_an_error():
    project = ready_project()
    project.regions[1].trajectory = []
    problems = validate_project(project)
    assert [(p.rule, p.region) for p in problems] == [("trajectory-missing", project.regions[1].label)]
    assert problems[0].message.startswith("region 2:")


@pytest.mark.parametrize("point", [(641, 100), (-1, 100), (100, 400.6), (float("nan"), 10)])
def test_points_outside_the_image_are_errors(point):
    project = ready_project()
    project.regions[0].trajectory.append(point)
    problems = validate_project(project)
    assert error_rules(problems) == {"trajectory-outside"}
    assert "outside the 640x400 image" in problems[0].message and "point 4" in problems[0].message


def test_points_on_the_border_are_inside():
    project = ready_project()
    project.regions[0].trajectory += [(640, 400), (0, 0)]
    assert validate_project(project) == []


def test_still_trajectory_and_start_off_the_mask_are_warnings():
    project = ready_project()
    project.regions[0].trajectory = [(120, 120), (120.2, 120.1)]
    project.regions[1].trajectory = [(10, 390), (200, 390)]
    problems = validate_project(project)
    assert error_rules(problems) == set()
    assert [(p.rule, p.region) for p in problems] == [
        ("trajectory-still", project.regions[0].label),
        ("trajectory-start", project.regions[1].label),
    ]


# ----- raw requests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def body() -> dict:
    return build_request(ready_project())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def mask_b64(mask: np.ndarray) -> str:
    return b64(encode_png(np.where(mask, 255, 0).astype(np.uint8)))


def checked(body: dict, change) -> list[rules.Problem]:
    changed = copy.deepcopy(body)
    change(changed)
    return validate_request(changed, "request.json")


def test_exported_request_is_valid(body):
    assert validate_request(body, "request.json") == []


def test_request_must_be_an_object():
    assert all_rules(validate_request([1, 2], "request.json")) == {"request-object"}


def test_missing_image(body):
    assert error_rules(checked(body, lambda b: b.pop("image"))) == {"image-missing"}


def test_data_prefix_is_an_error_on_image_and_masks(body):
    problems = checked(body, lambda b: b.update(image="data:image/png;base64," + b["image"]))
    assert [p.rule for p in problems] == ["data-prefix"]
    assert "bare Base64" in problems[0].message

    def prefix_mask(b):
        b["dynamic_masks"][1]["mask"] = "data:image/png;base64," + b["dynamic_masks"][1]["mask"]

    problems = checked(body, prefix_mask)
    assert [(p.rule, p.region) for p in problems] == [("data-prefix", 2)]
    assert problems[0].message.startswith("region 2:")


@pytest.mark.parametrize(("value", "rule"), [("not base64 at all!", "base64"), (b64(b"hello"), "image-decode")])
def test_image_that_does_not_decode(body, value, rule):
    assert error_rules(checked(body, lambda b: b.update(image=value))) == {rule}


def test_seven_masks_are_refused(body):
    def seven(b):
        b["dynamic_masks"] = [copy.deepcopy(b["dynamic_masks"][0]) for _ in range(7)]

    problems = checked(body, seven)
    (count,) = [p for p in problems if p.rule == "masks-count"]
    assert "7" in count.message and "at most 6" in count.message


@pytest.mark.parametrize(
    ("count", "rule"), [(0, "trajectory-missing"), (1, "trajectory-points"), (78, "trajectory-points")]
)
def test_request_trajectory_lengths(body, count, rule):
    def points(b):
        x0, y0 = b["dynamic_masks"][0]["trajectories"][0].values()
        b["dynamic_masks"][0]["trajectories"] = [{"x": x0 + i % 5, "y": y0} for i in range(count)]

    problems = checked(body, points)
    assert [(p.rule, p.region) for p in problems if p.severity == "error"] == [(rule, 1)]


def test_non_integer_and_non_number_points(body):
    def half(b):
        b["dynamic_masks"][0]["trajectories"][1]["x"] += 0.5

    problems = checked(body, half)
    assert [(p.rule, p.region) for p in problems] == [("trajectory-integer", 1)]
    assert "point 2" in problems[0].message

    problems = checked(body, lambda b: b["dynamic_masks"][0]["trajectories"][1].update(x="12"))
    assert error_rules(problems) == {"field-type"}


@pytest.mark.parametrize(("x", "y", "inside"), [(W + 1, 200, False), (10, -1, False), (10, H + 1, False), (W, H, True)])
def test_request_points_inside_the_image(body, x, y, inside):
    problems = checked(body, lambda b: b["dynamic_masks"][0]["trajectories"].append({"x": x, "y": y}))
    assert error_rules(problems) == (set() if inside else {"trajectory-outside"})


def test_mask_of_another_size(body):
    small = mask_b64(np.ones((H // 2, W // 2), bool))
    problems = checked(body, lambda b: b["dynamic_masks"][1].update(mask=small))
    assert [(p.rule, p.region) for p in problems] == [("mask-size", 2)]
    assert "320x200" in problems[0].message and "640x400" in problems[0].message


def test_empty_mask_with_a_trajectory_in_a_request(body):
    empty = mask_b64(np.zeros((H, W), bool))
    problems = checked(body, lambda b: b["dynamic_masks"][0].update(mask=empty))
    assert [(p.rule, p.region) for p in problems] == [("mask-empty", 1)]


def test_overlapping_dynamic_masks_name_both_regions(body):
    problems = checked(body, lambda b: b["dynamic_masks"][1].update(mask=b["dynamic_masks"][0]["mask"]))
    overlap = [p for p in problems if p.rule == "mask-overlap"]
    assert len(overlap) == 1 and overlap[0].severity == "error"
    assert "region 1" in overlap[0].message and "region 2" in overlap[0].message


def test_dynamic_mask_over_the_static_mask_names_both(body):
    problems = checked(body, lambda b: b.update(static_mask=b["dynamic_masks"][1]["mask"]))
    (overlap,) = [p for p in problems if p.rule == "mask-overlap"]
    assert "region 2" in overlap.message and "static mask" in overlap.message and overlap.region == 2


def test_touching_masks_do_not_overlap(body):
    left = np.zeros((H, W), bool)
    left[:, : W // 2] = True

    def halves(b):
        b["dynamic_masks"][0]["mask"] = mask_b64(left)
        b["dynamic_masks"][1]["mask"] = mask_b64(~left)
        b.pop("static_mask")

    assert "mask-overlap" not in all_rules(checked(body, halves))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda b: b.update(mode="turbo"), "mode"),
        (lambda b: b.update(duration="10"), "duration-masks"),
        (lambda b: b.update(duration=5), "field-type"),
        (lambda b: b.update(cfg_scale="0.5"), "field-type"),
        (lambda b: b.update(prompt="x" * 2501), "prompt-length"),
        (lambda b: b.update(model_name="kling-v1-5"), "brush-model"),
        (lambda b: b.update(camera_control={"type": "simple", "config": {"zoom": 4}}), "camera-masks"),
        (lambda b: b.update(image_tail=b["image"]), "image-tail"),
        (lambda b: b.update(dynamic_masks={"mask": "x"}), "field-type"),
    ],
)
def test_project_rules_apply_to_requests(body, change, rule):
    assert rule in error_rules(checked(body, change))


def test_camera_config_must_move_one_axis_in_range():
    body = build_request(make_project(W, H))
    body["camera_control"] = {"type": "simple", "config": {"zoom": 4, "pan": 2}}
    assert error_rules(validate_request(body, "r.json")) == {"camera-axis"}
    body["camera_control"] = {"type": "simple", "config": {"zoom": 0, "roll": -11}}
    assert error_rules(validate_request(body, "r.json")) == {"camera-value"}
    body["camera_control"] = {"type": "simple", "config": {"zoom": 0, "roll": -10}}
    assert validate_request(body, "r.json") == []


def test_webp_image_in_a_request_is_refused(body):
    buf = io.BytesIO()
    Image.new("RGB", (W, H), (10, 20, 30)).save(buf, "WEBP")
    problems = checked(body, lambda b: b.update(image=b64(buf.getvalue())))
    assert error_rules(problems) == {"image-format"}


def test_url_image_cannot_be_checked_without_its_folder(body):
    problems = checked(body, lambda b: b.update(image="https://example.com/still.png"))
    assert [(p.severity, p.rule) for p in problems] == [("warning", "url")]
    assert "never downloads" in problems[0].message
