"""The real photos and hand-traced masks that smart selection is measured on (tests and bench/ share them).

tests/data/selection/README.md says where each photo comes from, its licence and how its masks were traced.
A case's stroke is what a careful user paints: every pixel of the true area at least `margin` pixels from
its edge (the picture's own border is not an edge: a sky can be painted up to it). Its click is the point
deepest inside the true area.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).parent / "data" / "selection"
STROKE_MARGIN = 25  # px at the committed photos' 960 px width


@dataclass(frozen=True)
class Case:
    photo: str  # file stem in DATA
    area: str  # mask name: DATA / f"{photo}_{area}.png"
    snap_iou: float  # the quality bar for snap from the inner stroke
    wand_iou: float | None  # the bar for one wand click, None where the wand is not measured
    avoid: str | None  # an area the wand must not leak into


CASES = (
    Case("evening_glow", "sky", snap_iou=0.9, wand_iou=None, avoid=None),
    Case("evening_glow", "lake", snap_iou=0.8, wand_iou=0.6, avoid="sky"),
)


def photo(name: str, scale: float = 1.0) -> np.ndarray:
    """The photo as RGB, optionally upscaled (bicubic) to stand in for a large original."""
    bgr = cv2.imread(str(DATA / f"{name}.jpg"), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(DATA / f"{name}.jpg")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if scale != 1.0:
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    return rgb


def truth(name: str, area: str, scale: float = 1.0) -> np.ndarray:
    """The hand-traced mask as bool, at the photo's scale."""
    grey = cv2.imread(str(DATA / f"{name}_{area}.png"), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise FileNotFoundError(DATA / f"{name}_{area}.png")
    if scale != 1.0:
        h, w = grey.shape
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    return np.asarray(grey >= 128)


def inner_stroke(mask: np.ndarray, margin: float) -> np.ndarray:
    """The pixels of `mask` more than `margin` px from its edge (the picture's border is not an edge)."""
    return np.asarray(cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5) > margin)


def deepest_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the pixel furthest from the mask's edge and from the picture's border."""
    inside = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return int(x), int(y)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0
