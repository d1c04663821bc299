"""The motion is right: displacements, stillness, seamless loops and camera moves, measured on frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import make_project, textured_pixels

from kling_preview import resources
from kling_preview.core import camera, motion, projectfile, render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MotionKind, Project

W, H = 640, 400
BOX = (120, 240, 150, 350)  # y0, y1, x0, x1 of the moving region


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def moving_project(trajectory, *, feather: float = 4.0, strength: float = 1.0, kind=MotionKind.PATH):
    p = make_project(W, H, seed=3)
    region = p.add_region(feather=feather, strength=strength, kind=kind)
    p.set_mask(region.label, rect(*BOX))
    region.trajectory = list(trajectory)
    return p


def renderer_for(project, mode: str) -> render.Renderer:
    return render.Renderer(render.snapshot(project, None, mode))


def gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


def measured_shift(before: np.ndarray, after: np.ndarray, box) -> tuple[float, float]:
    """Translation of `after` relative to `before` inside `box`, by phase correlation (Hann-windowed)."""
    y0, y1, x0, x1 = box
    a, b = gray(before[y0:y1, x0:x1]), gray(after[y0:y1, x0:x1])
    window = cv2.createHanningWindow((x1 - x0, y1 - y0), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    return dx, dy


# ----- kling mode ------------------------------------------------------------------------------------
@pytest.mark.parametrize("u", [0.25, 0.5, 0.8, 1.0])
def test_kling_region_travels_its_trajectory_at_constant_speed(u):
    start, end = (250.0, 180.0), (310.0, 220.0)  # a 72 px straight path: d(u) = u * (60, 40)
    r = renderer_for(moving_project([start, end]), "kling")
    scene = r.scene
    src = scene.pixels
    frame = r.frame(u * scene.seconds)
    # A window inside the region, where the moving texture dominates.
    dx, dy = measured_shift(src, frame, (140, 230, 170, 340))
    assert dx == pytest.approx(60 * u, abs=0.35)
    assert dy == pytest.approx(40 * u, abs=0.35)


def test_kling_integer_displacement_moves_interior_pixels_exactly():
    p = moving_project([(200, 150), (240, 170)])  # d(0.5) = (20, 10), integer
    r = renderer_for(p, "kling")
    src = r.scene.pixels
    frame = r.frame(0.5 * r.scene.seconds)
    y0, y1, x0, x1 = BOX
    inset = 6  # past the 4 px feather, alpha is 1
    core = src[y0 + inset : y1 - inset, x0 + inset : x1 - inset]
    moved = frame[y0 + inset + 10 : y1 - inset + 10, x0 + inset + 20 : x1 - inset + 20]
    np.testing.assert_array_equal(moved, core)


def test_kling_first_frame_is_the_source_and_last_reaches_the_end():
    p = moving_project([(200, 150), (230, 150), (230, 190)])  # an L: end offset (30, 40)
    r = renderer_for(p, "kling")
    times = r.times()
    np.testing.assert_array_equal(r.frame(times[0]), r.scene.pixels)
    dx, dy = measured_shift(r.scene.pixels, r.frame(times[-1]), (135, 235, 165, 335))
    assert (dx, dy) == (pytest.approx(30, abs=0.35), pytest.approx(40, abs=0.35))
    # Halfway along a path of 30 + 40 px (points evenly spaced in time): at the corner, 30 px right.
    dx, dy = measured_shift(r.scene.pixels, r.frame(0.5 * r.scene.seconds), (135, 235, 165, 335))
    assert (dx, dy) == (pytest.approx(30, abs=0.35), pytest.approx(0, abs=0.35))


def test_strength_scales_the_displacement():
    p = moving_project([(250, 180), (310, 220)], strength=0.5)
    r = renderer_for(p, "kling")
    dx, dy = measured_shift(r.scene.pixels, r.frame(r.scene.seconds), (140, 230, 170, 340))
    assert (dx, dy) == (pytest.approx(30, abs=0.35), pytest.approx(20, abs=0.35))


def test_static_pixels_equal_the_source_in_every_frame_of_every_mode():
    p = moving_project([(250, 180), (330, 260)])
    # A static band right across the region's path, touching the region.
    p.set_mask(STATIC, rect(240, 280, 100, 500))
    static = p.static_mask
    for mode in ("kling", "loop", "ambient"):
        r = renderer_for(p, mode)
        src = r.scene.pixels
        for t in r.times()[::7]:
            frame = r.frame(t)
            np.testing.assert_array_equal(frame[static], src[static], err_msg=f"{mode} t={t}")


def test_kling_pixels_far_from_regions_never_change():
    p = moving_project([(250, 180), (310, 220)])
    r = renderer_for(p, "kling")
    src = r.scene.pixels
    # Everything the region covers during its travel, plus a margin for bilinear edges and the plate.
    y0, y1, x0, x1 = BOX
    swept = np.zeros((H, W), np.uint8)
    swept[y0 : y1 + 40, x0 : x1 + 60] = 1
    margin = 12
    far = cv2.dilate(swept, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) == 0
    assert far.mean() > 0.5
    for t in r.times()[::10]:
        np.testing.assert_array_equal(r.frame(t)[far], src[far])


def test_region_without_trajectory_stays_still_with_a_warning():
    p = moving_project([])
    r = renderer_for(p, "kling")
    assert r.warnings == ["Region 1 has no trajectory; it stays still"]
    for t in r.times()[::15]:
        np.testing.assert_array_equal(r.frame(t), r.scene.pixels)
    r.update(render.snapshot(p, None, "loop"))
    assert "no trajectory" in r.warnings[0]
    np.testing.assert_array_equal(r.frame(1.3), r.scene.pixels)


def test_region_sliding_in_from_the_border_brings_its_texture_continued_not_mirrored():
    p = make_project(W, H, seed=4)
    sky = p.add_region(feather=4)
    p.set_mask(sky.label, rect(0, 150, 0, W))  # touches the top, left and right borders
    sky.trajectory = [(300, 60), (340, 60)]  # slides 40 px right: a strip opens at the left border
    r = renderer_for(p, "kling")
    src = r.scene.pixels
    frame = r.frame(r.scene.seconds)
    rows = slice(10, 130)  # away from the feathered lower edge
    np.testing.assert_array_equal(frame[rows, 100:200], src[rows, 60:160])
    strip, mirrored = gray(frame[rows, 4:36]), gray(src[rows, 5:37][:, ::-1])
    assert abs(np.corrcoef(strip.ravel(), mirrored.ravel())[0, 1]) < 0.3, "the border columns mirrored"
    # The region's own texture continues there: its colours, some grain, not a flat smear.
    region = src[rows, 40:200].reshape(-1, 3).astype(float)
    assert np.abs(frame[rows, :40].reshape(-1, 3).mean(axis=0) - region.mean(axis=0)).max() < 25
    assert gray(frame[rows, :40]).std() > 0.25 * gray(src[rows, 40:200]).std()


def test_region_moving_past_the_image_border_is_clipped_not_an_error():
    p = moving_project([(250, 180), (900, -300)])
    r = renderer_for(p, "kling")
    frame = r.frame(r.scene.seconds)
    assert frame.shape == (H, W, 3)


# ----- loop and ambient modes ------------------------------------------------------------------------
def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("mode", ["loop", "ambient"])
def test_loop_seam_is_no_larger_than_a_step_between_neighbouring_frames(mode):
    p = moving_project([(160, 180), (260, 150), (340, 200)])
    p.clip.loop_seconds = 2.0
    p.clip.seconds = 2.0
    p.clip.fps = 12
    r = renderer_for(p, mode)
    times = r.times()
    assert len(times) == 24
    frames = [r.frame(t) for t in times]
    steps = [mean_diff(a, b) for a, b in zip(frames[:-1], frames[1:])]
    seam = mean_diff(frames[-1], frames[0])
    assert min(steps) > 0, "the region must actually move"
    assert seam <= max(steps) + 1e-6
    # The frame after the last one is the first one again.
    np.testing.assert_array_equal(r.frame(r.scene.period), frames[0])


def test_loop_texture_flows_along_the_trajectory():
    p = moving_project([(160, 180), (340, 180)])  # 180 px to the right per loop period
    p.clip.loop_seconds = 6.0
    r = renderer_for(p, "loop")
    # 180 px is 5.6 times 5% of 640 px, which asks for six cycles per period, but no cycle is shorter than
    # MIN_CYCLE_SECONDS: four cycles of 1.5 s.
    assert r.loop_cycles == 4
    # At phase 3/4 of a cycle (the region starts at its own phase offset) the two phases coincide, a
    # quarter of a cycle's travel down the flow from the still: the core shifted by that much.
    cycle = r.scene.period / r.loop_cycles
    offset = r.cache_entry(p.regions[0].label).offset
    dx, dy = measured_shift(r.scene.pixels, r.frame((0.75 - offset) % 1.0 * cycle), (150, 210, 190, 310))
    assert dx == pytest.approx(180 / 4 / 4, abs=0.6)
    assert dy == pytest.approx(0, abs=0.6)


def test_velocity_field_follows_each_leg_of_a_bent_trajectory():
    bbox = (0, 200, 0, 300)
    pts = [(20, 40), (200, 40), (200, 180)]  # right, then down
    vel = motion.trajectory_velocity(pts, 10.0, bbox, (200, 300))
    assert vel.shape == (200, 300, 2)
    right, down = vel[40, 60], vel[150, 200]
    assert right[0] == pytest.approx(10, abs=1) and abs(right[1]) < 1
    assert down[1] == pytest.approx(10, abs=1) and abs(down[0]) < 1
    # Far from the path the field continues smoothly rather than dropping to zero.
    assert np.hypot(*vel[190, 10]) > 5


def test_ambient_kind_region_shimmers_in_loop_mode_without_a_trajectory():
    p = moving_project([], kind=MotionKind.AMBIENT)
    r = renderer_for(p, "loop")
    assert r.warnings == []
    src = r.scene.pixels
    frame = r.frame(0.3)
    y0, y1, x0, x1 = BOX
    assert mean_diff(frame[y0:y1, x0:x1], src[y0:y1, x0:x1]) > 1
    outside = ~rect(*BOX)
    np.testing.assert_array_equal(frame[outside], src[outside])


def test_ambient_motion_is_small_and_the_same_pattern_at_any_resolution():
    a_small, _ = motion.ambient_noise((0, 100, 0, 160), (100, 160))
    a_big, _ = motion.ambient_noise((0, 200, 0, 320), (200, 320))
    # The same noise cell pattern: the big field sampled at every other pixel matches the small one.
    np.testing.assert_allclose(a_big[::2, ::2], a_small, atol=0.25)
    assert motion.ambient_amplitude(1.0, (400, 640)) < 5


def test_loop_frames_at_the_same_time_are_the_same_at_any_frame_rate():
    p = moving_project([(160, 180), (260, 150), (340, 200)], kind=MotionKind.FLOW)
    p.clip.loop_seconds = 2.0
    scene = render.snapshot(p, None, "loop")
    slow, fast = render.Renderer(scene.with_clip(fps=8)), render.Renderer(scene.with_clip(fps=24))
    assert len(slow.times()) == 16 and len(fast.times()) == 48
    assert slow.loop_cycles == fast.loop_cycles
    for t in (0.25, 0.5, 1.125):
        np.testing.assert_array_equal(slow.frame(t), fast.frame(t))


def test_loop_cycles_follow_speed_period_and_size_with_a_shortest_cycle():
    # 5% of a 1000 px image per cycle: 240 px per 8 s loop is 5 cycles.
    assert motion.loop_cycles(30.0, 8.0, 1000) == 5
    assert motion.loop_cycles(30.0, 8.0, 2000) == 3  # the same flow on a bigger image: fewer cycles
    # A very fast flow would need 400 cycles; none is shorter than MIN_CYCLE_SECONDS.
    assert motion.loop_cycles(5000.0, 4.0, 1000) == int(4.0 / motion.MIN_CYCLE_SECONDS)
    assert motion.loop_cycles(0.0, 4.0, 1000) == 1
    assert motion.flow_reach(75.0, 4.0, 6) == pytest.approx(50.0)


def test_loop_phase_hides_each_restart_behind_a_zero_weight():
    for t in np.linspace(0, 5, 97):
        phi0, phi1, w0 = motion.loop_phase(float(t), 5.0, 3)
        assert 0 <= phi0 < 1 and 0 <= phi1 < 1
        if phi0 < 1e-9:
            assert w0 == pytest.approx(0)
        if phi1 < 1e-9:
            assert w0 == pytest.approx(1)


# ----- region textures: nothing from outside a region reaches its frames ----------------------------
BLUE = ((20, 40, 120), (80, 110, 230))  # lowest and highest RGB of a region's texture
RED = ((150, 20, 20), (240, 80, 80))
YELLOW = (250, 240, 30)  # the static bar and everything unpainted: far outside both ranges


def tinted(colours: tuple, seed: int) -> np.ndarray:
    """A textured W x H image whose every channel stays within colours = (lowest, highest)."""
    g = textured_pixels(W, H, seed)[..., :1].astype(np.float32) / 255.0
    lo, hi = (np.array(c, np.float32) for c in colours)
    return np.clip(np.rint(lo + g * (hi - lo)), lo, hi).astype(np.uint8)


def project_of(pixels: np.ndarray) -> Project:
    return Project(decode_image(encode_png(pixels), "regions.png"))


def out_of_range(frame: np.ndarray, mask: np.ndarray, colours: tuple) -> int:
    """How many of the mask's pixels have a channel outside colours = (lowest, highest)."""
    px = frame[mask].astype(int)
    lo, hi = np.array(colours[0]), np.array(colours[1])
    return int(((px < lo) | (px > hi)).any(axis=1).sum())


def bar_project(kind: MotionKind) -> tuple[Project, np.ndarray]:
    """A blue region split by a bright static bar, on an unpainted bright background; its flow runs right,
    so the pixels right of the bar and of the region's left edge sample upstream points outside it."""
    pixels = np.empty((H, W, 3), np.uint8)
    pixels[...] = YELLOW
    region = rect(100, 300, 80, 560)
    bar = rect(60, 340, 300, 316)
    region &= ~bar
    pixels[region] = tinted(BLUE, 11)[region]
    p = project_of(pixels)
    r = p.add_region(kind=kind, strength=3.0 if kind == MotionKind.AMBIENT else 1.0, feather=6.0)
    p.set_mask(r.label, region)
    p.set_mask(STATIC, bar)
    r.trajectory = [(120.0, 200.0), (520.0, 200.0)]
    p.clip.loop_seconds = p.clip.seconds = 2.0
    p.clip.fps = 8
    return p, region


@pytest.mark.parametrize(
    ("mode", "kind"), [("loop", MotionKind.FLOW), ("ambient", MotionKind.AMBIENT), ("kling", MotionKind.FLOW)]
)
def test_a_region_never_shows_the_static_bar_or_the_unpainted_background(mode, kind):
    p, region = bar_project(kind)
    r = renderer_for(p, mode)
    src = r.scene.pixels
    assert out_of_range(src, region, BLUE) == 0
    moved = 0.0
    for t in r.times():
        frame = r.frame(t)
        assert out_of_range(frame, region, BLUE) == 0, f"{mode} t={t}: foreign colour in the region"
        moved = max(moved, mean_diff(frame[region], src[region]))
    assert moved > 1.0, "the region must actually move"
    if mode == "kling":
        np.testing.assert_array_equal(r.frame(0.0), src)  # stuff regions start exactly as the source


@pytest.mark.parametrize("mode", ["loop", "ambient"])
def test_adjacent_regions_never_sample_each_other(mode):
    a_mask, b_mask = rect(100, 300, 80, 320), rect(100, 300, 320, 560)
    pixels = np.empty((H, W, 3), np.uint8)
    pixels[...] = YELLOW
    pixels[a_mask] = tinted(BLUE, 12)[a_mask]
    pixels[b_mask] = tinted(RED, 13)[b_mask]
    p = project_of(pixels)
    # They flow apart, so each one's pixels along the shared edge sample the other side.
    for mask, path in ((a_mask, [(300, 200), (100, 200)]), (b_mask, [(340, 200), (540, 200)])):
        reg = p.add_region(kind=MotionKind.FLOW if mode == "loop" else MotionKind.AMBIENT, strength=3.0)
        p.set_mask(reg.label, mask)
        reg.trajectory = path
    p.clip.loop_seconds = p.clip.seconds = 2.0
    p.clip.fps = 8
    r = renderer_for(p, mode)
    for t in r.times():
        frame = r.frame(t)
        assert out_of_range(frame, a_mask, BLUE) == 0, f"t={t}: the blue region shows red or yellow"
        assert out_of_range(frame, b_mask, RED) == 0, f"t={t}: the red region shows blue or yellow"


@pytest.mark.parametrize("mode", ["loop", "kling"])
def test_sample_lake_never_shows_the_tree_or_the_bank(mode):
    """The bundled sample at 8 fps (long flow cycles): the lake is blue; the tree crown and the grass bank
    beside it are green and the trunk brown, so a lake pixel turning green or warm came from them."""
    p = projectfile.load_project(resources.sample_project_path())
    p.clip.fps = 8
    r = render.Renderer(render.snapshot(p, None, mode, size=(640, 360)))
    water = r.scene.labels == next(reg.label for reg in p.regions if reg.name == "Water")

    def foreign(img: np.ndarray) -> int:
        px = img[water].astype(int)
        return int(((px[:, 1] > px[:, 2] + 8) | (px[:, 0] > px[:, 2] + 8)).sum())

    assert foreign(r.scene.pixels) == 0
    for t in r.times()[::2]:
        assert foreign(r.frame(t)) == 0, f"{mode} t={t}"


def test_region_texture_keeps_the_inside_and_continues_it_outside():
    pixels = np.empty((120, 200, 3), np.uint8)
    pixels[...] = YELLOW
    inside = np.zeros((120, 200), bool)
    inside[:, :100] = True
    pixels[inside] = tinted(BLUE, 14)[:120, :200][inside]
    out = motion.extend_texture(pixels, inside, keep=6.0, fade=16.0)
    np.testing.assert_array_equal(out[inside], pixels[inside])
    lo, hi = np.array(BLUE[0]), np.array(BLUE[1])
    assert ((out >= lo) & (out <= hi)).all(), "the fill has a colour the inside does not have"
    # Next to the edge the grain continues: mirrored across it, not a flat smear.
    near = gray(out[:, 101:105])
    mirrored = gray(pixels[:, 95:99])[:, ::-1]
    assert np.corrcoef(near.ravel(), mirrored.ravel())[0, 1] > 0.8
    # Far from it the fill is smooth, and still the inside's colour.
    far = out[:, 180:]
    assert gray(far).std() < gray(pixels[:, :100]).std()


def test_trusted_interior_drops_the_rim_but_keeps_thin_regions():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    inner = motion.trusted_interior(mask, 1.5)
    assert inner[11:29, 11:29].all() and not inner[10].any() and not inner[:, 10].any()
    assert not (inner & ~mask).any()
    line = np.zeros((40, 40), bool)
    line[20:22, 5:35] = True
    np.testing.assert_array_equal(motion.trusted_interior(line, 1.5), line)
    # The array's border is not an edge: a region filling it is trusted right up to it.
    assert motion.trusted_interior(np.ones((10, 10), bool), 1.5).all()


# ----- camera -------------------------------------------------------------------------------------
def test_camera_zoom_scales_the_frame_about_its_centre():
    p = make_project(W, H, seed=5)
    p.camera.axis, p.camera.value = "zoom", -10  # narrower field of view: 2x magnified at the end
    r = renderer_for(p, "kling")
    src = r.scene.pixels
    assert camera.zoom_factor(-10) == pytest.approx(2.0)
    np.testing.assert_array_equal(r.frame(0.0), src)
    end = r.frame(r.scene.seconds)

    def scaled(z: float) -> np.ndarray:
        m = np.array([[z, 0, (W - 1) / 2 * (1 - z)], [0, z, (H - 1) / 2 * (1 - z)]])
        return cv2.warpAffine(src, m, (W, H), flags=cv2.INTER_LINEAR)

    inner = (slice(H // 4, 3 * H // 4), slice(W // 4, 3 * W // 4))
    right = mean_diff(end[inner], scaled(2.0)[inner])
    assert right < 1.0
    assert mean_diff(end[inner], scaled(1.8)[inner]) > 5 * right + 5
    # Halfway through, an exponential zoom is at sqrt(2).
    half = r.frame(r.scene.seconds / 2)
    assert mean_diff(half[inner], scaled(2**0.5)[inner]) < 1.0


def test_camera_horizontal_move_slides_content_against_the_camera():
    p = make_project(W, H, seed=5)
    p.camera.axis, p.camera.value = "horizontal", 4  # camera right -> picture slides left
    r = renderer_for(p, "kling")
    dx, dy = measured_shift(r.scene.pixels, r.frame(r.scene.seconds), (100, 300, 200, 440))
    assert dx == pytest.approx(-0.4 * camera.SHIFT_AT_10 * W, abs=0.5)
    assert dy == pytest.approx(0, abs=0.5)


@pytest.mark.parametrize("axis", camera.AXES)
def test_every_camera_axis_starts_at_identity_and_moves_by_the_end(axis):
    m0 = camera.matrix(axis, 7, 0.0, W, H)
    np.testing.assert_allclose(m0, np.eye(3))
    m1 = camera.matrix(axis, 7, 1.0, W, H)
    assert not np.allclose(m1, np.eye(3))
    # The opposite value moves the other way: the centre's image (or the scale) goes the other side.
    mneg = camera.matrix(axis, -7, 1.0, W, H)
    c = np.array([W / 2, H / 4, 1.0])
    p_pos, p_neg = m1 @ c, mneg @ c
    assert not np.allclose(p_pos[:2] / p_pos[2], p_neg[:2] / p_neg[2])
