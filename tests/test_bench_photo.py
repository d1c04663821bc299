"""The photo quality benchmark's own measures (bench/bench_quality_photo.py): a known shift across the
path is found, one along it is not counted, and a brightness change is the level range."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from conftest import textured_pixels

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from bench_quality_photo import cross_flow_shift, level_range  # noqa: E402

H, W = 200, 320


def region() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (W // 2, H // 2), (120, 70), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def shifted(pixels: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(pixels, m, (W, H), borderMode=cv2.BORDER_REFLECT_101)


def test_cross_flow_shift_counts_only_the_shift_across_the_path():
    still = textured_pixels(W, H, seed=3)
    inner = region()
    path = ((40.0, 100.0), (280.0, 100.0))  # to the right: across is vertical
    frames = [still, shifted(still, 15, 0), shifted(still, 6, 9)]
    assert abs(cross_flow_shift(frames, still, inner, path) - 9) < 1
    assert cross_flow_shift(frames[:2], still, inner, path) < 1
    diagonal = ((40.0, 40.0), (200.0, 200.0))  # across is (-1, 1) / sqrt 2
    assert abs(cross_flow_shift([shifted(still, -8, 8)], still, inner, diagonal) - 8 * np.sqrt(2)) < 1


def test_level_range_is_the_brightness_swing_inside_the_region():
    still = textured_pixels(W, H, seed=4) // 2 + 40
    inner = region()
    brighter = still.copy()
    brighter[inner] += 10
    outside_only = still.copy()
    outside_only[~inner] += 50
    assert abs(level_range([still, brighter, still], inner) - 10) < 0.5
    assert level_range([still, outside_only], inner) == 0
