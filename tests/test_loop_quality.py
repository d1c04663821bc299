"""Loop quality: seamless at any requested length, no short repeat, detail kept through the cross-fade,
velocity not feathered, both quality levels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import make_project

from kling_preview.core import render
from kling_preview.core.errors import InvalidError
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.render.loop import flow_phases

W, H = 320, 200
BOX = (40, 160, 40, 280)


def add_flow(p: Project, box: tuple[int, int, int, int], trajectory, feather: float = 3.0):
    """A flow region painted over `box` (y0, y1, x0, x1) with `trajectory`; returns it and its mask."""
    region = p.add_region(kind=MotionKind.FLOW, feather=feather)
    mask = np.zeros(p.labels.shape, bool)
    y0, y1, x0, x1 = box
    mask[y0:y1, x0:x1] = True
    p.set_mask(region.label, mask)
    region.trajectory = trajectory
    return region, mask


def flow_project(*, feather: float = 3.0, loop_seconds: float = 4.0):
    p = make_project(W, H, seed=5)
    _, mask = add_flow(p, BOX, [(60.0, 100.0), (180.0, 100.0)], feather)  # 120 px to the right per loop
    p.clip.mode = "loop"
    p.clip.loop_seconds = loop_seconds
    p.clip.fps = 12
    return p, mask


def inner(mask: np.ndarray, depth: int = 8) -> np.ndarray:
    return cv2.erode(mask.astype(np.uint8), np.ones((2 * depth + 1, 2 * depth + 1), np.uint8)).astype(bool)


def mean_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(a[mask].astype(np.int16) - b[mask].astype(np.int16)).mean())


def band_energy(frame: np.ndarray, mask: np.ndarray) -> float:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 2.5)
    return float(np.mean(band[mask] ** 2))


@pytest.mark.parametrize("seconds", [3.0, 5.0])
def test_a_requested_length_is_the_loop_period_so_the_clip_is_seamless(seconds):
    p, mask = flow_project(loop_seconds=4.0)
    scene = render.snapshot(p, None, "loop").with_clip(seconds=seconds)
    assert scene.period == seconds
    r = render.Renderer(scene)
    times = r.times()
    frames = [r.frame(t) for t in times]
    np.testing.assert_array_equal(r.frame(seconds), frames[0])
    steps = [mean_diff(a, b, mask) for a, b in zip(frames[:-1], frames[1:])]
    assert mean_diff(frames[-1], frames[0], mask) <= 1.3 * float(np.mean(steps))


def test_other_modes_keep_their_loop_period_when_the_clip_length_changes():
    p, _ = flow_project(loop_seconds=4.0)
    scene = render.snapshot(p, None, "ambient").with_clip(seconds=3.0)
    assert scene.loop_seconds == 4.0 and scene.seconds == 3.0


@pytest.mark.parametrize("quality", ["live", "best"])
def test_no_repeat_shorter_than_a_second(quality):
    p, mask = flow_project(loop_seconds=4.0)
    r = render.Renderer(render.snapshot(p, None, "loop", quality=quality))
    core = inner(mask)
    stack = np.stack([r.frame(t)[core] for t in r.times()]).astype(np.int16)

    def diff_at(lag: int) -> float:
        return float(np.abs(stack - np.roll(stack, lag, axis=0)).mean())

    one = diff_at(1)
    assert one > 0.5, "the region must move"
    fps = p.clip.fps
    for lag in range(2, int(fps)):
        assert diff_at(lag) > one, f"frames {lag / fps:.2f} s apart are nearly the same"


@pytest.mark.parametrize(("quality", "kept"), [("live", 0.6), ("best", 0.65)])
def test_fine_detail_is_kept_through_the_cross_fade(quality, kept):
    p, mask = flow_project(loop_seconds=4.0)
    r = render.Renderer(render.snapshot(p, None, "loop", quality=quality))
    core = inner(mask)
    still = band_energy(r.scene.pixels, core)
    energies = [band_energy(r.frame(t), core) for t in r.times()]
    # A plain cross-fade of two unrelated phases keeps about half the fine detail at its midpoint. This
    # pixel-fine grain moving uniformly is a worst case for resampling: live interpolates bilinearly and
    # loses more of it at half-pixel offsets.
    assert min(energies) / still > kept
    assert min(energies) / max(energies) > kept


def grain_project() -> tuple[Project, np.ndarray]:
    """Fine grain (noise blurred at sigma 1) flowing diagonally: every frame slides it by another
    sub-pixel offset on both axes, where bilinear sampling loses the most."""
    rng = np.random.default_rng(3)
    noise = rng.normal(128.0, 40.0, (H, W, 3)).astype(np.float32)
    pixels = np.clip(cv2.GaussianBlur(noise, (0, 0), 1.0), 0, 255).astype(np.uint8)
    p = Project(decode_image(encode_png(pixels), "grain.png"))
    _, mask = add_flow(p, BOX, [(100.0, 60.0), (190.0, 150.0)])
    p.clip.mode = "loop"
    p.clip.fps = 24
    return p, mask


@pytest.mark.parametrize("quality", ["live", "best"])
def test_detail_does_not_pulse_as_the_texture_slides_by_sub_pixel_steps(quality):
    p, mask = grain_project()
    r = render.Renderer(render.snapshot(p, None, "loop", quality=quality))
    core = inner(mask)
    r.frame(0.0)
    e = r.cache_entry(p.regions[0].label)
    # The frames showing one phase alone (half of each cycle): nothing but the sub-pixel offset changes.
    alone = [t for t in r.times() if len(flow_phases(t, r.scene.period, e.cycles, e.offset)) == 1]
    assert len(alone) >= 24
    energies = [band_energy(r.frame(t), core) for t in alone]
    # Sampled bilinearly from the texture itself, this swung by a sixth (0.83-0.86).
    assert min(energies) / max(energies) > 0.89


def test_velocity_is_not_feathered_only_the_composite_is():
    p, mask = flow_project(feather=20.0)
    r = render.Renderer(render.snapshot(p, None, "loop"))
    entry = r.cache_entry(p.regions[0].label)
    speed = np.linalg.norm(entry.field, axis=2)
    y0, y1, x0, x1 = BOX
    edge = entry.alpha < 0.5
    assert edge.any() and (entry.alpha[~mask[y0:y1, x0:x1]] == 0).all()
    # The feather band moves as fast as the interior (120 px over 4 s).
    assert speed[edge].min() == pytest.approx(30.0, rel=0.1)
    # ... and the composite fades it in: the region's outermost pixels stay close to the still.
    frame = r.frame(1.3)
    rim = mask & ~inner(mask, 2)
    core = inner(mask, 25)
    assert mean_diff(frame, r.scene.pixels, rim) < 0.5 * mean_diff(frame, r.scene.pixels, core)


@pytest.mark.parametrize("quality", ["live", "best"])
def test_pixels_outside_the_region_never_change(quality):
    p, mask = flow_project()
    r = render.Renderer(render.snapshot(p, None, "loop", quality=quality))
    for t in r.times()[::5]:
        np.testing.assert_array_equal(r.frame(t)[~mask], r.scene.pixels[~mask])


def test_unknown_quality_is_refused():
    p, _ = flow_project()
    with pytest.raises(InvalidError, match="quality"):
        render.snapshot(p, None, "loop", quality="ultra")


# ----- kling mode: flowing regions advect their own texture ------------------------------------------
def sky_project():
    p = make_project(W, H, seed=7)
    # Touches the top, left and right borders; 120 px right over the clip.
    _, mask = add_flow(p, (0, 90, 0, W), [(100.0, 40.0), (220.0, 40.0)])
    p.clip.seconds = 4.0
    p.clip.fps = 12
    return p, mask


@pytest.mark.parametrize("quality", ["live", "best"])
def test_a_flowing_region_in_kling_mode_keeps_its_detail_and_starts_as_the_source(quality):
    p, mask = sky_project()
    r = render.Renderer(render.snapshot(p, None, "kling", quality=quality))
    src = r.scene.pixels
    np.testing.assert_array_equal(r.frame(0.0), src)
    core = inner(mask, 6) & (np.arange(H) >= 6)[:, None]
    frames = [r.frame(t) for t in r.times()[1:]]
    assert min(band_energy(f, core) for f in frames) / band_energy(src, core) > 0.6
    # It flows (the texture advects in cycles, like a loop: no rigid translation of the whole region), and
    # what enters at the left border is not the source mirrored about the border (an ink blot).
    moved = max(frames, key=lambda f: mean_diff(f, src, core))
    assert mean_diff(moved, src, core) > 5
    rows = slice(10, 80)
    mirrored = np.stack([src[rows, 40 - j] for j in range(30)], axis=1)
    assert mean_diff(moved[rows, :30], mirrored, np.ones(mirrored.shape[:2], bool)) > 10


def test_a_flowing_region_in_kling_mode_never_fades_back_to_the_still():
    """A clip is not a loop: at every cycle boundary and at the clip's end the region still shows the texture
    streaming, not the source again (restarting a phase where it began faded back to the still each cycle)."""
    p, mask = sky_project()
    r = render.Renderer(render.snapshot(p, None, "kling", quality="live"))
    src = r.scene.pixels
    core = inner(mask, 6) & (np.arange(H) >= 6)[:, None]
    entry = r.cache_entry(p.regions[0].label)
    cycle = r.scene.period / entry.cycles
    assert entry.cycles >= 2  # the clip spans several cycles, so there are boundaries to look at
    middle = mean_diff(r.frame(0.5 * cycle), src, core)
    for t in [k * cycle for k in range(1, entry.cycles)] + [r.scene.seconds]:
        assert mean_diff(r.frame(t), src, core) > 0.5 * middle, t


def shift_from_still(frame: np.ndarray, still: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float]:
    y0, y1, x0, x1 = box
    a, b = (cv2.cvtColor(f[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) for f in (still, frame))
    (dx, dy), _ = cv2.phaseCorrelate(a, b, cv2.createHanningWindow((x1 - x0, y1 - y0), cv2.CV_32F))
    return dx, dy


@pytest.mark.parametrize("quality", ["live", "best"])
@pytest.mark.parametrize("mode", ["loop", "kling"])
def test_a_flow_moves_its_texture_along_the_path_never_across_it(mode, quality):
    """A flow drawn to the right moves its picture to the right only: offsetting a flow-map phase across the
    flow made a sunset's bands show twice and jump up and down (and kling mode bob) on real photos."""
    p, mask = sky_project() if mode == "kling" else flow_project()
    r = render.Renderer(render.snapshot(p, None, mode, quality=quality))
    box = (12, 80, 40, 280) if mode == "kling" else (48, 152, 60, 260)
    shifts = [shift_from_still(r.frame(t), r.scene.pixels, box) for t in r.times()]
    assert max(abs(dx) for dx, _ in shifts) > 5, "the texture must move along the flow"
    assert max(abs(dy) for _, dy in shifts) < 1.0


def test_a_flow_region_s_edge_is_feathered_in_proportion_to_the_image():
    """The user's feather is in pixels: 1 px on a 1000 px wide image would cut a hard seam where the moving
    texture meets the still, so the composite's feather is at least 0.8% of the long side (8 px here)."""
    p = make_project(1000, 300, seed=2)
    region, _ = add_flow(p, (50, 250, 200, 800), [(300.0, 150.0), (600.0, 150.0)], feather=1.0)
    r = render.Renderer(render.snapshot(p, None, "loop"))
    r.frame(0.5)
    alpha = r.cache_entry(region.label).alpha
    row = alpha[alpha.shape[0] // 2]
    ramp = int(((row > 0.0) & (row < 1.0)).sum()) // 2  # partly transparent columns at each side
    assert ramp >= 6


def test_export_quality_does_not_sharpen_the_texture_round_still_posts():
    """Round a static post a phase's sample points lose validity and the still pixel fills in; while the
    phase has hardly travelled it is the still, so blending the two loses no contrast and boosting it
    over-sharpened the water round every post (1.3-1.5x the still's fine detail here, 1.4x on a lake)."""
    p = make_project(800, 300, seed=4)
    region, mask = add_flow(p, (40, 260, 40, 760), [(200.0, 150.0), (500.0, 150.0)])
    p.clip.mode = "loop"
    p.clip.fps = 12
    posts = np.zeros((300, 800), bool)
    for x in range(120, 700, 40):
        posts[100:200, x : x + 8] = True
    p.set_mask(255, posts)
    r = render.Renderer(render.snapshot(p, None, "loop", quality="best"))
    r.frame(0.0)
    e = r.cache_entry(region.label)
    ring = cv2.dilate(posts.astype(np.uint8), np.ones((21, 21), np.uint8)).astype(bool) & ~posts & inner(mask)
    still = band_energy(r.scene.pixels, ring)
    phases = {t: flow_phases(t, r.scene.period, e.cycles, e.offset) for t in r.times()}
    short = [t for t, ps in phases.items() if all(abs(s) * e.speed < 5 for s, _ in ps)]
    assert short, "some frame shows the texture barely moved"
    assert max(band_energy(r.frame(t), ring) for t in short) < 1.15 * still
