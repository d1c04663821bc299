"""Trajectory files of other tools, in top-left image pixels: ComfyUI-KJNodes and Wan 2.1 ATI.

KJNodes' SplineEditor emits `coordinates`: a JSON list of {"x", "y"} (one spline) or a list of such
lists, often as a JSON string inside the workflow, or under a "coordinates" key. Wan ATI takes the same
list-of-lists shape with one point per frame, 121 frames. Reading accepts all of these shapes; writing
ATI resamples each track at constant speed to 121 points, matching how Kling spaces points in time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidError, SpecError
from ..fileio import atomic_write_bytes
from ..projectfile import COORD_LIMIT
from ..trajectory import Point, resample
from .kling import loads_json, read_json
from .rules import is_number, json_type

#: Points per ATI track (frames of a Wan 2.1 clip).
ATI_POINTS = 121


def read_tracks(path: str | Path) -> list[list[Point]]:
    """Tracks of a KJNodes `coordinates` file or a Wan ATI tracks file; SpecError names the file."""
    path = Path(path)
    return _tracks(read_json(path, "a trajectory file"), path, nested=False)


def _tracks(data: Any, path: Path, nested: bool) -> list[list[Point]]:
    if isinstance(data, str) and not nested:
        # KJNodes stores the coordinates as a JSON string; some copies use single quotes.
        try:
            inner = loads_json(data, str(path))
        except SpecError:
            inner = loads_json(data.replace("'", '"'), str(path))
        return _tracks(inner, path, nested=True)
    if isinstance(data, dict) and "coordinates" in data:
        return _tracks(data["coordinates"], path, nested=False)
    if not isinstance(data, list):
        raise SpecError(
            f'{path}: expected a list of {{"x", "y"}} points, a list of such lists, or "coordinates"; '
            f"found {json_type(data)}"
        )
    if not data:
        return []
    if all(isinstance(item, dict) for item in data):
        return [_track(data, path, None)]
    if all(isinstance(item, list) for item in data):
        return [_track(item, path, i) for i, item in enumerate(data, 1)]
    if all(isinstance(item, str) for item in data) and not nested:
        # One JSON string per spline, as ComfyUI passes a list of STRING outputs.
        return [t for item in data for t in _tracks(item, path, nested=False)]
    raise SpecError(f"{path}: mixes points and lists of points; expected one or the other")


def _track(items: list[Any], path: Path, number: int | None) -> list[Point]:
    where = f"track {number}, " if number is not None else ""
    if not items:
        raise SpecError(f"{path}: {f'track {number}' if number is not None else 'the track'} has no points")
    points: list[Point] = []
    for i, p in enumerate(items, 1):
        if not (isinstance(p, dict) and is_number(p.get("x")) and is_number(p.get("y"))):
            raise SpecError(f'{path}: {where}point {i} must be {{"x": number, "y": number}}, not {_short(p)}')
        # Compared before float(): a huge JSON integer does not fit a float.
        if not all(abs(p[k]) <= COORD_LIMIT for k in "xy"):  # NaN fails this too
            raise SpecError(f"{path}: {where}point {i} ({p['x']}, {p['y']}) is not a pixel position")
        points.append((float(p["x"]), float(p["y"])))
    return points


def _short(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _coord(v: float) -> int | float:
    v = round(float(v), 3)
    return int(v) if v.is_integer() else v


def _checked(path: Path, tracks: Sequence[Sequence[Sequence[float]]]) -> list[list[Point]]:
    out = []
    for i, track in enumerate(tracks, 1):
        points = [(float(x), float(y)) for x, y in track]
        if not points:
            raise InvalidError(f"{path}: track {i} has no points")
        if not all(math.isfinite(x) and math.isfinite(y) for x, y in points):
            raise InvalidError(f"{path}: track {i} has a point that is not a number")
        out.append(points)
    return out


def _dumps(tracks: list[list[Point]], flat: bool) -> bytes:
    lists = [[{"x": _coord(x), "y": _coord(y)} for x, y in t] for t in tracks]
    if flat:
        return (json.dumps(lists[0]) + "\n").encode("utf-8")
    if not lists:
        return b"[]\n"
    return ("[\n" + ",\n".join("  " + json.dumps(t) for t in lists) + "\n]\n").encode("utf-8")


def write_kjnodes(path: str | Path, tracks: Sequence[Sequence[Sequence[float]]]) -> None:
    """KJNodes `coordinates`: one track as a flat list, several as a list of lists (atomic write)."""
    path = Path(path)
    checked = _checked(path, tracks)
    atomic_write_bytes(path, _dumps(checked, flat=len(checked) == 1))


def write_ati(path: str | Path, tracks: Sequence[Sequence[Sequence[float]]]) -> None:
    """Wan ATI tracks: every track resampled at constant speed to 121 points (atomic write)."""
    path = Path(path)
    checked = _checked(path, tracks)
    atomic_write_bytes(path, _dumps([resample(t, ATI_POINTS) for t in checked], flat=False))
