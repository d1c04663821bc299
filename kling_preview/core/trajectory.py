"""Trajectories: resampling at constant speed, timing, and the one conversion to Kling coordinates.

Inside the program a point is `(x, y)` in image pixels, top-left origin, floats. Kling wants integer
pixels with the origin at the bottom-left corner; `to_kling` / `from_kling` are the only place that
knows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]

MIN_POINTS = 2
MAX_POINTS = 77


def as_array(points: Sequence[Sequence[float]]) -> np.ndarray:
    """An (n, 2) float64 array of points."""
    arr = np.asarray(points, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be pairs (x, y)")
    return arr


def arc_length(points: Sequence[Sequence[float]]) -> float:
    """Length of the polyline in pixels."""
    arr = as_array(points)
    if len(arr) < 2:
        return 0.0
    return float(np.hypot(*np.diff(arr, axis=0).T).sum())


def resample(points: Sequence[Sequence[float]], n: int) -> list[Point]:
    """`n` points evenly spaced along the polyline's arc length (so a clip moves at constant speed).

    The first and last points are kept exactly. A polyline of zero length gives `n` copies of its point.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    arr = as_array(points)
    if len(arr) == 0:
        raise ValueError("cannot resample an empty trajectory")
    if len(arr) == 1 or n == 1:
        return [tuple(map(float, arr[0]))] * n  # type: ignore[list-item]
    seg = np.hypot(*np.diff(arr, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total <= 0:
        return [tuple(map(float, arr[0]))] * n  # type: ignore[list-item]
    targets = np.linspace(0.0, total, n)
    xs = np.interp(targets, cum, arr[:, 0])
    ys = np.interp(targets, cum, arr[:, 1])
    xs[0], ys[0] = arr[0]
    xs[-1], ys[-1] = arr[-1]
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


def fit_to_limit(points: Sequence[Sequence[float]], max_points: int = MAX_POINTS) -> list[Point]:
    """A drawn path with more than `max_points` points, resampled down to `max_points`; else unchanged."""
    arr = as_array(points)
    if len(arr) <= max_points:
        return [(float(x), float(y)) for x, y in arr]
    return resample([(float(x), float(y)) for x, y in arr], max_points)


def position_at(points: Sequence[Sequence[float]], u: float) -> Point:
    """Where the trajectory is at normalised time `u` in [0, 1]; points are evenly spaced in time."""
    arr = as_array(points)
    if len(arr) == 0:
        raise ValueError("empty trajectory")
    if len(arr) == 1:
        return float(arr[0, 0]), float(arr[0, 1])
    s = min(max(u, 0.0), 1.0) * (len(arr) - 1)
    i = min(int(s), len(arr) - 2)
    f = s - i
    p = arr[i] * (1 - f) + arr[i + 1] * f
    return float(p[0]), float(p[1])


def offset_at(points: Sequence[Sequence[float]], u: float) -> Point:
    """Displacement from the start at time `u`: d(u) = P(u) - P(0)."""
    x, y = position_at(points, u)
    x0, y0 = as_array(points)[0]
    return x - float(x0), y - float(y0)


def to_kling(points: Sequence[Sequence[float]], height: int) -> list[dict[str, int]]:
    """Image pixels (top-left origin, float) to Kling's integer pixels with bottom-left origin."""
    return [{"x": int(round(x)), "y": int(height - round(y))} for x, y in as_array(points)]


def from_kling(points: Sequence[dict[str, float]], height: int) -> list[Point]:
    """Kling `[{x, y}]` (bottom-left origin) back to image pixels (top-left origin)."""
    return [(float(p["x"]), float(height - p["y"])) for p in points]


def scale_points(points: Sequence[Sequence[float]], sx: float, sy: float) -> list[Point]:
    """Points of an image resized by (sx, sy)."""
    return [(float(x) * sx, float(y) * sy) for x, y in as_array(points)]
