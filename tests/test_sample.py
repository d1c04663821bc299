"""The bundled sample is made by the project itself and stays in step with its generator."""

from __future__ import annotations

import importlib.util

import numpy as np

from kling_preview.core.images import load_image
from kling_preview.core.projectfile import load_project
from kling_preview.resources import assets_dir, sample_image_path, sample_project_path


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample", assets_dir() / "samples" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_sample_matches_its_generator():
    gen = _generator()
    pixels, areas = gen.draw_landscape()
    fresh = gen.build_project(pixels, areas)
    committed = load_project(sample_project_path())
    assert np.array_equal(load_image(sample_image_path()).pixels, pixels)
    assert np.array_equal(committed.image.pixels, pixels)
    assert np.array_equal(committed.labels, fresh.labels)
    assert [r.trajectory for r in committed.regions] == [r.trajectory for r in fresh.regions]


def test_sample_regions_are_where_the_picture_says():
    p = load_project(sample_project_path())
    clouds, water = p.regions
    h = p.size[1]
    rows_clouds = np.nonzero(p.mask(clouds.label))[0]
    rows_water = np.nonzero(p.mask(water.label))[0]
    assert rows_clouds.max() < 0.55 * h < rows_water.min()  # sky above the far shore (y = 400), lake below
    assert p.clip.mode == "loop"
