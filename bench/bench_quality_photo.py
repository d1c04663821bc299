"""Motion quality benchmark on a real photo: the figures of bench_quality.py, measured on a photo rather
than the synthetic sample (texture drawn from noise flatters a flow: every patch looks like every other).

The photo is tests/data/selection/evening_glow.jpg (KDE "Evening Glow", 960x540; source and licence in
tests/data/selection/README.md) with its hand-traced masks as two flow regions, built through the project
API as a user would paint them: the sky drifting right along the horizon and the lake flowing left, each
with the default feather and strength. The wooden posts cut out of the lake mask and the boats stay still.

Figures (one `name: value` line each; bench_quality.py's docstring defines them and gives the targets):
per region and quality (live, best) at 960 px wide, band-pass energy min/max over the loop, detail kept,
shortest repeat, seam ratio at 3 s and 5 s, flow cosine, feather speed ratio, fill shown and static pixels
changed; in kling mode, the band-pass energy the flow regions keep in the last frame and at least.
The feather speed ratio reads far lower here than on the sample: the sky's feather lies along the ridge
and the lake's along boats and posts, static edges of high contrast that the optical flow locks onto;
read it with the frames (--frames), not alone.

Two more, for what a photo shows and noise does not (a real sky is not alike across the flow: its glow
and cloud bands lie along the horizon), per region in the 5 s loop at both qualities and in kling mode:
- cross-flow shift: the largest shift across the drawn path, in px, of a frame's content against the
  still's (phase correlation on the region's interior): a flow carries its texture along the path, so
  anything across it moves the horizon glow up and down (target: about 0);
- level range: the largest minus the smallest mean grey of the region's interior over the frames, in
  grey levels (the brightness pumping a viewer sees; about 0 for a flow of a steady scene).

Run: python bench/bench_quality_photo.py   (--frames DIR writes PNGs to look at: bench_quality.py's first,
third and half-cycle loop frames and kling mid frame, and each region's cross-fade midpoint of the 5 s loop)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import render
from kling_preview.core.images import encode_png, load_image
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.render.loop import FieldEntry, flow_phases

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))
from bench_quality import FPS, interior, kling_report, loop_report  # noqa: E402
from selection_cases import DATA, truth  # noqa: E402

PHOTO = "evening_glow"
WIDTH = 960
#: Each region's trajectory: its travel over one loop period, in the photo's pixels (960x540).
SKY_PATH = [(240.0, 110.0), (480.0, 105.0), (720.0, 110.0)]  # clouds drift right along the horizon
LAKE_PATH = [(640.0, 240.0), (480.0, 245.0), (320.0, 240.0)]  # the water flows left


def photo_project() -> Project:
    """Evening Glow with the sky and the lake as flow regions, in loop mode."""
    project = Project(load_image(DATA / f"{PHOTO}.jpg"))
    for name, path in (("Sky", SKY_PATH), ("Lake", LAKE_PATH)):
        region = project.add_region(name, kind=MotionKind.FLOW)
        project.set_mask(region.label, truth(PHOTO, name.lower()))
        region.trajectory = list(path)
    project.clip.mode = "loop"
    return project


def grey(frame: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.float32)


def cross_flow_shift(
    frames: list[np.ndarray], still: np.ndarray, inner: np.ndarray, trajectory: tuple[tuple[float, float], ...]
) -> float:
    """Largest shift across the path (px) of a frame's interior against the still's, by phase correlation.
    Each image is its interior minus the interior's mean, zero outside, seen through the interior shrunk and
    blurred (times a Hann window): no edge of the region's outline or of the box is shared by both
    images, so the peak follows the texture rather than the outline (which never moves)."""
    ys, xs = np.nonzero(inner)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    m = inner[y0:y1, x0:x1]
    soft = cv2.GaussianBlur(cv2.erode(m.astype(np.float32), np.ones((9, 9), np.uint8)), (0, 0), 4.0)
    window = soft * cv2.createHanningWindow((int(x1 - x0), int(y1 - y0)), cv2.CV_32F)

    def centred(frame: np.ndarray) -> np.ndarray:
        g = grey(frame)[y0:y1, x0:x1]
        return np.where(m, g - g[m].mean(), 0.0).astype(np.float32)

    along = np.subtract(trajectory[-1], trajectory[0])
    across = np.array([-along[1], along[0]]) / max(float(np.linalg.norm(along)), 1e-9)
    ref = centred(still)
    shifts = [cv2.phaseCorrelate(ref, centred(f), window)[0] for f in frames]
    return max(abs(float(np.dot(s, across))) for s in shifts)


def level_range(frames: list[np.ndarray], inner: np.ndarray) -> float:
    """Largest minus smallest mean grey of the interior over the frames (grey levels)."""
    levels = [float(grey(f)[inner].mean()) for f in frames]
    return max(levels) - min(levels)


def midpoint(r: render.Renderer, label: int, times: list[float]) -> int:
    """Index of the loop frame where the region's two flow-map phases weigh most alike (its cross-fade
    midpoint: where detail is lowest and double images show); each region has its own phase offset."""
    entry = r.cache_entry(label)
    assert isinstance(entry, FieldEntry)

    def unevenness(t: float) -> float:
        weights = [w for _, w in flow_phases(t, r.scene.period, entry.cycles, entry.offset)]
        return abs(weights[0] - weights[1]) if len(weights) == 2 else 1.0

    return min(range(len(times)), key=lambda i: unevenness(times[i]))


def across_report(project: Project, size: tuple[int, int], frames_dir: Path | None) -> dict[str, float]:
    """Cross-flow shift and level range per flow region: 5 s loop (live, best) and kling mode; with
    `frames_dir`, each region's cross-fade midpoint frame of the loops."""
    out: dict[str, float] = {}
    for name, mode, quality in (("live", "loop", "live"), ("best", "loop", "best"), ("kling", "kling", "best")):
        scene = render.snapshot(project, None, mode, size=size, quality=quality).with_clip(seconds=5.0, fps=FPS)
        r = render.Renderer(scene)
        frames = [r.frame(t) for t in r.times()]
        for spec in scene.regions:
            if spec.kind != MotionKind.FLOW:
                continue
            inner = interior(scene, spec.label, spec.feather)
            key = f"{name}_{spec.name.lower()}"
            out[f"{key}_cross_flow_shift_px"] = cross_flow_shift(frames, scene.pixels, inner, spec.trajectory)
            out[f"{key}_level_range"] = level_range(frames, inner)
            if frames_dir is not None and mode == "loop":
                i = midpoint(r, spec.label, r.times())
                png = frames_dir / f"loop_{quality}_5s_{spec.name.lower()}_midpoint_{i:03d}.png"
                png.write_bytes(encode_png(frames[i]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, help="write some frames as PNGs to this folder")
    args = ap.parse_args()
    if args.frames is not None:
        args.frames.mkdir(parents=True, exist_ok=True)
    project = photo_project()
    w, h = project.size
    size = (WIDTH, round(h * WIDTH / w))
    results: dict[str, float] = {}
    results.update(loop_report(project, size, "live", args.frames))
    results.update(loop_report(project, size, "best", args.frames))
    results.update(kling_report(project, size, args.frames))
    results.update(across_report(project, size, args.frames))
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
