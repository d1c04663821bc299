"""Motion quality benchmark on the bundled photo-like sample (assets/samples, drawn from noise by
make_sample.py, no third-party photo): one `name: value` line per figure.

Per flow region of the sample (clouds drifting right, water flowing left around a static tree):
- loop band-pass energy (Gaussian sigma 1 minus sigma 2.5, on grey) min/max over the loop (target >= 0.85)
  and detail kept, min over frames of the energy / the still's (>= 0.8), on the region's interior; the
  still's own band-pass energy is printed too: the sample's clouds have about 0.2 grey levels squared,
  their 8-bit rounding, so their ratios say little (bench_quality_photo.py measures a real sky);
- shortest repeat: the smallest lag under 1 s whose mean frame difference is below the one-frame
  difference (target: none);
- seam ratio: last-to-first frame difference over the mean one-frame difference, at 3 s and 5 s (<= 1.3);
- flow cosine: optical flow (Farneback) between neighbouring frames against the direction of the field
  drawn from the trajectory, weighted by the flow's length (>= 0.98); the same along the feather, as a
  speed ratio to the interior (motion must not fade to zero there);
- fill shown: the largest share of the region's pixels drawn mostly from its continuation (the fill
  under the static tree or past its edge) in any frame; static pixels changed (must be 0);
- kling mode: band-pass energy kept by the flow regions in the last frame (>= 0.8), and the least in any.
Speed: a live loop frame at the 540p proxy in ms (<= 6), and a best-quality loop frame at 1080p over a
bare cv2.remap of the frame (<= 8).

Run: python bench/bench_quality.py   (--frames DIR writes some frames as PNGs to look at)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import render
from kling_preview.core.images import encode_png
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.projectfile import load_project
from kling_preview.core.render.loop import FieldEntry, flow_phases

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import BareRemap, median_time  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "samples" / "sample.klproj"
FPS = 24.0


def band_energy(frame: np.ndarray, mask: np.ndarray) -> float:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 2.5)
    return float(np.mean(band[mask] ** 2))


def mean_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(a[mask].astype(np.int16) - b[mask].astype(np.int16)).mean())


def interior(scene: render.Scene, label: int, feather: float) -> np.ndarray:
    """The region's pixels deeper than its feather (and a few px): where its frames show only itself."""
    m = (scene.labels == label).astype(np.uint8)
    return cv2.distanceTransform(m, cv2.DIST_L2, 5) > feather + 3


def loop_frames(project: Project, size: tuple[int, int], quality: str, seconds: float) -> render.Renderer:
    scene = render.snapshot(project, None, "loop", size=size, quality=quality).with_clip(seconds=seconds, fps=FPS)
    return render.Renderer(scene)


def shortest_repeat(frames: list[np.ndarray], mask: np.ndarray) -> float | None:
    """The smallest lag under 1 s whose mean frame difference is below the one-frame difference."""
    n = len(frames)

    def diff_at(lag: int) -> float:
        return float(np.mean([mean_diff(frames[i], frames[(i + lag) % n], mask) for i in range(0, n, 2)]))

    one = diff_at(1)
    for lag in range(2, min(n, int(FPS))):
        if diff_at(lag) < one:
            return lag / FPS
    return None


def flow_figures(
    frames: list[np.ndarray], entry: FieldEntry, inner: np.ndarray, band: np.ndarray
) -> tuple[float, float]:
    """(cosine of the measured flow against the field, feather speed / interior speed along the field)."""
    y0, y1, x0, x1 = entry.bbox
    v = entry.field
    vn = v / np.maximum(np.linalg.norm(v, axis=2, keepdims=True), 1e-6)
    inner_b, band_b = inner[y0:y1, x0:x1], band[y0:y1, x0:x1]
    dot_sum = len_sum = 0.0
    along_in, along_band = [], []
    grey = [cv2.cvtColor(f[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY) for f in frames]
    for a, b in zip(grey[:-1], grey[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        along = np.einsum("ijk,ijk->ij", flow, vn)
        dot_sum += float(along[inner_b].sum())
        len_sum += float(np.linalg.norm(flow, axis=2)[inner_b].sum())
        along_in.append(float(along[inner_b].mean()))
        if band_b.any():
            along_band.append(float(along[band_b].mean()))
    cosine = dot_sum / max(len_sum, 1e-9)
    ratio = float(np.mean(along_band) / max(np.mean(along_in), 1e-9)) if along_band else float("nan")
    return cosine, ratio


def fill_shown(r: render.Renderer, entry: FieldEntry, mask: np.ndarray, times: list[float]) -> float:
    """Largest share (over frames) of the region's pixels drawn mostly from its continuation."""
    y0, y1, x0, x1 = entry.bbox
    tex = entry.texture
    assert tex.trusted is not None
    trusted = tex.trusted.astype(np.float32)
    mt, _, ml, _ = tex.margins
    grid = np.dstack(np.meshgrid(np.arange(x1 - x0, dtype=np.float32) + ml, np.arange(y1 - y0, dtype=np.float32) + mt))
    m = mask[y0:y1, x0:x1]
    worst = 0.0
    for t in times:
        phases = flow_phases(t, r.scene.period, entry.cycles, entry.offset)
        total = sum(p[1] for p in phases)
        ws, vs = [], []
        for scale, w in phases:
            vs.append(cv2.remap(trusted, grid + scale * entry.field, None, cv2.INTER_LINEAR))
            ws.append(w / total * (vs[-1] if entry.best else 1.0))
        share = sum(w * (1.0 - v) for w, v in zip(ws, vs))
        worst = max(worst, float((share[m] > 0.5).mean()))
    return worst


def loop_report(project: Project, size: tuple[int, int], quality: str, frames_dir: Path | None) -> dict[str, float]:
    out: dict[str, float] = {}
    flows = [reg for reg in project.regions if reg.kind == MotionKind.FLOW]
    for seconds in (3.0, 5.0):
        r = loop_frames(project, size, quality, seconds)
        scene = r.scene
        times = r.times()
        frames = [r.frame(t) for t in times]
        moving = np.isin(scene.labels, [reg.label for reg in flows])
        out[f"{quality}_static_pixels_changed_{seconds:g}s"] = float(
            max(int((f[~moving] != scene.pixels[~moving]).any(axis=-1).sum()) for f in frames)
        )
        for reg in flows:
            spec = next(s for s in scene.regions if s.label == reg.label)
            name = f"{quality}_{reg.name.lower()}"
            inner = interior(scene, reg.label, spec.feather)
            ones = [mean_diff(a, b, inner) for a, b in zip(frames[:-1], frames[1:])]
            out[f"{name}_seam_ratio_{seconds:g}s"] = mean_diff(frames[-1], frames[0], inner) / float(np.mean(ones))
            if seconds != 5.0:
                continue
            energies = [band_energy(f, inner) for f in frames]
            still = band_energy(scene.pixels, inner)
            # The still's band-pass energy in grey levels squared: below about 1 its "detail" is the
            # image's 8-bit rounding (the sample's clouds: 0.18), and the ratios measure rounding.
            out[f"{name}_still_band_energy"] = still
            out[f"{name}_band_energy_min_over_max"] = min(energies) / max(energies)
            out[f"{name}_detail_kept"] = min(energies) / still
            rep = shortest_repeat(frames, inner)
            out[f"{name}_shortest_repeat_s"] = rep if rep is not None else float("inf")
            entry = r.cache_entry(reg.label)
            assert isinstance(entry, FieldEntry)
            alpha = np.zeros(scene.labels.shape, np.float32)
            y0, y1, x0, x1 = entry.bbox
            alpha[y0:y1, x0:x1] = entry.alpha
            band = (alpha > 0.25) & (alpha < 0.75)
            cosine, feather = flow_figures(frames[:25], entry, inner, band)
            out[f"{name}_flow_cosine"] = cosine
            out[f"{name}_feather_speed_ratio"] = feather
            out[f"{name}_fill_shown"] = fill_shown(r, entry, scene.labels == reg.label, times)
        if frames_dir is not None:
            cycle = scene.period / r.loop_cycles
            for i in (0, len(frames) // 3, int(round(cycle / 2 * FPS)) % len(frames)):
                (frames_dir / f"loop_{quality}_{seconds:g}s_{i:03d}.png").write_bytes(encode_png(frames[i]))
    return out


def kling_report(project: Project, size: tuple[int, int], frames_dir: Path | None) -> dict[str, float]:
    """Band-pass energy kept by the flow regions in kling mode: in the last frame, and the least in any."""
    scene = render.snapshot(project, None, "kling", size=size).with_clip(fps=FPS)
    r = render.Renderer(scene)
    frames = [r.frame(t) for t in r.times()[1:]]
    out: dict[str, float] = {}
    for spec in scene.regions:
        if spec.kind == MotionKind.FLOW:
            inner = interior(scene, spec.label, spec.feather)
            still = band_energy(scene.pixels, inner)
            kept = [band_energy(f, inner) / still for f in frames]
            out[f"kling_{spec.name.lower()}_energy_kept_last_frame"] = kept[-1]
            out[f"kling_{spec.name.lower()}_energy_kept_min"] = min(kept)
    if frames_dir is not None:
        (frames_dir / "kling_mid.png").write_bytes(encode_png(frames[len(frames) // 2]))
    return out


def speed_report(project: Project, runs: int) -> dict[str, float]:
    """Frame times; each also over a bare remap of a frame of its size, timed around it (the machine's
    load drifts, and a ratio means the same on any machine)."""
    out: dict[str, float] = {}
    remap = BareRemap()
    small_img = cv2.resize(remap.img, (960, 540), interpolation=cv2.INTER_AREA)
    small_map = cv2.resize(remap.map, (960, 540), interpolation=cv2.INTER_AREA) * 0.5

    def small_remap() -> float:
        return median_time(lambda: cv2.remap(small_img, small_map, None, cv2.INTER_LINEAR), runs)

    live = render.Renderer(render.snapshot(project, 960, "loop", quality="live"))
    times = live.times()
    it = iter(range(10**9))
    before = small_remap()
    ms = median_time(lambda: live.frame(times[next(it) % len(times)]), runs)
    after = small_remap()
    out["live_loop_frame_540p_ms"] = 1000 * ms
    out["live_loop_frame_540p_vs_remap_540p"] = ms / ((before + after) / 2)
    out["bare_remap_540p_ms"] = 1000 * (before + after) / 2
    best = render.Renderer(render.snapshot(project, None, "loop", size=(1920, 1080), quality="best"))
    times_b = best.times()
    it_b = iter(range(10**9))
    out["best_loop_frame_1080p_vs_remap"] = remap.ratio(
        lambda: median_time(lambda: best.frame(times_b[next(it_b) % len(times_b)]), runs), runs
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, help="write some frames as PNGs to this folder")
    ap.add_argument("--runs", type=int, default=30, help="timed frames per speed figure")
    args = ap.parse_args()
    if args.frames is not None:
        args.frames.mkdir(parents=True, exist_ok=True)
    project = load_project(SAMPLE)
    size = (960, 540)
    results: dict[str, float] = {}
    results.update(loop_report(project, size, "live", args.frames))
    results.update(loop_report(project, size, "best", args.frames))
    results.update(kling_report(project, size, args.frames))
    results.update(speed_report(project, args.runs))
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
