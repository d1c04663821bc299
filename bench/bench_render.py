"""Render and export benchmark: one `name: value` line per metric.

Every timing is a ratio to a bare `cv2.remap` of the same 1080p image (absolute float32 map, bilinear),
measured in the same process, so the figures mean the same on a fast or a slow machine. Peak memory of
a 4K export is measured in a child process (its own peak, not this one's).

Run: python bench/bench_render.py   (add --quick for a shorter, noisier run)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import render, video
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import MotionKind, Project

W, H = 1920, 1080
TARGETS = {
    "loop_full_1080p_vs_remap": 3.0,
    "loop_quarter_1080p_vs_remap": 1.2,
    "kling_6regions_1080p_vs_remap": 2.0,
    "edit_to_frame_1080p_vs_remap": 10.0,
    "export_5s_1080p_mp4_vs_encode_only": 1.3,
    "peak_rss_4k_6regions_export_mb": 1200.0,
}


def textured(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Texture at every scale, like a photo: coarse colour blobs plus fine grain."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(
        rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    fine = rng.integers(0, 48, (height, width, 3), dtype=np.uint8)
    return np.clip(coarse.astype(np.int16) * 3 // 4 + fine, 0, 255).astype(np.uint8)


def project_of(pixels: np.ndarray) -> Project:
    # PNG bytes are what a real project keeps; encoding a 4K still costs a moment, which is fine here.
    return Project(decode_image(encode_png(pixels), "bench.png"))


def six_region_project(width: int, height: int) -> Project:
    """Six elliptic regions (about 30% of the frame together) with curved trajectories, plus a static band."""
    p = project_of(textured(width, height))
    sx, sy = width / 1920, height / 1080
    centres = [(320, 270), (960, 250), (1600, 290), (330, 800), (960, 780), (1590, 820)]
    for i, (cx, cy) in enumerate(centres):
        r = p.add_region(feather=8 * sx)
        m = np.zeros((height, width), np.uint8)
        cv2.ellipse(m, (int(cx * sx), int(cy * sy)), (int(240 * sx), int(170 * sy)), 15 * i, 0, 360, 1, -1)
        p.set_mask(r.label, m.astype(bool))
        r.trajectory = [((cx + dx) * sx, (cy + dy) * sy) for dx, dy in ((0, 0), (60, -30), (120, 10), (160, 60))]
    static = np.zeros((height, width), bool)
    static[int(500 * sy) : int(560 * sy), :] = True
    p.set_mask(255, static)
    return p


def one_region_project(box: tuple[int, int, int, int]) -> Project:
    p = project_of(textured(W, H))
    r = p.add_region()
    m = np.zeros((H, W), bool)
    y0, y1, x0, x1 = box
    m[y0:y1, x0:x1] = True
    p.set_mask(r.label, m)
    r.trajectory = [(x0 + 40, (y0 + y1) / 2), ((x0 + x1) / 2, (y0 + y1) / 2 - 60), (x1 - 40, (y0 + y1) / 2)]
    return p


def median_time(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


class BareRemap:
    """The yardstick: cv2.remap of a 1080p image through a smooth absolute map, bilinear."""

    def __init__(self) -> None:
        self.img = textured(W, H)
        gx, gy = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
        self.map = np.dstack([gx + 6 * np.sin(gy / 40), gy + 4 * np.cos(gx / 55)]).astype(np.float32)

    def time(self, runs: int) -> float:
        return median_time(
            lambda: cv2.remap(self.img, self.map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101), runs
        )

    def ratio(self, measure: Callable[[], float], runs: int) -> float:
        """measure() over the yardstick timed just before and just after (machine speed drifts)."""
        before = self.time(runs)
        value = measure()
        after = self.time(runs)
        return value / ((before + after) / 2)


def frame_time(project: Project, mode: str, runs: int) -> float:
    """A live-preview frame (the quality the editor renders at; exports are measured in bench_quality)."""
    renderer = render.Renderer(render.snapshot(project, None, mode, quality="live"))
    times = renderer.times()
    it = iter(range(10**9))
    return median_time(lambda: renderer.frame(times[next(it) % len(times)]), runs)


def edit_time(project: Project, mode: str, edit: Callable[[int], None], runs: int) -> float:
    """Snapshot + update + next frame after an edit (the edit itself is the user's, not timed)."""
    renderer = render.Renderer(render.snapshot(project, None, mode, quality="live"))
    renderer.frame(1.0)
    samples = []
    for i in range(runs):
        edit(i)
        t0 = time.perf_counter()
        renderer.update(render.snapshot(project, None, mode, quality="live"))
        renderer.frame(1.0)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def edit_to_frame(runs: int) -> dict[str, float]:
    p = six_region_project(W, H)
    region = p.regions[2]

    def paint(i: int) -> None:
        x = 1500 + (i % 5) * 20
        p.paint(region.label, [(x, 300), (x + 30, 320)], 25)

    def retrace(i: int) -> None:
        region.trajectory = [(1600, 290), (1650 + i % 7, 250), (1720, 300 + i % 3)]

    return {
        "kling_mask": edit_time(p, "kling", paint, runs),
        "loop_mask": edit_time(p, "loop", paint, runs),
        "loop_trajectory": edit_time(p, "loop", retrace, runs),
    }


def export_ratio(seconds: float, rounds: int) -> float:
    """Full export (render + encode) over encoding the same frames already in memory, best of rounds."""
    p = six_region_project(W, H)
    p.clip.seconds = seconds
    renderer = render.Renderer(render.snapshot(p, None))
    frames = [renderer.frame(t) for t in renderer.times()]
    encode_only, full = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            t0 = time.perf_counter()
            video.encode_frames(frames, Path(tmp) / "base.mp4", p.clip.fps)
            encode_only.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            video.render_to_file(p, Path(tmp) / "out.mp4")
            full.append(time.perf_counter() - t0)
    return min(full) / min(encode_only)


_CHILD = """
import sys, tempfile
from pathlib import Path
sys.path.insert(0, {bench!r})
import bench_render
from kling_preview.core import video
p = bench_render.six_region_project(3840, 2160)
p.clip.seconds = {seconds}
with tempfile.TemporaryDirectory() as tmp:
    video.render_to_file(p, Path(tmp) / "out.mp4")
# VmHWM: this process's own peak resident memory (getrusage's ru_maxrss would include the parent's
# peak, which Linux carries across fork and exec).
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) / 1024)
"""


def peak_rss_4k(seconds: float) -> float:
    code = _CHILD.format(bench=str(Path(__file__).resolve().parent), seconds=seconds)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs and shorter exports")
    ap.add_argument("--details", action="store_true", help="also print the figures behind each ratio")
    args = ap.parse_args()
    runs = 12 if args.quick else 40
    cv2.setRNGSeed(0)

    remap = BareRemap()
    results: dict[str, float] = {}
    details: dict[str, float] = {"bare_remap_1080p_ms": remap.time(runs) * 1000}
    full = one_region_project((0, H, 0, W))
    results["loop_full_1080p_vs_remap"] = remap.ratio(lambda: frame_time(full, "loop", runs), runs)
    quarter = one_region_project((H // 4, H // 4 + H // 2, W // 4, W // 4 + W // 2))
    results["loop_quarter_1080p_vs_remap"] = remap.ratio(lambda: frame_time(quarter, "loop", runs), runs)
    six = six_region_project(W, H)
    results["kling_6regions_1080p_vs_remap"] = remap.ratio(lambda: frame_time(six, "kling", runs), runs)
    # Flow regions are stuff in kling mode: their whole area shows their own texture translated.
    six_flow = six_region_project(W, H)
    for region in six_flow.regions:
        region.kind = MotionKind.FLOW
    details["kling_6flow_regions_1080p_ms"] = frame_time(six_flow, "kling", runs) * 1000
    edits: dict[str, float] = {}

    def worst_edit() -> float:
        edits.update(edit_to_frame(8 if args.quick else 16))
        return max(edits.values())

    results["edit_to_frame_1080p_vs_remap"] = remap.ratio(worst_edit, runs)
    details.update({f"edit_{k}_ms": v * 1000 for k, v in edits.items()})
    results["export_5s_1080p_mp4_vs_encode_only"] = export_ratio(2.0 if args.quick else 5.0, 1 if args.quick else 2)
    results["peak_rss_4k_6regions_export_mb"] = peak_rss_4k(2.0 if args.quick else 5.0)

    for name, value in results.items():
        print(f"{name}: {value:.2f}")
    if args.details:
        for name, value in details.items():
            print(f"{name}: {value:.2f}")
    failed = [n for n, v in results.items() if v > TARGETS[n]]
    for n in failed:
        print(f"# over target: {n} > {TARGETS[n]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
