"""Loop and ambient modes: every moving region's texture flows along its own field, seamless over the period.

Flow regions play a two-phase flow map: each phase samples the region's texture at x - D(t) V(x) (its
texture carried along the velocity V), one phase restarts while its weight is zero, and the two are
cross-faded. At a bend the tangent V(x) leaves the streamline (texture pulled across the bend, features
cutting the corner), so at `best` quality a curved field's phase samples x carried D(t) seconds upstream
along the streamline itself (streamlines.py: integrated once, stored at a few travel levels); a straight
field's linear map is exact and stays. Only the phase's map differs: validity, blend and composite are
shared. Three things make it look like moving water rather than a pulsing treadmill:
- the phases coincide for half of each cycle and are a whole cycle apart for the other half (see
  flow_phases): no frame is the frame half a cycle later with the phases swapped (the plain scheme's
  treadmill pulse), nothing moves across the path (a sideways offset between the phases made a sunset's
  bands show twice and jump up and down on real photos), and half the time one crisp texture streams;
  cycles last at least motion.MIN_CYCLE_SECONDS, and each region starts at its own phase, so regions
  do not fade in step;
- the blend is variance preserving: out = mu + k (blend - mu), mu the blend's local mean and
  k = 1 / sqrt(w0^2 + w1^2 + 2 rho w0 w1), so the fine detail keeps its contrast at the cross-fade
  midpoint instead of halving (two uncorrelated textures averaged lose half their variance). rho is
  how alike the two phases' detail is, a cycle apart (measured once per region: a slow flow's phases
  are nearly the same image and need no boost, which would pump the contrast);
- the velocity is not feathered (texture sheared to zero speed over the feather streaks); the composite
  is: the warped region is blended over the still by its feathered alpha.

Two quality levels, one code path: `best` (export) also carries the region's trusted-interior mask
through the warp as a fourth channel and weights each phase by it, so a phase whose sample point lies
in the continuation (under a static post, past the upstream edge) gives way to the other phase, or to
the still pixel as far as neither has real pixels; `live` (the proxy preview) skips that and blends with
scalar weights in 8 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from .. import motion
from ..trajectory import arc_length
from .scene import CacheKey, RegionSpec, Scene
from .streamlines import Streams, build_streams
from .textures import VALID_RAMP, RegionGeometry, RegionTexture, _Textures

BBox = motion.BBox

#: Rows per stripe of the loop warp: the stripe's map stays in cache between computing and remapping.
STRIPE_ROWS = 128
#: Rows per block of the composite: a block the feather crosses is blended, the others copied.
BLEND_ROWS = 16
#: Farthest a phase carries a texture, in cycles of travel: a cycle ahead of the anchor, and kling
#: mode's anchors lie up to half a cycle down the flow (see flow_phases).
PHASE_REACH = 1.5
#: Kling mode's anchors after the first cycle, in cycles down the flow, taking turns.
KLING_ANCHORS = (0.5, 0.25)
#: Box filter of the local mean the variance-preserving blend keeps, as a fraction of the long side.
DETAIL_BOX = 0.02
#: Step between regions' phase offsets (the golden ratio's fraction spreads any number of them evenly).
PHASE_STEP = 0.6180339887
#: Resampling blurs: bilinear interpolation at a fractional offset of half a pixel on both axes loses an
#: eighth of the fine detail and none at a whole pixel, so detail pulses as the texture slides (the frames'
#: band-pass energy swung by a fifth). The warp samples a copy of the texture upsampled this many times
#: (bicubic, once per build): a bilinear sample between its pixels loses little at any offset, for about
#: 1.15x the remap (a bicubic remap costs 6-8x).
TEXTURE_ZOOM = 2
#: What sampling still loses on average is made up by sharpening the texture once (before upsampling) by
#: a 3-tap [-c, 1 + 2c, -c] per axis: detail kept about 0.95-1.05 of the still's.
SHARPEN = 0.05


class FieldKind(StrEnum):
    """How a region's field moves it: along its trajectory, or a small periodic shimmer."""

    FLOW = "flow"
    AMBIENT = "ambient"


@dataclass(eq=False)
class FieldEntry:
    """A region's loop/ambient motion: its displacement field on its box and the texture it samples.

    `field` is the velocity (flow, px/s) or the ambient A (px), `field_b` the ambient B (None for a
    flow); neither is feathered. `alpha`/`beta` are the feathered alpha and 1 - alpha
    the composite uses. `grid` holds the coordinates on `pixels` of the box's first rows (plus a halo for
    the local mean): a stripe starting at box row k samples the texture rows from k on through the same
    grid. `pixels` is what the warp samples: the region's texture upsampled `zoom` times, with the
    soft trusted-interior weight as a fourth channel at best quality.
    """

    key: CacheKey
    kind: FieldKind
    bbox: BBox
    alpha: np.ndarray
    beta: np.ndarray
    field: np.ndarray
    field_b: np.ndarray | None
    speed: float
    cycles: int
    offset: float  # the region's phase offset, in cycles
    rho: float  # correlation of the two phases' detail, a cycle apart (flow)
    texture: RegionTexture
    pixels: np.ndarray  # what the warp samples: the texture's RGB, or RGBA with the validity at best quality
    grid: np.ndarray
    stripes: tuple[int, ...]  # per STRIPE_ROWS rows of bbox: 0 no region pixel, 1 some, 2 all opaque
    runs: tuple[tuple[tuple[int, int, int, int, bool], ...], ...]  # per stripe: _composite_runs
    box: int  # local-mean box size (odd)
    best: bool
    low: tuple[float, ...]  # the region's lowest and highest value per channel: a blend that restores
    high: tuple[float, ...]  # contrast never leaves the colours the region has
    zoom: int  # pixels is the texture upsampled this many times (TEXTURE_ZOOM)
    streams: Streams | None = None  # best quality on a curved field: sample points along its streamlines


class _Fields:
    """Loop/ambient fields, one entry per moving region, rebuilt only when its key changes.

    Every region is warped from its own texture into its own pixels: regions never sample each other,
    the static mask or unpainted pixels, and each flow region has its own cycle count.
    """

    def __init__(self) -> None:
        self.base: CacheKey | None = None
        self.entries: dict[int, FieldEntry] = {}
        self.copy_rows: list[tuple[int, int]] = []
        self.builds = 0  # region fields computed, for cache_info()

    @property
    def cycles(self) -> int:
        """The largest cycle count of the flow regions (1 without any)."""
        return max((e.cycles for e in self.entries.values() if e.kind == FieldKind.FLOW), default=1)

    def update(
        self,
        scene: Scene,
        wanted: dict[int, tuple[CacheKey, FieldKind, RegionSpec, RegionGeometry]],
        textures: _Textures,
    ) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base:
            self.base, self.entries = base, {}
        entries: dict[int, FieldEntry] = {}
        for lab, (key, kind, spec, geom) in wanted.items():
            entry = self.entries.get(lab)
            if entry is None or entry.key != key:
                entry = self._build(scene, key, kind, spec, geom, textures, entry)
                self.builds += 1
            entries[lab] = entry
        self.entries = entries
        # Rows that no full-width region overwrites completely: only these are copied from the source.
        h, w = scene.labels.shape
        covered = np.zeros(h + 2, bool)  # row r is covered[r + 1]; a covered row pads each end
        covered[0] = covered[-1] = True
        for e in entries.values():
            y0, y1, x0, x1 = e.bbox
            if (x0, x1) == (0, w):
                rows = STRIPE_ROWS
                for i, r0 in enumerate(range(y0, y1, rows)):
                    if e.stripes[i] == 2:
                        covered[r0 + 1 : min(r0 + rows, y1) + 1] = True
        edges = np.flatnonzero(covered[1:] != covered[:-1])
        self.copy_rows = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]

    @staticmethod
    def _build(
        scene: Scene,
        key: CacheKey,
        kind: FieldKind,
        spec: RegionSpec,
        geom: RegionGeometry,
        textures: _Textures,
        previous: FieldEntry | None,
    ) -> FieldEntry:
        """The region's field; what its warp samples is the previous entry's while the texture is the same
        (a trajectory edit rebuilds the field, not the sharpened, upsampled texture)."""
        y0, y1, x0, x1 = geom.bbox
        shape = scene.labels.shape
        long_side = max(shape)
        field_b = None
        if kind == FieldKind.FLOW:
            speed = abs(spec.strength) * arc_length(spec.trajectory) / scene.period
            field = motion.trajectory_velocity(spec.trajectory, speed, geom.bbox, shape)
            if spec.strength < 0:
                field = -field
            cycles = motion.loop_cycles(speed, scene.period, long_side)
            reach = motion.flow_reach(speed, scene.period, cycles) * PHASE_REACH
        else:
            amp = motion.ambient_amplitude(spec.strength, shape)
            a, b = motion.ambient_noise(geom.bbox, shape)
            field, field_b = a * amp, b * amp
            speed, cycles = 0.0, 1
            # |A cos + B sin| <= sqrt(|A|^2 + |B|^2) at every pixel.
            sq = np.einsum("ijk,ijk->ij", field, field) + np.einsum("ijk,ijk->ij", field_b, field_b)
            reach = float(np.sqrt(sq.max())) if sq.size else 0.0
        margin = int(math.ceil(reach)) + 2  # + bilinear support
        tex = textures.get(scene, spec.label, geom, (margin, margin, margin, margin))
        best = scene.quality == "best" and kind == FieldKind.FLOW
        zoom = TEXTURE_ZOOM
        if previous is not None and previous.texture is tex and previous.best == best:
            pixels, low, high = previous.pixels, previous.low, previous.high
        else:
            pixels, low, high = _sampled_texture(scene, geom, tex, best)
        box = max(3, int(round(DETAIL_BOX * long_side)) | 1)
        halo = box // 2 + 1 if best else 0
        mt, _, ml, _ = tex.margins
        rows = min(STRIPE_ROWS + 2 * halo, y1 - y0)
        # Pixel centres: pixel i of the texture is at zoom i + (zoom - 1) / 2 of its upsampled copy.
        grid = motion.pixel_grid((mt, mt + rows, ml, ml + (x1 - x0))) * np.float32(zoom) + np.float32((zoom - 1) / 2)
        parts = [geom.alpha[r : r + STRIPE_ROWS] for r in range(0, y1 - y0, STRIPE_ROWS)]
        stripes = tuple(2 if (part >= 1.0).all() else int((part > 0).any()) for part in parts)
        runs = tuple(_composite_runs(part) for part in parts)
        offset = (spec.label * PHASE_STEP) % 1.0
        rho, streams = 0.0, None
        if kind == FieldKind.FLOW:
            cycle = scene.period / cycles
            rho = _phase_correlation(tex, field, cycle, geom.mask, box)
            if best:
                streams = build_streams(field, geom.mask, cycle, PHASE_REACH, zoom, long_side, (ml, mt))
        return FieldEntry(
            key,
            kind,
            geom.bbox,
            geom.alpha,
            1.0 - geom.alpha,
            np.ascontiguousarray(field, np.float32),
            None if field_b is None else np.ascontiguousarray(field_b, np.float32),
            speed,
            cycles,
            offset,
            rho,
            tex,
            pixels,
            grid,
            stripes,
            runs,
            box,
            best,
            low,
            high,
            zoom,
            streams,
        )

    def render(self, pixels: np.ndarray, t: float, period: float) -> np.ndarray:
        """A new frame at time t: the source with every moving region warped from its own texture."""
        out = np.empty_like(pixels)
        for r0, r1 in self.copy_rows:
            out[r0:r1] = pixels[r0:r1]
        self.draw(out, t, period)
        return out

    def draw(self, out: np.ndarray, t: float, period: float, *, kling: bool = False) -> None:
        """Draw every region at time t over `out`; `kling`: each phase of the clip starts from the still
        (see flow_phases), over a clip of `period` seconds."""
        for entry in self.entries.values():
            _warp_region(out, entry, t, period, kling)


def flow_phases(
    t: float, period: float, cycles: int, offset: float, kling: bool = False
) -> list[tuple[float, float]]:
    """(seconds of travel along the flow, weight) of each flow-map phase at time t: one phase while the two
    coincide, else two, a cycle apart. The same at t and t + period (a loop).

    Phase 0 travels from half a cycle behind to half a cycle ahead of its anchor, phase 1 from the anchor
    to a cycle ahead; each restarts while its weight is zero. For half of each cycle they coincide (one
    texture streams, crisp), for the other half the older one dissolves into the younger, a whole cycle
    behind it. Phases half a cycle apart at every moment made each frame the frame half a cycle later
    with the phases swapped (a treadmill pulse); offsetting a phase across the flow instead moved the
    picture across the path. A cycle apart, the two phases' detail is unrelated, so the
    variance-preserving blend restores its contrast; nearer, textures with a dominant wavelength (ripples)
    cancel in the blend.

    Loops keep the anchor at the still. `kling` (a clip from the still, not a loop): phase 0 starts at
    its peak on the still, so the first frame is the source, and later anchors lie down the flow
    (KLING_ANCHORS, in cycles), never at the still again: the clip must not dissolve back to it, least of all
    at its end.
    """
    cycle = period / cycles
    x0 = t / cycle + 0.5 if kling else math.fmod(t / cycle + offset, cycles) % cycles
    x1 = x0 + 0.5
    k0, k1 = math.floor(x0), math.floor(x1)
    phi0, phi1 = x0 - k0, x1 - k1
    w0 = 1.0 - abs(1.0 - 2.0 * phi0)
    a0, a1 = (_kling_anchor(k0), _kling_anchor(k1 - 1)) if kling else (0.0, 0.0)
    travel0, travel1 = -(phi0 - 0.5 + a0) * cycle, -(phi1 + a1) * cycle
    if abs(travel0 - travel1) < 1e-9 * max(cycle, 1.0):
        return [(travel0, 1.0)]
    phases = [(travel0, w0), (travel1, 1.0 - w0)]
    return [p for p in phases if p[1] > 1.0 / 512] or phases[:1]


def _kling_anchor(k: int) -> float:
    return 0.0 if k <= 0 else KLING_ANCHORS[(k - 1) % len(KLING_ANCHORS)]


def _phase_correlation(tex: RegionTexture, field: np.ndarray, cycle: float, mask: np.ndarray, box: int) -> float:
    """How alike the detail (around the local mean) of the two phases is while they blend: the region's
    texture against itself a cycle down the flow. Measured on every fourth row, plenty for a correlation
    and quick for trajectory edits."""
    bh, bw = mask.shape
    mt, _, ml, _ = tex.margins
    grey = cv2.cvtColor(tex.pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - cv2.blur(grey, (box, box))
    where = motion.pixel_grid((mt, mt + bh, ml, ml + bw))[::4] + field[::4] * cycle
    b = cv2.remap(detail, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)  # type: ignore[call-overload]
    keep = mask[::4]
    a, b = detail[mt : mt + bh : 4, ml : ml + bw][keep], b[keep]
    norm = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return min(max(float(np.dot(a, b)) / norm, 0.0), 0.95) if norm > 0 else 0.0


def _warp_region(out: np.ndarray, e: FieldEntry, t: float, period: float, kling: bool = False) -> None:
    """Draw one region at time t, one stripe of rows at a time (the stripe's maps stay in cache).

    Flow: each phase samples the texture at x - D V(x) (or D seconds up the streamline through x, see
    FieldEntry.streams) and the phases are blended (variance preserving;
    at best quality over the stripe and a halo of rows, so the local mean has no seam); ambient: one
    sample at x + A cos + B sin. The result goes over the still by the feathered alpha.
    """
    y0, y1, x0, x1 = e.bbox
    if e.kind == FieldKind.FLOW:
        phases = [(travel, 0.0, weight) for travel, weight in flow_phases(t, period, e.cycles, e.offset, kling)]
        # A phase's detail is like the still's while its travel is short of the local mean's box (only the
        # export blend mixes the still in).
        near = [max(e.rho, 1.0 - abs(p[0]) * e.speed / e.box) for p in phases] if e.best else []
        # Best quality blurs the local mean over a halo of rows around each stripe (exact); live takes the
        # stripe alone (the mean differs near stripe edges by a grey level or two, and a third less warping).
        halo = e.box // 2 + 1 if e.best else 0
    else:
        phases = [(*motion.ambient_phase(t, period), 1.0)]
        near, halo = [], 0
    width, bh = x1 - x0, y1 - y0
    # On a curved field (best quality) each phase's sample points follow the streamlines: the node
    # coordinates of its travel, upsampled per stripe into the stripe's map.
    nodes = [e.streams.at(-p[0]) for p in phases] if e.streams is not None else None
    rows = e.grid.shape[0]
    maps = np.empty((rows, width, 2), np.float32)
    imgs = [np.empty((rows, width, e.pixels.shape[2]), np.uint8) for _ in phases]
    for i, r0 in enumerate(range(y0, y1, STRIPE_ROWS)):
        state = e.stripes[i]
        if not state:
            continue
        n = min(STRIPE_ROWS, y1 - r0)
        k0 = r0 - y0
        a0, a1 = max(k0 - halo, 0), min(k0 + n + halo, bh)  # box rows warped: the stripe and its halo
        src = e.pixels[e.zoom * a0 :]  # the grid's texture rows are relative to the first row warped
        for j, (scale, scale_b, _) in enumerate(phases):
            if e.streams is not None and nodes is not None:  # coordinates on the whole texture
                texture, m = e.pixels, e.streams.rows(nodes[j], a0, a1, width)
            else:
                texture, m = src, maps[: a1 - a0]
                cv2.scaleAdd(e.field[a0:a1], scale * e.zoom, e.grid[: a1 - a0], dst=m)
                if e.field_b is not None and scale_b:
                    cv2.scaleAdd(e.field_b[a0:a1], scale_b * e.zoom, m, dst=m)
            cv2.remap(texture, m, None, cv2.INTER_LINEAR, dst=imgs[j][: a1 - a0], borderMode=cv2.BORDER_REFLECT_101)  # type: ignore[call-overload]
        warped = [img[: a1 - a0] for img in imgs]
        dst = out[r0 : r0 + n, x0:x1]
        if e.best:
            result = _blend_best(e, warped, [p[2] for p in phases], near, a0, a1)[k0 - a0 : k0 - a0 + n]
        else:
            # An opaque stripe of a full-width region is contiguous: the blend is written there directly.
            into = dst if state == 2 and dst.flags.c_contiguous else None
            result = _blend_live(e, warped, [p[2] for p in phases], k0 - a0, n, into)
            if result is into:
                continue
        if state == 2:
            dst[...] = result
            continue
        for b0, b1, c0, c1, blend in e.runs[i]:
            part = dst[b0:b1, c0:c1]
            if blend:
                alpha, beta = e.alpha[k0 + b0 : k0 + b1, c0:c1], e.beta[k0 + b0 : k0 + b1, c0:c1]
                cv2.blendLinear(result[b0:b1, c0:c1], part, alpha, beta, dst=part)
            else:
                part[...] = result[b0:b1, c0:c1]


def _sampled_texture(
    scene: Scene, geom: RegionGeometry, tex: RegionTexture, best: bool
) -> tuple[np.ndarray, tuple[float, ...], tuple[float, ...]]:
    """What a region's warp samples: its texture sharpened (SHARPEN) and upsampled TEXTURE_ZOOM times,
    with the soft trusted-interior weight as a fourth channel at best quality; and the region's lowest
    and highest value per channel (a blend that restores contrast never leaves the colours it has)."""
    y0, y1, x0, x1 = geom.bbox
    region = scene.pixels[y0:y1, x0:x1][geom.mask]
    low = (*(float(v) for v in region.min(axis=0)), 0.0)
    high = (*(float(v) for v in region.max(axis=0)), 255.0)
    taps = np.array([-SHARPEN, 1.0 + 2.0 * SHARPEN, -SHARPEN], np.float32)
    pixels = cv2.sepFilter2D(tex.pixels, -1, taps, taps, borderType=cv2.BORDER_REFLECT_101)
    if best and tex.trusted is not None:
        ramp = max(1.0, VALID_RAMP * max(scene.labels.shape))
        dist = cv2.distanceTransform(tex.trusted, cv2.DIST_L2, 3)
        valid = (np.minimum(dist, ramp) * (255.0 / ramp) + 0.5).astype(np.uint8)
        pixels = cv2.merge([*cv2.split(pixels), valid])
    pixels = cv2.resize(pixels, None, fx=TEXTURE_ZOOM, fy=TEXTURE_ZOOM, interpolation=cv2.INTER_CUBIC)
    return _clamp(pixels, low, high), low, high  # sharpening and bicubic overshoot at edges


def _column_runs(alpha: np.ndarray) -> tuple[tuple[int, int, bool], ...]:
    """Runs of the rows' columns to copy (all opaque) or blend (some partly transparent); columns with
    no region pixel are left out."""
    opaque, empty = (alpha >= 1.0).all(axis=0), (alpha <= 0.0).all(axis=0)
    kind = np.where(empty, 0, np.where(opaque, 1, 2))
    edges = np.flatnonzero(np.diff(kind)) + 1
    starts, ends = np.concatenate([[0], edges]), np.concatenate([edges, [len(kind)]])
    return tuple((int(a), int(b), bool(kind[a] == 2)) for a, b in zip(starts, ends) if kind[a])


def _composite_runs(alpha: np.ndarray) -> tuple[tuple[int, int, int, int, bool], ...]:
    """(first row, end row, first column, end column, blend?) rectangles of a stripe to copy or blend,
    by blocks of BLEND_ROWS rows (neighbouring blocks alike merged): blending by the feathered alpha
    costs about a remap per pixel, so only the blocks the feather crosses are blended, not every
    column a feather crosses somewhere in the stripe."""
    found: list[tuple[int, int, int, int, bool]] = []
    last: tuple[tuple[int, int, bool], ...] | None = None
    first = 0
    for b0 in range(0, alpha.shape[0], BLEND_ROWS):
        runs = _column_runs(alpha[b0 : b0 + BLEND_ROWS])
        if runs != last:
            if last is not None:
                found += [(first, b0, c0, c1, blend) for c0, c1, blend in last]
            first, last = b0, runs
    if last is not None:
        found += [(first, alpha.shape[0], c0, c1, blend) for c0, c1, blend in last]
    return tuple(found)


def _clamp(img: np.ndarray, low: tuple[float, ...], high: tuple[float, ...]) -> np.ndarray:
    """`img` (in place) kept within the per-channel bounds (OpenCV takes a tuple as a scalar per channel)."""
    cv2.max(img, low, dst=img)  # type: ignore[call-overload]
    cv2.min(img, high, dst=img)  # type: ignore[call-overload]
    return img


def _blend_live(
    e: FieldEntry, warped: list[np.ndarray], weights: list[float], off: int, n: int, into: np.ndarray | None = None
) -> np.ndarray:
    """Scalar weights in 8 bits: the blend, its detail around the local mean scaled back up by k; written
    to `into` (and returned) when given and the blend needs a pass of its own anyway."""
    if len(warped) == 1:
        return warped[0][off : off + n]
    total = weights[0] + weights[1]
    w0, w1 = weights[0] / total, weights[1] / total
    k = 1.0 / math.sqrt(w0 * w0 + w1 * w1 + 2.0 * e.rho * w0 * w1)
    if k < 1.01:
        return cv2.addWeighted(warped[0][off : off + n], w0, warped[1][off : off + n], w1, 0.0, dst=into)
    blend = cv2.addWeighted(warped[0], w0, warped[1], w1, 0.0)
    mean = cv2.blur(blend, (e.box, e.box), borderType=cv2.BORDER_REFLECT_101)
    out = cv2.addWeighted(blend[off : off + n], k, mean[off : off + n], 1.0 - k, 0.0, dst=into)
    return _clamp(out, e.low, e.high)


def _blend_best(
    e: FieldEntry, warped: list[np.ndarray], weights: list[float], near: list[float], a0: int, a1: int
) -> np.ndarray:
    """Per-pixel weights: each phase by its weight x the validity of its sample point, and the still pixel
    by what validity is missing (so where no phase has real pixels the still shows, fading in as smoothly
    as the validity ramps); then the same variance-preserving step with k per pixel. `near`: how alike
    each phase's detail is to the still's (a phase that has hardly travelled is the still: blending the
    two loses no contrast, and boosting it over-sharpened the water round every post). Three-channel work
    goes through OpenCV (vectorised, threaded); only the one-channel weights are computed with numpy."""
    mt, _, ml, _ = e.texture.margins
    still = e.texture.pixels[mt + a0 : mt + a1, ml : ml + e.alpha.shape[1]]
    total = sum(weights)
    ws = [
        np.multiply(cv2.extractChannel(img, 3), wt / (255.0 * total), dtype=np.float32)
        for img, wt in zip(warped, weights)
    ]
    rgb = [cv2.cvtColor(img, cv2.COLOR_RGBA2RGB) for img in warped]
    moving = ws[0] + ws[1] if len(ws) == 2 else ws[0]
    blend = cv2.blendLinear(rgb[0], rgb[1], ws[0], ws[1]) if len(ws) == 2 else rgb[0]
    rest = 1.0 - moving
    blend = cv2.blendLinear(blend, still, moving, rest)
    squares = np.square(rest)
    for w in ws:
        squares += np.square(w)
    if len(ws) == 2:
        squares += (2.0 * e.rho) * ws[0] * ws[1]
    for rho, w in zip(near, ws):
        if rho > 0:
            squares += (2.0 * rho) * rest * w
    k = cv2.sqrt(1.0 / squares)
    mean = cv2.blur(blend, (e.box, e.box), borderType=cv2.BORDER_REFLECT_101)
    # k blend + (1 - k) mean in one pass: blendLinear divides by k + (1 - k) = 1 and saturates.
    out = cv2.blendLinear(blend, mean, k, 1.0 - k)
    return _clamp(out, e.low, e.high)
