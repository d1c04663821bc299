"""The snapshot: an immutable `Scene` copy of what a frame depends on, taken from a `Project`.

Threading: `snapshot()` runs on the GUI thread after an edit and is cheap (a resize and a copy); the
renderer lives in one worker thread. A Scene shares no mutable state with the project, so the GUI can
keep editing while a frame is being made, then hand over the next Scene.
"""

from __future__ import annotations

import itertools
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from .. import limits
from ..errors import InvalidError
from ..masks import STATIC
from ..project import PREVIEW_MODES, Project
from ..trajectory import scale_points

#: Render qualities: "live" for the interactive preview at proxy size, "best" for render and export.
QUALITIES = ("live", "best")

#: A cache key: a tuple of whatever identifies the inputs.
CacheKey = tuple[Any, ...]

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
    quality: str = "best"

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
        """The same scene with another clip length or frame rate.

        In loop mode a requested length is the loop's period, so a clip of any length repeats seamlessly.
        """
        changes: dict[Any, Any] = {}
        if seconds is not None:
            changes["seconds"] = float(seconds)
            if self.mode == "loop":
                changes["loop_seconds"] = float(seconds)
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
    project: Project,
    max_side: int | None = 960,
    mode: str | None = None,
    *,
    size: tuple[int, int] | None = None,
    quality: str = "best",
) -> Scene:
    """Copy what rendering needs from `project`, resized so the long side is <= max_side.

    `size` (w, h) asks for an exact size instead (exports with a chosen width). `quality` is "best"
    (exports) or "live" (the interactive preview: the cheaper variant of the same code path). Cheap: a
    resize of the image (shared between snapshots of the same image and size) and a copy of the label map.
    """
    mode = mode or project.clip.mode
    if mode not in PREVIEW_MODES:
        raise InvalidError(f"unknown preview mode {mode!r}: use one of {', '.join(PREVIEW_MODES)}")
    if quality not in QUALITIES:
        raise InvalidError(f"unknown quality {quality!r}: use one of {', '.join(QUALITIES)}")
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
        quality=quality,
    )
