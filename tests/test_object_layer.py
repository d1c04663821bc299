"""Kling-mode object layers (core/object_layer.py): feather in proportion to the image, a smooth edge,
holes cut by still regions filled; and the same seen through the renderer."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import make_project, textured_pixels

from kling_preview.core import object_layer, plate, render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.masks import STATIC, UNPAINTED
from kling_preview.core.project import Project


def test_feather_grows_with_the_image():
    assert object_layer.feather_radius(8, 4000) == 4000 * object_layer.FEATHER_FRACTION
    assert object_layer.feather_radius(8, 4000) > 30
    assert object_layer.feather_radius(50, 4000) == 50
    assert object_layer.feather_radius(8, 500) == 8


def test_soft_alpha_is_zero_at_the_edge_one_inside_and_smooth():
    mask = np.zeros((60, 60), bool)
    mask[10:50, 10:50] = True
    a = object_layer.soft_alpha(mask, 10, (False, False, False, False))
    assert a[~mask].max() == 0 and a[30, 30] == 1.0
    row = a[30, 10:31]
    assert np.all(np.diff(row) >= 0)
    # Smoothstep: the ramp starts and ends flat (no visible line where it begins).
    assert row[1] - row[0] < row[5] - row[4]


def test_soft_alpha_does_not_fade_at_the_image_border():
    mask = np.ones((40, 40), bool)
    a = object_layer.soft_alpha(mask, 8, (True, False, True, False))
    assert a[0, 20] == 1.0 and a[20, 0] == 1.0
    assert a[39, 20] < 0.2 and a[20, 39] < 0.2


def _object_with_hole(cutter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    pixels = np.clip(rng.normal(110, 20, (60, 80, 3)), 0, 255).astype(np.uint8)  # grey grain
    labels = np.zeros((60, 80), np.uint8)
    labels[5:55, 5:75] = 1
    labels[25:35, 30:45] = cutter
    return pixels, labels, labels == 1


def test_a_hole_cut_by_the_static_mask_is_filled_with_the_objects_own_texture():
    pixels, labels, mask = _object_with_hole(STATIC)
    pixels[labels == STATIC] = (255, 0, 0)
    obj = object_layer.build(pixels, labels, mask, (1,), 2.0, (False,) * 4, 80)
    assert obj.holes is not None
    hole = labels == STATIC
    assert obj.holes[hole].min() > 0.5 and obj.alpha[hole].max() == 0
    red = obj.pixels[..., 0].astype(int) - obj.pixels[..., 1] > 80
    assert not red[hole].any()
    assert obj.pixels[hole].std() > 8  # grain, not a flat colour


def test_holes_of_moving_regions_and_unpainted_holes_stay_open():
    for cutter, moving in ((2, (1, 2)), (UNPAINTED, (1,))):
        pixels, labels, mask = _object_with_hole(cutter)
        obj = object_layer.build(pixels, labels, mask, moving, 2.0, (False,) * 4, 80)
        assert obj.holes is None
        assert obj.alpha[labels == cutter].max() == 0


# ----- through the renderer ------------------------------------------------------------------------
W, H = 480, 320


def object_project(static_hole: bool = False) -> Project:
    p = make_project(W, H, seed=11)
    r = p.add_region(feather=2)
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, (140, 160), (60, 70), 0, 0, 360, 1, -1)
    p.set_mask(r.label, m.astype(bool))
    r.trajectory = [(140, 160), (380, 150)]
    if static_hole:
        s = np.zeros((H, W), bool)
        s[150:170, 120:160] = True
        p.set_mask(STATIC, s)
    return p


def test_an_object_moving_away_uncovers_texture_not_a_blur():
    p = object_project()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    last = r.frame(r.times()[-1])
    uncovered = p.labels == 1
    uncovered &= cv2.erode(uncovered.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    ring = plate.ring(p.labels == 1, 24)
    kept = plate.band_energy(last, uncovered) / plate.band_energy(r.scene.pixels, ring)
    assert kept >= 0.5


def test_a_hole_cut_by_the_static_mask_is_not_carried_along():
    """Where the static hole lands after the move, the object's texture shows, not the plate."""
    p = object_project(static_hole=True)
    pixels = textured_pixels(W, H, seed=11)
    obj = p.labels == 1
    rng = np.random.default_rng(2)
    pixels[obj] = np.clip(rng.normal((40, 200, 60), 15, (int(obj.sum()), 3)), 0, 255)  # a green object
    pixels[p.labels == STATIC] = (255, 0, 0)  # a red post the object surrounds
    q = Project(decode_image(encode_png(pixels), "post.png"))
    region = q.add_region(feather=2)
    q.set_mask(region.label, obj)
    region.trajectory = list(p.regions[0].trajectory)
    q.set_mask(STATIC, p.labels == STATIC)
    r = render.Renderer(render.snapshot(q, None, "kling"))
    np.testing.assert_array_equal(r.frame(0.0), r.scene.pixels)
    last = r.frame(r.times()[-1])
    # The object moved by (240, -10): the post's cut-out now lies at rows 140..160, columns 360..400.
    landed = last[144:156, 364:396].reshape(-1, 3).astype(float)
    assert np.abs(landed.mean(axis=0) - (40, 200, 60)).max() < 20
    assert landed.std(axis=0).mean() > 6  # the object's grain, not a flat fill
    # The post itself never moves.
    np.testing.assert_array_equal(last[q.labels == STATIC], pixels[q.labels == STATIC])


def test_object_edges_are_soft_in_proportion_to_the_image():
    """A feather of 2 px on a 480 px frame is widened, so the moved object's edge blends over the plate."""
    p = object_project()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    last = r.frame(r.times()[-1]).astype(int)
    src = r.scene.pixels.astype(int)
    # The object moved by (240, -10). Two pixels inside its left edge: partly the plate, not the object.
    edge = last[150, 80 + 240 + 2] - src[160, 80 + 2]
    inner = last[150, 140 + 240] - src[160, 140]
    assert np.abs(inner).max() <= 2
    assert np.abs(edge).max() > 2
