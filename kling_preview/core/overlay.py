"""A still that shows what Kling will receive: masks tinted, static area hatched, paths as arrows.

Written once for the export bundle's overlay.png and the app's check view, so both show the same thing.
Tinting goes through a colour lookup on the label map in row bands, so a 50 MP photo needs no
full-size float copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .masks import STATIC
from .project import Project, Region

#: Opacity of a region's tint, out of 256.
_TINT = 140
_STATIC_TINT = 120
_STATIC_GREY = (150, 150, 150)
_HATCH = (60, 60, 60)
_OUTLINE = (0, 0, 0)
_BAND = 512  # rows tinted per step
_SHIFT = 4  # sub-pixel bits for cv2 drawing


def render_overlay(project: Project, max_side: int | None = None) -> np.ndarray:
    """RGB uint8 image of the project's masks and trajectories; at most `max_side` px on the long side."""
    pixels = project.image.pixels
    labels = project.labels
    height, width = labels.shape
    scale = 1.0
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        base = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        labels = np.asarray(cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST), dtype=np.uint8)
    else:
        base = pixels.copy()
    thick = max(2, round(max(base.shape[:2]) / 400))
    out = _tint(base, labels, project.regions, thick)
    for region in project.regions:
        _outline(out, labels == region.label, region.color, thick)
    _outline(out, labels == STATIC, _STATIC_GREY, thick)
    for number, region in enumerate(project.regions, 1):
        # Whole pixels, as Kling receives them (and so an imported export draws the same picture).
        points = np.round(np.asarray(region.trajectory, dtype=np.float64).reshape(-1, 2)) * scale
        _arrow(out, points, region.color, thick, number)
    return out


def _tint(base: np.ndarray, labels: np.ndarray, regions: Sequence[Region], thick: int) -> np.ndarray:
    colors = np.zeros((256, 3), dtype=np.uint16)
    alpha = np.zeros(256, dtype=np.uint16)
    for region in regions:
        colors[region.label] = region.color
        alpha[region.label] = _TINT
    colors[STATIC] = _STATIC_GREY
    alpha[STATIC] = _STATIC_TINT
    spacing, stripe = 6 * thick, thick
    out = base
    cols = np.arange(labels.shape[1])
    for y0 in range(0, labels.shape[0], _BAND):
        lab = labels[y0 : y0 + _BAND]
        if not lab.any():
            continue
        a = alpha[lab][..., None]
        band = (out[y0 : y0 + _BAND].astype(np.uint16) * (256 - a) + colors[lab] * a) >> 8
        static = lab == STATIC
        if static.any():
            rows = np.arange(y0, y0 + lab.shape[0])
            hatch = ((rows[:, None] + cols[None, :]) % spacing) < stripe
            band[static & hatch] = _HATCH
        out[y0 : y0 + _BAND] = band.astype(np.uint8)
    return out


def _outline(out: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], thick: int) -> None:
    if not mask.any():
        return
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in color), max(1, thick // 2), cv2.LINE_AA)


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * (1 << _SHIFT)).astype(np.int32)


def _arrow(out: np.ndarray, points: np.ndarray, color: tuple[int, int, int], thick: int, number: int) -> None:
    """The path as a line with a dot per point (its timing), a disc at the start and a head at the end."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return
    color = (int(color[0]), int(color[1]), int(color[2]))
    pts = _fixed(points)
    if len(points) > 1:
        cv2.polylines(out, [pts], False, _OUTLINE, thick + 2, cv2.LINE_AA, _SHIFT)
        cv2.polylines(out, [pts], False, color, thick, cv2.LINE_AA, _SHIFT)
        for p in pts[1:-1]:
            cv2.circle(
                out,
                tuple(int(v) for v in p),
                max(1, thick // 2 + 1) << _SHIFT,
                (255, 255, 255),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
        head = _head(points, 4 * thick + 6)
        if head is not None:
            tri = _fixed(head)
            cv2.polylines(out, [tri], True, _OUTLINE, 2, cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(out, [tri], color, cv2.LINE_AA, _SHIFT)
    start = tuple(int(v) for v in pts[0])
    cv2.circle(out, start, (2 * thick + 1) << _SHIFT, _OUTLINE, -1, cv2.LINE_AA, _SHIFT)
    cv2.circle(out, start, (2 * thick) << _SHIFT, color, -1, cv2.LINE_AA, _SHIFT)
    x, y = (int(v) for v in points[0])
    org = (x + 2 * thick + 3, y - 2 * thick - 3)
    font_scale = 0.35 * thick
    cv2.putText(out, str(number), org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, _OUTLINE, thick + 2, cv2.LINE_AA)
    cv2.putText(out, str(number), org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, color, max(1, thick // 2), cv2.LINE_AA)


def _head(points: np.ndarray, length: float) -> np.ndarray | None:
    """Triangle of an arrowhead at the last point, pointing along the last `length` px of the path."""
    tip = points[-1]
    for p in points[-2::-1]:
        if np.hypot(*(tip - p)) >= length:
            back = p
            break
    else:
        back = points[0]
    d = tip - back
    norm = float(np.hypot(*d))
    if norm < 1e-6:
        return None
    d /= norm
    perp = np.array([-d[1], d[0]])
    base = tip - d * length
    return np.array([tip, base + perp * length * 0.5, base - perp * length * 0.5])
