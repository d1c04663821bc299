"""The export dialog's "Downscale to fit": offered only when the image size is the one problem, exports a
smaller copy in the background, and leaves the user's project as it was.

Kling's limit is lowered to half the full-size JPEG here, so a small image stands in for a 10 MB photo
(tests/test_spec_fit.py fits a real one).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_project
from PIL import Image

from kling_preview.core.images import encode_jpeg
from kling_preview.core.project import STATIC
from kling_preview.core.spec import rules
from kling_preview.core.spec.kling import FALLBACK_JPEG_QUALITY

W, H = 900, 700


def big_project():
    """900x700, one region with a trajectory starting on it and a static area."""
    project = make_project(W, H, seed=11)
    region = project.add_region("Water")
    project.paint(region.label, [(300, 300)], 60)
    region.trajectory = [(300.0, 300.0), (450.0, 380.0)]
    project.paint(STATIC, [(700, 550)], 60)
    return project


@pytest.fixture
def too_large(monkeypatch):
    """A project whose image is over the (lowered) limit as PNG and as the JPEG fallback."""
    project = big_project()
    limit = len(encode_jpeg(project.image.pixels, FALLBACK_JPEG_QUALITY)) // 2
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", limit)
    return project


def press(button, dialog, qtbot, timeout=30_000) -> str:
    with qtbot.waitSignal(dialog.exportFinished, timeout=timeout) as blocker:
        button.click()
    return blocker.args[0]


def test_downscale_to_fit_exports_a_smaller_copy_and_keeps_the_project(too_large, make_dialog, qtbot, tmp_path):
    project = too_large
    labels = project.labels.copy()
    dialog = make_dialog(project)
    assert dialog.fit_button.isVisible()
    assert "Downscale to fit" in dialog.status_label.text()
    out = tmp_path / "bundle"
    dialog.set_output_path(out)
    assert press(dialog.export_button, dialog, qtbot) == "refused"
    assert not out.exists()

    assert press(dialog.fit_button, dialog, qtbot) == "succeeded"
    request = json.loads((out / "request.json").read_text())
    (image_file,) = [p for p in out.iterdir() if p.stem == "image"]
    assert image_file.stat().st_size <= rules.MAX_IMAGE_BYTES
    with Image.open(image_file) as im:
        width, height = im.size
    assert width < W and height < H and min(width, height) >= rules.MIN_SIDE
    assert abs(width / height - W / H) < 0.01
    for name in ("static_mask.png", "dynamic_mask_1.png"):
        with Image.open(out / name) as mask:
            assert mask.size == (width, height)
    (x, y) = request["dynamic_masks"][0]["trajectories"][0].values()
    assert (x, y) == (round(300 * width / W), height - round(300 * height / H))
    status = dialog.status_label.text()
    assert str(out) in status and f"downscaled from {W}x{H} to {width}x{height}" in status
    # The user's project keeps its full size, masks and trajectory.
    assert project.size == (W, H)
    assert np.array_equal(project.labels, labels)
    assert project.regions[0].trajectory == [(300.0, 300.0), (450.0, 380.0)]


def test_downscale_is_offered_only_for_the_size_problem(too_large, make_dialog):
    too_large.regions[0].trajectory = [(300.0 + i, 300.0) for i in range(78)]
    dialog = make_dialog(too_large)
    assert not dialog.fit_button.isVisible()  # a second problem: downscaling would not be enough
    too_large.regions[0].trajectory = [(300.0, 300.0), (450.0, 380.0)]
    dialog.set_format("mp4")
    dialog.set_format("kling")
    assert dialog.fit_button.isVisible()
    dialog.set_format("gif")
    assert not dialog.fit_button.isVisible()


def test_no_downscale_offered_when_the_image_fits(make_dialog):
    dialog = make_dialog(big_project())
    assert not dialog.fit_button.isVisible()


def test_an_image_that_cannot_fit_fails_with_the_reason(too_large, make_dialog, qtbot, tmp_path, monkeypatch):
    dialog = make_dialog(too_large)
    monkeypatch.setattr(rules, "MAX_IMAGE_BYTES", 5_000)  # not even 300 px on the short side fits
    out = tmp_path / "bundle"
    dialog.set_output_path(out)
    assert press(dialog.fit_button, dialog, qtbot) == "failed"
    assert dialog.status_label.text().startswith("Export failed:")
    assert "300 px" in dialog.status_label.text()
    assert list(tmp_path.iterdir()) == []
    assert dialog.fit_button.isEnabled() and dialog.export_button.isEnabled()
