"""Where a moving region meets the image border: no mirror image of the border rows ever shows.

A flow samples upstream of each pixel (and one phase to the side of the flow), so near the border it
samples past it. The still here has an asymmetric pattern along its top edge (a sawtooth that brightens
downwards, over grain): a reflected copy of it is easy to tell from a continuation.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kling_preview.core import render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import MotionKind, Project

W, H = 240, 160
SKY = 90  # rows of the flowing region (it touches the top, left and right borders)
BAND = 40  # rows tested along the top border


def sawtooth_still() -> np.ndarray:
    rng = np.random.default_rng(3)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 1.2)
    grain *= 18 / grain.std()
    ys = np.arange(H, dtype=np.float32)[:, None]
    tooth = 20 * ((ys % 13) / 13)  # brightens downwards, then drops: asymmetric under a flip
    grey = 100 + tooth + grain
    return np.clip(np.dstack([grey, grey * 0.9, grey * 0.8]), 0, 255).astype(np.uint8)


def border_project(direction: float, *, object_region: bool = False) -> Project:
    p = Project(decode_image(encode_png(sawtooth_still()), "sawtooth.png"))
    region = p.add_region(kind=MotionKind.PATH if object_region else MotionKind.FLOW, feather=2)
    mask = np.zeros((H, W), bool)
    mask[:SKY] = True
    p.set_mask(region.label, mask)
    x0, x1 = (170.0, 70.0) if direction < 0 else (70.0, 170.0)
    region.trajectory = [(x0, 45.0), (x1, 45.0)]
    p.clip.seconds, p.clip.loop_seconds, p.clip.fps = 5.0, 5.0, 6
    return p


def band_pass(img: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32) if img.ndim == 3 else img.astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), 0.8) - cv2.GaussianBlur(grey, (0, 0), 3.0)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def mirror_score(frame: np.ndarray) -> float:
    """How much better rows mirrored about some axis near the top border (on a row or between two) match
    than the same rows translated across it (detail of the region's middle columns): a reflected
    continuation scores near 1, the still about 0."""
    d = band_pass(frame)[: BAND + 10, 20 : W - 20]
    best = 0.0
    for a in range(5, BAND):
        j = min(a, 9)
        above = d[a - j : a - 1]  # rows next to the axis are alike anyway: pairs 3 rows apart or more
        for below in (d[a + 2 : a + 1 + j], d[a + 1 : a + j]):
            best = max(best, corr(above[::-1], below) - max(corr(above, below), 0.0))
    return best


def test_the_still_has_no_mirror():
    """The measure itself: the still and a copy with its top rows reflected are told apart."""
    still = sawtooth_still()
    mirrored = still.copy()
    mirrored[:12] = still[12:24][::-1]
    assert mirror_score(still) < 0.3
    assert mirror_score(mirrored) > 0.7


@pytest.mark.parametrize("direction", [-1.0, 1.0])
def test_region_texture_past_the_border_is_not_the_border_mirrored(direction):
    """The texture a flow samples past the top border continues the region (its grain, not flat) without
    reflecting the rows along the border, and it does not count as the region's own pixels (but for a
    band as wide as the validity ramp, so the real pixels next to the border count fully)."""
    r = render.Renderer(render.snapshot(border_project(direction), None, "loop"))
    entry = r.cache_entry(1)
    assert isinstance(entry, render.loop.FieldEntry)
    tex = entry.texture
    top = tex.margins[0]
    assert top >= 20
    detail = band_pass(tex.pixels)[:, tex.margins[2] + 10 : tex.margins[2] + W - 10]
    inside = detail[top : top + 20]  # rows 0..19
    past = detail[top - 20 : top][::-1]  # row -1, -2, ... beside row 0, 1, ...
    # Rows -4..-19 against rows 4..19 (rows next to the border are alike anyway): a mirror matches.
    assert abs(corr(past[3:19], inside[4:20])) < 0.3, "the rows past the border mirror those inside"
    assert past.std() > 0.25 * inside.std(), "no grain past the border"
    assert tex.trusted is not None
    reach = int(np.ceil(render.textures.TRUST_PAST_BORDER * W))  # the validity ramp: fades out past it
    assert reach < top and not tex.trusted[: top - reach].any(), "what lies past the border is not its own"
    assert tex.trusted[top : top + 20, tex.margins[2] + 5 : tex.margins[2] + W - 5].all()


@pytest.mark.parametrize("quality", ["live", "best"])
@pytest.mark.parametrize("mode", ["kling", "loop"])
@pytest.mark.parametrize("direction", [-1.0, 1.0])
def test_frames_show_no_mirror_at_the_top_border(direction, mode, quality):
    p = border_project(direction)
    r = render.Renderer(render.snapshot(p, None, mode, quality=quality))
    still_energy = float(np.mean(band_pass(r.scene.pixels)[:BAND] ** 2))
    for t in r.times()[1:]:
        frame = r.frame(t)
        assert mirror_score(frame) < 0.4, f"t={t:.2f}"
        # Not by going flat: the band along the border keeps its detail.
        assert float(np.mean(band_pass(frame)[:BAND] ** 2)) > 0.5 * still_energy, f"t={t:.2f}"


@pytest.mark.parametrize("quality", ["live", "best"])
def test_an_object_sliding_in_from_the_border_brings_no_mirror_image(quality):
    """A path region (an object layer) touching the top border moves down: what comes in from past the
    border is its texture continued, not its top rows reflected."""
    p = border_project(1.0, object_region=True)
    p.regions[0].trajectory = [(120.0, 45.0), (120.0, 75.0)]  # 30 px down
    r = render.Renderer(render.snapshot(p, None, "kling", quality=quality))
    still = band_pass(r.scene.pixels)[:30]
    end = r.frame(r.times()[-1])
    assert mirror_score(end) < 0.4
    assert band_pass(end)[:30].std() > 0.25 * still.std(), "the object comes in flat"


def test_the_continuation_joins_the_border_without_a_seam():
    """The strip translated outwards puts its inner edge next to the border: on a real sky that seam
    streamed into view with the flow as a hard vertical line. Across the border the texture steps no more
    than it does between columns inside."""
    from kling_preview.core import motion

    rng = np.random.default_rng(9)
    noise = rng.normal(128.0, 30.0, (120, 200, 3)).astype(np.float32)
    texture = np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0), 0, 255).astype(np.uint8)
    out = motion.continue_past_border(texture, (0, 0, 60, 0), 40.0, 8.0).astype(np.float32)
    steps = np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))  # step between column x and x + 1
    inside = float(np.median(steps[60:]))
    assert steps[59] < 1.5 * inside  # the last column past the border against the first inside
    assert steps[:59].max() < 2.0 * inside  # and no seam anywhere in the continuation
