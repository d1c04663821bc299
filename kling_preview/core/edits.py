"""Every kind of change to a project, as a small undoable record.

An `Edit` holds only what it changes (a mask edit its bounding box before and after, a region attribute
its old and new values) and goes through the Project's own methods, so `mask_revision` stays right for
the renderers' caches. `apply` and `revert` return `Change`s that say what changed, for the views;
`Document.apply` is the only caller, so the app, the CLI and the tests share one edit path.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from .errors import LimitError
from .masks import BBox, MaskEdit
from .project import MAX_REGIONS, CameraMove, Project, Region, too_many_regions
from .trajectory import MAX_POINTS, Point, fit_to_limit


class ChangeKind(StrEnum):
    """What part of the project (or of the document's view state) changed."""

    PROJECT = "project"  # a different project (or none) is open
    MASKS = "masks"
    REGIONS = "regions"  # regions added, removed, moved, or an attribute changed
    TRAJECTORY = "trajectory"
    SETTINGS = "settings"  # a request setting (a project.kling field) or the camera move
    CLIP = "clip"  # a preview clip setting (a project.clip field)
    TARGET = "target"  # which label the tools paint (view state, not an edit)
    OVERLAY = "overlay"  # display-only state (the static mask shown or hidden)


@dataclass(frozen=True)
class Change:
    """One thing that changed: its kind, the region labels, the mask box, the setting or attribute name
    (`key`), and whether the preview's frames depend on it (typing a prompt does not restart them)."""

    kind: ChangeKind
    labels: frozenset[int] = frozenset()
    bbox: BBox | None = None
    key: str = ""
    preview: bool = True
    #: A label the document selects after this change (a region just added or put back).
    select: int | None = None

    @property
    def edited(self) -> bool:
        """True when the project's content changed (not only what the window shows)."""
        return self.kind not in (ChangeKind.PROJECT, ChangeKind.TARGET, ChangeKind.OVERLAY)


class Edit:
    """Base of every edit: `apply` it, `revert` it, and (for spin-box steps, typing bursts) `absorb` the
    next edit with the same `merge_key` into one undo step."""

    text = ""

    @property
    def merge_key(self) -> Hashable | None:
        """Edits with equal keys (not None) merge into one undo step."""
        return None

    def apply(self, project: Project) -> list[Change]:
        raise NotImplementedError

    def revert(self, project: Project) -> list[Change]:
        raise NotImplementedError

    def absorb(self, later: Edit) -> bool:
        """Take over `later`'s result (same merge key); True when the pair now changes nothing."""
        raise NotImplementedError


def _mask_change(edit: MaskEdit) -> Change:
    return Change(ChangeKind.MASKS, frozenset(edit.touched_labels), edit.bbox)


@dataclass
class PaintEdit(Edit):
    """A brush stroke or a mask replacement: one MaskEdit over its bounding box (applying it twice is
    the same as once, so a stroke painted live is recorded by applying it)."""

    mask: MaskEdit
    text: str = "Paint"

    def apply(self, project: Project) -> list[Change]:
        project.apply_edit(self.mask)
        return [_mask_change(self.mask)]

    def revert(self, project: Project) -> list[Change]:
        project.apply_edit(self.mask, undo=True)
        return [_mask_change(self.mask)]


@dataclass
class SetMask(Edit):
    """Give `label` exactly the pixels of `mask` (clearing the static mask, an imported mask)."""

    label: int
    mask: np.ndarray
    text: str = "Set mask"
    _edit: MaskEdit | None = field(default=None, init=False, repr=False)

    def apply(self, project: Project) -> list[Change]:
        if self._edit is None:
            self._edit = project.set_mask(self.label, self.mask)
            if self._edit is None:
                return []
        else:
            project.apply_edit(self._edit)
        return [_mask_change(self._edit)]

    def revert(self, project: Project) -> list[Change]:
        if self._edit is None:
            return []
        project.apply_edit(self._edit, undo=True)
        return [_mask_change(self._edit)]


def _points(points: Sequence[Sequence[float]]) -> list[Point]:
    return [(float(x), float(y)) for x, y in points]


@dataclass
class SetTrajectory(Edit):
    label: int
    old: list[Point]
    new: list[Point]
    text: str = "Set trajectory"

    def __post_init__(self) -> None:
        self.old, self.new = _points(self.old), _points(self.new)

    def _set(self, project: Project, points: list[Point]) -> list[Change]:
        project.region(self.label).trajectory = list(points)
        return [Change(ChangeKind.TRAJECTORY, frozenset({self.label}))]

    def apply(self, project: Project) -> list[Change]:
        return self._set(project, self.new)

    def revert(self, project: Project) -> list[Change]:
        return self._set(project, self.old)


@dataclass
class AddRegion(Edit):
    """Add an empty region; its label is fixed on the first apply so later edits can refer to it."""

    name: str | None = None
    select: bool = True
    text: str = "Add region"
    region: Region | None = field(default=None, init=False)  #: the region added (a copy), once applied
    index: int = field(default=0, init=False)

    @property
    def label(self) -> int | None:
        return None if self.region is None else self.region.label

    def apply(self, project: Project) -> list[Change]:
        if self.region is None:
            added = project.add_region(self.name)
            self.region, self.index = replace(added, trajectory=list(added.trajectory)), project.index_of(added.label)
        else:
            project.restore_region(self.region, self.index)
        label = self.region.label
        return [Change(ChangeKind.REGIONS, frozenset({label}), select=label if self.select else None)]

    def revert(self, project: Project) -> list[Change]:
        if self.region is None:
            return []
        _, _, edit = project.remove_region(self.region.label)
        changes = [Change(ChangeKind.REGIONS, frozenset({self.region.label}))]
        return changes + ([_mask_change(edit)] if edit is not None else [])


@dataclass
class RemoveRegion(Edit):
    """Delete a region and its pixels; reverting puts back the region, its place and its mask."""

    label: int
    text: str = "Delete region"
    region: Region | None = field(default=None, init=False)  #: what was removed, to put back
    index: int = field(default=0, init=False)
    edit: MaskEdit | None = field(default=None, init=False, repr=False)

    def apply(self, project: Project) -> list[Change]:
        self.region, self.index, self.edit = project.remove_region(self.label)
        self.text = f"Delete {self.region.name}"
        changes = [Change(ChangeKind.REGIONS, frozenset({self.label}))]
        return changes + ([_mask_change(self.edit)] if self.edit is not None else [])

    def revert(self, project: Project) -> list[Change]:
        if self.region is None:
            return []
        project.restore_region(self.region, self.index)
        if self.edit is not None:
            project.apply_edit(self.edit, undo=True)
        changes = [Change(ChangeKind.REGIONS, frozenset({self.label}), select=self.label)]
        return changes + ([_mask_change(self.edit)] if self.edit is not None else [])


@dataclass
class MoveRegion(Edit):
    """Change a region's place in the list (the order of Kling's dynamic_masks)."""

    label: int
    old_index: int
    new_index: int

    def __post_init__(self) -> None:
        self.text = "Move region up" if self.new_index < self.old_index else "Move region down"

    def _move(self, project: Project, index: int) -> list[Change]:
        project.move_region(self.label, index)
        return [Change(ChangeKind.REGIONS, frozenset({self.label}))]

    def apply(self, project: Project) -> list[Change]:
        return self._move(project, self.new_index)

    def revert(self, project: Project) -> list[Change]:
        return self._move(project, self.old_index)


class RegionAttr(StrEnum):
    """The region attributes an edit may change."""

    NAME = "name"
    COLOR = "color"
    KIND = "kind"
    STRENGTH = "strength"
    FEATHER = "feather"
    VISIBLE = "visible"


#: Undo texts of region attributes.
ATTRIBUTE_TEXT: dict[str, str] = {
    RegionAttr.NAME: "Rename region",
    RegionAttr.COLOR: "Change region colour",
    RegionAttr.KIND: "Change motion kind",
    RegionAttr.STRENGTH: "Change strength",
    RegionAttr.FEATHER: "Change feather",
    RegionAttr.VISIBLE: "Show or hide region",
}
#: Attributes whose consecutive changes (spin box steps) merge into one undo step.
MERGEABLE = frozenset({RegionAttr.STRENGTH, RegionAttr.FEATHER})


@dataclass(kw_only=True)
class _ValueEdit(Edit):
    """An edit of one value from `old` to `new`, merged with the next of the same key."""

    old: object
    new: object

    def absorb(self, later: Edit) -> bool:
        assert isinstance(later, _ValueEdit)
        self.new = later.new
        return bool(self.new == self.old)


@dataclass(kw_only=True)
class SetRegionAttr(_ValueEdit):
    """Change one attribute of a region; consecutive spin-box steps of strength or feather merge."""

    label: int
    attr: str

    def __post_init__(self) -> None:
        if self.attr not in ATTRIBUTE_TEXT:
            raise ValueError(f"unknown region attribute {self.attr!r}")
        self.text = ATTRIBUTE_TEXT[self.attr]

    @property
    def merge_key(self) -> Hashable | None:
        return ("region", self.label, self.attr) if self.attr in MERGEABLE else None

    def _set(self, project: Project, value: object) -> list[Change]:
        setattr(project.region(self.label), self.attr, value)
        changes = [Change(ChangeKind.REGIONS, frozenset({self.label}), key=self.attr)]
        if self.attr in (RegionAttr.VISIBLE, RegionAttr.COLOR):
            changes.append(Change(ChangeKind.OVERLAY, frozenset({self.label}), key=self.attr))
        return changes

    def apply(self, project: Project) -> list[Change]:
        return self._set(project, self.new)

    def revert(self, project: Project) -> list[Change]:
        return self._set(project, self.old)


#: Undo texts of the request settings (fields of `project.kling`) and of the camera move ("camera").
SETTING_TEXT: dict[str, str] = {
    "model_name": "Change model",
    "mode": "Change mode",
    "duration": "Change duration",
    "prompt": "Edit prompt",
    "negative_prompt": "Edit negative prompt",
    "cfg_scale": "Change creativity / relevance",
    "camera": "Change camera move",
}


@dataclass(kw_only=True)
class SetSetting(_ValueEdit):
    """Change one request setting or the camera move (value: a CameraMove).

    Steps carrying the same `burst` token (one typing burst in a prompt, one slider drag) merge into
    one undo step; None never merges. Of these settings only the camera move shows in the preview.
    """

    key: str
    burst: int | None = None

    def __post_init__(self) -> None:
        if self.key not in SETTING_TEXT:
            raise ValueError(f"unknown project setting {self.key!r}")
        self.text = SETTING_TEXT[self.key]
        if isinstance(self.old, CameraMove):  # copies: the project's own object changes later
            self.old = replace(self.old)
        if isinstance(self.new, CameraMove):
            self.new = replace(self.new)

    @property
    def merge_key(self) -> Hashable | None:
        return None if self.burst is None else ("setting", self.key, self.burst)

    def _set(self, project: Project, value: object) -> list[Change]:
        if self.key == "camera":
            assert isinstance(value, CameraMove)
            project.camera.axis, project.camera.value = value.axis, value.value
        else:
            setattr(project.kling, self.key, value)
        return [Change(ChangeKind.SETTINGS, key=self.key, preview=self.key == "camera")]

    def apply(self, project: Project) -> list[Change]:
        return self._set(project, self.new)

    def revert(self, project: Project) -> list[Change]:
        return self._set(project, self.old)


#: Undo texts of the preview clip settings (fields of `project.clip`).
CLIP_TEXT: dict[str, str] = {
    "mode": "Change preview mode",
    "seconds": "Change clip length",
    "loop_seconds": "Change loop length",
    "fps": "Change frame rate",
}


@dataclass(kw_only=True)
class SetClip(_ValueEdit):
    """Change one preview clip setting; consecutive frame-rate steps merge into one undo step."""

    key: str

    def __post_init__(self) -> None:
        if self.key not in CLIP_TEXT:
            raise ValueError(f"unknown clip setting {self.key!r}")
        self.text = CLIP_TEXT[self.key]

    @property
    def merge_key(self) -> Hashable | None:
        return ("clip", self.key) if self.key == "fps" else None

    def _set(self, project: Project, value: object) -> list[Change]:
        setattr(project.clip, self.key, value)
        return [Change(ChangeKind.CLIP, key=self.key)]

    def apply(self, project: Project) -> list[Change]:
        return self._set(project, self.new)

    def revert(self, project: Project) -> list[Change]:
        return self._set(project, self.old)


@dataclass
class Group(Edit):
    """Several edits as one undo step (a stroke that made its region, an import of tracks)."""

    text: str = ""
    edits: list[Edit] = field(default_factory=list)

    def apply(self, project: Project) -> list[Change]:
        return [c for e in self.edits for c in e.apply(project)]

    def revert(self, project: Project) -> list[Change]:
        return [c for e in reversed(self.edits) for c in e.revert(project)]


@dataclass
class ImportTracks(Edit):
    """Give region i track i (adding regions for more tracks), as one undo step.

    `tracks` are already cut to Kling's six and fitted to its point limit (`fit_tracks`).
    """

    tracks: list[list[Point]]
    text: str = "Import trajectories"
    added: int = field(default=0, init=False)  #: regions the import added
    _steps: list[Edit] = field(default_factory=list, init=False, repr=False)

    def apply(self, project: Project) -> list[Change]:
        if self._steps:
            return [c for e in self._steps for c in e.apply(project)]
        check_room(project, len(self.tracks) - len(project.regions))
        changes: list[Change] = []
        for i, points in enumerate(self.tracks):
            if i < len(project.regions):
                label, old = project.regions[i].label, project.regions[i].trajectory
            else:
                add = AddRegion(select=False)
                changes += add.apply(project)
                self._steps.append(add)
                self.added += 1
                assert add.label is not None
                label, old = add.label, []
            step = SetTrajectory(label, old, points)
            changes += step.apply(project)
            self._steps.append(step)
        return changes

    def revert(self, project: Project) -> list[Change]:
        return [c for e in reversed(self._steps) for c in e.revert(project)]


@dataclass(frozen=True)
class TrackFit:
    """Tracks read from a file, cut and fitted for Kling: what is used and what had to change."""

    used: list[list[Point]]
    shortened: int  #: tracks resampled down to Kling's point limit
    left_out: int  #: tracks beyond Kling's six regions


def fit_tracks(tracks: Sequence[Sequence[Point]]) -> TrackFit:
    """The first six tracks, each resampled to at most 77 points; points outside the image are kept."""
    kept = tracks[:MAX_REGIONS]
    used = [fit_to_limit(list(t)) for t in kept]
    shortened = sum(1 for t in kept if len(t) > MAX_POINTS)
    return TrackFit(used, shortened, max(0, len(tracks) - MAX_REGIONS))


def check_room(project: Project, more: int = 1) -> None:
    """Raise LimitError (before anything changes) when `more` regions would pass Kling's six."""
    if more > 0 and len(project.regions) + more > MAX_REGIONS:
        raise LimitError(too_many_regions())


__all__ = [
    "ATTRIBUTE_TEXT",
    "CLIP_TEXT",
    "MERGEABLE",
    "SETTING_TEXT",
    "AddRegion",
    "BBox",
    "Change",
    "ChangeKind",
    "Edit",
    "Group",
    "ImportTracks",
    "TrackFit",
    "fit_tracks",
    "MoveRegion",
    "PaintEdit",
    "RegionAttr",
    "RemoveRegion",
    "SetClip",
    "SetMask",
    "SetRegionAttr",
    "SetSetting",
    "SetTrajectory",
    "check_room",
]
