"""Smart selection: snap a rough painted area to edges, magic wand that stops at edges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_preview.core.selection import magic_wand, snap

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def noisy(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8), (w, h))
    return np.clip(coarse.astype(np.int16) + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)


def sunset_lake(drift: float = 1.0, h: int = 240, w: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky, a dark shore, and water that mirrors the sky and drifts from blue towards orange along its width.

    `drift` 1.0 goes all the way (about 100 CIELAB ΔE), 0.4 about 45.
    Returns the picture, the sky mask and the water mask (the faint horizon line counts as neither). A flood
    fill from the water that takes the whole water also takes the sky through the gap in the shore.
    """
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, drift, w)[None, :, None]
    blue, orange = np.array([70, 110, 190.0]), np.array([235, 150, 60.0])
    colours = (1 - t) * blue + t * orange
    image = np.repeat(colours, h, axis=0)
    shore = (h * 2 // 5, h * 2 // 5 + 12)
    gap = (w * 3 // 4, w * 3 // 4 + 30)
    image[shore[0] : shore[1], : gap[0]] = (30, 35, 25)
    image[shore[0] : shore[1], gap[1] :] = (30, 35, 25)
    # Where the far shore fades out only a faint darker horizon line parts the sky from its reflection.
    image[shore[0] + 5 : shore[0] + 7, gap[0] : gap[1]] *= 0.7
    image += rng.normal(0, 4, image.shape)  # grain and ripples
    sky = np.zeros((h, w), bool)
    sky[: shore[0]] = True
    water = np.zeros((h, w), bool)
    water[shore[1] :] = True
    water[shore[0] + 7 : shore[1], gap[0] : gap[1]] = True
    sky[shore[0] : shore[0] + 5, gap[0] : gap[1]] = True
    return np.clip(image, 0, 255).astype(np.uint8), sky, water


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1)


# --- properties ---------------------------------------------------------------------------------------


@FAST
@given(
    h=st.integers(8, 90),
    w=st.integers(8, 90),
    seed=st.integers(0, 2**16),
    box=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_snap_is_a_bool_mask_of_the_image_and_deterministic(h, w, seed, box):
    image = noisy(h, w, seed)
    ya, yb = sorted((int(box[0] * h), int(box[1] * h)))
    xa, xb = sorted((int(box[2] * w), int(box[3] * w)))
    scribble = np.zeros((h, w), bool)
    scribble[ya : yb + 1, xa : xb + 1] = True
    out = snap(image, scribble)
    assert out.shape == (h, w) and out.dtype == bool
    assert np.array_equal(out, snap(image, scribble))


@FAST
@given(h=st.integers(1, 700), w=st.integers(1, 700), seed=st.integers(0, 2**16))
def test_full_scribble_selects_the_full_image_and_empty_selects_nothing(h, w, seed):
    image = noisy(h, w, seed)
    assert snap(image, np.ones((h, w), bool)).all()
    empty = snap(image, np.zeros((h, w), bool))
    assert empty.shape == (h, w) and not empty.any()


@FAST
@given(
    h=st.integers(8, 90),
    w=st.integers(8, 90),
    seed=st.integers(0, 2**16),
    x=st.integers(-50, 150),
    y=st.integers(-50, 150),
    tolerance=st.floats(0, 100),
)
def test_wand_selects_a_connected_area_holding_the_click_or_nothing_off_the_image(h, w, seed, x, y, tolerance):
    image = noisy(h, w, seed)
    out = magic_wand(image, (x, y), tolerance)
    assert out.shape == (h, w) and out.dtype == bool
    if not (0 <= x < w and 0 <= y < h):
        assert not out.any()
        return
    assert out[y, x]
    count, _ = cv2.connectedComponents(out.astype(np.uint8), connectivity=8)
    assert count == 2  # background + one area
    assert np.array_equal(out, magic_wand(image, (x, y), tolerance))


def test_wand_selects_more_as_tolerance_grows_on_a_smooth_ramp():
    ramp = np.repeat(np.linspace(0, 255, 300)[None, :, None], 100, axis=0).repeat(3, axis=2).astype(np.uint8)
    sizes = [np.count_nonzero(magic_wand(ramp, (150, 50), t)) for t in (2, 10, 40)]
    assert sizes[0] < sizes[1] <= sizes[2]


# --- behaviour on pictures with a known answer ------------------------------------------------------------


def test_snap_grows_a_stroke_to_a_jagged_ridge():
    h, w = 200, 320
    xs = np.arange(w)
    ridge = (100 + 25 * np.sin(xs / 17.0) + 12 * np.sign(np.sin(xs / 5.0))).astype(int)
    sky = np.arange(h)[:, None] < ridge[None, :]
    rng = np.random.default_rng(3)
    image = np.where(sky[:, :, None], (200, 140, 90), (40, 60, 35)) + rng.normal(0, 6, (h, w, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    stroke = np.zeros((h, w), bool)
    stroke[10:55, 20:300] = True  # well inside the sky, nowhere near the ridge
    out = snap(image, stroke)
    assert iou(out, sky) > 0.98
    assert iou(stroke, sky) < 0.5  # the stroke alone is far from it


def test_snap_shrinks_a_stroke_that_spills_a_little_over_an_edge():
    h, w = 200, 320
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :160] = (210, 180, 60)
    image[:, 160:] = (30, 60, 140)
    stroke = np.zeros((h, w), bool)
    stroke[40:160, 60:163] = True  # three pixels into the blue half
    out = snap(image, stroke)
    assert not out[:, 160:].any()
    assert out[:, :160].all()


def test_snap_at_large_size_moves_the_outline_onto_the_full_resolution_edge():
    # 2000 px wide: the work copy is about a third of it, so only the refinement can find the exact column.
    h, w, edge = 600, 2000, 1001
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :edge] = (220, 200, 150)
    image[:, edge:] = (20, 40, 30)
    stroke = np.zeros((h, w), bool)
    stroke[100:500, 200:900] = True
    out = snap(image, stroke)
    assert out[:, : edge - 1].all()
    assert not out[:, edge + 1 :].any()


@pytest.mark.parametrize(("drift", "tolerance"), [(0.4, None), (0.7, 32.0)])
def test_wand_on_a_sunset_lake_takes_the_whole_drifting_water_and_none_of_the_sky(drift, tolerance):
    image, sky, water = sunset_lake(drift)
    h, w = water.shape
    click = (40, h - 40)
    out = magic_wand(image, click) if tolerance is None else magic_wand(image, click, tolerance)
    assert iou(out, water) > 0.95
    assert not (out & sky).any()
    # A plain flood fill that reaches the far end of the water leaks into the sky.
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    reach = np.abs(image[click[1], click[0]].astype(int) - image[h - 40, w - 5].astype(int)).max() + 12
    cv2.floodFill(image.copy(), flood, click, (0, 0, 0), (int(reach),) * 3, (int(reach),) * 3, flags)
    assert (flood[1:-1, 1:-1] > 0)[sky].any()


def test_wand_does_not_go_further_in_colour_than_its_tolerance_allows():
    image, _, water = sunset_lake(1.0)
    out = magic_wand(image, (40, 200), 24.0)
    assert 0.3 < iou(out, water) < 0.9  # part of the way along the drift, not all of it


def test_snap_of_a_lake_stroke_stays_out_of_the_mirrored_sky():
    image, sky, water = sunset_lake(0.4)
    stroke = np.zeros_like(water)
    stroke[170:220, 20:200] = True  # the blue half of the water only
    out = snap(image, stroke)
    assert iou(out, water) > 0.95
    assert not (out & sky).any()


def test_inputs_of_the_wrong_shape_are_refused():
    image = noisy(20, 30, 0)
    with pytest.raises(ValueError, match="scribble"):
        snap(image, np.ones((30, 20), bool))
    with pytest.raises(ValueError, match="RGB"):
        magic_wand(np.zeros((4, 4, 2), np.uint8), (1, 1))
