"""Loops on a curved flow at export quality: texture follows the streamlines of the field, not the tangent
at each pixel; straight flows and the live preview keep the linear map."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from conftest import textured_pixels

from kling_preview.core import render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.render.loop import FieldEntry, flow_phases
from kling_preview.core.render.streamlines import build_streams, upstream

W, H = 320, 240
CENTRE = (60.0, 30.0)


def bend_project(still: np.ndarray | None = None, trajectory: list[tuple[float, float]] | None = None) -> Project:
    """A river 140 px wide bending through a quarter turn and more around CENTRE."""
    p = Project(decode_image(encode_png(textured_pixels(W, H, 3) if still is None else still), "bend.png"))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = np.hypot(xx - CENTRE[0], yy - CENTRE[1])
    ang = np.degrees(np.arctan2(yy - CENTRE[1], xx - CENTRE[0]))
    region = p.add_region(kind=MotionKind.FLOW, strength=0.6, feather=3.0)
    p.set_mask(region.label, (r >= 50) & (r <= 190) & (ang >= -30) & (ang <= 120))
    if trajectory is None:
        angles = np.radians(np.linspace(-10.0, 100.0, 9))
        trajectory = [(CENTRE[0] + 120 * math.cos(a), CENTRE[1] + 120 * math.sin(a)) for a in angles]
    region.trajectory = [(float(x), float(y)) for x, y in trajectory]
    p.clip.mode = "loop"
    p.clip.loop_seconds = 2.5
    p.clip.fps = 12
    return p


def entry_of(r: render.Renderer, p: Project) -> FieldEntry:
    entry = r.cache_entry(p.regions[0].label)
    assert isinstance(entry, FieldEntry)
    return entry


def downstream(field: np.ndarray, point: tuple[float, float], seconds: float) -> np.ndarray:
    """Where the field carries a point in `seconds` (midpoint steps of a quarter pixel, bilinear field)."""

    def v(p: np.ndarray) -> np.ndarray:
        m = p.reshape(1, 1, 2).astype(np.float32)
        return cv2.remap(field, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(2)

    p = np.array(point, np.float64)
    speed = float(np.linalg.norm(field, axis=2).max())
    n = int(math.ceil(speed * seconds * 4))
    h = seconds / n
    for _ in range(n):
        p = p + h * v(p + 0.5 * h * v(p))
    return p


def test_a_texture_feature_travels_along_the_streamline_of_a_curved_flow():
    grey = 80
    still = np.full((H, W, 3), grey, np.uint8)
    polar = [(r, math.radians(a)) for r in (90, 120, 150) for a in (0, 20, 40)]
    dots = [(CENTRE[0] + r * math.cos(a), CENTRE[1] + r * math.sin(a)) for r, a in polar]
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    blobs = sum(np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2)) for x, y in dots)
    still[...] = np.clip(grey + 150 * blobs, 0, 255).astype(np.uint8)[..., None]
    p = bend_project(still)
    r = render.Renderer(render.snapshot(p, None, "loop", quality="best"))
    e = entry_of(r, p)
    cycle = r.scene.period / e.cycles
    t = ((0.95 - e.offset) % 1.0) * cycle  # the phases coincide, 0.45 of a cycle along
    ((scale, weight),) = flow_phases(t, r.scene.period, e.cycles, e.offset)
    assert weight == 1.0
    frame = r.frame(t).astype(np.float32).mean(axis=2) - grey
    y0, _, x0, _ = e.bbox
    for x, y in dots:
        tx, ty = downstream(e.field, (x - x0, y - y0), -scale) + (x0, y0)
        assert math.hypot(tx - x, ty - y) > 25, "the dot must travel"
        win = 12
        cy, cx = int(round(ty)), int(round(tx))
        patch = np.maximum(frame[cy - win : cy + win + 1, cx - win : cx + win + 1], 0)
        py, px = np.mgrid[-win : win + 1, -win : win + 1]
        mx, my = float((patch * px).sum() / patch.sum()), float((patch * py).sum() / patch.sum())
        assert math.hypot(cx + mx - tx, cy + my - ty) < 1.5, f"dot from {(x, y)} off its streamline"


def test_streamline_levels_match_the_integrated_path_between_levels_and_nodes():
    # A whirl (bend radii 100-250 px) on a box of 1080p scale (nodes every 4 px), 100 px travel a cycle.
    h, w = 240, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = 160.0, -40.0
    rad = np.hypot(xx - cx, yy - cy)
    field = np.dstack([-(yy - cy) / rad, (xx - cx) / rad]).astype(np.float32) * 50.0  # 50 px/s
    mask = (rad > 100) & (rad < 250)
    streams = build_streams(field, mask, 2.0, 1.0, 2, 1920, (0, 0))
    assert streams is not None and streams.spacing == 4
    grid = np.dstack([xx, yy])
    for travel in (0.3, 1.1, -0.7, 1.9):  # between levels, upstream and downstream
        got = (streams.rows(streams.at(travel), 0, h, w) - 0.5) / 2.0  # on a texture upsampled twice
        truth = upstream(field, grid, travel, 200)
        # Where the path stays on the box (beyond it the field only continues as its edge).
        on_box = mask & (truth[..., 0] > 8) & (truth[..., 0] < w - 8) & (truth[..., 1] > 8) & (truth[..., 1] < h - 8)
        assert on_box.mean() > 0.2
        err = np.linalg.norm(got - truth, axis=2)[on_box]
        assert err.max() < 0.5, (travel, float(err.max()))
    linear = grid - 1.9 * field
    assert np.linalg.norm(linear - truth, axis=2)[on_box].max() > 5  # the tangent leaves the streamline
    # A stripe of rows in the middle is the same as those rows of the whole box.
    whole = streams.rows(streams.at(0.8), 0, h, w)
    np.testing.assert_allclose(streams.rows(streams.at(0.8), 101, 171, w), whole[101:171], atol=1e-3)


def test_a_uniform_field_keeps_the_linear_map():
    field = np.zeros((50, 80, 2), np.float32)
    field[...] = (30.0, -10.0)
    assert build_streams(field, np.ones((50, 80), bool), 1.5, 1.0, 2, 1920, (0, 0)) is None


def test_only_a_curved_flow_at_best_quality_follows_streamlines():
    p = bend_project()
    best = render.Renderer(render.snapshot(p, None, "loop", quality="best"))
    live = render.Renderer(render.snapshot(p, None, "loop", quality="live"))
    assert entry_of(best, p).streams is not None
    assert entry_of(live, p).streams is None
    straight = bend_project(trajectory=[(40.0, 200.0), (300.0, 60.0)])
    assert entry_of(render.Renderer(render.snapshot(straight, None, "loop", quality="best")), straight).streams is None


def mean_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(a[mask].astype(np.int16) - b[mask].astype(np.int16)).mean())


@pytest.mark.parametrize("seconds", [2.0, 3.0])
def test_a_curved_loop_is_seamless_and_has_no_short_repeat(seconds):
    p = bend_project()
    r = render.Renderer(render.snapshot(p, None, "loop", quality="best").with_clip(seconds=seconds))
    assert entry_of(r, p).streams is not None
    mask = cv2.erode(p.mask(p.regions[0].label).astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    frames = [r.frame(t) for t in r.times()]
    np.testing.assert_array_equal(r.frame(seconds), frames[0])
    steps = [mean_diff(a, b, mask) for a, b in zip(frames[:-1], frames[1:])]
    assert mean_diff(frames[-1], frames[0], mask) <= 1.3 * float(np.mean(steps))
    stack = np.stack([f[mask] for f in frames]).astype(np.int16)
    one = float(np.abs(stack - np.roll(stack, 1, axis=0)).mean())
    assert one > 0.5, "the region must move"
    for lag in range(2, int(p.clip.fps)):
        assert float(np.abs(stack - np.roll(stack, lag, axis=0)).mean()) > one, f"repeats after {lag} frames"


def test_a_curved_flow_in_kling_mode_starts_as_the_source():
    p = bend_project()
    r = render.Renderer(render.snapshot(p, None, "kling", quality="best"))
    assert entry_of(r, p).streams is not None
    np.testing.assert_array_equal(r.frame(0.0), r.scene.pixels)
    assert mean_diff(r.frame(1.0), r.scene.pixels, p.mask(p.regions[0].label)) > 1.0
