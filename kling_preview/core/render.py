"""Frame synthesis: an immutable `Scene` snapshot of a project and a `Renderer` that makes its frames.

Threading: `snapshot()` runs on the GUI thread after an edit and is cheap (a resize and a copy); the
`Renderer` lives in one worker thread. A Scene shares no mutable state with the project, so the GUI can
keep editing while a frame is being made, then hand over the next Scene.

Caching: `Renderer.update()` keeps every per-region cache whose key did not change, so editing one
region rebuilds that region only. Keys come from `project.mask_revision` (bumped on every mask edit),
the trajectory, the region's settings and the scene size.

Modes (see motion.py for the fields):
- kling: each moving region's feathered layer is translated by d(t) over a clean plate (the image with
  the moving regions inpainted at reduced resolution, refreshed per region when its mask changes);
- loop: two-phase flow-map loop along each region's velocity field (ambient-kind regions shimmer);
- ambient: every region shimmers.
The static mask is composited last from the original and the camera move is applied on top.
"""

from __future__ import annotations

import itertools
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace

import cv2
import numpy as np

from . import camera, motion
from .errors import InvalidError
from .masks import STATIC
from .project import PREVIEW_MODES, MotionKind, Project
from .trajectory import arc_length, scale_points

BBox = motion.BBox

#: Long side of the clean plate's inpainting (inpainting cost grows with the hole's pixel count).
PLATE_LONG_SIDE = 480
PLATE_INPAINT_RADIUS = 3
#: Rows per stripe of the loop warp: the stripe's map stays in cache between computing and remapping.
STRIPE_ROWS = 128


# ----- identity tokens -----------------------------------------------------------------------------
_token_lock = threading.Lock()
_tokens: dict[int, int] = {}
_counter = itertools.count(1)


def _token(obj: object) -> int:
    """A number naming this object for as long as it lives (never reused, unlike id())."""
    key = id(obj)
    with _token_lock:
        tok = _tokens.get(key)
        if tok is None:
            tok = next(_counter)
            _tokens[key] = tok
            weakref.finalize(obj, _tokens.pop, key, None)
        return tok


_resized_lock = threading.Lock()
_resized: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
_RESIZED_KEEP = 2


def _resized_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A read-only copy of the image at `size`, shared by successive snapshots of the same image.

    The project's own pixels are used as they are when they are read-only and already the right size
    (immutable, so sharing them shares no mutable state, and a 4K export saves a copy).
    """
    h, w = pixels.shape[:2]
    if (w, h) == size and not pixels.flags.writeable:
        return pixels
    key = (_token(pixels), size[0], size[1])
    with _resized_lock:
        hit = _resized.get(key)
        if hit is not None:
            _resized.move_to_end(key)
            return hit
    if (w, h) == size:
        out = pixels.copy()
    else:
        interp = cv2.INTER_AREA if size[0] < w else cv2.INTER_CUBIC
        out = cv2.resize(pixels, size, interpolation=interp)
    out.flags.writeable = False
    with _resized_lock:
        _resized[key] = out
        while len(_resized) > _RESIZED_KEEP:
            _resized.popitem(last=False)
    return out


# ----- the snapshot --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RegionSpec:
    """What rendering needs of one region, in scene pixels."""

    label: int
    name: str
    trajectory: tuple[tuple[float, float], ...]
    kind: str
    strength: float
    feather: float
    visible: bool
    revision: int

    @property
    def key(self) -> tuple:
        return (self.label, self.revision, self.trajectory, self.kind, self.strength, self.feather, self.visible)


@dataclass(frozen=True, eq=False)
class Scene:
    """An immutable copy of everything a frame depends on (arrays are private, read-only copies)."""

    pixels: np.ndarray
    labels: np.ndarray
    regions: tuple[RegionSpec, ...]
    mode: str
    seconds: float
    fps: float
    loop_seconds: float
    camera_axis: str | None
    camera_value: float
    scale: tuple[float, float]
    source_token: int
    project_token: int
    static_revision: int

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def period(self) -> float:
        """The time after which loop and ambient motion repeat exactly."""
        return self.loop_seconds if self.mode == "loop" else self.seconds

    def region_key(self, spec: RegionSpec) -> tuple:
        """Cache key of a region: its settings, mask revision, the project and the scene size."""
        return (self.project_token, self.source_token, self.size, *spec.key)

    def with_clip(self, *, seconds: float | None = None, fps: float | None = None) -> Scene:
        """The same scene with another clip length or frame rate."""
        changes: dict = {}
        if seconds is not None:
            changes["seconds"] = float(seconds)
        if fps is not None:
            changes["fps"] = fps
        return replace(self, **changes) if changes else self


def fit_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(w, h) scaled down so the long side is at most `max_side` (None: unchanged)."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    s = max_side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def snapshot(
    project: Project, max_side: int | None = 960, mode: str | None = None, *, size: tuple[int, int] | None = None
) -> Scene:
    """Copy what rendering needs from `project`, resized so the long side is <= max_side.

    `size` (w, h) asks for an exact size instead (exports with a chosen width). Cheap: a resize of the
    image (shared between snapshots of the same image and size) and a copy of the label map.
    """
    mode = mode or project.clip.mode
    if mode not in PREVIEW_MODES:
        raise InvalidError(f"unknown preview mode {mode!r}: use one of {', '.join(PREVIEW_MODES)}")
    src = project.image.pixels
    h, w = src.shape[:2]
    if size is None:
        size = fit_size(w, h, max_side)
    size = (int(size[0]), int(size[1]))
    if size[0] < 1 or size[1] < 1:
        raise InvalidError(f"frame size {size[0]}x{size[1]} is empty")
    sx, sy = size[0] / w, size[1] / h
    pixels = _resized_pixels(src, size)
    if size == (w, h):
        labels = project.labels.copy()
    else:
        labels = cv2.resize(project.labels, size, interpolation=cv2.INTER_NEAREST)
    labels.flags.writeable = False
    fscale = math.sqrt(sx * sy)
    regions = tuple(
        RegionSpec(
            label=r.label,
            name=r.name,
            trajectory=tuple(scale_points(r.trajectory, sx, sy)) if r.trajectory else (),
            kind=str(r.kind),
            strength=float(r.strength),
            feather=float(r.feather) * fscale,
            visible=bool(r.visible),
            revision=project.mask_revision.get(r.label, 0),
        )
        for r in project.regions
    )
    clip = project.clip
    return Scene(
        pixels=pixels,
        labels=labels,
        regions=regions,
        mode=mode,
        seconds=float(clip.loop_seconds if mode == "loop" else clip.seconds),
        fps=clip.fps,
        loop_seconds=float(clip.loop_seconds),
        camera_axis=project.camera.axis if project.camera.active else None,
        camera_value=float(project.camera.value) if project.camera.active else 0.0,
        scale=(sx, sy),
        source_token=_token(src),
        project_token=_token(project),
        static_revision=project.mask_revision.get(STATIC, 0),
    )


# ----- per-region caches ---------------------------------------------------------------------------
@dataclass(eq=False)
class RegionGeometry:
    """A region's bounding box, mask and feathered alpha (float32) on that box."""

    key: tuple
    bbox: BBox
    mask: np.ndarray
    alpha: np.ndarray


@dataclass(eq=False)
class FieldEntry:
    """A region's share of the loop/ambient fields: where it wrote and how fast it flows."""

    key: tuple
    kind: str  # "flow" or "ambient"
    bbox: BBox
    mask: np.ndarray
    speed: float


@dataclass(eq=False)
class KlingLayer:
    """A region's kling-mode layer: its pixels and alpha on its box, mirrored past the image border
    where the region touches it, so a region sliding in from the edge brings more of its own texture
    (sky, water) instead of uncovering the clean plate there."""

    key: tuple
    box: BBox  # in image pixels; extends past the image on mirrored sides
    pixels: np.ndarray
    alpha: np.ndarray


def _layer_key(scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> tuple:
    """Geometry plus how far to mirror past each image border the region touches (top, bottom, left,
    right): as far as the trajectory carries the region inward from that border."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    pts = np.asarray(spec.trajectory, dtype=np.float64)
    off = (pts - pts[0]) * spec.strength  # the path is piecewise linear: its extremes are at the points

    def reach(v: float) -> int:
        return int(math.ceil(v)) + 1 if v > 0 else 0

    pads = (
        reach(off[:, 1].max()) if y0 == 0 else 0,
        reach(-off[:, 1].min()) if y1 == h else 0,
        reach(off[:, 0].max()) if x0 == 0 else 0,
        reach(-off[:, 0].min()) if x1 == w else 0,
    )
    return (geom.key, *pads)


def _kling_layer(scene: Scene, geom: RegionGeometry, key: tuple) -> KlingLayer:
    top, bottom, left, right = key[-4:]
    y0, y1, x0, x1 = geom.bbox
    pixels, alpha = scene.pixels[y0:y1, x0:x1], geom.alpha
    if top or bottom or left or right:
        pixels = cv2.copyMakeBorder(pixels, top, bottom, left, right, cv2.BORDER_REFLECT_101)
        alpha = cv2.copyMakeBorder(alpha, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    return KlingLayer(key, (y0 - top, y1 + bottom, x0 - left, x1 + right), pixels, alpha)


class _Plate:
    """The clean plate: the image with every moving region filled by inpainting (kling mode).

    Refreshed per region: a changed region's box is restored from the original and only its own hole
    is inpainted again, at reduced resolution, with the other regions' fills as known context.
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.base: tuple | None = None
        self.holes: dict[int, tuple[tuple, BBox]] = {}
        self.fills = 0  # inpaintings done, for cache_info()

    def update(self, scene: Scene, moving: dict[int, tuple[tuple, BBox]]) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base or self.image is None:
            self.image = scene.pixels.copy()
            self.base = base
            self.holes = {}
        changed = [lab for lab in set(self.holes) | set(moving) if self.holes.get(lab) != moving.get(lab)]
        if not changed:
            return
        hole_labels = np.array(sorted(moving), dtype=np.uint8)
        h, w = scene.labels.shape
        ps = min(1.0, PLATE_LONG_SIDE / max(h, w))
        margin = int(math.ceil((PLATE_INPAINT_RADIUS + 3) / ps)) + 2
        for lab in changed:
            boxes = [entry[1] for entry in (self.holes.get(lab), moving.get(lab)) if entry is not None]
            box = motion.expand_bbox(motion.union_bbox(boxes), margin, (h, w))
            y0, y1, x0, x1 = box
            lab_crop = scene.labels[y0:y1, x0:x1]
            crop = self.image[y0:y1, x0:x1]
            known = ~np.isin(lab_crop, hole_labels) if len(hole_labels) else np.ones(lab_crop.shape, bool)
            cv2.copyTo(scene.pixels[y0:y1, x0:x1], known.astype(np.uint8), crop)
            refill = [c for c in changed if c in moving]
            if lab in moving:
                self.fills += 1
                # Every changed hole in the box is unknown (one not refilled yet holds stale pixels).
                self._fill(crop, np.isin(lab_crop, np.array(refill, dtype=np.uint8)), ps)
        self.holes = dict(moving)

    @staticmethod
    def _fill(crop: np.ndarray, hole: np.ndarray, ps: float) -> None:
        ch, cw = hole.shape
        if not hole.any():
            return
        ps = min(1.0, max(ps, 12.0 / max(1, min(ch, cw))))
        sw, sh = max(1, round(cw * ps)), max(1, round(ch * ps))
        small = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA)
        hole_u8 = hole.astype(np.uint8) * 255
        small_hole = (cv2.resize(hole_u8, (sw, sh), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        if small_hole.all():
            # Nothing around to inpaint from: a heavy blur of what was there is the best guess.
            crop[...] = cv2.GaussianBlur(crop, (0, 0), max(ch, cw) / 8.0)
            return
        filled = cv2.inpaint(small, small_hole, PLATE_INPAINT_RADIUS, cv2.INPAINT_TELEA)
        # Soften the inpainting's radial streaks; only hole pixels are taken from the result.
        filled = cv2.GaussianBlur(filled, (0, 0), 1.5)
        up = cv2.resize(filled, (cw, ch), interpolation=cv2.INTER_LINEAR)
        cv2.copyTo(up, hole_u8, crop)


class _Fields:
    """Combined loop/ambient displacement fields over the image, written region by region.

    Regions never overlap and each field is zero outside its region, so a region's share can be
    cleared and rewritten without touching the others.
    """

    def __init__(self) -> None:
        self.base: tuple | None = None
        self.entries: dict[int, FieldEntry] = {}
        self.velocity: np.ndarray | None = None  # px/s, (H, W, 2)
        self.amb_a: np.ndarray | None = None  # px, (H, W, 2)
        self.amb_b: np.ndarray | None = None
        self.box: BBox | None = None
        self.grid: np.ndarray | None = None
        self.cycles = 1
        self.builds = 0  # region fields computed, for cache_info()

    def update(self, scene: Scene, wanted: dict[int, tuple[tuple, str, RegionSpec, RegionGeometry]]) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base:
            builds = self.builds
            self.__init__()
            self.base, self.builds = base, builds
        h, w = scene.labels.shape
        for lab in list(self.entries):
            want = wanted.get(lab)
            if want is None or want[0] != self.entries[lab].key:
                self._clear(self.entries.pop(lab))
        for lab, (key, kind, spec, geom) in wanted.items():
            if lab in self.entries:
                continue
            self.entries[lab] = self._write(scene, key, kind, spec, geom)
            self.builds += 1
        if not any(e.kind == "flow" for e in self.entries.values()):
            self.velocity = None
        if not any(e.kind == "ambient" for e in self.entries.values()):
            self.amb_a = self.amb_b = None
        box = motion.union_bbox(e.bbox for e in self.entries.values())
        if box != self.box:
            self.box = box
            self.grid = motion.pixel_grid(box) if box is not None else None
        max_speed = max((e.speed for e in self.entries.values() if e.kind == "flow"), default=0.0)
        self.cycles = motion.loop_cycles(max_speed, scene.period, max(h, w), scene.fps)

    def _clear(self, entry: FieldEntry) -> None:
        y0, y1, x0, x1 = entry.bbox
        targets = [self.velocity] if entry.kind == "flow" else [self.amb_a, self.amb_b]
        for arr in targets:
            if arr is not None:
                np.copyto(arr[y0:y1, x0:x1], 0.0, where=entry.mask[..., None])

    def _alloc(self, shape: tuple[int, int]) -> np.ndarray:
        return np.zeros((*shape, 2), dtype=np.float32)

    def _write(self, scene: Scene, key: tuple, kind: str, spec: RegionSpec, geom: RegionGeometry) -> FieldEntry:
        y0, y1, x0, x1 = geom.bbox
        shape = scene.labels.shape
        where = geom.mask[..., None]
        alpha = geom.alpha[..., None]
        if kind == "flow":
            speed = abs(spec.strength) * arc_length(spec.trajectory) / scene.period
            vel = motion.trajectory_velocity(spec.trajectory, speed, geom.bbox, shape)
            if spec.strength < 0:
                vel = -vel
            if self.velocity is None:
                self.velocity = self._alloc(shape)
            np.copyto(self.velocity[y0:y1, x0:x1], vel * alpha, where=where)
            return FieldEntry(key, kind, geom.bbox, geom.mask, speed)
        amp = motion.ambient_amplitude(spec.strength, shape)
        a, b = motion.ambient_noise(geom.bbox, shape)
        if self.amb_a is None:
            self.amb_a, self.amb_b = self._alloc(shape), self._alloc(shape)
        np.copyto(self.amb_a[y0:y1, x0:x1], a * (alpha * amp), where=where)
        np.copyto(self.amb_b[y0:y1, x0:x1], b * (alpha * amp), where=where)
        return FieldEntry(key, kind, geom.bbox, geom.mask, 0.0)

    def render(self, out: np.ndarray, pixels: np.ndarray, t: float, period: float) -> None:
        """Warp the moving box of `out` (a copy of `pixels`) for time t, one stripe of rows at a time.

        Each phase samples I(x - phase x cycle x V(x)) (texture carried along V), plus the ambient
        offset A cos + B sin; the two phases are cross-faded.
        """
        if self.box is None or self.grid is None:
            return
        y0, y1, x0, x1 = self.box
        flow = self.velocity is not None
        amb = self.amb_a is not None
        if flow:
            cycle = period / self.cycles
            phi0, phi1, w0 = motion.loop_phase(t, period, self.cycles)
            phases = [(phi0 * cycle, w0), (phi1 * cycle, 1.0 - w0)]
            # A phase whose weight rounds to nothing is skipped (it is the one restarting).
            phases = [p for p in phases if p[1] > 1.0 / 512] or phases[:1]
            total = sum(p[1] for p in phases)
            phases = [(s, wt / total) for s, wt in phases]
        if amb:
            ca, sa = motion.ambient_phase(t, period)
        width = x1 - x0
        rows = max(1, min(STRIPE_ROWS, y1 - y0))
        base = np.empty((rows, width, 2), np.float32)
        maps = [np.empty((rows, width, 2), np.float32) for _ in range(2)]
        imgs = [np.empty((rows, width, 3), np.uint8) for _ in range(2)]
        for r0 in range(y0, y1, rows):
            r1 = min(r0 + rows, y1)
            n = r1 - r0
            grid = self.grid[r0 - y0 : r1 - y0]
            if amb:
                b = base[:n]
                cv2.scaleAdd(self.amb_a[r0:r1, x0:x1], ca, grid, dst=b)
                cv2.scaleAdd(self.amb_b[r0:r1, x0:x1], sa, b, dst=b)
            else:
                b = grid
            dst = out[r0:r1, x0:x1]
            if not flow:
                cv2.remap(pixels, b, None, cv2.INTER_LINEAR, dst=dst, borderMode=cv2.BORDER_REFLECT_101)
                continue
            vel = self.velocity[r0:r1, x0:x1]
            if len(phases) == 1:
                m = maps[0][:n]
                cv2.scaleAdd(vel, -phases[0][0], b, dst=m)
                cv2.remap(pixels, m, None, cv2.INTER_LINEAR, dst=dst, borderMode=cv2.BORDER_REFLECT_101)
                continue
            for i, (shift, _) in enumerate(phases):
                m = maps[i][:n]
                cv2.scaleAdd(vel, -shift, b, dst=m)
                cv2.remap(pixels, m, None, cv2.INTER_LINEAR, dst=imgs[i][:n], borderMode=cv2.BORDER_REFLECT_101)
            cv2.addWeighted(imgs[0][:n], phases[0][1], imgs[1][:n], phases[1][1], 0.0, dst=dst)


# ----- the renderer --------------------------------------------------------------------------------
class Renderer:
    """Makes frames of a Scene; keeps per-region caches across `update()`s.

    Use from one thread at a time (a lock guards against overlap); `snapshot()` may run concurrently
    in another thread because a Scene is immutable.
    """

    def __init__(self, scene: Scene | None = None):
        self._lock = threading.RLock()
        self.scene: Scene | None = None
        self.warnings: list[str] = []
        self._geoms: dict[int, RegionGeometry | None] = {}
        self._geom_keys: dict[int, tuple] = {}
        self._plate: _Plate | None = None
        self._fields: _Fields | None = None
        self._layers: list[tuple[RegionSpec, RegionGeometry, KlingLayer]] = []
        self._layer_cache: dict[int, KlingLayer] = {}
        self._static: tuple[tuple, BBox | None, np.ndarray | None] | None = None
        self._geometry_builds = 0
        self._plate_fills = 0
        self._field_builds = 0
        if scene is not None:
            self.update(scene)

    # -- caches --------------------------------------------------------------------------------------
    def _geometry(self, scene: Scene, spec: RegionSpec) -> RegionGeometry | None:
        key = (scene.project_token, scene.source_token, scene.size, spec.label, spec.revision, spec.feather)
        if self._geom_keys.get(spec.label) == key:
            return self._geoms[spec.label]
        self._geometry_builds += 1
        bbox = motion.region_bbox(scene.labels, spec.label)
        geom = None
        if bbox is not None:
            mask, alpha = motion.region_alpha(scene.labels, spec.label, bbox, spec.feather)
            geom = RegionGeometry(key, bbox, mask, alpha)
        self._geoms[spec.label] = geom
        self._geom_keys[spec.label] = key
        return geom

    def cache_entry(self, label: int) -> object | None:
        """The cached object a region's frames are made from in the current mode (for inspection)."""
        with self._lock:
            if self.scene is not None and self.scene.mode != "kling" and self._fields is not None:
                return self._fields.entries.get(label)
            return self._geoms.get(label)

    def cache_info(self) -> dict[str, int]:
        """How much work the caches have done so far: region geometries (mask, feather) computed,
        clean-plate inpaintings, loop/ambient region fields built."""
        with self._lock:
            return {
                "geometry_builds": self._geometry_builds,
                "plate_fills": self._plate_fills + (self._plate.fills if self._plate else 0),
                "field_builds": self._field_builds + (self._fields.builds if self._fields else 0),
            }

    def update(self, scene: Scene) -> None:
        """Switch to `scene`, rebuilding only the caches whose keys changed."""
        with self._lock:
            self.scene = scene
            live = {r.label for r in scene.regions if r.visible}
            for lab in list(self._geoms):
                if lab not in live:
                    del self._geoms[lab]
                    self._geom_keys.pop(lab, None)
            warnings: list[str] = []
            layers: list[tuple[RegionSpec, RegionGeometry, KlingLayer]] = []
            wanted: dict[int, tuple[tuple, str, RegionSpec, RegionGeometry]] = {}
            holes: dict[int, tuple[tuple, BBox]] = {}
            for spec in scene.regions:
                if not spec.visible:
                    continue
                geom = self._geometry(scene, spec)
                if scene.mode == "ambient" or (scene.mode == "loop" and spec.kind == MotionKind.AMBIENT):
                    kind = "ambient"
                    moves = spec.strength != 0
                else:
                    kind = "flow"
                    moves = motion.path_moves(spec.trajectory, spec.strength)
                    if len(spec.trajectory) < 2:
                        warnings.append(f"{spec.name} has no trajectory; it stays still")
                    elif arc_length(spec.trajectory) <= 0:
                        warnings.append(f"{spec.name} has a trajectory of zero length; it stays still")
                if geom is None:
                    if moves:
                        warnings.append(f"{spec.name} has no painted area; nothing moves")
                    continue
                if not moves:
                    continue
                if scene.mode == "kling":
                    layers.append((spec, geom, self._layer(scene, spec, geom)))
                    holes[spec.label] = (geom.key[:-1], geom.bbox)  # the feather does not change the hole
                else:
                    wanted[spec.label] = (scene.region_key(spec) + (scene.period,), kind, spec, geom)
            if scene.mode == "kling":
                if self._fields is not None:
                    self._field_builds += self._fields.builds
                self._fields = None
                self._plate = self._plate or _Plate()
                self._plate.update(scene, holes)
            else:
                if self._plate is not None:
                    self._plate_fills += self._plate.fills
                self._plate = None
                self._fields = self._fields or _Fields()
                self._fields.update(scene, wanted)
            self._layers = layers
            live_layers = {spec.label for spec, _, _ in layers}
            self._layer_cache = {k: v for k, v in self._layer_cache.items() if k in live_layers}
            self._update_static(scene)
            self.warnings = warnings

    def _layer(self, scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> KlingLayer:
        key = _layer_key(scene, spec, geom)
        cached = self._layer_cache.get(spec.label)
        if cached is not None and cached.key == key:
            return cached
        layer = _kling_layer(scene, geom, key)
        self._layer_cache[spec.label] = layer
        return layer

    def _update_static(self, scene: Scene) -> None:
        key = (scene.project_token, scene.source_token, scene.size, scene.static_revision)
        if self._static is not None and self._static[0] == key:
            return
        bbox = motion.region_bbox(scene.labels, STATIC)
        mask = None
        if bbox is not None:
            y0, y1, x0, x1 = bbox
            mask = (scene.labels[y0:y1, x0:x1] == STATIC).astype(np.uint8)
        self._static = (key, bbox, mask)

    @property
    def loop_cycles(self) -> int:
        """Flow-map cycles per loop period in loop mode (1 otherwise): faster flows use shorter cycles."""
        with self._lock:
            return self._fields.cycles if self._fields is not None else 1

    # -- time ----------------------------------------------------------------------------------------
    def _require(self) -> Scene:
        if self.scene is None:
            raise RuntimeError("the renderer has no scene yet")
        return self.scene

    def frame_count(self, seconds: float | None = None, fps: float | None = None) -> int:
        """Frames in a clip of `seconds` at `fps` (the scene's by default); at least one."""
        scene = self._require()
        seconds = scene.seconds if seconds is None else seconds
        fps = scene.fps if fps is None else fps
        return max(1, int(round(seconds * fps)))

    def times(self) -> list[float]:
        """Frame times of the clip: kling runs from the first to the last trajectory point inclusive;
        loop and ambient stop one frame short of the period, so the clip repeats seamlessly."""
        scene = self._require()
        n = self.frame_count()
        if scene.mode == "kling":
            if n == 1:
                return [0.0]
            return [scene.seconds * i / (n - 1) for i in range(n)]
        return [scene.seconds * i / n for i in range(n)]

    # -- frames --------------------------------------------------------------------------------------
    def frame(self, t: float) -> np.ndarray:
        """The frame at time t (seconds): a new HxWx3 uint8 RGB array at the scene's size."""
        with self._lock:
            scene = self._require()
            if scene.mode == "kling":
                assert self._plate is not None and self._plate.image is not None
                out = self._plate.image.copy()
                u = min(max(t / scene.seconds, 0.0), 1.0) if scene.seconds > 0 else 1.0
                offsets = [motion.kling_offset(spec.trajectory, u, spec.strength) for spec, _, _ in self._layers]
                for (spec, geom, _), (dx, dy) in zip(self._layers, offsets):
                    # The plate shows through gradually over the first feather-width of travel, so the
                    # first frame is exactly the source and the feathered edge never flashes.
                    reveal = math.hypot(dx, dy) / max(spec.feather, 1.0)
                    if reveal < 1.0:
                        y0, y1, x0, x1 = geom.bbox
                        mix = cv2.addWeighted(
                            scene.pixels[y0:y1, x0:x1], 1.0 - reveal, self._plate.image[y0:y1, x0:x1], reveal, 0.0
                        )
                        np.copyto(out[y0:y1, x0:x1], mix, where=geom.mask[..., None])
                for (_, _, layer), (dx, dy) in zip(self._layers, offsets):
                    _composite(out, layer, dx, dy)
                self._composite_static(out, scene)
            else:
                out = scene.pixels.copy()
                assert self._fields is not None
                self._fields.render(out, scene.pixels, t, scene.period)
            if scene.camera_axis is not None and scene.seconds > 0:
                u = min(max(t / scene.seconds, 0.0), 1.0)
                out = camera.apply(out, scene.camera_axis, scene.camera_value, u)
            return out

    def _composite_static(self, out: np.ndarray, scene: Scene) -> None:
        if self._static is None or self._static[1] is None:
            return
        y0, y1, x0, x1 = self._static[1]
        cv2.copyTo(scene.pixels[y0:y1, x0:x1], self._static[2], out[y0:y1, x0:x1])


def _composite(out: np.ndarray, layer: KlingLayer, dx: float, dy: float) -> None:
    """Draw a feathered layer translated by (dx, dy) over `out` (only the box it lands on is touched)."""
    h, w = out.shape[:2]
    y0, y1, x0, x1 = layer.box
    dx0, dy0 = math.floor(x0 + dx), math.floor(y0 + dy)
    dx1, dy1 = math.floor(x1 - 1 + dx) + 2, math.floor(y1 - 1 + dy) + 2
    cx0, cy0, cx1, cy1 = max(dx0, 0), max(dy0, 0), min(dx1, w), min(dy1, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    size = (cx1 - cx0, cy1 - cy0)
    # Destination pixel (j, i) of the clipped box shows layer pixel (cx0 + j - dx - x0, cy0 + i - dy - y0).
    m = np.array([[1.0, 0.0, cx0 - dx - x0], [0.0, 1.0, cy0 - dy - y0]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    alpha = cv2.warpAffine(layer.alpha, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    pixels = cv2.warpAffine(layer.pixels, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    dst = out[cy0:cy1, cx0:cx1]
    cv2.blendLinear(pixels, dst, alpha, 1.0 - alpha, dst=dst)
