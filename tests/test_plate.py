"""Texture fill of a hole from its surroundings (core/plate.py): detail kept, structure continued,
only known surroundings copied, deterministic."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import textured_pixels

from kling_preview.core import plate


def disc(h: int, w: int, cy: int, cx: int, r: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.circle(m, (cx, cy), r, 1, -1)
    return m.astype(bool)


def grain(h: int, w: int, seed: int, base: tuple[int, int, int]) -> np.ndarray:
    """A flat colour with fine noise (like sand or foliage seen from afar)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 18, (h, w, 1))
    return np.clip(np.array(base, np.float64) + noise, 0, 255).astype(np.uint8)


def test_fill_keeps_the_fine_detail_of_the_surroundings():
    img = textured_pixels(320, 240, seed=3)
    hole = disc(240, 320, 120, 160, 45)
    out = plate.fill_hole(img, hole, ~hole, 0.5)
    ring = plate.ring(hole, 20)
    kept = plate.band_energy(out, hole) / plate.band_energy(img, ring)
    smooth = cv2.inpaint(img, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    assert kept >= 0.5
    assert kept > 2 * plate.band_energy(smooth, hole) / plate.band_energy(img, ring)


def test_only_hole_pixels_change_and_the_fill_is_deterministic():
    img = textured_pixels(200, 150, seed=1)
    hole = disc(150, 200, 70, 90, 30)
    a = plate.fill_hole(img, hole, ~hole, 0.5)
    b = plate.fill_hole(img, hole, ~hole, 0.5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[~hole], img[~hole])
    assert np.abs(a[hole].astype(int) - img[hole].astype(int)).mean() > 10


def test_fill_continues_an_edge_that_crosses_the_hole():
    """Green grain above a horizon, blue grain below: each half of the hole takes its own side's colour."""
    h, w = 160, 240
    img = np.vstack([grain(80, w, 1, (60, 160, 60)), grain(80, w, 2, (50, 70, 170))])
    hole = disc(h, w, 80, 120, 40)
    out = plate.fill_hole(img, hole, ~hole, 1.0)
    top = out[50:75, 110:130].reshape(-1, 3).mean(axis=0)
    bottom = out[85:110, 110:130].reshape(-1, 3).mean(axis=0)
    assert top[1] > top[2] + 50  # green
    assert bottom[2] > bottom[1] + 50  # blue


def test_fill_never_copies_what_the_hole_encloses_or_unknown_pixels():
    """A red post inside the hole (an island) and a red block marked unknown are not surroundings."""
    h, w = 160, 200
    img = grain(h, w, 4, (120, 120, 120))
    hole = disc(h, w, 80, 100, 45) & ~disc(h, w, 80, 100, 8)
    img[disc(h, w, 80, 100, 8)] = (250, 0, 0)
    img[10:40, 10:40] = (250, 0, 0)
    known = ~hole
    known[10:40, 10:40] = False
    out = plate.fill_hole(img, hole, known, 1.0).astype(int)
    red = (out[..., 0] - out[..., 1] > 60) & hole
    assert not red.any()


def test_a_hole_with_nothing_known_becomes_a_blur():
    img = textured_pixels(64, 48, seed=2)
    hole = np.ones((48, 64), bool)
    out = plate.fill_hole(img, hole, np.zeros_like(hole), 0.5)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert plate.band_energy(out, hole) < 0.1 * plate.band_energy(img, hole)


def test_match_points_every_hole_pixel_at_a_known_patch_centre():
    img = textured_pixels(120, 90, seed=5)
    hole = disc(90, 120, 45, 60, 20)
    nnf = plate.match(img, hole, ~hole)
    assert nnf is not None
    src = nnf[hole]
    sy, sx = np.divmod(src, 120)
    assert not hole[sy, sx].any()
    yy, xx = np.nonzero(~hole)
    np.testing.assert_array_equal(nnf[~hole], yy * 120 + xx)


def test_enclosed_finds_holes_that_do_not_reach_the_edge():
    mask = np.zeros((20, 30), bool)
    mask[2:18, 2:28] = True
    mask[8:12, 8:12] = False  # an enclosed hole
    mask[8:12, 20:30] = False  # a notch reaching the edge
    holes = plate.enclosed(mask)
    assert holes[8:12, 8:12].all() and holes.sum() == 16
    only = np.zeros_like(mask)
    only[8:10, 8:12] = True  # half the hole only: not all of it is a cutter
    assert not plate.enclosed(mask, only=only).any()


def test_match_scale_follows_the_long_side():
    assert plate.match_scale(100) == 1.0
    assert plate.match_scale(4 * plate.MATCH_LONG_SIDE) == 0.25


def test_changed_box_is_where_a_mask_gained_or_lost_pixels():
    old_mask = np.ones((10, 10), bool)
    new_mask = old_mask.copy()
    new_mask[2:4, 5:7] = False  # a bite taken out
    assert plate.changed_box(((20, 30, 40, 50), old_mask), ((20, 30, 40, 50), new_mask)) == (22, 24, 45, 47)
    assert plate.changed_box(((20, 30, 40, 50), old_mask), ((20, 30, 40, 50), old_mask)) is None
    grown = np.ones((10, 12), bool)  # two more columns on the right
    assert plate.changed_box(((20, 30, 40, 50), old_mask), ((20, 30, 40, 52), grown)) == (20, 30, 50, 52)
    assert plate.changed_box(None, ((5, 6, 7, 8), np.ones((1, 1), bool))) == (5, 6, 7, 8)
    assert plate.changed_box(None, None) is None


def test_overlaps():
    assert plate.overlaps((0, 10, 0, 10), (9, 12, 9, 12))
    assert not plate.overlaps((0, 10, 0, 10), (10, 12, 0, 10))
