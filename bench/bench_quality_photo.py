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

Run: python bench/bench_quality_photo.py   (--frames DIR writes the first frame, a cross-fade midpoint
and a kling mid frame as PNGs to look at)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kling_preview.core.images import load_image
from kling_preview.core.project import MotionKind, Project

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))
from bench_quality import kling_report, loop_report  # noqa: E402
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
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
