"""Trajectory files of other tools, in top-left image pixels: ComfyUI-KJNodes, ComfyUI's ATI node, ATI.

KJNodes' SplineEditor emits `coordinates`: a JSON list of {"x", "y"} (one spline) or a list of such
lists, often as a JSON string inside the workflow, or under a "coordinates" key; its widget keeps
`points_store`. ComfyUI's ATI node takes the same list-of-lists shape with one point per frame, 121
frames ("ati-json"; it carries no resolution). ATI's own loader reads the `.pth` of `ati.py`.
Reading accepts all of these (see `read_track_file`); `write_track_file` writes each format.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..edits import ImportTracks, fit_tracks
from ..errors import InvalidError, SpecError, UnreadableError
from ..fileio import atomic_write_bytes
from ..limits import MAX_TRACK_FILE_BYTES, read_input_file
from ..project import MAX_REGIONS, Project
from ..projectfile import COORD_LIMIT
from ..trajectory import MAX_POINTS, Point, resample, scale_points
from . import ati, kjnodes
from .kling import loads_json
from .rules import is_number, json_type

#: Points per ATI track (frames of a Wan 2.1 clip).
ATI_POINTS = 121


@dataclass
class TrackFile:
    """Tracks read from a file; `space` is the canvas size (w, h) their pixels refer to, when the file says."""

    tracks: list[list[Point]]
    space: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)


def read_tracks(path: str | Path) -> list[list[Point]]:
    """Tracks of any trajectory file `read_track_file` reads; SpecError names the file."""
    return read_track_file(path).tracks


def read_track_file(path: str | Path) -> TrackFile:
    """ATI `.pth`, KJNodes coordinates (JSON or text, single-quoted or not), a SplineEditor `points_store`,
    or a ComfyUI workflow holding a SplineEditor node."""
    path = Path(path)
    try:
        raw = read_input_file(path, MAX_TRACK_FILE_BYTES, "trajectory file")
    except UnreadableError as exc:
        raise SpecError(str(exc)) from None
    if ati.is_torch_zip(raw):
        return TrackFile(ati.read_ati_pth(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a trajectory file (neither UTF-8 text nor an ATI .pth)") from None
    data = _loads_lenient(text, path)
    if kjnodes.is_workflow(data):
        source = kjnodes.spline_editor_source(data)
        if source is None:
            raise SpecError(f"{path}: a ComfyUI workflow without a SplineEditor node holding points")
        notes = [f"{path.name}: {n}" for n in source.notes]
        return TrackFile(_tracks(source.data, path, nested=False), source.space, notes)
    return TrackFile(_tracks(data, path, nested=False))


def _loads_lenient(text: str, path: Path) -> Any:
    """JSON, or failing that the same text with ' as " (what every KJNodes parser does first)."""
    try:
        return loads_json(text, str(path))
    except SpecError as first:
        if "'" not in text:
            raise
        try:
            return loads_json(text.replace("'", '"'), str(path))
        except SpecError:
            raise first from None


def _tracks(data: Any, path: Path, nested: bool) -> list[list[Point]]:
    if isinstance(data, str) and not nested:
        # KJNodes stores the coordinates as a JSON string; some copies use single quotes.
        return _tracks(_loads_lenient(data, path), path, nested=True)
    if isinstance(data, dict) and "coordinates" in data:
        return _tracks(data["coordinates"], path, nested=False)
    if isinstance(data, list) and (splines := kjnodes.splines_to_lists(data)) is not None:
        return [
            _track(item, path, i) if isinstance(item, list) else _not_list(path, i) for i, item in enumerate(splines, 1)
        ]
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


def _not_list(path: Path, number: int) -> list[Point]:
    raise SpecError(f'{path}: spline {number} "points" must be a list of {{"x", "y"}} points')


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


# ----- every format, by name ----------------------------------------------------------------------

#: Formats `write_track_file` writes: what each is for.
FORMATS: dict[str, str] = {
    "ati": "ATI's native .pth (torch.save of an NPZ), read by bytedance/ATI's own loader",
    "ati-json": "ComfyUI's ATI node: JSON, 121 points per track (set the node's width and height to the image's)",
    "kjnodes": "KJNodes coordinates: every track resampled to the same point count, one point per frame",
    "kjnodes-spline": "KJNodes SplineEditor points_store: one spline of control points per track",
}
_BY_SUFFIX = {".pth": "ati", ".json": "kjnodes", ".txt": "kjnodes"}


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format to write: `fmt` if given, else the one the file extension names (InvalidError if none)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidError(f"unknown trajectory format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _BY_SUFFIX:
        raise InvalidError(f"{path}: cannot tell the format from the extension; add --format ({', '.join(FORMATS)})")
    return _BY_SUFFIX[suffix]


def write_track_file(
    path: str | Path,
    tracks: Sequence[Sequence[Sequence[float]]],
    fmt: str,
    *,
    points: int | None = None,
    frames: int | None = None,
) -> None:
    """Write `tracks` (top-left image pixels) in `fmt` (atomic).

    `points` is how many points each track has in the file, `frames` how many of them the motion spans
    (the point then holds still). ATI's file always has 121; KJNodes' default is Wan 2.1's 81 frames;
    a spline keeps the region's own control points unless `points` is given.
    """
    path = Path(path)
    checked = _checked(path, tracks)
    if fmt == "ati":
        if points is not None and points != ati.ATI_FRAMES:
            raise InvalidError(f"ATI's loader reads exactly {ati.ATI_FRAMES} points per track, not {points}")
        ati.write_ati_pth(path, checked, frames or ati.ATI_FRAMES)
    elif fmt == "ati-json":
        if (points or ati.ATI_FRAMES) != ati.ATI_FRAMES or frames not in (None, ati.ATI_FRAMES):
            raise InvalidError(f"ComfyUI's ATI node reads exactly {ati.ATI_FRAMES} points per track")
        write_ati(path, checked)
    elif fmt == "kjnodes":
        count = points or kjnodes.DEFAULT_FRAMES
        atomic_write_bytes(path, kjnodes.coordinates_text(checked, count, frames).encode("utf-8"))
    elif fmt == "kjnodes-spline":
        if frames is not None:
            raise InvalidError("--frames does not apply to kjnodes-spline (SplineEditor samples the spline itself)")
        if points is not None and points < 2:
            raise InvalidError(f"a spline needs at least 2 points, not {points}")
        atomic_write_bytes(path, kjnodes.points_store_text(checked, points).encode("utf-8"))
    else:
        raise InvalidError(f"unknown trajectory format {fmt!r}; choose one of {', '.join(FORMATS)}")


def image_tracks(found: TrackFile, size: tuple[int, int], label: str) -> tuple[list[list[Point]], list[str]]:
    """The file's tracks in the image's pixels, with its notes: scaled from the file's canvas (a
    SplineEditor's mask_width x mask_height) to the image when the file names one."""
    notes = list(found.notes)
    tracks = found.tracks
    if not tracks:
        raise SpecError(f"{label}: the file holds no trajectory")
    width, height = size
    if found.space is not None and found.space != (width, height):
        sx, sy = width / found.space[0], height / found.space[1]
        tracks = [scale_points(t, sx, sy) for t in tracks]
        notes.append(
            f"{label}: scaled from the spline canvas {found.space[0]}x{found.space[1]} to the image {width}x{height}"
        )
    return tracks, notes


def apply_tracks(project: Project, found: TrackFile, label: str) -> list[str]:
    """Give region i track i (regions added up to Kling's six); returns notes naming `label`.

    Tracks are scaled from the file's canvas to the image when the file names one, and resampled to
    Kling's 77 points when longer; tracks beyond six are left out (a note says which).
    """
    tracks, notes = image_tracks(found, project.size, label)
    fit = fit_tracks(tracks)
    ImportTracks(fit.used).apply(project)  # the app's import, without the undo history
    if fit.shortened:
        notes.append(f"{label}: {fit.shortened} of the trajectories resampled to Kling's {MAX_POINTS} points")
    if fit.left_out:
        notes.append(
            f"{label}: {len(tracks)} trajectories, Kling accepts {MAX_REGIONS}: "
            f"trajectories {MAX_REGIONS + 1} to {len(tracks)} left out"
        )
    return notes


#: Trajectory files an export can add beside its request: file name -> format.
PEER_FILES = {"tracks.pth": "ati", "tracks-kjnodes.json": "kjnodes", "tracks-spline.json": "kjnodes-spline"}


def peer_files(project: Project) -> dict[str, bytes]:
    """The regions' trajectories for ATI and KJNodes (PEER_FILES) as file name -> bytes.

    They go into an export folder with the rest of the bundle, so its manifest lists them and the next
    export may replace them. Regions without a trajectory are left out; none when no region has one.
    """
    tracks = [r.trajectory for r in project.regions if r.trajectory]
    if not tracks:
        return {}
    with tempfile.TemporaryDirectory(prefix="kling-tracks-") as scratch:
        for name, fmt in PEER_FILES.items():
            write_track_file(Path(scratch) / name, tracks, fmt)
        return {name: (Path(scratch) / name).read_bytes() for name in PEER_FILES}
