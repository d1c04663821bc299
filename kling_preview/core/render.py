"""Frame synthesis: an immutable `Scene` snapshot of a project and a `Renderer` that makes its frames.

Threading: `snapshot()` runs on the GUI thread after an edit and is cheap (a resize and a copy); the
`Renderer` lives in one worker thread. A Scene shares no mutable state with the project, so the GUI can
keep editing while a frame is being made, then hand over the next Scene.

Caching: `Renderer.update()` keeps every per-region cache whose key did not change, so editing one
region rebuilds that region only. Keys come from `project.mask_revision` (bumped on every mask edit),
the trajectory, the region's settings and the scene size. A region's texture (below) depends on its
mask only: trajectory edits and mode switches reuse it while it reaches far enough.

Region textures: every moving region is drawn from its own texture (motion.region_texture: its pixels,
continued past its edge from its interior only), never from the image, so no frame of a region shows
the static mask, unpainted pixels or another region, however far its motion samples.

Modes (see motion.py for the fields):
- kling: each moving region's feathered layer is translated by d(t). Path regions (objects) uncover a
  clean plate (the image with them filled from their surroundings at reduced resolution, refreshed per
  region when its mask changes); flow and ambient regions (stuff: water, sky) show their own texture
  translated over their whole area, so they uncover more of themselves;
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
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from . import camera, limits, motion, object_layer, plate
from .errors import InvalidError
from .masks import STATIC
from .project import PREVIEW_MODES, MotionKind, Project
from .trajectory import arc_length, scale_points

BBox = motion.BBox

#: Surroundings the clean plate's fill copies texture from: a ring this fraction of the hole's size
#: around its box, plus PLATE_CONTEXT pixels at the plate's match size.
PLATE_RING = 0.75
PLATE_CONTEXT = 8
#: Rows per stripe of the loop warp: the stripe's map stays in cache between computing and remapping.
STRIPE_ROWS = 128

#: A cache key: a tuple of whatever identifies the inputs.
CacheKey = tuple[Any, ...]


class FieldKind(StrEnum):
    """How a loop-mode region's field moves it: along its trajectory, or a small periodic shimmer."""

    FLOW = "flow"
    AMBIENT = "ambient"


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
    def key(self) -> CacheKey:
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

    def region_key(self, spec: RegionSpec) -> CacheKey:
        """Cache key of a region: its settings, mask revision, the project and the scene size."""
        return (self.project_token, self.source_token, self.size, *spec.key)

    def with_clip(self, *, seconds: float | None = None, fps: float | None = None) -> Scene:
        """The same scene with another clip length or frame rate."""
        changes: dict[Any, Any] = {}
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
    limits.check_clip(project.clip.seconds, project.clip.fps, project.clip.loop_seconds)
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
        labels = np.asarray(cv2.resize(project.labels, size, interpolation=cv2.INTER_NEAREST), dtype=np.uint8)
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

    key: CacheKey
    bbox: BBox
    mask: np.ndarray
    alpha: np.ndarray


@dataclass(eq=False)
class RegionTexture:
    """A region's own texture (motion.region_texture) on its bbox grown by `margins` (top, bottom, left,
    right), mirrored past the image border like BORDER_REFLECT_101, and its `rim`: the region's pixels on
    the bbox that were refilled (outside its trusted interior).

    Depends on the region's mask only, so a trajectory edit or a switch of mode reuses it as long as it
    reaches far enough; every moving region samples its own, so none shows what borders it.
    """

    key: CacheKey
    margins: tuple[int, int, int, int]
    pixels: np.ndarray
    rim: np.ndarray  # uint8 0/1 on the bbox

    def covers(self, key: CacheKey, margins: tuple[int, int, int, int]) -> bool:
        return self.key == key and all(have >= need for have, need in zip(self.margins, margins))


def _region_texture(scene: Scene, label: int, geom: RegionGeometry, margins: tuple[int, ...]) -> RegionTexture:
    """Fill inside the image, then mirror: what lies past the border is the texture at the border reflected."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    top, bottom, left, right = margins
    cy0, cy1, cx0, cx1 = max(y0 - top, 0), min(y1 + bottom, h), max(x0 - left, 0), min(x1 + right, w)
    texture, inside = motion.region_texture(
        scene.pixels[cy0:cy1, cx0:cx1], scene.labels[cy0:cy1, cx0:cx1] == label, max(h, w)
    )
    oy, ox = y0 - cy0, x0 - cx0
    rim = (geom.mask & ~inside[oy : oy + y1 - y0, ox : ox + x1 - x0]).astype(np.uint8)
    border = (cy0 - (y0 - top), y1 + bottom - cy1, cx0 - (x0 - left), x1 + right - cx1)
    if any(border):
        texture = cv2.copyMakeBorder(texture, *border, cv2.BORDER_REFLECT_101)
    return RegionTexture(geom.key[:-1], (top, bottom, left, right), texture, rim)


class _Textures:
    """Region textures by label, kept across updates while the mask is unchanged and they reach far enough
    (a new one reaches a quarter further than asked, so small trajectory edits reuse it)."""

    def __init__(self) -> None:
        self.items: dict[int, RegionTexture] = {}
        self.builds = 0

    def get(self, scene: Scene, label: int, geom: RegionGeometry, margins: tuple[int, int, int, int]) -> RegionTexture:
        key = geom.key[:-1]  # the feather does not change the texture
        have = self.items.get(label)
        if have is not None and have.covers(key, margins):
            return have
        self.builds += 1
        tex = _region_texture(scene, label, geom, tuple(m + m // 4 + 4 for m in margins))
        self.items[label] = tex
        return tex

    def retain(self, labels: set[int]) -> None:
        self.items = {lab: tex for lab, tex in self.items.items() if lab in labels}


@dataclass(eq=False)
class FieldEntry:
    """A region's loop/ambient motion: its displacement field on its box and the texture it samples.

    `field` is the velocity (flow, px/s) or the ambient A (px), `field_b` the ambient B; both are x the
    feathered alpha. `grid` holds the texture coordinates of the box's first rows: a stripe starting at
    box row k samples the texture rows from k on through the same grid.
    """

    key: CacheKey
    kind: FieldKind
    bbox: BBox
    mask: np.ndarray  # uint8 0/1 on bbox
    field: np.ndarray
    field_b: np.ndarray | None
    speed: float
    cycles: int
    texture: RegionTexture
    grid: np.ndarray
    stripes: tuple[int, ...]  # per STRIPE_ROWS rows of bbox: 0 no region pixel, 1 some, 2 all


@dataclass(eq=False)
class KlingLayer:
    """A region's kling-mode layer: its pixels and alpha on its box, mirrored past the image border
    where the region touches it, so a region sliding in from the edge brings more of its own texture
    (sky, water) instead of uncovering the clean plate there.

    Flow and ambient regions are stuff (water, sky, foliage) rather than objects: what they uncover
    is more of themselves. They keep `texture` (their RegionTexture, reaching past the region as far
    as it travels); their whole `footprint` shows it translated, so they never uncover a plate
    (inpainted from the mountains or a tree beside them), and their layer pixels come from it too (but
    for the nearly transparent rim), so their anti-aliased rim never travels as a ghost outline.
    """

    key: CacheKey
    box: BBox  # in image pixels; extends past the image on mirrored sides
    pixels: np.ndarray
    alpha: np.ndarray
    texture: RegionTexture | None = None
    footprint: np.ndarray | None = None  # uint8 0/1 on the region's bbox
    holes: np.ndarray | None = None  # alpha of filled holes (object_layer), fading in over `reveal` px
    reveal: float = 1.0


def _is_stuff(spec: RegionSpec) -> bool:
    """Flow and ambient regions are stuff (water, sky, foliage); path regions are objects."""
    return spec.kind != MotionKind.PATH


def _layer_key(scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> CacheKey:
    """Geometry, how far the region travels each way (top, bottom, left, right: stuff regions only, the
    reach of their texture), then how far to mirror past each image border the region touches: as far
    as the trajectory carries the region inward from that border."""
    h, w = scene.labels.shape
    y0, y1, x0, x1 = geom.bbox
    pts = np.asarray(spec.trajectory, dtype=np.float64)
    off = (pts - pts[0]) * spec.strength  # the path is piecewise linear: its extremes are at the points

    def reach(v: float) -> int:
        return int(math.ceil(v)) + 1 if v > 0 else 0

    reaches = (reach(off[:, 1].max()), reach(-off[:, 1].min()), reach(off[:, 0].max()), reach(-off[:, 0].min()))
    pads = tuple(r if edge else 0 for r, edge in zip(reaches, (y0 == 0, y1 == h, x0 == 0, x1 == w)))
    # An object's holes are filled where a still region cuts them: which regions move is part of the key.
    moving = tuple(r.label for r in scene.regions if r.visible and motion.path_moves(r.trajectory, r.strength))
    return (geom.key, moving, reaches if _is_stuff(spec) else None, *pads)


def _kling_layer(
    scene: Scene, spec: RegionSpec, geom: RegionGeometry, key: CacheKey, textures: _Textures
) -> KlingLayer:
    top, bottom, left, right = key[-4:]
    reaches = key[-5]
    y0, y1, x0, x1 = geom.bbox
    box = (y0 - top, y1 + bottom, x0 - left, x1 + right)
    if reaches is None:
        # An object: holes cut by a still region filled, a smooth feather in proportion to the image.
        h, w = scene.labels.shape
        crop, sides = (slice(y0, y1), slice(x0, x1)), (y0 == 0, y1 == h, x0 == 0, x1 == w)
        src, labels = scene.pixels[crop], scene.labels[crop]
        obj = object_layer.build(src, labels, geom.mask, key[1], spec.feather, sides, max(h, w))
        pixels, alpha, holes = obj.pixels, obj.alpha, obj.holes
        if top or bottom or left or right:
            pad = (top, bottom, left, right, cv2.BORDER_REFLECT_101)
            pixels, alpha = cv2.copyMakeBorder(pixels, *pad), cv2.copyMakeBorder(alpha, *pad)
            holes = None if holes is None else cv2.copyMakeBorder(holes, *pad)
        return KlingLayer(key, box, pixels, alpha, holes=holes, reveal=obj.feather)
    alpha = geom.alpha
    if top or bottom or left or right:
        alpha = cv2.copyMakeBorder(alpha, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    # Stuff: the texture covers every point the footprint looks back to (x - d for every offset d).
    tex = textures.get(scene, spec.label, geom, reaches)
    mt, _, ml, _ = tex.margins
    bh, bw = y1 - y0, x1 - x0
    # The layer keeps the source on its rim, where its alpha is nearly zero: the footprint already shows
    # the texture there once the region moves, and the first frame stays exactly the source.
    pixels = tex.pixels[mt - top : mt + bh + bottom, ml - left : ml + bw + right].copy()
    cv2.copyTo(scene.pixels[y0:y1, x0:x1], tex.rim, pixels[top : top + bh, left : left + bw])
    return KlingLayer(key, box, pixels, alpha, tex, geom.mask.astype(np.uint8))


def _draw_footprint(
    out: np.ndarray, source: np.ndarray, bbox: BBox, layer: KlingLayer, dx: float, dy: float, reveal: float
) -> None:
    """A stuff region's own area shows its texture translated by (dx, dy). The rim (refilled in the
    texture) turns from the source into the texture over the first feather-width of travel, so the
    first frame is exactly the source."""
    tex = layer.texture
    assert tex is not None and layer.footprint is not None
    y0, y1, x0, x1 = bbox
    mt, _, ml, _ = tex.margins
    m = np.array([[1.0, 0.0, ml - dx], [0.0, 1.0, mt - dy]])
    warped = cv2.warpAffine(
        tex.pixels,
        m,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if reveal < 1.0:
        mix = cv2.addWeighted(source[y0:y1, x0:x1], 1.0 - reveal, warped, reveal, 0.0)
        cv2.copyTo(mix, tex.rim, warped)
    cv2.copyTo(warped, layer.footprint, out[y0:y1, x0:x1])


class _Plate:
    """The clean plate: the image with every moving path region filled with texture of its surroundings
    (plate.fill_hole; kling mode).

    Each hole is filled on its own box grown by a ring of surroundings, from pixels that are in no hole,
    so its fill depends on that box of the image and the hole masks only: refreshing one region gives the
    plate a fresh render would. A hole is refilled when its mask changes or when the pixels some other
    hole gained or lost lie in its surroundings; pixels a hole lost are restored from the original.
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.base: CacheKey | None = None
        self.holes: dict[int, tuple[CacheKey, BBox]] = {}
        self.masks: dict[int, tuple[BBox, np.ndarray]] = {}  # each hole's mask on its box
        self.fills = 0  # holes filled, for cache_info()

    def update(self, scene: Scene, moving: dict[int, tuple[CacheKey, BBox]]) -> None:
        base = (scene.project_token, scene.source_token, scene.size)
        if self.base != base or self.image is None:
            self.image = scene.pixels.copy()
            self.base = base
            self.holes, self.masks = {}, {}
        changed = [lab for lab in set(self.holes) | set(moving) if self.holes.get(lab) != moving.get(lab)]
        if not changed:
            return
        hole_labels = np.array(sorted(moving), dtype=np.uint8)
        h, w = scene.labels.shape
        scale = plate.match_scale(max(h, w))
        touched: list[BBox] = []  # boxes of the pixels that joined or left a hole
        for lab in changed:
            new = None
            if lab in moving:
                y0, y1, x0, x1 = moving[lab][1]
                new = (moving[lab][1], scene.labels[y0:y1, x0:x1] == lab)
            diff = plate.changed_box(self.masks.get(lab), new)
            if new is None:
                self.masks.pop(lab, None)
            else:
                self.masks[lab] = new
            if diff is not None:
                touched.append(diff)
        for y0, y1, x0, x1 in touched:
            known = ~np.isin(scene.labels[y0:y1, x0:x1], hole_labels)
            cv2.copyTo(scene.pixels[y0:y1, x0:x1], known.astype(np.uint8), self.image[y0:y1, x0:x1])
        for lab in sorted(moving):
            box = self._context(moving[lab][1], scale, (h, w))
            if not any(plate.overlaps(box, t) for t in touched):
                continue
            self.fills += 1
            y0, y1, x0, x1 = box
            labels = scene.labels[y0:y1, x0:x1]
            hole = labels == lab
            filled = plate.fill_hole(scene.pixels[y0:y1, x0:x1], hole, ~np.isin(labels, hole_labels), scale)
            cv2.copyTo(filled, hole.astype(np.uint8), self.image[y0:y1, x0:x1])
        self.holes = dict(moving)

    @staticmethod
    def _context(bbox: BBox, scale: float, shape: tuple[int, int]) -> BBox:
        """A hole's box grown by the ring of surroundings its fill copies from."""
        y0, y1, x0, x1 = bbox
        margin = int(math.ceil(PLATE_RING * max(y1 - y0, x1 - x0) + PLATE_CONTEXT / scale))
        return motion.expand_bbox(bbox, margin, shape)


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
                entry = self._build(scene, key, kind, spec, geom, textures)
                self.builds += 1
            entries[lab] = entry
        self.entries = entries
        # Rows that no full-width region overwrites completely: only these are copied from the source.
        h, w = scene.labels.shape
        covered = np.zeros(h + 2, bool)  # row r is covered[r + 1]; a covered row pads each end
        covered[0] = covered[-1] = True
        for e in entries.values():
            y0, y1, x0, x1 = e.bbox
            rows = e.grid.shape[0]
            if (x0, x1) == (0, w):
                for i, r0 in enumerate(range(y0, y1, rows)):
                    if e.stripes[i] == 2:
                        covered[r0 + 1 : min(r0 + rows, y1) + 1] = True
        edges = np.flatnonzero(covered[1:] != covered[:-1])
        self.copy_rows = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]

    @staticmethod
    def _build(
        scene: Scene, key: CacheKey, kind: FieldKind, spec: RegionSpec, geom: RegionGeometry, textures: _Textures
    ) -> FieldEntry:
        y0, y1, x0, x1 = geom.bbox
        shape = scene.labels.shape
        alpha = geom.alpha[..., None]
        field_b = None
        if kind == FieldKind.FLOW:
            speed = abs(spec.strength) * arc_length(spec.trajectory) / scene.period
            vel = motion.trajectory_velocity(spec.trajectory, speed, geom.bbox, shape)
            if spec.strength < 0:
                vel = -vel
            field = np.ascontiguousarray(vel * alpha, dtype=np.float32)
            cycles = motion.loop_cycles(speed, scene.period, max(shape))
            reach = motion.flow_reach(speed, scene.period, cycles)
        else:
            amp = motion.ambient_amplitude(spec.strength, shape)
            a, b = motion.ambient_noise(geom.bbox, shape)
            field, field_b = a * (alpha * amp), b * (alpha * amp)  # type: ignore[assignment]
            speed, cycles = 0.0, 1
            # |A cos + B sin| <= sqrt(|A|^2 + |B|^2) at every pixel.
            sq = np.einsum("ijk,ijk->ij", field, field) + np.einsum("ijk,ijk->ij", field_b, field_b)
            reach = float(np.sqrt(sq.max())) if sq.size else 0.0
        margin = int(math.ceil(reach)) + 2  # + bilinear support
        tex = textures.get(scene, spec.label, geom, (margin, margin, margin, margin))
        mt, _, ml, _ = tex.margins
        rows = min(STRIPE_ROWS, y1 - y0)
        grid = motion.pixel_grid((mt, mt + rows, ml, ml + (x1 - x0)))
        parts = (geom.mask[r : r + STRIPE_ROWS] for r in range(0, y1 - y0, STRIPE_ROWS))
        stripes = tuple(2 if part.all() else int(part.any()) for part in parts)
        mask = geom.mask.astype(np.uint8)
        return FieldEntry(key, kind, geom.bbox, mask, field, field_b, speed, cycles, tex, grid, stripes)

    def render(self, pixels: np.ndarray, t: float, period: float) -> np.ndarray:
        """A new frame at time t: the source with every moving region warped from its own texture."""
        out = np.empty_like(pixels)
        for r0, r1 in self.copy_rows:
            out[r0:r1] = pixels[r0:r1]
        for entry in self.entries.values():
            _warp_region(out, entry, t, period)
        return out


def _warp_region(out: np.ndarray, e: FieldEntry, t: float, period: float) -> None:
    """Draw one region at time t, one stripe of rows at a time (the stripe's maps stay in cache).

    Flow: each phase samples the texture at x - phase x cycle x V(x) (texture carried along V) and the
    two phases are cross-faded; ambient: at x + A cos + B sin.
    """
    y0, y1, x0, x1 = e.bbox
    if e.kind == FieldKind.FLOW:
        cycle = period / e.cycles
        phi0, phi1, w0 = motion.loop_phase(t, period, e.cycles)
        phases = [(-phi0 * cycle, w0), (-phi1 * cycle, 1.0 - w0)]
        # A phase whose weight rounds to nothing is skipped (it is the one restarting).
        phases = [p for p in phases if p[1] > 1.0 / 512] or phases[:1]
        total = sum(p[1] for p in phases)
        phases = [(s, wt / total) for s, wt in phases]
    else:
        ca, sa = motion.ambient_phase(t, period)
        phases = [(ca, 1.0)]
    width = x1 - x0
    rows = e.grid.shape[0]
    maps = np.empty((rows, width, 2), np.float32)
    imgs = [np.empty((rows, width, 3), np.uint8) for _ in phases] if len(phases) > 1 else []
    spare = np.empty((rows, width, 3), np.uint8)
    texture = e.texture.pixels
    for i, r0 in enumerate(range(y0, y1, rows)):
        state = e.stripes[i]
        if not state:
            continue
        n = min(rows, y1 - r0)
        k0 = r0 - y0
        src = texture[k0:]  # the grid's texture rows are relative to the stripe's first row
        dst = out[r0 : r0 + n, x0:x1]
        target = dst if state == 2 else spare[:n]
        m = maps[:n]
        for j, (scale, _) in enumerate(phases):
            cv2.scaleAdd(e.field[k0 : k0 + n], scale, e.grid[:n], dst=m)
            if e.field_b is not None:
                cv2.scaleAdd(e.field_b[k0 : k0 + n], sa, m, dst=m)
            img = imgs[j][:n] if imgs else target
            cv2.remap(src, m, None, cv2.INTER_LINEAR, dst=img, borderMode=cv2.BORDER_REFLECT_101)  # type: ignore[call-overload]
        if imgs:
            cv2.addWeighted(imgs[0][:n], phases[0][1], imgs[1][:n], phases[1][1], 0.0, dst=target)
        if state == 1:
            cv2.copyTo(target, e.mask[k0 : k0 + n], dst)


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
        self._geom_keys: dict[int, CacheKey] = {}
        self._plate: _Plate | None = None
        self._fields: _Fields | None = None
        self._layers: list[tuple[RegionSpec, RegionGeometry, KlingLayer]] = []
        self._layer_cache: dict[int, KlingLayer] = {}
        self._textures = _Textures()
        self._static: tuple[CacheKey, BBox | None, np.ndarray | None] | None = None
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
        clean-plate inpaintings, loop/ambient region fields built, region textures grown."""
        with self._lock:
            return {
                "geometry_builds": self._geometry_builds,
                "plate_fills": self._plate_fills + (self._plate.fills if self._plate else 0),
                "field_builds": self._field_builds + (self._fields.builds if self._fields else 0),
                "texture_builds": self._textures.builds,
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
            wanted: dict[int, tuple[CacheKey, FieldKind, RegionSpec, RegionGeometry]] = {}
            holes: dict[int, tuple[CacheKey, BBox]] = {}
            for spec in scene.regions:
                if not spec.visible:
                    continue
                geom = self._geometry(scene, spec)
                if scene.mode == "ambient" or (scene.mode == "loop" and spec.kind == MotionKind.AMBIENT):
                    kind = FieldKind.AMBIENT
                    moves = spec.strength != 0
                else:
                    kind = FieldKind.FLOW
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
                    if not _is_stuff(spec):  # stuff regions cover their own area: no plate shows there
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
                self._fields.update(scene, wanted, self._textures)
            self._layers = layers
            live_layers = {spec.label for spec, _, _ in layers}
            self._layer_cache = {k: v for k, v in self._layer_cache.items() if k in live_layers}
            self._textures.retain(live_layers | set(wanted))
            self._update_static(scene)
            self.warnings = warnings

    def _layer(self, scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> KlingLayer:
        key = _layer_key(scene, spec, geom)
        cached = self._layer_cache.get(spec.label)
        if cached is not None and cached.key == key:
            return cached
        layer = _kling_layer(scene, spec, geom, key, self._textures)
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
                for (spec, geom, layer), (dx, dy) in zip(self._layers, offsets):
                    # The plate shows through gradually over the first feather-width of travel, so the
                    # first frame is exactly the source and the feathered edge never flashes.
                    reveal = math.hypot(dx, dy) / max(spec.feather, 1.0)
                    if layer.texture is not None:
                        _draw_footprint(out, scene.pixels, geom.bbox, layer, dx, dy, reveal)
                    elif reveal < 1.0:
                        y0, y1, x0, x1 = geom.bbox
                        mix = cv2.addWeighted(
                            scene.pixels[y0:y1, x0:x1], 1.0 - reveal, self._plate.image[y0:y1, x0:x1], reveal, 0.0
                        )
                        np.copyto(out[y0:y1, x0:x1], mix, where=geom.mask[..., None])
                for (_, _, layer), (dx, dy) in zip(self._layers, offsets):
                    _composite(out, layer, dx, dy)
                self._composite_static(out, scene)
            else:
                assert self._fields is not None
                out = self._fields.render(scene.pixels, t, scene.period)
            if scene.camera_axis is not None and scene.seconds > 0:
                u = min(max(t / scene.seconds, 0.0), 1.0)
                out = camera.apply(out, scene.camera_axis, scene.camera_value, u)
            return out

    def _composite_static(self, out: np.ndarray, scene: Scene) -> None:
        if self._static is None or self._static[1] is None:
            return
        y0, y1, x0, x1 = self._static[1]
        cv2.copyTo(scene.pixels[y0:y1, x0:x1], self._static[2], out[y0:y1, x0:x1])  # type: ignore[arg-type]


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
    alpha = layer.alpha
    if layer.holes is not None:
        # Filled holes fade in over the first feather-width of travel: the first frame is the source.
        alpha = cv2.scaleAdd(layer.holes, min(1.0, math.hypot(dx, dy) / max(layer.reveal, 1.0)), alpha)
    alpha = cv2.warpAffine(alpha, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    pixels = cv2.warpAffine(layer.pixels, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    dst = out[cy0:cy1, cx0:cx1]
    cv2.blendLinear(pixels, dst, alpha, 1.0 - alpha, dst=dst)
