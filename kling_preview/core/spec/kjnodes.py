"""ComfyUI-KJNodes trajectory text: `coordinates` strings, SplineEditor `points_store`, and workflows.

What KJNodes' own code accepts (nodes/curve_nodes.py):
- `parse_json_tracks` (CutAndDragOnPath, CreateShapeImageOnPath...) reads a list of {"x", "y"} as one
  track or a list of such lists, then takes the first track's length as the frame count and indexes
  every track with it: all tracks must have the same number of points, one per frame.
- `CreateShapeMaskOnPath`, `InterpolateCoords` and `PlotCoordinates` take one flat track only.
- Every parser first does `.replace("'", '"')`, so single-quoted text is common in the wild.
- The SplineEditor widget keeps its control points in `points_store`: [{"points", "color", "name"}].
So the writer resamples every track to the same count (one flat list when there is one track), and
the reader accepts all of these, plus a ComfyUI workflow (UI or API format) holding a SplineEditor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidError
from ..trajectory import Point, resample

#: Frames of a Wan 2.1 clip (5 s at 16 fps), what KJNodes' path nodes usually feed: the default length.
DEFAULT_FRAMES = 81
#: SplineEditor's colours for splines 1, 2, ... (its `getSplineColor`).
SPLINE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
#: SplineEditor's inputs in widget order (INPUT_TYPES): positional `widgets_values` follow it.
_SPLINE_WIDGETS = ("points_store", "coordinates", "mask_width", "mask_height")


def _coord(v: float) -> int | float:
    v = round(float(v), 3)
    return int(v) if v.is_integer() else v


def _points(track: Sequence[Sequence[float]]) -> list[dict[str, int | float]]:
    return [{"x": _coord(x), "y": _coord(y)} for x, y in track]


def timed(track: Sequence[Sequence[float]], points: int, frames: int) -> list[Point]:
    """`points` samples, one per frame: constant speed over the first `frames`, then holding still."""
    if points < 2:
        raise InvalidError(f"a KJNodes track needs at least 2 points, not {points}")
    if not 2 <= frames <= points:
        raise InvalidError(f"the motion must span 2 to {points} frames (the track's points), not {frames}")
    moving = resample(track, frames)
    return moving + [moving[-1]] * (points - frames)


def coordinates_text(tracks: Sequence[Sequence[Sequence[float]]], points: int, frames: int | None = None) -> str:
    """KJNodes `coordinates`: every track resampled to `points` (one flat list for a single track)."""
    lists = [_points(timed(t, points, frames or points)) for t in tracks]
    if len(lists) == 1:
        return json.dumps(lists[0]) + "\n"
    return "[\n" + ",\n".join("  " + json.dumps(t) for t in lists) + "\n]\n"


def points_store_text(tracks: Sequence[Sequence[Sequence[float]]], points: int | None = None) -> str:
    """SplineEditor `points_store`: one spline per track (control points, resampled to `points` if given)."""
    splines = [
        {
            "points": _points(resample(t, points) if points else t),
            "color": SPLINE_COLORS[i % len(SPLINE_COLORS)],
            "name": f"Spline {i + 1}",
        }
        for i, t in enumerate(tracks)
    ]
    return json.dumps(splines) + "\n"


# ----- reading ------------------------------------------------------------------------------------


@dataclass
class SplineSource:
    """Track data found in a workflow or points_store, and the canvas size its pixels refer to."""

    data: Any
    space: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _from_inputs(values: dict[str, Any], where: str) -> SplineSource | None:
    coords, store = values.get("coordinates"), values.get("points_store")
    width, height = _int(values.get("mask_width")), _int(values.get("mask_height"))
    space = (width, height) if width and height else None
    if isinstance(coords, str) and coords.strip():
        return SplineSource(coords, space, [f"{where}: read its sampled coordinates"])
    if isinstance(store, str) and store.strip():
        return SplineSource(store, space, [f"{where}: read its control points (points_store)"])
    return None


def spline_editor_source(workflow: dict[str, Any]) -> SplineSource | None:
    """The first SplineEditor of a ComfyUI workflow (UI format: "nodes"; API format: id -> class_type)."""
    nodes = workflow.get("nodes")
    if isinstance(nodes, list):
        for node in nodes:
            if isinstance(node, dict) and node.get("type") == "SplineEditor":
                values = node.get("widgets_values")
                if isinstance(values, list):
                    values = dict(zip(_SPLINE_WIDGETS, values))
                if isinstance(values, dict):
                    found = _from_inputs(values, f"SplineEditor node {node.get('id', '?')}")
                    if found:
                        return found
        return None
    for key, node in workflow.items():
        if isinstance(node, dict) and node.get("class_type") == "SplineEditor" and isinstance(node.get("inputs"), dict):
            found = _from_inputs(node["inputs"], f"SplineEditor node {key}")
            if found:
                return found
    return None


def is_workflow(data: object) -> bool:
    """A ComfyUI workflow in either format (so a reader can say "no SplineEditor" rather than "not points")."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("nodes"), list):
        return True
    return bool(data) and all(isinstance(v, dict) and "class_type" in v for v in data.values())


def splines_to_lists(data: list[Any]) -> list[Any] | None:
    """points_store ([{"points": [...], ...}]) as a list of point lists; None when it is not that shape."""
    if data and all(isinstance(s, dict) and "points" in s for s in data):
        return [s["points"] for s in data]
    return None
