"""Kling's image2video rules, checked on a project or on a raw request read from a request.json.

Why one module for both: the app's validation panel, `kling-preview validate` and the export all must
agree on what Kling accepts, so every rule is written once here and fed either a project or the values
read from a request. Each finding is a `Problem` with a short rule id (stable, for tests and filters) and
one line of text that names the region (numbered from 1 by its position) and the rule.

Rule ids: request-object, field-type, image-missing, data-prefix, base64, url, image-decode (the request
cannot be read), masks-count, mask-size, mask-overlap (refused at import), image-format, image-bytes,
image-size, image-aspect, image-reencoded, mask-format, model-name, brush-model, mode, duration,
duration-masks, prompt-length, cfg-scale, camera, camera-axis, camera-value, camera-masks, image-tail,
mask-empty, static-empty, trajectory-missing, trajectory-points, trajectory-outside, trajectory-integer,
trajectory-still, trajectory-start, url-file (a URL field read from the export folder).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageLoadError, UnreadableError
from ..images import MAX_PIXELS, SourceImage, decode_image
from ..limits import MAX_IMAGE_FILE_BYTES, read_input_file
from ..masks import bbox_of, from_png_mask
from ..project import CAMERA_AXES, MAX_REGIONS, STATIC, KlingSettings, Project
from ..projectfile import COORD_LIMIT
from ..trajectory import MAX_POINTS, MIN_POINTS, Point, from_kling
from .problems import MAX_REPEATS as MAX_REPEATS  # re-exported: rules is where callers look for them
from .problems import Problem as Problem
from .problems import _error, _warning
from .problems import cap_repeats as cap_repeats
from .problems import is_number as is_number
from .problems import json_type as json_type
from .problems import quote as quote
from .problems import region_ref as region_ref

#: Largest image (and mask) file Kling takes, in bytes.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
#: Longest side / shortest side, inclusive (1:2.5 to 2.5:1).
MAX_ASPECT = 2.5
MAX_PROMPT_CHARS = 2500
CAMERA_LIMIT = 10
MODES = ("std", "pro")
DURATIONS = ("5", "10")
#: The only duration allowed with a static mask or dynamic masks.
MASK_DURATION = "5"
#: Models and modes for which Kling documents the motion brush.
BRUSH_MODELS: dict[str, tuple[str, ...]] = {"kling-v1": ("std", "pro"), "kling-v1-5": ("pro",)}
#: Image-to-video models Kling documents; those not in BRUSH_MODELS lack the motion brush. A name not
#: listed here may be a newer model: `allow_model` lets it through as a warning.
KNOWN_MODELS = (
    "kling-v1",
    "kling-v1-5",
    "kling-v1-6",
    "kling-v2-master",
    "kling-v2-1",
    "kling-v2-1-master",
    "kling-v2-5-turbo",
    "kling-v2-6",
)
CAMERA_PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")
IMAGE_FORMATS = ("JPEG", "PNG")

#: Rules meaning "the request cannot be read" (an import raises SpecError, the CLI exits 2).
UNREADABLE_RULES = frozenset({"request-object", "field-type", "image-missing", "base64", "url", "image-decode"})
#: Rules an import refuses (InvalidError): they cannot be represented in a project.
REFUSED_RULES = frozenset({"masks-count", "mask-size", "mask-overlap"})

#: Request fields that become image, masks, settings or camera; every other field is kept as "extra".
REQUEST_FIELDS = (
    "model_name",
    "mode",
    "duration",
    "prompt",
    "negative_prompt",
    "cfg_scale",
    "image",
    "static_mask",
    "dynamic_masks",
    "camera_control",
)
#: Optional string fields Kling documents besides ours.
STRING_EXTRAS = ("image_tail", "callback_url", "external_task_id")
def _megabytes(n: int) -> str:
    mb = n / 2**20
    return f"{mb:.0f} MB" if mb.is_integer() else f"{mb:.1f} MB"


def _fmt(v: float) -> str:
    return str(int(v)) if isinstance(v, int) or (math.isfinite(v) and float(v).is_integer()) else f"{v:.1f}"


# ----- rules shared by projects and requests ------------------------------------------------------


def settings_problems(fields: Mapping[str, Any], has_masks: bool, allow_model: bool = False) -> list[Problem]:
    """Model, mode, duration, prompts, cfg_scale, camera_control, image_tail and the optional strings.

    With `allow_model` a model name Kling does not document yet is a warning, not an error (a known
    model without the motion brush stays an error).
    """
    out: list[Problem] = []
    defaults = KlingSettings()
    present = {k: v for k, v in fields.items() if v is not None}
    texts = {}
    for key in ("model_name", "mode", "duration", "prompt", "negative_prompt", *STRING_EXTRAS):
        value = present.get(key, getattr(defaults, key, ""))
        if isinstance(value, str):
            texts[key] = value
        else:
            out.append(_error(f"{key} must be a string, not {json_type(value)} ({value!r})", "field-type"))
    model, mode, duration = texts.get("model_name"), texts.get("mode"), texts.get("duration")
    if model is not None and not model.strip():
        out.append(_error("model_name is empty; Kling needs a model such as kling-v1", "model-name"))
    if mode is not None and mode not in MODES:
        out.append(_error(f'mode is {quote(mode)}; Kling accepts "std" or "pro"', "mode"))
    if duration is not None:
        if duration not in DURATIONS:
            out.append(_error(f'duration is {quote(duration)}; Kling accepts "5" or "10"', "duration"))
        elif has_masks and duration != MASK_DURATION:
            out.append(
                _error(
                    f'duration is {quote(duration)}; with motion-brush masks Kling accepts only "5"', "duration-masks"
                )
            )
    if has_masks and model and mode in MODES and mode not in BRUSH_MODELS.get(model, ()):
        brush = (
            "motion brush works only with kling-v1 (std or pro) and kling-v1-5 (pro); "
            f"this is {quote(model)} {quote(mode)}"
        )
        if allow_model and model.strip() not in KNOWN_MODELS:
            out.append(_warning(f"{brush}, a model Kling Preview does not know: sent as it is", "brush-model"))
        else:
            out.append(_error(brush, "brush-model"))
    for key in ("prompt", "negative_prompt"):
        text = texts.get(key)
        if text is not None and len(text) > MAX_PROMPT_CHARS:
            out.append(
                _error(f"{key} has {len(text)} characters; Kling accepts at most {MAX_PROMPT_CHARS}", "prompt-length")
            )
    cfg = present.get("cfg_scale", defaults.cfg_scale)
    if not is_number(cfg):
        out.append(_error(f"cfg_scale must be a number, not {json_type(cfg)} ({cfg!r})", "field-type"))
    elif not 0 <= cfg <= 1:
        out.append(_error(f"cfg_scale is {cfg}; Kling accepts 0 to 1", "cfg-scale"))
    tail = "image_tail" in texts and "image_tail" in present
    if tail:
        if texts["image_tail"].startswith("data:"):
            out.append(_error("image_tail starts with a data: prefix; Kling wants bare Base64", "data-prefix"))
        if has_masks:
            out.append(
                _error(
                    "image_tail (end frame) cannot be combined with motion-brush masks (Kling forbids it)",
                    "image-tail",
                )
            )
    if "camera_control" in present:
        out += camera_problems(present["camera_control"], has_masks, tail)
    return out


def camera_problems(control: object, has_masks: bool, has_tail: bool) -> list[Problem]:
    """A raw `camera_control`: its shape, axis and value, and what Kling forbids beside it."""
    out: list[Problem] = []
    if not isinstance(control, dict):
        return [_error(f"camera_control must be an object, not {json_type(control)}", "field-type")]
    kind = control.get("type")
    if kind == "simple":
        config = control.get("config")
        if not isinstance(config, dict):
            out.append(_error(f"camera_control.config must be an object, not {json_type(config)}", "field-type"))
        else:
            axes = ", ".join(CAMERA_AXES)
            for axis, value in config.items():
                if axis not in CAMERA_AXES:
                    text = f'camera_control has an unknown axis "{axis}"; Kling knows {axes}'
                    out.append(_error(text, "camera-axis"))
                elif not is_number(value):
                    out.append(
                        _error(f"camera_control.config.{axis} must be a number, not {json_type(value)}", "field-type")
                    )
                elif not -CAMERA_LIMIT <= value <= CAMERA_LIMIT:
                    out.append(
                        _error(
                            f"camera {axis} is {value}; Kling accepts -{CAMERA_LIMIT} to {CAMERA_LIMIT}",
                            "camera-value",
                        )
                    )
            moving = [a for a, v in config.items() if a in CAMERA_AXES and is_number(v) and v != 0]
            if len(moving) != 1:
                out.append(
                    _error(
                        f"camera_control must move exactly one axis; it moves {', '.join(moving) or 'none'}",
                        "camera-axis",
                    )
                )
    elif kind not in CAMERA_PRESETS:
        presets = ", ".join(CAMERA_PRESETS)
        out.append(_error(f'camera_control type "{kind}" is unknown; Kling takes "simple" or {presets}', "camera"))
    if has_masks:
        out.append(
            _error(
                "a camera move cannot be combined with motion-brush masks (Kling forbids it); "
                "remove the camera move or the masks",
                "camera-masks",
            )
        )
    if has_tail:
        out.append(_error("image_tail cannot be combined with a camera move (Kling forbids it)", "image-tail"))
    return out


def image_problems(width: int, height: int, nbytes: int, fmt: str, what: str = "image") -> list[Problem]:
    """Format, file size, minimum side and aspect ratio of the image Kling receives."""
    out: list[Problem] = []
    if fmt not in IMAGE_FORMATS:
        out.append(_error(f"{what} is {fmt}; Kling accepts JPEG or PNG", "image-format"))
    if nbytes > MAX_IMAGE_BYTES:
        out.append(
            _error(
                f"{what} is {_megabytes(nbytes)}; Kling accepts at most {_megabytes(MAX_IMAGE_BYTES)}",
                "image-bytes",
            )
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        out.append(_error(f"{what} is {width}x{height}; Kling needs at least {MIN_SIDE} px on each side", "image-size"))
    long, short = max(width, height), max(min(width, height), 1)
    if long > MAX_ASPECT * short:
        out.append(
            _error(
                f"{what} aspect ratio is {long / short:.2f}:1 ({width}x{height}); Kling accepts 1:2.5 to 2.5:1",
                "image-aspect",
            )
        )
    return out


def start_pixel(points: Sequence[Point], width: int, height: int) -> tuple[int, int] | None:
    """(row, col) of the pixel under the first point, or None if there is none inside the image."""
    if not points:
        return None
    x, y = points[0]
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height):
        return None
    return min(int(y), height - 1), min(int(x), width - 1)


def region_problems(
    number: int,
    label: int,
    name: str | None,
    mask_pixels: int | None,
    start_in_mask: bool | None,
    points: Sequence[Point] | None,
    shown: Sequence[tuple[float, float]],
    width: int,
    height: int,
) -> list[Problem]:
    """One dynamic region: its mask, its trajectory's length and its points. `shown` are the points as
    the user knows them (image pixels for a project, Kling's numbers for a request), for messages.
    `points` None means the trajectory could not be read (already reported): only the mask is checked."""
    ref = region_ref(number, name)
    out: list[Problem] = []
    if points is None:
        if mask_pixels == 0:
            out.append(_error(f"{ref}: mask is empty; paint it or remove the region", "mask-empty", label))
        return out
    n = len(points)
    if mask_pixels == 0:
        if n:
            text = f"{ref}: mask is empty but it has a trajectory; paint the region or remove it"
            out.append(_error(text, "mask-empty", label))
        else:
            out.append(_error(f"{ref}: mask is empty; paint it or remove the region", "mask-empty", label))
    if n == 0 and mask_pixels != 0:
        out.append(
            _error(
                f"{ref}: has a mask but no trajectory; Kling needs {MIN_POINTS} to {MAX_POINTS} points",
                "trajectory-missing",
                label,
            )
        )
    elif n and not MIN_POINTS <= n <= MAX_POINTS:
        noun = "point" if n == 1 else "points"
        out.append(
            _error(
                f"{ref}: trajectory has {n} {noun}; Kling accepts {MIN_POINTS} to {MAX_POINTS}",
                "trajectory-points",
                label,
            )
        )
    outside = [
        i
        for i, (x, y) in enumerate(points)
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height)
    ]
    if outside:
        i = outside[0]
        at = f"point {i + 1} at ({_fmt(shown[i][0])}, {_fmt(shown[i][1])})"
        if len(outside) == 1:
            text = f"{ref}: trajectory {at} is outside the {width}x{height} image"
        else:
            text = f"{ref}: {len(outside)} trajectory points are outside the {width}x{height} image (first: {at})"
        out.append(_error(text, "trajectory-outside", label))
    elif n >= MIN_POINTS:
        rounded = {(round(x), round(y)) for x, y in points}
        if len(rounded) == 1:
            text = f"{ref}: all trajectory points are the same; Kling will not move it"
            out.append(_warning(text, "trajectory-still", label))
    if start_in_mask is False and mask_pixels:
        out.append(
            _warning(
                f"{ref}: trajectory starts outside the region's mask; the path usually starts on the area it moves",
                "trajectory-start",
                label,
            )
        )
    return out


# ----- projects -----------------------------------------------------------------------------------


def validate_project(project: Project, *, allow_model: bool = False) -> list[Problem]:
    """Every Kling rule that applies to a project, in the order: settings, image, regions."""
    from .kling import camera_body, export_image_bytes  # kling.py builds on this module

    image = project.image
    width, height = image.size
    counts = np.bincount(project.labels.ravel(), minlength=256)
    has_masks = bool(project.regions) or counts[STATIC] > 0
    settings = project.kling
    fields: dict[str, Any] = dict(settings.extra)
    fields.update(
        model_name=settings.model_name,
        mode=settings.mode,
        duration=settings.duration,
        prompt=settings.prompt,
        negative_prompt=settings.negative_prompt,
        cfg_scale=settings.cfg_scale,
    )
    camera = camera_body(project.camera)
    if camera is not None:
        fields["camera_control"] = camera
    problems = settings_problems(fields, has_masks, allow_model)

    data, ext = export_image_bytes(image)
    problems += image_problems(width, height, len(data), "JPEG" if ext == "jpg" else "PNG", "the exported image")
    if ext == "jpg" and image.format != "JPEG":
        problems.append(
            _warning(
                f"the image is exported as JPEG (quality 92): as PNG it would exceed {MAX_IMAGE_BYTES // 2**20} MB",
                "image-reencoded",
            )
        )

    if len(project.regions) > MAX_REGIONS:
        problems.append(
            _error(
                f"the project has {len(project.regions)} regions; Kling accepts at most {MAX_REGIONS}", "masks-count"
            )
        )
    for number, region in enumerate(project.regions, 1):
        points = [(float(x), float(y)) for x, y in region.trajectory]
        pixel = start_pixel(points, width, height)
        in_mask = None if pixel is None else bool(project.labels[pixel] == region.label)
        shown = [(round(x, 1), round(y, 1)) if math.isfinite(x + y) else (x, y) for x, y in points]
        problems += region_problems(
            number, region.label, region.name, int(counts[region.label]), in_mask, points, shown, width, height
        )
    return problems


# ----- raw requests -------------------------------------------------------------------------------


@dataclass
class RequestRegion:
    """One entry of `dynamic_masks` as read: its mask and its points in image pixels (None if unreadable)."""

    mask: np.ndarray | None
    points: list[Point] | None


@dataclass
class RequestContent:
    """What could be decoded from a request; fields stay None/empty where decoding failed."""

    image: SourceImage | None = None
    static: np.ndarray | None = None
    regions: list[RequestRegion] = field(default_factory=list)
    #: Every field that is not image or masks, exactly as found (settings, camera_control, extras).
    fields: dict[str, Any] = field(default_factory=dict)


def validate_request(
    body: object, label: str, *, base_dir: Path | None = None, allow_model: bool = False
) -> list[Problem]:
    """Every rule for a raw request dict: its structure and encoding, then the project rules.

    `label` names the request (usually its file) for the caller; messages name fields and regions.
    `base_dir` lets URL fields be read from an export folder's files instead (nothing is downloaded).
    """
    return inspect_request(body, label, base_dir=base_dir, allow_model=allow_model)[1]


def inspect_request(
    body: object, label: str, *, base_dir: Path | None = None, allow_model: bool = False
) -> tuple[RequestContent, list[Problem]]:
    """Decode a request as far as possible, listing every problem on the way (used by import too)."""
    content = RequestContent()
    if not isinstance(body, dict):
        return content, [_error(f"the request must be a JSON object, not {json_type(body)}", "request-object")]
    problems: list[Problem] = []
    content.fields = {k: v for k, v in body.items() if k not in ("image", "static_mask", "dynamic_masks")}

    raw_image = body.get("image")
    if raw_image is None:
        text = "image is missing; Kling needs the still as Base64"
        if "image_url" in body or "input" in body:  # an `export --target fal|aimlapi|piapi` body: not Kling's own
            text += " (this is a fal, AIMLAPI or PiAPI request, which Kling Preview writes but does not read)"
        problems.append(_error(text, "image-missing"))
    else:
        data = _field_bytes(raw_image, "image", None, base_dir, ("image.png", "image.jpg", "image.jpeg"), problems)
        if data is not None:
            try:
                image = decode_image(data, "image", label="image")
            except ImageLoadError as exc:
                problems.append(_error(str(exc), "image-decode"))
            else:
                image.name = f"image.{image.extension}"
                content.image = image
                problems += image_problems(image.width, image.height, len(data), image.format)
    size = content.image.size if content.image is not None else None

    if body.get("static_mask") is not None:
        data = _field_bytes(body["static_mask"], "static_mask", None, base_dir, ("static_mask.png",), problems)
        if data is not None:
            content.static = _read_mask(data, "static_mask", None, size, problems)
            if content.static is not None and not content.static.any():
                problems.append(_warning("static_mask is empty; nothing is held still", "static-empty"))

    raw_masks = body.get("dynamic_masks")
    if raw_masks is not None and not isinstance(raw_masks, list):
        problems.append(_error(f"dynamic_masks must be a list, not {json_type(raw_masks)}", "field-type"))
        raw_masks = None
    if raw_masks and len(raw_masks) > MAX_REGIONS:
        # Counted before any mask is decoded: a request with thousands of masks costs nothing.
        problems.append(
            _error(
                f"dynamic_masks has {len(raw_masks)} entries; Kling accepts at most {MAX_REGIONS} motion-brush regions",
                "masks-count",
            )
        )
        raw_masks, counted = [], True
    else:
        counted = bool(raw_masks)
    for number, entry in enumerate(raw_masks or [], 1):
        content.regions.append(_read_region(entry, number, base_dir, size, problems))
    if size is not None:
        problems += _overlap_problems(content)
        width, height = size
        for number, (region, entry) in enumerate(zip(content.regions, raw_masks or []), 1):
            raw_points = entry.get("trajectories") if isinstance(entry, dict) else None
            shown = [(p["x"], p["y"]) for p in raw_points] if region.points and raw_points else []
            pixels = None if region.mask is None else int(np.count_nonzero(region.mask))
            pixel = start_pixel(region.points, width, height) if region.points is not None else None
            in_mask = None if pixel is None or region.mask is None else bool(region.mask[pixel])
            problems += region_problems(number, number, None, pixels, in_mask, region.points, shown, width, height)

    has_masks = body.get("static_mask") is not None or counted
    problems += settings_problems(content.fields, has_masks, allow_model)
    return content, cap_repeats(problems)


def _field_bytes(
    value: object,
    name: str,
    region: int | None,
    base_dir: Path | None,
    fallbacks: Sequence[str],
    problems: list[Problem],
) -> bytes | None:
    """The bytes of a Base64 (or folder-backed URL) field; None with a problem when it cannot be read."""
    if not isinstance(value, str):
        problems.append(_error(f"{name} must be a Base64 string, not {json_type(value)}", "field-type", region))
        return None
    if value.startswith(("http://", "https://")):
        url = value if len(value) <= 60 else value[:57] + "..."
        for candidate in fallbacks if base_dir is not None else ():
            assert base_dir is not None
            path = base_dir / candidate
            if path.is_file():
                try:
                    data = read_input_file(path, MAX_IMAGE_FILE_BYTES, "image")
                except UnreadableError as exc:
                    problems.append(_error(f"{name} is a URL and {exc}", "url", region))
                    return None
                problems.append(_warning(f"{name} is a URL; read from {path} instead", "url-file", region))
                return data
        where = f" and {base_dir} has no {' or '.join(fallbacks)}" if base_dir is not None else ""
        problems.append(_warning(f"{name} is a URL ({url}); Kling Preview never downloads files{where}", "url", region))
        return None
    if value.startswith("data:"):
        problems.append(_error(f"{name} starts with a data: prefix; Kling wants bare Base64", "data-prefix", region))
        value = value.split(",", 1)[1] if "," in value else ""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        problems.append(_error(f"{name} is not valid Base64", "base64", region))
        return None


def _read_mask(
    data: bytes, name: str, region: int | None, size: tuple[int, int] | None, problems: list[Problem]
) -> np.ndarray | None:
    """A mask image to booleans (painted where bright and opaque); None with a problem if unusable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = im.format or "?"
            if size is not None and im.size != size:
                problems.append(
                    _error(
                        f"{name} is {im.width}x{im.height} but the image is {size[0]}x{size[1]}; "
                        "Kling needs every mask at the image's resolution",
                        "mask-size",
                        region,
                    )
                )
                return None
            if im.width * im.height > MAX_PIXELS:
                raise ValueError("too large")
            im.load()
            if im.mode in ("1", "L"):
                mask = np.asarray(im.convert("L")) >= 128
            elif "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info):
                rgba = np.asarray(im.convert("RGBA"))
                mask = from_png_mask(rgba[..., :3]) & (rgba[..., 3] >= 128)
            else:
                mask = from_png_mask(np.asarray(im.convert("RGB")))
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        problems.append(_error(f"{name} is not a readable image", "image-decode", region))
        return None
    if fmt not in IMAGE_FORMATS:
        problems.append(_error(f"{name} is {fmt}; Kling accepts JPEG or PNG masks", "mask-format", region))
    return mask


def _read_region(
    entry: object, number: int, base_dir: Path | None, size: tuple[int, int] | None, problems: list[Problem]
) -> RequestRegion:
    """One `dynamic_masks` entry: its mask and its trajectory converted to image pixels."""
    ref = f"region {number}"
    key = f"dynamic_masks[{number - 1}]"
    region = RequestRegion(None, [])
    if not isinstance(entry, dict):
        problems.append(_error(f"{ref}: {key} must be an object, not {json_type(entry)}", "field-type", number))
        region.points = None
        return region
    if entry.get("mask") is None:
        problems.append(_error(f"{ref}: {key} has no mask", "field-type", number))
    else:
        fallback = (f"dynamic_mask_{number}.png",)
        data = _field_bytes(entry["mask"], f"{ref}: {key}.mask", number, base_dir, fallback, problems)
        if data is not None:
            region.mask = _read_mask(data, f"{ref}: {key}.mask", number, size, problems)
    raw = entry.get("trajectories")
    if raw is None:
        return region
    if not isinstance(raw, list):
        problems.append(_error(f"{ref}: {key}.trajectories must be a list, not {json_type(raw)}", "field-type", number))
        return region
    not_integer = None
    for i, p in enumerate(raw):
        ok = isinstance(p, dict) and is_number(p.get("x")) and is_number(p.get("y"))
        if not ok or abs(p["x"]) > COORD_LIMIT or abs(p["y"]) > COORD_LIMIT:
            shown = repr(p) if len(repr(p)) <= 40 else repr(p)[:37] + "..."
            problems.append(
                _error(
                    f'{ref}: {key}.trajectories[{i}] must be {{"x": int, "y": int}} in pixels, not {shown}',
                    "field-type",
                    number,
                )
            )
            region.points = None
            return region
        if not_integer is None and not (isinstance(p["x"], int) and isinstance(p["y"], int)):
            not_integer = i
    if not_integer is not None:
        p = raw[not_integer]
        problems.append(
            _error(
                f"{ref}: trajectory point {not_integer + 1} ({p['x']}, {p['y']}) is not in whole pixels; "
                "Kling wants integers",
                "trajectory-integer",
                number,
            )
        )
    height = size[1] if size is not None else 0
    region.points = from_kling(raw, height)
    return region


def _overlap_problems(content: RequestContent) -> list[Problem]:
    """Every pair of masks sharing pixels (dynamic with dynamic, dynamic with static), named both ways."""
    named: list[tuple[str, int | None, np.ndarray]] = []
    if content.static is not None:
        named.append(("the static mask", None, content.static))
    named += [(f"region {n}", n, r.mask) for n, r in enumerate(content.regions, 1) if r.mask is not None]
    boxes = [bbox_of(mask) for _, _, mask in named]
    out: list[Problem] = []
    for j in range(len(named)):
        for i in range(j):
            a, b = boxes[i], boxes[j]
            if a is None or b is None:
                continue
            y0, y1, x0, x1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
            if y0 >= y1 or x0 >= x1:
                continue
            shared = int(np.count_nonzero(named[i][2][y0:y1, x0:x1] & named[j][2][y0:y1, x0:x1]))
            if shared:
                first, second = sorted((named[i], named[j]), key=lambda t: t[1] is None)
                out.append(
                    _error(
                        f"{first[0]} and {second[0]} overlap ({shared} pixels); a pixel may belong to one region only",
                        "mask-overlap",
                        first[1],
                    )
                )
    return out
