"""The core model: regions, the label map's overlap rule, undo atoms, trajectories, image decoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kling_preview.core import masks, trajectory
from kling_preview.core.errors import ImageLoadError, LimitError
from kling_preview.core.images import MAX_PIXELS, decode_image, strip_jpeg_metadata
from kling_preview.core.project import MAX_REGIONS, STATIC


def test_seventh_region_is_refused_with_klings_limit(project):
    for _ in range(MAX_REGIONS):
        project.add_region()
    with pytest.raises(LimitError, match="at most 6"):
        project.add_region()
    assert len(project.regions) == MAX_REGIONS


def test_paint_covers_the_dab_and_nothing_else(project):
    r = project.add_region()
    project.paint(r.label, [(100, 100)], 10)
    mask = project.mask(r.label)
    ys, xs = np.nonzero(mask)
    assert mask[100, 100] and mask[100, 109] and not mask[100, 112]
    assert ((xs - 100) ** 2 + (ys - 100) ** 2).max() <= 11**2
    assert abs(mask.sum() - np.pi * 100) < 0.15 * np.pi * 100


def test_newest_paint_wins_and_regions_never_overlap(project):
    a, b = project.add_region(), project.add_region()
    project.paint(a.label, [(100, 100), (200, 100)], 15)
    project.paint(b.label, [(150, 100)], 15)
    project.paint(STATIC, [(190, 100)], 5)
    assert project.mask(b.label)[100, 150] and not project.mask(a.label)[100, 150]
    assert project.static_mask[100, 190] and not project.mask(a.label)[100, 190]
    total = sum(project.mask(r.label).astype(int) for r in project.regions) + project.static_mask
    assert total.max() == 1


def test_undo_atom_holds_only_the_stroke_box_and_restores_exactly(project):
    a, b = project.add_region(), project.add_region()
    project.paint(a.label, [(50, 50), (300, 60)], 12)
    before = project.labels.copy()
    edit = project.paint(b.label, [(100, 55), (120, 80)], 8)
    assert edit.before.size < 0.05 * project.labels.size
    project.apply_edit(edit, undo=True)
    assert np.array_equal(project.labels, before)
    project.apply_edit(edit)
    assert project.mask(b.label)[55, 100]


def test_eraser_clears_only_its_target(project):
    a, b = project.add_region(), project.add_region()
    project.paint(a.label, [(100, 100)], 20)
    project.paint(b.label, [(130, 100)], 20)
    project.erase(a.label, [(100, 100)], 30)
    assert not project.mask(a.label).any()
    assert project.mask(b.label)[100, 130]


def test_dab_cost_does_not_depend_on_image_size():
    labels = np.zeros((8000, 8000), dtype=np.uint8)
    edit = masks.paint(labels, [(4000, 4000)], 10, 1)
    assert edit.before.shape == (23, 23)


def test_mask_revision_bumps_for_painted_and_overwritten_labels(project):
    a, b = project.add_region(), project.add_region()
    project.paint(a.label, [(100, 100)], 10)
    rev_a = project.mask_revision[a.label]
    project.paint(b.label, [(100, 100)], 4)
    assert project.mask_revision[a.label] == rev_a + 1
    assert project.mask_revision[b.label] == 1


def test_resample_is_constant_speed_and_keeps_ends():
    pts = trajectory.resample([(0, 0), (90, 0), (90, 10)], 11)
    assert pts[0] == (0.0, 0.0) and pts[-1] == (90.0, 10.0)
    steps = np.hypot(*np.diff(np.array(pts), axis=0).T)
    assert np.allclose(steps, 10.0)


def test_long_drawn_path_is_fitted_to_77_points():
    path = [(float(i), float(i % 7)) for i in range(500)]
    fitted = trajectory.fit_to_limit(path)
    assert len(fitted) == trajectory.MAX_POINTS
    assert fitted[0] == path[0] and fitted[-1] == path[-1]


def test_kling_coordinates_have_bottom_left_origin_and_round_trip():
    k = trajectory.to_kling([(10.4, 0.0), (20.0, 399.6)], height=400)
    assert k == [{"x": 10, "y": 400}, {"x": 20, "y": 0}]
    assert trajectory.from_kling(k, 400) == [(10.0, 0.0), (20.0, 400.0)]


def test_position_at_time_is_evenly_spaced_over_points():
    pts = [(0, 0), (10, 0), (10, 30)]
    assert trajectory.position_at(pts, 0.5) == (10.0, 0.0)
    assert trajectory.position_at(pts, 0.75) == (10.0, 15.0)


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_exif_rotation_is_applied():
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    src = decode_image(_encode(im, "JPEG", exif=exif), "r.jpg")
    assert src.size == (20, 40)
    assert any("orientation 6" in n for n in src.notes)


@pytest.mark.parametrize(
    "mode", ["L", "P", "CMYK", "RGBA", "LA", "I;16", "1"],
)
def test_every_pixel_mode_becomes_8bit_rgb(mode):
    im = Image.new("RGB", (32, 16), (200, 100, 50)).convert(mode)
    fmt = "TIFF" if mode in ("CMYK",) else "PNG"
    src = decode_image(_encode(im, fmt), f"x.{fmt.lower()}")
    assert src.pixels.dtype == np.uint8 and src.pixels.shape == (16, 32, 3)


def test_sixteen_bit_keeps_its_range():
    arr = np.full((8, 8), 65535, dtype=np.uint16)
    src = decode_image(_encode(Image.fromarray(arr), "PNG"), "deep.png")
    assert src.pixels.max() == 255


def test_alpha_is_composited_over_the_recorded_background():
    im = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    src = decode_image(_encode(im, "PNG"), "a.png", background=(10, 20, 30))
    assert tuple(src.pixels[5, 5]) == (10, 20, 30)
    assert src.background == (10, 20, 30)


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty"), (b"hello, not an image", "not an image")],
)
def test_bad_bytes_give_a_clear_error(data, message):
    with pytest.raises(ImageLoadError, match=message):
        decode_image(data, "bad.png")


def test_truncated_image_is_reported():
    data = _encode(Image.new("RGB", (300, 300), (1, 2, 3)).resize((300, 300)), "JPEG")
    with pytest.raises(ImageLoadError, match="truncated.jpg"):
        decode_image(data[: len(data) // 2], "truncated.jpg")


def test_decompression_bomb_is_refused_before_decoding():
    side = int(MAX_PIXELS**0.5) + 100
    data = _encode(Image.new("1", (side, side)), "PNG")
    with pytest.raises(ImageLoadError, match="megapixel"):
        decode_image(data, "bomb.png")


def test_jpeg_metadata_strip_is_lossless_and_stable():
    im = Image.new("RGB", (64, 32), (10, 200, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPS IFD
    data = _encode(im, "JPEG", exif=exif)
    stripped = strip_jpeg_metadata(data)
    assert b"Exif" not in stripped and len(stripped) < len(data)
    assert strip_jpeg_metadata(stripped) == stripped
    assert np.array_equal(decode_image(stripped, "a.jpg").pixels, decode_image(data, "a.jpg").pixels)
