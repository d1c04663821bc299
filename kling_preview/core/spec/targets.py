"""Request bodies for the hosted front doors to Kling's motion brush: fal, AIMLAPI and PiAPI.

Both rename Kling's fields and take images as URLs, which may be `data:` URIs (nothing is uploaded by
Kling Preview): `image_url`, `static_mask_url`, `dynamic_masks[].mask_url`. The trajectories stay
Kling's own (bottom-left origin, integer pixels, relative to nothing but the image). fal picks model
and mode through the endpoint, so the body carries neither; AIMLAPI names the same choice in `model`
and wants `duration` as an integer. Documented schemas: fal.ai/models/fal-ai/kling-video/v1/standard/
image-to-video (and v1/pro, v1.5/pro); docs.aimlapi.com, Kling "image-to-video". PiAPI's task is
another shape altogether (one colour-coded mask, top-left points): piapi.py builds it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidError
from ..exportfolder import publish_folder
from ..images import encode_png
from ..overlay import render_overlay
from ..project import Project
from . import piapi, rules
from .kling import ExportRefused, _parts, dumps_tracks

#: Targets `export --target` writes; "kling" is the native bundle of kling.py.
TARGETS = ("kling", "fal", "aimlapi", "piapi")
#: (model_name, mode) -> the path both services name the motion-brush model by.
_PATHS = {
    ("kling-v1", "std"): "kling-video/v1/standard/image-to-video",
    ("kling-v1", "pro"): "kling-video/v1/pro/image-to-video",
    ("kling-v1-5", "pro"): "kling-video/v1.5/pro/image-to-video",
}
#: Files an earlier export to the same folder may leave stale (removed when not rewritten).
FAL_BASE = "https://queue.fal.run/fal-ai/"
AIMLAPI_URL = "https://api.aimlapi.com/v2/generate/video/kling/generation"


def data_uri(data: bytes, ext: str) -> str:
    """A `data:` URI for an image file (fal and AIMLAPI accept it wherever they take a URL)."""
    mime = "image/jpeg" if ext in ("jpg", "jpeg") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def model_path(model_name: str, mode: str, target: str) -> str:
    """The fal endpoint / AIMLAPI model for a Kling model and mode; InvalidError when it has none."""
    path = _PATHS.get((model_name, mode))
    if path is None:
        offered = ", ".join(f"{m} {o}" for m, o in _PATHS)
        raise InvalidError(f"{target} has no motion-brush endpoint for {model_name} {mode} (it offers {offered})")
    return path


def target_request(project: Project, target: str) -> tuple[dict[str, Any], str, dict[str, bytes]]:
    """(body, where to send it, the image and mask files) for `target` ("fal", "aimlapi" or "piapi")."""
    if target not in TARGETS[1:]:
        raise InvalidError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if target == "piapi":
        return _piapi_request(project)
    kling, files, _tracks = _parts(project)
    path = model_path(str(kling["model_name"]), str(kling["mode"]), target)
    image_name = next(name for name in files if name.startswith("image."))
    body: dict[str, Any] = {}
    if target == "aimlapi":
        body["model"] = path
    body["prompt"] = kling["prompt"]
    body["negative_prompt"] = kling["negative_prompt"]
    body["cfg_scale"] = kling["cfg_scale"]
    body["duration"] = int(kling["duration"]) if target == "aimlapi" else kling["duration"]
    body["image_url"] = data_uri(files[image_name], image_name.rsplit(".", 1)[1])
    if "static_mask.png" in files:
        body["static_mask_url"] = data_uri(files["static_mask.png"], "png")
    if "dynamic_masks" in kling:
        body["dynamic_masks"] = [
            {"mask_url": data_uri(files[f"dynamic_mask_{n}.png"], "png"), "trajectories": entry["trajectories"]}
            for n, entry in enumerate(kling["dynamic_masks"], 1)
        ]
    where = FAL_BASE + path if target == "fal" else AIMLAPI_URL
    return body, where, files


def _piapi_request(project: Project) -> tuple[dict[str, Any], str, dict[str, bytes]]:
    """PiAPI's task, with the image and the composite mask as `data:` URIs (PiAPI wants public URLs)."""
    kling, kling_files, tracks = _parts(project)
    image_name = next(name for name in kling_files if name.startswith("image."))
    files = {image_name: kling_files[image_name]}
    mask_uri: str | None = None
    if piapi.has_masks(project):
        files[piapi.MASK_FILE] = encode_png(piapi.composite_mask(project))
        mask_uri = data_uri(files[piapi.MASK_FILE], "png")
    image_uri = data_uri(files[image_name], image_name.rsplit(".", 1)[1])
    body = piapi.task_body(kling, tracks, image_uri, mask_uri, project.image.height)
    return body, piapi.PIAPI_URL, files


def _endpoint_text(target: str, where: str) -> str:
    """endpoint.txt: where to POST, and for PiAPI the key header and the files to upload first."""
    text = f"POST {where}\n"
    if target == "piapi":
        text += (
            "Header: x-api-key: <your PiAPI key>\n"
            "PiAPI expects public URLs in input.image_url and input.motion_brush.mask_url, not the data: URIs\n"
            f"written here: upload this folder's image and {piapi.MASK_FILE} to a public image host and put\n"
            "their URLs in those two fields (see docs/kling-api.md, PiAPI).\n"
        )
    return text


def export_target(
    project: Project,
    out_dir: Path,
    target: str,
    *,
    allow_model: bool = False,
    extra: Mapping[str, bytes] | None = None,
) -> list[rules.Problem]:
    """Write `target`'s bundle: request.json (its body), endpoint.txt, the image, masks, overlay and `extra`.

    Validation is Kling's (the services forward to it); errors refuse with ExportRefused, as export does.
    """
    problems = rules.validate_project(project, allow_model=allow_model)
    if any(p.severity == "error" for p in problems):
        raise ExportRefused(problems)
    body, where, files = target_request(project, target)
    files = {**(extra or {}), **files}
    if target == "piapi":  # the points as PiAPI reads them: top-left origin
        tracks = [entry["points"] for entry in body["input"].get("motion_brush", {}).get("dynamic_masks", [])]
    else:
        tracks = [entry["trajectories"] for entry in body.get("dynamic_masks", [])]
    files["trajectories.json"] = dumps_tracks(tracks).encode("utf-8")
    files["overlay.png"] = encode_png(render_overlay(project))
    files["endpoint.txt"] = _endpoint_text(target, where).encode()
    files["request.json"] = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    publish_folder(files, Path(out_dir))
    return [p for p in problems if p.severity == "warning"]
