"""Border benchmark: does a flowing region show a mirror image where it meets the image border?

A flow samples its texture upstream (and one phase also to the side of the flow), so near the image border
it samples past it. Scene: the evening-glow photo (tests/data/selection) with its sky as a flow region
drifting left or right, in kling and loop mode, at both render qualities, at 960x540.

`mirror score`: per frame and per image border the region touches, the band-pass detail (Gaussian sigma 1
minus sigma 2.5, grey) of the region's rows (or columns) within BAND of the border is tested for a mirror
axis: for each axis row a, the correlation of rows a - j with rows a + j (j = 2..a, at most MAX_J).
A mirrored continuation shows as an axis with a correlation near 1. The score is the largest over axes,
averaged over the clip's frames (and the worst frame beside it); the still's own score is the baseline
(natural detail has none: rows a few pixels apart do not match). Detail fainter than NOISE (a smooth
sky band) cannot show a mirror and scores little.

With --png DIR the top-left corner of the sky in the frame with the highest score of each case is written
as a 3x PNG crop (and the still's), to look at.

Run: python bench/bench_border.py   (add --quick for fewer frames, --png DIR for crops)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import render
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import MotionKind, Project

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "selection"
#: Depth of the band tested along each border, as a fraction of the long side (a kling phase reaches
#: half a cycle's travel, at most LOOP_MAX_SHIFT / 2 of it, a loop phase a whole one).
BAND = 0.1
MAX_J = 16
MIN_SPAN = 4  # an axis needs this many row pairs
NOISE = 1.0
SIDES = ("top", "bottom", "left", "right")


def band_pass(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 2.5)


def _oriented(img: np.ndarray, side: str) -> np.ndarray:
    """`img` turned so that `side` is its top row."""
    if side == "top":
        return img
    if side == "bottom":
        return img[::-1]
    if side == "left":
        return img.T if img.ndim == 2 else img.transpose(1, 0, 2)
    t = img.T if img.ndim == 2 else img.transpose(1, 0, 2)
    return t[::-1]


def border_sides(mask: np.ndarray) -> list[str]:
    h, w = mask.shape
    touch = {"top": mask[0].any(), "bottom": mask[h - 1].any(), "left": mask[:, 0].any(), "right": mask[:, w - 1].any()}
    return [s for s in SIDES if touch[s]]


def mirror_score(detail: np.ndarray, mask: np.ndarray, side: str, band: int) -> float:
    """How much more alike the detail is mirrored about some axis within `band` of the border `side` than
    translated across it: for axis a, corr(rows a-1..a-J, rows a+1..a+J) with the first block reversed,
    minus the same without reversing (detail that runs along the border, like cloud streaks, matches
    both ways and scores nothing). Over the lines (columns for top/bottom) the region covers."""
    d, m = _oriented(detail, side), _oriented(mask, side)
    cols = m[: band + MAX_J + 1].all(axis=0)
    if cols.sum() < 8:
        return 0.0
    d = d[: band + MAX_J + 1, cols]
    best = 0.0
    for a in range(MIN_SPAN + 1, band):
        j = min(a, MAX_J)
        below = d[a + 1 : a + 1 + j]
        above = d[a - j : a]
        best = max(best, _corr(above[::-1], below) - max(_corr(above, below), 0.0))
    return best


def _corr(u: np.ndarray, v: np.ndarray) -> float:
    """Correlation of u and v, with a floor under the norm: detail fainter than NOISE (grey levels of
    band-pass, r.m.s.) cannot show a mirror image, so it does not score as one."""
    a, b = u.ravel() - u.mean(), v.ravel() - v.mean()
    norm = max(float(np.sqrt(np.dot(a, a) * np.dot(b, b))), NOISE**2 * a.size)
    return float(np.dot(a, b)) / norm


def sky_project(direction: float) -> Project:
    bgr = cv2.imread(str(DATA / "evening_glow.jpg"), cv2.IMREAD_COLOR)
    pixels = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    sky = cv2.imread(str(DATA / "evening_glow_sky.png"), cv2.IMREAD_GRAYSCALE) > 127
    p = Project(decode_image(encode_png(pixels), "evening_glow.png"))
    r = p.add_region(name="sky", kind=MotionKind.FLOW)
    p.set_mask(r.label, sky)
    h, w = sky.shape
    y = float(np.flatnonzero(sky.all(axis=1)).mean())
    xs = (0.3 * w, 0.7 * w) if direction > 0 else (0.7 * w, 0.3 * w)
    r.trajectory = [(xs[0], y), (xs[1], y)]
    return p


def run_case(
    project: Project, mode: str, quality: str, frames: int
) -> tuple[float, float, dict[str, float], np.ndarray, np.ndarray]:
    """(mean score over frames, worst frame's score, mean score per border, that frame, the still)."""
    r = render.Renderer(render.snapshot(project, None, mode, quality=quality))
    scene = r.scene
    assert scene is not None
    mask = scene.labels == 1
    band = int(BAND * max(scene.size))
    times = r.times()
    picks = [times[int(i)] for i in np.linspace(1, len(times) - 1, frames)]
    sides = border_sides(mask)
    per_side: dict[str, list[float]] = {side: [] for side in sides}
    scores, worst, worst_frame = [], -1.0, scene.pixels
    for t in picks:
        frame = r.frame(t)
        detail = band_pass(frame)
        for side in sides:
            per_side[side].append(mirror_score(detail, mask, side, band))
        s = max(v[-1] for v in per_side.values())
        scores.append(s)
        if s > worst:
            worst, worst_frame = s, frame
    means = {side: float(np.mean(v)) for side, v in per_side.items()}
    return float(np.mean(scores)), worst, means, worst_frame, scene.pixels


def crop(frame: np.ndarray) -> np.ndarray:
    """Top-left 200x120 of the frame at 3x, BGR for cv2.imwrite."""
    part = frame[:120, :200]
    return cv2.cvtColor(cv2.resize(part, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST), cv2.COLOR_RGB2BGR)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer frames per clip")
    ap.add_argument("--png", type=Path, help="write crops of the top-left border region here")
    args = ap.parse_args()
    frames = 6 if args.quick else 16
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
    baseline = None
    for direction, name in ((-1.0, "sky_leftward"), (1.0, "sky_rightward")):
        project = sky_project(direction)
        for mode in ("kling", "loop"):
            for quality in ("live", "best"):
                mean, worst, sides, frame, still = run_case(project, mode, quality, frames)
                if baseline is None:
                    scene = render.snapshot(project, None, mode)
                    mask, band = scene.labels == 1, int(BAND * max(scene.size))
                    detail = band_pass(still)
                    baseline = {s: mirror_score(detail, mask, s, band) for s in border_sides(mask)}
                    parts = "  ".join(f"{s} {v:.2f}" for s, v in baseline.items())
                    print(f"still_mirror_score: {max(baseline.values()):.2f}   ({parts})")
                    if args.png:
                        cv2.imwrite(str(args.png / "still.png"), crop(still))
                parts = "  ".join(f"{s} {v:.2f}" for s, v in sides.items())
                print(f"{name}_{mode}_{quality}_mirror_score: {mean:.2f}   (worst frame {worst:.2f}; {parts})")
                if args.png:
                    cv2.imwrite(str(args.png / f"{name}_{mode}_{quality}.png"), crop(frame))
    return 0


if __name__ == "__main__":
    sys.exit(main())
