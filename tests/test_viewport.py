"""The canvas's zoom and pan math, without a window."""

from __future__ import annotations

import pytest

from kling_preview.ui.viewport import KEEP_VISIBLE, MAX_ZOOM, MIN_ZOOM, Viewport

IMAGE = (400, 300)
VIEW = (1000, 800)


def test_fit_centres_the_whole_image_and_maps_pixel_centres():
    v = Viewport()
    v.fit(IMAGE, VIEW)
    assert v.fit_mode and v.scale == pytest.approx(min(976 / 400, 776 / 300))
    left, top = v.image_to_widget(-0.5, -0.5)  # the image's top-left corner
    right, bottom = v.image_to_widget(399.5, 299.5)
    assert left + right == pytest.approx(VIEW[0]) and top + bottom == pytest.approx(VIEW[1])
    assert v.widget_to_image(*v.image_to_widget(123.25, 45.5)) == pytest.approx((123.25, 45.5))


def test_zoom_keeps_the_point_under_the_anchor_and_is_clamped():
    v = Viewport()
    v.fit(IMAGE, VIEW)
    anchor = v.image_to_widget(100.0, 80.0)
    v.set_zoom(v.scale * 3, anchor, IMAGE, VIEW)
    assert not v.fit_mode
    assert v.widget_to_image(*anchor) == pytest.approx((100.0, 80.0))
    v.set_zoom(1000.0, anchor, IMAGE, VIEW)
    assert v.scale == MAX_ZOOM
    v.set_zoom(0.0001, anchor, IMAGE, VIEW)
    assert v.scale == MIN_ZOOM


def test_zoom_steps_go_to_the_next_listed_scale():
    assert Viewport.step_in(1.0) == 1.5 and Viewport.step_out(1.0) == 0.6667
    assert Viewport.step_in(MAX_ZOOM) == MAX_ZOOM and Viewport.step_out(MIN_ZOOM) == MIN_ZOOM


def test_panning_always_leaves_part_of_the_image_on_screen():
    v = Viewport(scale=1.0)
    v.pan_by(-10_000, -10_000, IMAGE, VIEW)
    right, bottom = v.image_to_widget(399.5, 299.5)
    assert right == pytest.approx(KEEP_VISIBLE) and bottom == pytest.approx(KEEP_VISIBLE)
    v.pan_by(50_000, 50_000, IMAGE, VIEW)
    assert v.ox == pytest.approx(VIEW[0] - KEEP_VISIBLE) and v.oy == pytest.approx(VIEW[1] - KEEP_VISIBLE)
