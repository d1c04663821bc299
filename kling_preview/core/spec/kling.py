"""Kling's image2video request: build it from a project, export the bundle, import it back.

This is the only module that knows Kling's wire format (Base64 fields, 0/255 PNG masks, bottom-left
integer coordinates through `trajectory.to_kling`). Export and import are written so that
export -> import -> export gives a byte-identical request.json: every value is normalised on the way out
(image bytes chosen deterministically, numbers in one form, keys in a fixed order).
"""

from __future__ import annotations

import base64
import io
import json
import math
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .. import limits, masks
from ..errors import InvalidError, OutputError, SpecError, UnreadableError
from ..exportfolder import publish_folder, recover_folder
from ..images import SourceImage, encode_jpeg, encode_png, strip_jpeg_metadata
from ..overlay import render_overlay
from ..project import CAMERA_AXES, STATIC, CameraMove, KlingSettings, Project
from ..projectfile import NUMBER_LIMIT
from ..trajectory import to_kling
from . import rules
from .rules import REFUSED_RULES, REQUEST_FIELDS, UNREADABLE_RULES, Problem, inspect_request, is_number

#: Quality of the JPEG used when a PNG of the image would be over Kling's size limit.
FALLBACK_JPEG_QUALITY = 92


class ExportRefused(InvalidError):
    """Validation found errors; nothing was written. `problems` holds every finding."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p.message for p in problems if p.severity == "error"]
        super().__init__("\n".join(errors))
        self._lines = errors


# ----- the request --------------------------------------------------------------------------------

_export_cache: tuple[Any, ...] | None = None


def export_image_bytes(image: SourceImage) -> tuple[bytes, str]:
    """The image as Kling receives it: no EXIF/GPS/metadata, and exactly the pixels the user sees.

    An upright JPEG keeps its compressed data (metadata segments dropped, no generation loss, stable
    when repeated); anything else is a PNG of the decoded pixels, or a JPEG if that PNG is too large.
    The last result is cached: the validation panel asks on every edit and encoding a photo is slow.
    """
    global _export_cache
    key = (id(image.data), id(image.pixels), rules.MAX_IMAGE_BYTES)
    cached = _export_cache
    if cached is not None and cached[0]() is image and cached[1] == key:
        hit: tuple[bytes, str] = cached[2]
        return hit
    result = _encode_export_image(image)
    _export_cache = (weakref.ref(image), key, result)
    return result


def _encode_export_image(image: SourceImage) -> tuple[bytes, str]:
    if image.format == "JPEG" and image.exif_orientation in (0, 1):
        try:
            stripped = strip_jpeg_metadata(image.data)
            # Stripping drops APP14 too, which CMYK and RGB-coded JPEGs need: those go the PNG way.
            with Image.open(io.BytesIO(stripped)) as im:
                same = im.mode in ("RGB", "L") and np.array_equal(np.asarray(im.convert("RGB")), image.pixels)
        except (ValueError, OSError, SyntaxError):
            same = False
        if same:
            return stripped, "jpg"
    png = encode_png(image.pixels)
    if len(png) <= rules.MAX_IMAGE_BYTES:
        return png, "png"
    return encode_jpeg(image.pixels, FALLBACK_JPEG_QUALITY), "jpg"


def camera_body(camera: CameraMove) -> dict[str, Any] | None:
    """`camera_control` of a camera move, or None when it does not move."""
    if not camera.active:
        return None
    return {"type": "simple", "config": {camera.axis: _number(camera.value)}}


def _number(value: Any) -> Any:
    """Integral floats as ints, so a value reads back and writes out the same way."""
    if is_number(value) and float(value).is_integer():
        return int(value)
    return float(value) if is_number(value) else value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _mask_png(project: Project, label: int) -> bytes:
    return encode_png(masks.to_png_mask(project.mask(label)))


def _kling_points(project: Project, index: int) -> list[dict[str, int]]:
    region = project.regions[index]
    try:
        return to_kling(region.trajectory, project.image.height)
    except (ValueError, OverflowError):
        ref = rules.region_ref(index + 1, region.name)
        raise InvalidError(f"{ref}: trajectory has a point that is not a number") from None


def _parts(project: Project) -> tuple[dict[str, Any], dict[str, bytes], list[list[dict[str, int]]]]:
    """The request body and the bundle's image and mask files, encoded once."""
    image_bytes, ext = export_image_bytes(project.image)
    files = {f"image.{ext}": image_bytes}
    settings = project.kling
    body: dict[str, Any] = {
        "model_name": settings.model_name,
        "mode": settings.mode,
        "duration": settings.duration,
        "prompt": settings.prompt,
        "negative_prompt": settings.negative_prompt,
        "cfg_scale": float(settings.cfg_scale) if is_number(settings.cfg_scale) else settings.cfg_scale,
        "image": _b64(image_bytes),
    }
    if project.static_mask.any():
        files["static_mask.png"] = _mask_png(project, STATIC)
        body["static_mask"] = _b64(files["static_mask.png"])
    tracks = [_kling_points(project, i) for i in range(len(project.regions))]
    if project.regions:
        body["dynamic_masks"] = []
        for n, (region, points) in enumerate(zip(project.regions, tracks), 1):
            files[f"dynamic_mask_{n}.png"] = _mask_png(project, region.label)
            body["dynamic_masks"].append({"mask": _b64(files[f"dynamic_mask_{n}.png"]), "trajectories": points})
    camera = camera_body(project.camera)
    if camera is not None:
        body["camera_control"] = camera
    for key in sorted(settings.extra):
        body.setdefault(key, settings.extra[key])
    return body, files, tracks


def build_request(project: Project) -> dict[str, Any]:
    """The complete image2video body for `project` (see shared/kling-spec.md)."""
    return _parts(project)[0]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def dumps_request(body: dict[str, Any]) -> str:
    """Deterministic JSON: Kling's fields in a fixed order, other keys sorted, indent 2, final newline."""
    ordered = {k: body[k] for k in REQUEST_FIELDS if k in body}
    ordered.update({k: body[k] for k in sorted(body) if k not in ordered})
    try:
        text = json.dumps({k: _canonical(v) for k, v in ordered.items()}, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise InvalidError(f"the request holds a value JSON cannot carry ({exc})") from None
    return text + "\n"


def dumps_tracks(tracks: list[list[dict[str, int]]]) -> str:
    """trajectories.json: one track per line, `[[{"x": .., "y": ..}, ...], ...]`."""
    if not tracks:
        return "[]\n"
    return "[\n" + ",\n".join("  " + json.dumps(t) for t in tracks) + "\n]\n"


# ----- export -------------------------------------------------------------------------------------


def export_bundle(
    project: Project,
    out_dir: Path,
    *,
    validate: bool = True,
    allow_model: bool = False,
    extra: Mapping[str, bytes] | None = None,
) -> list[Problem]:
    """Write the export folder (request.json, image, masks, trajectories.json, overlay.png, and `extra`).

    Refuses with `ExportRefused` when validation finds errors, and returns the warnings otherwise. All
    or nothing, even if killed: see `exportfolder.publish_folder`. Stale files of an earlier export
    (more regions, another image type) are removed; files the user put in the folder are never replaced.
    """
    out_dir = Path(out_dir)
    problems = rules.validate_project(project, allow_model=allow_model) if validate else []
    if any(p.severity == "error" for p in problems):
        raise ExportRefused(problems)
    body, files, tracks = _parts(project)
    files["trajectories.json"] = dumps_tracks(tracks).encode("utf-8")
    files["overlay.png"] = encode_png(render_overlay(project))
    files["request.json"] = dumps_request(body).encode("utf-8")
    publish_folder({**(extra or {}), **files}, out_dir)
    return [p for p in problems if p.severity == "warning"]


# ----- import -------------------------------------------------------------------------------------


def _camera_from(control: object) -> CameraMove | None:
    """A `camera_control` the project can hold (simple, one moving axis), else None (kept as extra)."""
    if not isinstance(control, dict) or control.get("type") != "simple" or set(control) - {"type", "config"}:
        return None
    config = control.get("config")
    if not isinstance(config, dict) or not config or set(config) - set(CAMERA_AXES):
        return None
    if not all(is_number(v) and abs(v) <= rules.CAMERA_LIMIT for v in config.values()):
        return None  # kept verbatim in extra, where validation reports it
    moving = [(axis, value) for axis, value in config.items() if value != 0]
    if len(moving) != 1:
        return None
    return CameraMove(axis=moving[0][0], value=moving[0][1])


def import_request(
    body: dict[str, Any], *, base_dir: Path | None, label: str, resolve_overlaps: bool = False
) -> tuple[Project, list[str]]:
    """A project from a request body; returns it with warnings (each naming `label`).

    Unreadable parts raise SpecError; what a project cannot hold (7 masks, a mask of another size,
    overlapping masks unless `resolve_overlaps`) raises InvalidError. Other broken rules (a 78-point
    trajectory, a point outside) are kept for validation to report.
    """
    content, problems = inspect_request(body, label, base_dir=base_dir)
    unreadable = [p.message for p in problems if p.rule in UNREADABLE_RULES]
    if unreadable or content.image is None:
        raise SpecError.from_lines([f"{label}: {m}" for m in unreadable or ["image cannot be read"]])
    overlaps = [p.message for p in problems if p.rule == "mask-overlap"]
    refused = [
        p.message for p in problems if p.rule in REFUSED_RULES and not (resolve_overlaps and p.rule == "mask-overlap")
    ]
    if refused:
        raise InvalidError.from_lines([f"{label}: {m}" for m in refused])
    warnings = [f"{label}: {p.message} (removed)" for p in problems if p.rule == "data-prefix"]
    warnings += [f"{label}: {p.message}" for p in problems if p.rule == "url-file"]
    warnings += [f"{label}: {m}; resolved, the later mask wins" for m in overlaps]

    project = Project(content.image)
    if content.static is not None and content.static.any():
        project.set_mask(STATIC, content.static)
    for raw in content.regions:
        region = project.add_region()
        if raw.mask is not None and raw.mask.any():
            project.set_mask(region.label, raw.mask)
        region.trajectory = list(raw.points or [])

    fields = content.fields
    settings = KlingSettings()
    for key in ("model_name", "mode", "duration", "prompt", "negative_prompt"):
        if fields.get(key) is not None:
            setattr(settings, key, fields[key])
    if fields.get("cfg_scale") is not None:
        cfg = fields["cfg_scale"]
        # The same bound the project file keeps, so an imported project can always be saved and reopened.
        if abs(cfg) > NUMBER_LIMIT or not math.isfinite(cfg):  # abs first: math.isfinite(10**400) overflows
            raise SpecError(f"{label}: cfg_scale {str(cfg)[:30]} is not a usable number (Kling accepts 0 to 1)")
        settings.cfg_scale = float(cfg)
    settings.extra = {k: v for k, v in fields.items() if k not in REQUEST_FIELDS}
    camera = _camera_from(fields.get("camera_control"))
    if camera is not None:
        project.camera = camera
    elif fields.get("camera_control") is not None:
        settings.extra["camera_control"] = fields["camera_control"]
        warnings.append(f"{label}: camera_control is kept as it is but not previewed")
    project.kling = settings
    return project, warnings


def read_request_json(path: str | Path) -> tuple[dict[str, Any], Path, str]:
    """Read a request.json (or an export folder's): (body, folder for its files, label for messages)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    try:
        recover_folder(folder)  # an export killed while swapping files is completed first
    except OutputError as exc:
        raise SpecError(str(exc)) from None
    if path.is_dir():
        path = path / "request.json"
        if not path.is_file():
            raise SpecError(f"{folder}: no request.json in this folder")
    body = read_json(path, "JSON")
    if not isinstance(body, dict):
        raise SpecError(f"{path}: not a Kling request (a JSON object was expected, found {rules.json_type(body)})")
    return body, folder, str(path)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def read_json(path: Path, what: str, limit: int = limits.MAX_REQUEST_FILE_BYTES) -> Any:
    """Strict JSON from a UTF-8 file of at most `limit` bytes (type and size checked before reading);
    failures are SpecError naming the file (`what` it should have been)."""
    try:
        text = limits.read_input_file(path, limit, "JSON file").decode("utf-8-sig")
    except UnreadableError as exc:
        raise SpecError(str(exc)) from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not {what} (the file is not UTF-8 text)") from None
    return loads_json(text, str(path))


def loads_json(text: str, label: str) -> Any:
    """Strict JSON (NaN and Infinity refused); failures are SpecError naming `label` and the place."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{label}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise SpecError(f"{label}: not JSON ({exc})") from None


def load_spec(path: str | Path, *, resolve_overlaps: bool = False) -> tuple[Project, list[str]]:
    """A project from a request.json or an export folder (URL fields read from the folder's files)."""
    body, folder, label = read_request_json(path)
    return import_request(body, base_dir=folder, label=label, resolve_overlaps=resolve_overlaps)
