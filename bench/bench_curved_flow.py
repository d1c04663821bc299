"""Loop quality on a curved flow: a wide river bending through about 110 degrees, best quality, sample
points along the streamlines (what `render` does) against the linear map x - s V(x) (the same entry
with its streamlines dropped). One `name: value` line per figure.

The still is a photo-like texture drawn from noise (octaves of blurred noise, every scale, isotropic: no
third-party photo). The river is a band 250 px wide around a bend of radius 255 px at 960x540 (a cycle
travels about 100 px along it). Per scheme:
- flow cosine: optical flow between neighbouring frames against the field's direction (>= 0.98);
- band-pass energy min/max over the loop and detail kept (min over frames / the still's);
- streamline departure: how far a phase's sample points lie from where the field really carries each
  pixel (RK4 at 1/8 px steps), mean and max in px over the river and the travel of a cycle,
  and the mean of its part across the flow (texture pulled across the bend);
- still shown: the largest share of the river's pixels where no phase samples real river (the sample
  points left the region: past the outer bank) and the frozen still shows, in any frame.
Also: the streamlines' memory per region at 1080p, and a best-quality 1080p frame over a bare cv2.remap
(<= 8), with and without streamlines.

Run: python bench/bench_curved_flow.py   (--frames DIR writes frames, crops at the bend and a long
exposure of dots flowing round it as PNGs)
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import render
from kling_preview.core.images import encode_png
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.render.loop import FieldEntry, flow_phases
from kling_preview.core.render.streamlines import upstream

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import band_energy, flow_figures, interior, mean_diff, shortest_repeat  # noqa: E402
from bench_render import BareRemap, median_time, project_of  # noqa: E402

FPS = 24.0
SECONDS = 5.0
#: The bend at 960x540: centre, inner and outer radius of the river, and the trajectory's radius and angles.
CENTRE = (210.0, 30.0)
RADII = (130.0, 380.0)
PATH_RADIUS = 255.0
PATH_DEGREES = (-15.0, 95.0)
BANK_DEGREES = (-35.0, 115.0)


def photo_like(width: int, height: int, seed: int = 7) -> np.ndarray:
    """Octaves of blurred noise with a 1/f-like spectrum, tinted like water: detail at every scale."""
    rng = np.random.default_rng(seed)
    grey = np.zeros((height, width), np.float32)
    for sigma in (0.7, 1.5, 3.0, 6.0, 12.0, 24.0):
        octave = cv2.GaussianBlur(rng.standard_normal((height, width)).astype(np.float32), (0, 0), sigma)
        grey += octave / octave.std() * sigma**0.5
    grey = (grey - grey.mean()) / grey.std()
    tint = np.array([70.0, 110.0, 150.0], np.float32)  # RGB
    return np.clip(tint + 28.0 * grey[..., None], 0, 255).astype(np.uint8)


def river_project(width: int = 1920, height: int = 1080, still: np.ndarray | None = None) -> Project:
    """The photo-like still (or `still`) with one flow region: the river around the bend, scaled to the size."""
    p = project_of(photo_like(width, height) if still is None else still)
    s = width / 960.0
    cx, cy = CENTRE[0] * s, CENTRE[1] * s
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot(xx - cx, yy - cy)
    ang = np.degrees(np.arctan2(yy - cy, xx - cx))
    mask = (r >= RADII[0] * s) & (r <= RADII[1] * s) & (ang >= BANK_DEGREES[0]) & (ang <= BANK_DEGREES[1])
    region = p.add_region(name="River", kind=MotionKind.FLOW, strength=0.8)
    p.set_mask(region.label, mask)
    angles = np.radians(np.linspace(*PATH_DEGREES, 12))
    region.trajectory = [
        (float(cx + PATH_RADIUS * s * math.cos(a)), float(cy + PATH_RADIUS * s * math.sin(a))) for a in angles
    ]
    p.clip.mode = "loop"
    p.clip.loop_seconds = SECONDS
    return p


def renderer(project: Project, size: tuple[int, int], linear: bool) -> tuple[render.Renderer, FieldEntry]:
    r = render.Renderer(render.snapshot(project, None, "loop", size=size, quality="best").with_clip(fps=FPS))
    entry = r.cache_entry(project.regions[0].label)
    assert isinstance(entry, FieldEntry)
    if linear:
        entry.streams = None
    return r, entry


def sample_points(entry: FieldEntry, travel: float, step: int = 1) -> np.ndarray:
    """Where a phase with this travel samples the texture for the box's pixels (box px, every `step`
    row and column), through the entry's own scheme."""
    y0, y1, x0, x1 = entry.bbox
    yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    grid = np.dstack([xx, yy])
    if entry.streams is None:
        points = grid - travel * entry.field
    else:
        mt, _, ml, _ = entry.texture.margins
        on_texture = entry.streams.rows(entry.streams.at(travel), 0, y1 - y0, x1 - x0)
        points = (on_texture - (entry.zoom - 1) / 2) / entry.zoom - np.float32([ml, mt])
    return np.ascontiguousarray(points[::step, ::step])


def geometry_figures(entry: FieldEntry, inner: np.ndarray, cycle: float) -> dict[str, float]:
    """How far the sample points lie from the true upstream points over a cycle's travel, in px: mean
    and max of the distance, and the mean of its part across the flow."""
    y0, y1, x0, x1 = entry.bbox
    step = 2
    keep = inner[y0:y1:step, x0:x1:step]
    yy, xx = np.mgrid[0 : y1 - y0 : step, 0 : x1 - x0 : step].astype(np.float32)
    grid = np.dstack([xx, yy])
    dist: list[np.ndarray] = []
    across: list[np.ndarray] = []
    for frac in (0.2, 0.45, 0.7, 0.95):  # between the stored levels
        travel = frac * cycle
        steps = int(math.ceil(float(np.abs(entry.field).max()) * travel * 8))
        truth = upstream(entry.field, grid, travel, steps)
        off = (sample_points(entry, travel, step) - truth)[keep]
        v = cv2.remap(entry.field, truth, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[keep]
        normal = np.stack([-v[:, 1], v[:, 0]], axis=1) / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
        dist.append(np.linalg.norm(off, axis=1))
        across.append(np.abs(np.einsum("ij,ij->i", off, normal)))
    d = np.concatenate(dist)
    return {
        "streamline_departure_mean_px": float(d.mean()),
        "streamline_departure_max_px": float(d.max()),
        "across_flow_departure_mean_px": float(np.concatenate(across).mean()),
    }


def still_shown(r: render.Renderer, entry: FieldEntry, mask: np.ndarray) -> float:
    """Largest share over frames of the region's pixels where the still shows more than the flow: at
    best quality a phase counts by its sample point's validity, and where neither phase's sample point
    lies in the region's trusted interior (past the outer bank, say) the still pixel fills in, frozen."""
    tex = entry.texture
    assert tex.trusted is not None
    trusted = tex.trusted.astype(np.float32)
    mt, _, ml, _ = tex.margins
    y0, y1, x0, x1 = entry.bbox
    m = mask[y0:y1, x0:x1]
    worst = 0.0
    for t in r.times()[::4]:
        phases = flow_phases(t, r.scene.period, entry.cycles, entry.offset)
        total = sum(p[1] for p in phases)
        moving = np.zeros(m.shape, np.float32)
        for scale, w in phases:
            pts = sample_points(entry, -scale)
            moving += (w / total) * cv2.remap(trusted, pts + np.float32([ml, mt]), None, cv2.INTER_LINEAR)
        worst = max(worst, float((moving[m] < 0.5).mean()))
    return worst


def quality_report(project: Project, linear: bool, frames_dir: Path | None) -> dict[str, float]:
    size = (960, 540)
    r, entry = renderer(project, size, linear)
    scene = r.scene
    spec = scene.regions[0]
    inner = interior(scene, spec.label, spec.feather)
    frames = [r.frame(t) for t in r.times()]
    energies = [band_energy(f, inner) for f in frames]
    still = band_energy(scene.pixels, inner)
    alpha = np.zeros(scene.labels.shape, np.float32)
    y0, y1, x0, x1 = entry.bbox
    alpha[y0:y1, x0:x1] = entry.alpha
    cosine, feather = flow_figures(frames[:25], entry, inner, (alpha > 0.25) & (alpha < 0.75))
    ones = [mean_diff(a, b, inner) for a, b in zip(frames[:-1], frames[1:])]
    rep = shortest_repeat(frames, inner)
    cycle = scene.period / entry.cycles
    out = {
        "cycle_travel_px": float(np.linalg.norm(entry.field, axis=2).max()) * cycle,
        "flow_cosine": cosine,
        "feather_speed_ratio": feather,
        "band_energy_min_over_max": min(energies) / max(energies),
        "detail_kept": min(energies) / still,
        "seam_ratio": mean_diff(frames[-1], frames[0], inner) / float(np.mean(ones)),
        "shortest_repeat_s": rep if rep is not None else float("inf"),
        **geometry_figures(entry, inner, cycle),
        "still_shown": still_shown(r, entry, scene.labels == spec.label),
    }
    if frames_dir is not None:
        name = "linear" if linear else "streamlines"
        s = size[0] / 960.0
        # The inside of the bend, where the linear map pulls the texture across.
        cx, cy = int(CENTRE[0] * s), int(CENTRE[1] * s)
        crop = (slice(cy + 60, cy + 420), slice(cx + 40, cx + 400))
        for i in (0, int(round(cycle / 2 * FPS)), int(round(cycle * FPS * 0.9))):
            (frames_dir / f"curved_{name}_{i:03d}.png").write_bytes(encode_png(frames[i]))
            (frames_dir / f"curved_{name}_{i:03d}_bend.png").write_bytes(encode_png(frames[i][crop]))
    return out


def speed_report(project: Project, linear: bool, runs: int) -> dict[str, float]:
    r, entry = renderer(project, (1920, 1080), linear)
    times = r.times()
    it = iter(range(10**9))
    remap = BareRemap()
    out = {
        "best_loop_frame_1080p_vs_remap": remap.ratio(
            lambda: median_time(lambda: r.frame(times[next(it) % len(times)]), runs), runs
        )
    }
    if entry.streams is not None:
        out["streamlines_mb_1080p_region"] = entry.streams.nbytes / 2**20
        y0, y1, x0, x1 = entry.bbox
        out["region_box_share_of_frame"] = (y1 - y0) * (x1 - x0) / (1920 * 1080)
    return out


def write_trails(linear: bool, frames_dir: Path) -> None:
    """A long exposure (the brightest value over the first second's frames) of white dots on dark water
    flowing round the bend: along the streamlines the dots draw smooth arcs parallel to the banks."""
    w, h = 960, 540
    still = np.full((h, w, 3), 40, np.uint8)
    for radius in range(150, 380, 40):
        for a in np.radians(np.arange(-30, 115, 15)):
            x, y = CENTRE[0] + radius * math.cos(a), CENTRE[1] + radius * math.sin(a)
            cv2.circle(still, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1, cv2.LINE_AA)
    r, _ = renderer(river_project(w, h, still), (w, h), linear)
    trail = np.zeros_like(still)
    for t in r.times()[: int(FPS)]:
        np.maximum(trail, r.frame(t), out=trail)
    name = "linear" if linear else "streamlines"
    (frames_dir / f"curved_{name}_trails.png").write_bytes(encode_png(trail[20:470, 150:650]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, help="write frames and crops at the bend as PNGs to this folder")
    ap.add_argument("--runs", type=int, default=20, help="timed frames per speed figure")
    args = ap.parse_args()
    if args.frames is not None:
        args.frames.mkdir(parents=True, exist_ok=True)
    project = river_project()
    for linear in (True, False):
        name = "linear" if linear else "streamlines"
        results = quality_report(project, linear, args.frames)
        if args.frames is not None:
            write_trails(linear, args.frames)
        results.update(speed_report(project, linear, args.runs))
        for key, value in results.items():
            print(f"{name}_{key}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
