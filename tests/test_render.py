"""Scene snapshots and the renderer's caches: independence from the project, reuse across updates."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import make_project

from kling_preview.core import render
from kling_preview.core.errors import InvalidError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MotionKind

W, H = 640, 400


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def three_regions():
    p = make_project(W, H, seed=7)
    boxes = [(40, 140, 40, 200), (200, 330, 60, 260), (120, 300, 360, 600)]
    for i, box in enumerate(boxes):
        r = p.add_region(feather=5)
        p.set_mask(r.label, rect(*box))
        y0, y1, x0, x1 = box
        r.trajectory = [((x0 + x1) / 2, (y0 + y1) / 2), ((x0 + x1) / 2 + 30 + 5 * i, (y0 + y1) / 2 + 10)]
    p.set_mask(STATIC, rect(0, 30, 0, W))
    return p


# ----- snapshot ------------------------------------------------------------------------------------
def test_snapshot_resizes_to_the_long_side_and_scales_trajectories():
    p = three_regions()
    scene = render.snapshot(p, max_side=320)
    assert scene.size == (320, 200)
    assert scene.pixels.shape == (200, 320, 3) and scene.labels.shape == (200, 320)
    assert scene.scale == (0.5, 0.5)
    src_traj = p.regions[0].trajectory
    assert scene.regions[0].trajectory == tuple((x / 2, y / 2) for x, y in src_traj)
    assert scene.regions[0].feather == pytest.approx(2.5)
    # Labels survive the resize (nearest neighbour: no blended label values).
    assert set(np.unique(scene.labels)) <= {0, 1, 2, 3, STATIC}
    full = render.snapshot(p, max_side=None)
    assert full.size == (W, H) and full.scale == (1.0, 1.0)
    assert render.snapshot(p, max_side=5000).size == (W, H)


def test_snapshot_mode_and_loop_length():
    p = three_regions()
    p.clip.seconds, p.clip.loop_seconds = 5.0, 3.0
    assert render.snapshot(p).mode == "kling"
    assert render.snapshot(p).seconds == 5.0
    loop = render.snapshot(p, mode="loop")
    assert loop.mode == "loop" and loop.seconds == 3.0 and loop.period == 3.0
    p.clip.mode = "ambient"
    assert render.snapshot(p).mode == "ambient"
    with pytest.raises(InvalidError, match="unknown preview mode"):
        render.snapshot(p, mode="sideways")


def test_scene_is_independent_of_later_project_edits():
    p = three_regions()
    scene = render.snapshot(p, None)
    labels_before = scene.labels.copy()
    traj_before = scene.regions[0].trajectory
    r = render.Renderer(scene)
    frame_before = r.frame(2.0)

    # Pixels are read-only (shared only if the project's are read-only too); labels are a private copy.
    assert not scene.pixels.flags.writeable and not scene.labels.flags.writeable
    assert not p.image.pixels.flags.writeable or not np.shares_memory(scene.pixels, p.image.pixels)
    assert not np.shares_memory(scene.labels, p.labels)

    p.paint(1, [(300, 200), (400, 250)], 40)
    p.regions[0].trajectory.append((10.0, 10.0))
    p.regions[0].strength = 3.0
    p.camera.axis, p.camera.value = "zoom", 5
    p.clip.seconds = 1.0

    np.testing.assert_array_equal(scene.labels, labels_before)
    assert scene.regions[0].trajectory == traj_before and scene.regions[0].strength == 1.0
    assert scene.camera_axis is None and scene.seconds == 5.0
    np.testing.assert_array_equal(r.frame(2.0), frame_before)


def test_snapshots_of_an_unchanged_image_share_the_resized_pixels():
    p = three_regions()
    a, b = render.snapshot(p, 320), render.snapshot(p, 320)
    assert a.pixels is b.pixels  # read-only, so sharing is safe and a snapshot stays cheap
    assert a.labels is not b.labels


# ----- caches --------------------------------------------------------------------------------------
def test_trajectory_edit_in_loop_mode_rebuilds_only_that_region():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "loop"))
    before = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    assert all(entry is not None for entry in before.values())
    builds = r.cache_info()["field_builds"]

    p.regions[1].trajectory = [(100, 250), (200, 300), (240, 220)]
    r.update(render.snapshot(p, None, "loop"))

    after = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    assert after[1] is before[1] and after[3] is before[3]
    assert after[2] is not before[2]
    assert r.cache_info()["field_builds"] == builds + 1


def test_a_trajectory_edit_keeps_the_texture_the_warp_samples():
    """Sharpening and upsampling a texture costs more than the rest of a field: a trajectory edit that the
    texture still reaches far enough for reuses it."""
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "loop"))
    before = r.cache_entry(2)
    p.regions[1].trajectory = list(reversed(p.regions[1].trajectory))  # as long, the other way
    r.update(render.snapshot(p, None, "loop"))
    after = r.cache_entry(2)
    assert after is not before and after.texture is before.texture and after.pixels is before.pixels


def test_mask_edit_in_loop_mode_rebuilds_only_that_regions_field_and_texture():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "loop"))
    before = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    textures = {lab: entry.texture for lab, entry in before.items()}
    builds = r.cache_info()["field_builds"]

    p.paint(3, [(500, 320), (540, 330)], 12)  # grows region 3 only
    r.update(render.snapshot(p, None, "loop"))
    after = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    assert after[1] is before[1] and after[2] is before[2]
    assert after[1].texture is textures[1] and after[2].texture is textures[2]
    assert after[3] is not before[3] and after[3].pixels is not before[3].pixels
    assert r.cache_info()["field_builds"] == builds + 1
    # The new texture reaches past the grown region by as far as its flow carries a sample.
    assert after[3].bbox[1] > before[3].bbox[1]
    reach = after[3].speed * r.scene.period / after[3].cycles
    assert min(after[3].texture.margins) >= reach
    y0, y1, x0, x1 = after[3].bbox
    top, bottom, left, right = after[3].texture.margins
    assert after[3].texture.pixels.shape[:2] == (y1 - y0 + top + bottom, x1 - x0 + left + right)


def test_trajectory_edit_reuses_the_region_texture_while_it_reaches_far_enough():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "loop"))
    texture = r.cache_entry(2).texture
    builds = r.cache_info()["texture_builds"]
    p.regions[1].trajectory = [(160, 265), (192, 270)]  # a little slower: reaches less far
    r.update(render.snapshot(p, None, "loop"))
    assert r.cache_entry(2).texture is texture and r.cache_info()["texture_builds"] == builds
    p.regions[1].trajectory = [(100, 265), (600, 265)]  # much faster: each cycle carries samples further
    r.update(render.snapshot(p, None, "loop"))
    assert r.cache_entry(2).texture is not texture and r.cache_info()["texture_builds"] == builds + 1
    # Kling mode asks the same cache: a flow region advects its texture there too, and the texture it
    # samples reaches as far as any of its phases carries a sample.
    p.regions[1].kind = MotionKind.FLOW
    r.update(render.snapshot(p, None, "kling"))
    entry = r.cache_entry(2)
    assert entry.kind == "flow" and r.cache_info()["texture_builds"] <= builds + 2
    assert min(entry.texture.margins) >= entry.speed * r.scene.period / entry.cycles


@pytest.mark.parametrize("mode", ["loop", "ambient"])
def test_pixels_outside_full_width_regions_are_the_source(mode):
    """Rows a full-width region covers completely are drawn, not copied: everything else is the source."""
    p = make_project(W, H, seed=8)
    sky, water = p.add_region(kind=MotionKind.FLOW), p.add_region(kind=MotionKind.FLOW)
    p.set_mask(sky.label, rect(0, 150, 0, W))
    lake = rect(210, H, 0, W)
    lake[300:330, 200:260] = False  # an unpainted hole inside the lake's rows
    p.set_mask(water.label, lake)
    p.set_mask(STATIC, rect(150, 200, 0, W))  # rows 200..210 stay unpainted
    sky.trajectory, water.trajectory = [(100, 70), (500, 70)], [(500, 300), (100, 300)]
    r = render.Renderer(render.snapshot(p, None, mode))
    src, labels = r.scene.pixels, r.scene.labels
    still = (labels != sky.label) & (labels != water.label)
    for t in (0.0, 0.7, 2.2):
        frame = r.frame(t)
        np.testing.assert_array_equal(frame[still], src[still])
        assert mean_abs(frame[~still], src[~still]) > 0.5


def test_incremental_loop_fields_equal_a_fresh_render():
    p = three_regions()
    p.regions[2].kind = MotionKind.AMBIENT
    r = render.Renderer(render.snapshot(p, None, "loop"))
    r.frame(1.0)
    p.paint(2, [(100, 250), (150, 280)], 20)
    p.erase(1, [(100, 60)], 15)
    p.regions[0].trajectory = [(120, 90), (60, 60)]
    r.update(render.snapshot(p, None, "loop"))
    fresh = render.Renderer(render.snapshot(p, None, "loop"))
    for t in (0.0, 1.3, 2.9):
        np.testing.assert_array_equal(r.frame(t), fresh.frame(t))


def test_flow_regions_in_kling_mode_need_no_clean_plate():
    """Flow (stuff) regions show their own texture over their whole area, so nothing is inpainted for
    them; a path region (an object) uncovers an inpainted plate."""
    p = three_regions()
    for reg in p.regions:
        reg.kind = MotionKind.FLOW
    r = render.Renderer(render.snapshot(p, None, "kling"))
    assert r.cache_info()["plate_fills"] == 0
    p.regions[1].kind = MotionKind.PATH
    r.update(render.snapshot(p, None, "kling"))
    assert r.cache_info()["plate_fills"] == 1
    np.testing.assert_array_equal(r.frame(0.0), r.scene.pixels)


def test_mask_edit_in_kling_mode_rebuilds_only_that_region_and_its_plate():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    before = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    info = r.cache_info()

    p.paint(3, [(500, 320), (540, 330)], 12)  # grows region 3 only
    r.update(render.snapshot(p, None, "kling"))
    after = {reg.label: r.cache_entry(reg.label) for reg in p.regions}
    assert after[1] is before[1] and after[2] is before[2]
    assert after[3] is not before[3]
    assert r.cache_info()["plate_fills"] == info["plate_fills"] + 1
    assert r.cache_info()["geometry_builds"] == info["geometry_builds"] + 1


def test_trajectory_edit_in_kling_mode_reuses_the_plate():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    info = r.cache_info()
    p.regions[0].trajectory = [(120, 90), (60, 60)]
    r.update(render.snapshot(p, None, "kling"))
    assert r.cache_info() == info


def test_incremental_plate_equals_a_fresh_render():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    r.frame(1.0)
    p.paint(2, [(100, 250), (150, 280)], 20)
    p.erase(2, [(200, 320)], 15)
    r.update(render.snapshot(p, None, "kling"))
    fresh = render.Renderer(render.snapshot(p, None, "kling"))
    for t in (0.0, 2.5, 5.0):
        assert np.abs(r.frame(t).astype(int) - fresh.frame(t).astype(int)).max() <= 2


def test_removing_a_region_restores_its_pixels():
    p = three_regions()
    r = render.Renderer(render.snapshot(p, None, "kling"))
    p.remove_region(2)
    p.remove_region(3)
    p.remove_region(1)
    r.update(render.snapshot(p, None, "kling"))
    np.testing.assert_array_equal(r.frame(4.0), r.scene.pixels)


def test_hidden_region_stays_still_without_warning():
    p = three_regions()
    for reg in p.regions:
        reg.visible = False
    r = render.Renderer(render.snapshot(p, None, "kling"))
    assert r.warnings == []
    np.testing.assert_array_equal(r.frame(3.0), r.scene.pixels)


def test_warnings_name_the_region_and_the_problem():
    p = make_project(W, H)
    p.add_region(name="Sky")  # no pixels, no trajectory
    water = p.add_region(name="Water")  # a trajectory but no pixels
    water.trajectory = [(10, 10), (50, 10)]
    r = render.Renderer(render.snapshot(p))
    assert "Sky has no trajectory; it stays still" in r.warnings
    assert "Water has no painted area; nothing moves" in r.warnings
    p.regions[0].kind = MotionKind.AMBIENT
    r.update(render.snapshot(p, mode="loop"))
    assert not any(w.startswith("Sky has no trajectory") for w in r.warnings)


# ----- time ----------------------------------------------------------------------------------------
def test_frame_count_and_times():
    p = three_regions()
    p.clip.seconds, p.clip.fps, p.clip.loop_seconds = 2.0, 10, 3.0
    r = render.Renderer(render.snapshot(p))
    assert r.frame_count() == 20 and r.frame_count(1.5, 8) == 12
    times = r.times()
    assert len(times) == 20 and times[0] == 0.0 and times[-1] == pytest.approx(2.0)
    r.update(render.snapshot(p, mode="loop"))
    times = r.times()
    assert len(times) == 30 and times[-1] == pytest.approx(3.0 - 0.1)


def test_frames_are_new_arrays_at_the_scene_size():
    p = three_regions()
    for mode in ("kling", "loop", "ambient"):
        r = render.Renderer(render.snapshot(p, max_side=300, mode=mode))
        a, b = r.frame(1.0), r.frame(1.0)
        assert a.shape == (188, 300, 3) and a.dtype == np.uint8
        assert a is not b and not np.shares_memory(a, b)
        np.testing.assert_array_equal(a, b)


def test_renderer_without_scene_refuses_frames():
    with pytest.raises(RuntimeError):
        render.Renderer().frame(0.0)


def test_worker_thread_renders_while_the_gui_thread_snapshots():
    p = three_regions()
    renderer = render.Renderer(render.snapshot(p))
    scenes: list[render.Scene] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def worker() -> None:
        try:
            while not done.is_set() or scenes:
                if scenes:
                    renderer.update(scenes.pop())
                renderer.frame(1.0)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    for i in range(20):
        p.paint(1 + i % 3, [(50 + 20 * i, 100)], 10)
        p.regions[i % 3].trajectory = [(100, 100), (130 + i, 120)]
        scenes.append(render.snapshot(p))
    done.set()
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == []
    renderer.update(render.snapshot(p))
    fresh = render.Renderer(render.snapshot(p))
    assert np.abs(renderer.frame(2.0).astype(int) - fresh.frame(2.0).astype(int)).max() <= 2
