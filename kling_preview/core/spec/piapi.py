"""PiAPI's Kling task: one colour-coded composite mask and trajectories in top-left image pixels.

PiAPI does not take Kling's body. Its task (`POST https://api.piapi.ai/api/v1/task`, header `x-api-key`)
wraps the settings in `input` and names the model by `version`; the motion brush is one PNG in which
each area has its own colour (`motion_brush.mask_url`) plus one `points` list per dynamic area, with the
origin at the top-left corner. What is known of it comes from PiAPI's own published motion-brush tool,
github.com/apinetwork/kling-api-video-motion-brush-tool, app.py: `send_to_api` (the body) and
`generate_mask_and_path` (the composite and its points). Only one dynamic area is shown there; the
colours of further areas are Kling Preview's choice, all in `DYNAMIC_COLOURS` (docs/kling-api.md says
which is which).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidError
from ..project import Project

PIAPI_URL = "https://api.piapi.ai/api/v1/task"
#: The composite mask's file in the export folder (its URL goes in `motion_brush.mask_url`).
MASK_FILE = "motion_brush_mask.png"
#: Kling model name -> PiAPI's `version` (PiAPI's tool sends "1.0" for kling-v1).
VERSIONS = {"kling-v1": "1.0", "kling-v1-5": "1.5", "kling-v1-6": "1.6"}
#: Colour of dynamic area n (n = 1..6) in the composite, opaque, in `dynamic_masks` order. The first
#: is the green PiAPI's tool paints its dynamic area with; the others are ours, far from it and from
#: each other in every channel pair so no resampling mixes one into another.
DYNAMIC_COLOURS: tuple[tuple[int, int, int], ...] = (
    (114, 229, 40),
    (40, 114, 229),
    (229, 40, 114),
    (229, 200, 40),
    (40, 229, 210),
    (160, 40, 229),
)
#: The static area: opaque black, which is what PiAPI's tool leaves where its static layer is painted
#: (its `black_mask`). Everything else is transparent, as on that tool's canvas.
STATIC_COLOUR = (0, 0, 0)
#: RGBA of pixels in no area: fully transparent white, the canvas PiAPI's tool starts from.
BACKGROUND = (255, 255, 255, 0)


def piapi_version(model_name: str) -> str:
    """PiAPI's `version` for a Kling model; InvalidError for a model PiAPI has no version for."""
    version = VERSIONS.get(model_name)
    if version is None:
        known = ", ".join(VERSIONS)
        raise InvalidError(f"piapi has no Kling version for {model_name} (it takes {known})")
    return version


def composite_mask(project: Project) -> np.ndarray:
    """The (height, width, 4) RGBA composite: static area and each region in its colour, rest clear."""
    rgba = np.empty((project.image.height, project.image.width, 4), dtype=np.uint8)
    rgba[...] = BACKGROUND
    rgba[project.static_mask] = (*STATIC_COLOUR, 255)
    for region, colour in zip(project.regions, DYNAMIC_COLOURS):
        rgba[project.mask(region.label)] = (*colour, 255)
    return rgba


def top_left(kling_points: list[dict[str, int]], height: int) -> list[dict[str, int]]:
    """Kling's integer points (bottom-left origin) in top-left image pixels, as PiAPI reads them."""
    return [{"x": p["x"], "y": height - p["y"]} for p in kling_points]


def task_body(
    kling: dict[str, Any],
    tracks: list[list[dict[str, int]]],
    image_uri: str,
    mask_uri: str | None,
    height: int,
) -> dict[str, Any]:
    """PiAPI's task for a Kling body; `mask_uri` is None when the project has no masks (no motion brush)."""
    task_input: dict[str, Any] = {
        "prompt": kling["prompt"],
        "negative_prompt": kling["negative_prompt"],
        "cfg_scale": kling["cfg_scale"],
        "duration": int(kling["duration"]),
        "image_url": image_uri,
        "mode": kling["mode"],
        "version": piapi_version(str(kling["model_name"])),
    }
    if mask_uri is not None:
        task_input["motion_brush"] = {
            "mask_url": mask_uri,
            # PiAPI's tool always sends one static entry with no points; the static area is in the mask.
            "static_masks": [{"points": []}],
            "dynamic_masks": [{"points": top_left(points, height)} for points in tracks],
        }
    return {"model": "kling", "task_type": "video_generation", "input": task_input}


def has_masks(project: Project) -> bool:
    """Whether the project uses the motion brush at all (a static area or a region)."""
    return bool(project.regions) or bool(project.static_mask.any())
