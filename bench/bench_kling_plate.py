"""Kling-mode clean plate benchmark: what an object moving away uncovers, and what filling it costs.

Per scene (the bundled landscape with its tree as the object, and a photo-like grain texture with an
elliptic object), at the 960 px proxy and at 1080p:
- `energy_kept`: band-pass energy (Gaussian sigma 1 minus sigma 2.5, grey) of the uncovered area in the
  clip's last frame over that of its surroundings in the source (a ring around the object); target >= 0.5.
  A smooth fill (cv2.inpaint) is printed beside it for comparison;
- `fill_vs_inpaint`: time of the plate's texture fill of the object's hole over a cv2.inpaint (Telea,
  radius 3) of the same hole on the same image, measured in this process.

Run: python bench/bench_kling_plate.py   (add --quick for fewer runs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import motion, plate, render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import median_time  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"proxy": (960, 540), "1080p": (1920, 1080)}
TARGET_ENERGY = 0.5


def grain_image(width: int, height: int) -> np.ndarray:
    """Photo-like ground (sand, gravel, foliage from afar): brightness varies at every scale, colour only
    slowly, as in real photos where the channels move together."""
    rng = np.random.default_rng(7)
    light = np.zeros((height, width), np.float32)
    for cells, amp in ((12, 40.0), (60, 22.0), (240, 14.0)):
        noise = rng.normal(0, 1, (cells * height // width + 1, cells + 1)).astype(np.float32)
        light += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * amp
    light += rng.normal(0, 9, (height, width)).astype(np.float32)
    tint = cv2.resize(rng.normal(0, 1, (4, 7, 3)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    out = light[..., None] * np.float32([1.0, 0.9, 0.75]) + tint * 18 + np.float32([150, 130, 100])
    return np.clip(out, 0, 255).astype(np.uint8)


def scenes() -> dict[str, tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]]:
    """name -> (pixels 1920x1080, object mask, trajectory) at 1080p."""
    w, h = SIZES["1080p"]
    land = cv2.imread(str(ROOT / "assets" / "samples" / "landscape.png"))
    land = cv2.resize(cv2.cvtColor(land, cv2.COLOR_BGR2RGB), (w, h), interpolation=cv2.INTER_CUBIC)
    s = w / 1280
    tree = np.zeros((h, w), np.uint8)
    cv2.ellipse(tree, (int(250 * s), int(330 * s)), (int(110 * s), int(121 * s)), 0, 0, 360, 1, -1)
    cv2.rectangle(tree, (int(236 * s), int(440 * s)), (int(266 * s), int(610 * s)), 1, -1)
    blob = np.zeros((h, w), np.uint8)
    cv2.ellipse(blob, (700, 560), (230, 170), 20, 0, 360, 1, -1)
    return {
        "landscape_tree": (land, tree.astype(bool), [(250 * s, 400 * s), (640 * s, 380 * s)]),
        "grain_blob": (grain_image(w, h), blob.astype(bool), [(700, 560), (1350, 520)]),
    }


def kling_project(pixels: np.ndarray, mask: np.ndarray, path: list[tuple[float, float]]) -> Project:
    p = Project(decode_image(encode_png(pixels), "bench.png"))
    r = p.add_region(name="object")
    p.set_mask(r.label, mask)
    r.trajectory = path
    return p


def energy_kept(project: Project, size: tuple[int, int]) -> tuple[float, float]:
    """(uncovered area / surroundings in the last frame, the same with a cv2.inpaint plate)."""
    renderer = render.Renderer(render.snapshot(project, size=size, mode="kling"))
    scene = renderer.scene
    assert scene is not None
    last = renderer.frame(renderer.times()[-1])
    obj = scene.labels == 1
    dx, dy = np.subtract(scene.regions[0].trajectory[-1], scene.regions[0].trajectory[0])
    moved = cv2.warpAffine(obj.astype(np.uint8), np.float32([[1, 0, dx], [0, 1, dy]]), size).astype(bool)
    inset = max(3, int(0.01 * max(size)))  # off the feathered edges
    kernel = np.ones((2 * inset + 1, 2 * inset + 1), np.uint8)
    uncovered = cv2.erode((obj & ~moved).astype(np.uint8), kernel).astype(bool)
    ring = plate.ring(obj, 0.03 * max(size))
    base = plate.band_energy(scene.pixels, ring)
    smooth = cv2.inpaint(scene.pixels, obj.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return plate.band_energy(last, uncovered) / base, plate.band_energy(smooth, uncovered) / base


def fill_ratio(pixels: np.ndarray, mask: np.ndarray, size: tuple[int, int], runs: int) -> tuple[float, float]:
    """(texture fill time / cv2.inpaint time, texture fill ms) for the object's hole at `size`."""
    img = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    hole = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    # The plate fills the hole's box grown by its ring of surroundings, as render.kling._Plate does.
    y0, y1, x0, x1 = motion.region_bbox(hole.astype(np.uint8), 1) or (0, 0, 0, 0)
    scale = plate.match_scale(max(size))
    margin = int(np.ceil(render.kling.PLATE_RING * max(y1 - y0, x1 - x0) + render.kling.PLATE_CONTEXT / scale))
    y0, y1, x0, x1 = motion.expand_bbox((y0, y1, x0, x1), margin, hole.shape)
    crop, hc = img[y0:y1, x0:x1], hole[y0:y1, x0:x1]
    fill = median_time(lambda: plate.fill_hole(crop, hc, ~hc, scale), runs, warmup=1)
    inpaint = median_time(lambda: cv2.inpaint(img, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA), runs, warmup=1)
    return fill / inpaint, fill * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer timing runs")
    args = ap.parse_args()
    runs = 3 if args.quick else 9
    worst = 1.0
    for name, (pixels, mask, path) in scenes().items():
        project = kling_project(pixels, mask, path)
        for label, size in SIZES.items():
            kept, smooth = energy_kept(project, size)
            ratio, ms = fill_ratio(pixels, mask, size, runs)
            worst = min(worst, kept)
            print(f"{name}_{label}_energy_kept: {kept:.2f}   (cv2.inpaint plate: {smooth:.2f})")
            print(f"{name}_{label}_fill_vs_inpaint: {ratio:.2f}   (fill {ms:.0f} ms)")
    if worst < TARGET_ENERGY:
        print(f"# under target: energy kept {worst:.2f} < {TARGET_ENERGY}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
