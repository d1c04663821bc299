"""The project model: a source image, up to six motion regions, one static mask and the settings.

Plain Python and numpy, no Qt: the app, the CLI and the tests all edit a project through these methods,
so the rules (six regions, newest paint wins, revisions for cache invalidation) hold everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from . import masks
from .errors import LimitError
from .images import SourceImage
from .trajectory import Point

MAX_REGIONS = 6
STATIC = masks.STATIC

#: Region colours (RGB), one per slot, distinct on photos and for colour-blind users.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 99, 71),
    (65, 105, 225),
    (50, 205, 50),
    (255, 215, 0),
    (186, 85, 211),
    (0, 206, 209),
)

class ClipMode(StrEnum):
    """The preview's three ways of moving the picture (CLI `--mode`)."""

    KLING = "kling"
    LOOP = "loop"
    AMBIENT = "ambient"


PREVIEW_MODES: tuple[str, ...] = tuple(ClipMode)
CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


#: Kling's region limit in words, for every message about it.
REGION_LIMIT_TEXT = f"Kling accepts at most {MAX_REGIONS} motion-brush regions"


def too_many_regions() -> str:
    """The one message for a 7th region, wherever it is refused."""
    return f"{REGION_LIMIT_TEXT}; this project already has {MAX_REGIONS}"


class MotionKind(StrEnum):
    """How the local preview animates a region (Kling itself only knows trajectories)."""

    PATH = "path"
    FLOW = "flow"
    AMBIENT = "ambient"


@dataclass
class Region:
    """A dynamic motion-brush region. Its pixels are where the project's label map equals `label`."""

    label: int
    name: str
    color: tuple[int, int, int]
    trajectory: list[Point] = field(default_factory=list)
    kind: MotionKind = MotionKind.PATH
    strength: float = 1.0
    feather: float = 8.0
    visible: bool = True


@dataclass
class ClipSettings:
    """Preview clip: mode, length and frame rate; `loop_seconds` is the cinemagraph period."""

    mode: str = ClipMode.KLING
    seconds: float = 5.0
    fps: int = 24
    loop_seconds: float = 5.0


@dataclass
class KlingSettings:
    """Fields of the image2video request that are not image, masks or trajectories."""

    model_name: str = "kling-v1"
    mode: str = "std"
    duration: str = "5"
    prompt: str = ""
    negative_prompt: str = ""
    cfg_scale: float = 0.5
    #: Request fields we do not edit (callback_url, external_task_id, image_tail, ...), kept for the
    #: round trip so an imported request is exported unchanged.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CameraMove:
    """Kling `camera_control` of type "simple": one axis, value -10..10; axis None means no move."""

    axis: str | None = None
    value: float = 0.0

    @property
    def active(self) -> bool:
        return self.axis is not None and self.value != 0


class Project:
    """Everything a user makes: image, regions, static mask, settings."""

    def __init__(self, image: SourceImage):
        self.image = image
        self.labels = np.zeros((image.height, image.width), dtype=np.uint8)
        self.regions: list[Region] = []
        self.clip = ClipSettings()
        self.kling = KlingSettings()
        self.camera = CameraMove()
        #: Bumped whenever a label's pixels change; renderers key their caches on it.
        self.mask_revision: dict[int, int] = {}

    # ----- regions -------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def region(self, label: int) -> Region:
        for r in self.regions:
            if r.label == label:
                return r
        raise KeyError(f"no region with label {label}")

    def find_region(self, label: int | None) -> Region | None:
        """The region with `label`, or None (for no label, STATIC or a region deleted meanwhile)."""
        return next((r for r in self.regions if r.label == label), None)

    def index_of(self, label: int) -> int:
        return next(i for i, r in enumerate(self.regions) if r.label == label)

    def add_region(
        self,
        name: str | None = None,
        color: tuple[int, int, int] | None = None,
        *,
        label: int | None = None,
        index: int | None = None,
        **settings: Any,
    ) -> Region:
        """A new empty region; a 7th is refused with Kling's limit in the message."""
        if len(self.regions) >= MAX_REGIONS:
            raise LimitError(too_many_regions())
        used = {r.label for r in self.regions}
        if label is None:
            label = next(i for i in range(1, STATIC) if i not in used)
        elif label in used or not 1 <= label < STATIC:
            raise ValueError(f"label {label} is taken or out of range")
        if color is None:
            taken = {r.color for r in self.regions}
            color = next((c for c in PALETTE if c not in taken), PALETTE[len(self.regions) % len(PALETTE)])
        region = Region(label=label, name=name or f"Region {len(self.regions) + 1}", color=color, **settings)
        self.regions.insert(len(self.regions) if index is None else index, region)
        return region

    def restore_region(self, region: Region, index: int) -> None:
        """Put back a region removed earlier (undo), with its label, settings and place in the list."""
        if len(self.regions) >= MAX_REGIONS:
            raise LimitError(too_many_regions())
        if any(r.label == region.label for r in self.regions):
            raise ValueError(f"label {region.label} is taken")
        self.regions.insert(max(0, min(index, len(self.regions))), replace(region, trajectory=list(region.trajectory)))

    def remove_region(self, label: int) -> tuple[Region, int, masks.MaskEdit | None]:
        """Remove a region and clear its pixels; returns what an undo needs to put it back."""
        idx = self.index_of(label)
        region = self.regions.pop(idx)
        edit = masks.replace_label(self.labels, np.zeros_like(self.labels, dtype=bool), label)
        self._bump({label})
        return region, idx, edit

    def move_region(self, label: int, new_index: int) -> None:
        region = self.regions.pop(self.index_of(label))
        self.regions.insert(max(0, min(new_index, len(self.regions))), region)

    # ----- masks ---------------------------------------------------------------------------------
    def mask(self, label: int) -> np.ndarray:
        """Boolean mask of a region label or of `STATIC`."""
        mask: np.ndarray = self.labels == label
        return mask

    @property
    def static_mask(self) -> np.ndarray:
        mask: np.ndarray = self.labels == STATIC
        return mask

    def paint(self, label: int, points: Sequence[Sequence[float]], radius: float) -> masks.MaskEdit | None:
        edit = masks.paint(self.labels, points, radius, label)
        return self._after_edit(edit)

    def erase(
        self, label: int | None, points: Sequence[Sequence[float]], radius: float
    ) -> masks.MaskEdit | None:
        edit = masks.erase(self.labels, points, radius, label)
        return self._after_edit(edit)

    def set_mask(self, label: int, mask: np.ndarray) -> masks.MaskEdit | None:
        edit = masks.replace_label(self.labels, mask, label)
        return self._after_edit(edit)

    def apply_edit(self, edit: masks.MaskEdit, undo: bool = False) -> None:
        """Redo (or undo) a recorded mask edit."""
        (edit.revert if undo else edit.apply)(self.labels)
        self._bump(edit.touched_labels)

    def _after_edit(self, edit: masks.MaskEdit | None) -> masks.MaskEdit | None:
        if edit is None or edit.is_empty:
            return None
        self._bump(edit.touched_labels)
        return edit

    def _bump(self, labels: set[int]) -> None:
        for lab in labels:
            if lab != masks.UNPAINTED:
                self.mask_revision[lab] = self.mask_revision.get(lab, 0) + 1
