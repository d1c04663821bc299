"""Shared fixtures: offscreen Qt, isolated settings, synthetic textured projects."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import Project


def textured_pixels(width: int = 640, height: int = 400, seed: int = 0) -> np.ndarray:
    """A deterministic RGB image with texture at every scale (so motion is measurable anywhere)."""
    rng = np.random.default_rng(seed)
    import cv2

    noise = rng.integers(0, 256, size=(height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    coarse = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    fine = rng.integers(0, 64, size=(height, width, 3), dtype=np.uint8)
    return np.clip(coarse.astype(np.int16) * 3 // 4 + fine, 0, 255).astype(np.uint8)


def make_project(width: int = 640, height: int = 400, seed: int = 0) -> Project:
    """A project on a synthetic PNG still, with no regions yet."""
    pixels = textured_pixels(width, height, seed)
    return Project(decode_image(encode_png(pixels), "textured.png"))


def arrow_project(seed: int, end: tuple[float, float]) -> Project:
    """A small project Kling accepts: a 480x320 still with one region painted over a box and an arrow from
    its middle to `end`."""
    project = make_project(480, 320, seed=seed)
    region = project.add_region()
    box = np.zeros((320, 480), bool)
    box[100:200, 100:220] = True
    project.set_mask(region.label, box)
    region.trajectory = [(160, 150), end]
    return project


@pytest.fixture
def project() -> Project:
    return make_project()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and the app's data folders point into a temp dir, so tests never touch the user's."""
    base = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(base))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))
    yield
