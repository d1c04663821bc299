"""The open document and every edit as a QUndoCommand.

`Document` holds the project, its QUndoStack and the paint target, and tells the views what changed
(which box of the mask, the region list, a trajectory). Each user gesture is exactly one command that
holds only what it changed: a stroke keeps one MaskEdit (the stroke's bounding box before and after,
merged over every dab), a region edit its old and new values. Commands go through the Project's own
methods (`paint`, `apply_edit`, `add_region`, `remove_region`, `move_region`) so `mask_revision` stays
right for the renderers' caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from kling_preview.core.errors import LimitError
from kling_preview.core.masks import STATIC, MaskEdit
from kling_preview.core.project import MAX_REGIONS, CameraMove, Project, Region

Point = tuple[float, float]

#: Undo steps kept; a full-image stroke on a big photo holds two copies of the image's label box.
UNDO_LIMIT = 200


def merge_edits(labels: np.ndarray, edits: Sequence[MaskEdit]) -> MaskEdit | None:
    """One MaskEdit equal to applying `edits` in order, already applied to `labels`.

    The box is the union of the edits' boxes. `after` is the label map now; `before` is rebuilt by
    reverting the edits newest first, so overlapping dabs come back exactly. No emptiness check over
    the union: the dabs of one stroke all paint (or all erase) and each one changed something, so the
    merged edit does too, and comparing a whole-image box would cost more than the stroke.
    """
    edits = [e for e in edits if e is not None]
    if not edits:
        return None
    y0 = min(e.bbox[0] for e in edits)
    y1 = max(e.bbox[1] for e in edits)
    x0 = min(e.bbox[2] for e in edits)
    x1 = max(e.bbox[3] for e in edits)
    after = labels[y0:y1, x0:x1].copy()
    before = after.copy()
    for e in reversed(edits):
        ey0, ey1, ex0, ex1 = e.bbox
        before[ey0 - y0 : ey1 - y0, ex0 - x0 : ex1 - x0] = e.before
    return MaskEdit((y0, y1, x0, x1), before, after)


class Document(QObject):
    """The project being edited, its undo stack, and which label tools paint."""

    projectChanged = Signal()  # a different project (or none) is open
    masksChanged = Signal(object)  # bbox (y0, y1, x0, x1) in image pixels, or None for everything
    regionsChanged = Signal()  # regions added, removed, moved, or an attribute changed
    trajectoryChanged = Signal(int)  # region label
    targetChanged = Signal(int)  # label, 0 for none
    overlayChanged = Signal()  # display-only state (static mask shown or hidden)
    settingsChanged = Signal(str)  # a request setting (a project.kling field) or "camera" changed
    clipChanged = Signal(str)  # a preview clip setting (a project.clip field) changed
    edited = Signal()  # the project's content changed (any command done or undone)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.project: Project | None = None
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self._target: int | None = None
        self._last_region: int | None = None
        self.show_static = True

    # ----- project ---------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.stack.clear()
        self.project = project
        self._target = None
        self._last_region = None
        if project is not None and project.regions:
            self._target = project.regions[0].label
            self._last_region = self._target
        self.stack.setClean()
        self.projectChanged.emit()
        self.targetChanged.emit(self._target or 0)

    def push(self, command: QUndoCommand) -> None:
        self.stack.push(command)

    # ----- target ----------------------------------------------------------------------------------
    @property
    def target(self) -> int | None:
        return self._target

    @property
    def last_region(self) -> int | None:
        """The dynamic region selected most recently (still existing), for switching back from static."""
        if self.project is None:
            return None
        labels = [r.label for r in self.project.regions]
        if self._last_region in labels:
            return self._last_region
        return labels[0] if labels else None

    def set_target(self, label: int | None) -> None:
        if label == 0:
            label = None
        if label is not None and label != STATIC and not self._has_region(label):
            label = None
        if label not in (None, STATIC):
            self._last_region = label
        if label != self._target:
            self._target = label
            self.targetChanged.emit(label or 0)

    def _has_region(self, label: int) -> bool:
        return self.project is not None and any(r.label == label for r in self.project.regions)

    def _fix_target(self) -> None:
        """After regions changed: a target that no longer exists falls back to a neighbour."""
        if self._target is None or self._target == STATIC or self._has_region(self._target):
            return
        self.set_target(self.last_region)

    def set_static_visible(self, visible: bool) -> None:
        if visible != self.show_static:
            self.show_static = visible
            self.overlayChanged.emit()

    # ----- notifications used by the commands ------------------------------------------------------
    def notify_masks(self, bbox: tuple[int, int, int, int] | None) -> None:
        self.masksChanged.emit(bbox)
        self.edited.emit()

    def notify_regions(self) -> None:
        self._fix_target()
        self.regionsChanged.emit()
        self.edited.emit()

    def notify_trajectory(self, label: int) -> None:
        self.trajectoryChanged.emit(label)
        self.edited.emit()

    def notify_settings(self, key: str) -> None:
        self.settingsChanged.emit(key)
        self.edited.emit()

    def notify_clip(self, key: str) -> None:
        self.clipChanged.emit(key)
        self.edited.emit()


# ----- commands ----------------------------------------------------------------------------------------
class StrokeCommand(QUndoCommand):
    """One brush stroke: a single MaskEdit over the stroke's bounding box.

    The stroke is painted live while the mouse moves, so the first `redo` (from `push`) only announces it.
    """

    def __init__(self, doc: Document, edit: MaskEdit, text: str):
        super().__init__(text)
        self.doc = doc
        self.edit = edit
        self._applied = True

    def redo(self) -> None:
        project = self.doc.project
        if project is None:
            return
        if not self._applied:
            project.apply_edit(self.edit)
        self._applied = False
        self.doc.notify_masks(self.edit.bbox)

    def undo(self) -> None:
        project = self.doc.project
        if project is None:
            return
        project.apply_edit(self.edit, undo=True)
        self.doc.notify_masks(self.edit.bbox)


class SetTrajectoryCommand(QUndoCommand):
    def __init__(self, doc: Document, label: int, old: Sequence[Point], new: Sequence[Point], text: str):
        super().__init__(text)
        self.doc, self.label = doc, label
        self.old = [(float(x), float(y)) for x, y in old]
        self.new = [(float(x), float(y)) for x, y in new]

    def _set(self, points: list[Point]) -> None:
        if self.doc.project is None:
            return
        self.doc.project.region(self.label).trajectory = list(points)
        self.doc.notify_trajectory(self.label)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class AddRegionCommand(QUndoCommand):
    """Add an empty region (its label is fixed on the first redo so later commands can refer to it)."""

    def __init__(self, doc: Document, name: str | None = None, select: bool = True):
        """Raises LimitError (before anything is pushed) when the project already has six regions."""
        super().__init__("Add region")
        if doc.project is not None and len(doc.project.regions) >= MAX_REGIONS:
            raise LimitError(
                f"Kling accepts at most {MAX_REGIONS} motion-brush regions; this project already has {MAX_REGIONS}"
            )
        self.doc = doc
        self.name = name
        self.select = select
        self.region: Region | None = None
        self.index: int | None = None

    @property
    def label(self) -> int | None:
        return None if self.region is None else self.region.label

    def redo(self) -> None:
        project = self.doc.project
        if project is None:
            return
        if self.region is None:
            region = project.add_region(self.name)
            self.region, self.index = (
                replace(region, trajectory=list(region.trajectory)),
                project.index_of(region.label),
            )
        else:
            project.restore_region(self.region, self.index)
        self.doc.notify_regions()
        if self.select:
            self.doc.set_target(self.region.label)

    def undo(self) -> None:
        project = self.doc.project
        if project is None or self.region is None:
            return
        _, _, edit = project.remove_region(self.region.label)
        self.doc.notify_regions()
        if edit is not None:
            self.doc.notify_masks(edit.bbox)


class RemoveRegionCommand(QUndoCommand):
    """Delete a region and its pixels; undo puts back the region, its place and its mask."""

    def __init__(self, doc: Document, label: int):
        super().__init__("Delete region")
        self.doc, self.label = doc, label
        self.region: Region | None = None
        self.index = 0
        self.edit: MaskEdit | None = None

    def redo(self) -> None:
        project = self.doc.project
        if project is None:
            return
        self.region, self.index, self.edit = project.remove_region(self.label)
        self.setText(f"Delete {self.region.name}")
        self.doc.notify_regions()
        if self.edit is not None:
            self.doc.notify_masks(self.edit.bbox)

    def undo(self) -> None:
        project = self.doc.project
        if project is None or self.region is None:
            return
        project.restore_region(self.region, self.index)
        if self.edit is not None:
            project.apply_edit(self.edit, undo=True)
        self.doc.notify_regions()
        if self.edit is not None:
            self.doc.notify_masks(self.edit.bbox)
        self.doc.set_target(self.region.label)


class MoveRegionCommand(QUndoCommand):
    """Change a region's place in the list (the order of Kling's dynamic_masks)."""

    def __init__(self, doc: Document, label: int, old_index: int, new_index: int):
        super().__init__("Move region up" if new_index < old_index else "Move region down")
        self.doc, self.label, self.old_index, self.new_index = doc, label, old_index, new_index

    def redo(self) -> None:
        if self.doc.project is not None:
            self.doc.project.move_region(self.label, self.new_index)
            self.doc.notify_regions()

    def undo(self) -> None:
        if self.doc.project is not None:
            self.doc.project.move_region(self.label, self.old_index)
            self.doc.notify_regions()


#: Undo texts of region attributes.
ATTRIBUTE_TEXT = {
    "name": "Rename region",
    "color": "Change region colour",
    "kind": "Change motion kind",
    "strength": "Change strength",
    "feather": "Change feather",
    "visible": "Show or hide region",
}
#: Attributes whose consecutive changes (spin box steps) merge into one undo step.
MERGEABLE = frozenset({"strength", "feather"})
_MERGE_BASE = 0x4B50


class SetRegionAttrCommand(QUndoCommand):
    """Change one attribute of a region; consecutive spin-box steps of the same one merge."""

    def __init__(self, doc: Document, label: int, attr: str, old: Any, new: Any):
        if attr not in ATTRIBUTE_TEXT:
            raise ValueError(f"unknown region attribute {attr!r}")
        super().__init__(ATTRIBUTE_TEXT[attr])
        self.doc, self.label, self.attr, self.old, self.new = doc, label, attr, old, new

    def _set(self, value: Any) -> None:
        if self.doc.project is None:
            return
        setattr(self.doc.project.region(self.label), self.attr, value)
        self.doc.notify_regions()
        if self.attr in ("visible", "color"):
            self.doc.overlayChanged.emit()

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)

    def id(self) -> int:
        return _MERGE_BASE + sorted(MERGEABLE).index(self.attr) if self.attr in MERGEABLE else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetRegionAttrCommand) or (other.label, other.attr) != (self.label, self.attr):
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True


#: Undo texts of the request settings (fields of `project.kling`) and of the camera move ("camera").
SETTING_TEXT = {
    "model_name": "Change model",
    "mode": "Change mode",
    "duration": "Change duration",
    "prompt": "Edit prompt",
    "negative_prompt": "Edit negative prompt",
    "cfg_scale": "Change creativity / relevance",
    "camera": "Change camera move",
}
_SETTING_MERGE_ID = 0x4B60


class SetProjectSettingCommand(QUndoCommand):
    """Change one request setting or the camera move (value: a CameraMove).

    Steps carrying the same `burst` token (one typing burst in a prompt, one slider drag) merge into
    one undo step; None never merges.
    """

    def __init__(self, doc: Document, key: str, old: Any, new: Any, burst: int | None = None):
        if key not in SETTING_TEXT:
            raise ValueError(f"unknown project setting {key!r}")
        super().__init__(SETTING_TEXT[key])
        if key == "camera":
            old, new = replace(old), replace(new)  # copies: the project's own object changes later
        self.doc, self.key, self.old, self.new, self.burst = doc, key, old, new, burst

    def _set(self, value: Any) -> None:
        project = self.doc.project
        if project is None:
            return
        if self.key == "camera":
            camera: CameraMove = value
            project.camera.axis, project.camera.value = camera.axis, camera.value
        else:
            setattr(project.kling, self.key, value)
        self.doc.notify_settings(self.key)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)

    def id(self) -> int:
        return -1 if self.burst is None else _SETTING_MERGE_ID + list(SETTING_TEXT).index(self.key)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, SetProjectSettingCommand)
            or other.key != self.key
            or other.burst is None
            or other.burst != self.burst
        ):
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True


#: Undo texts of the preview clip settings (fields of `project.clip`).
CLIP_TEXT = {
    "mode": "Change preview mode",
    "seconds": "Change clip length",
    "loop_seconds": "Change loop length",
    "fps": "Change frame rate",
}
_CLIP_MERGE_ID = 0x4B70


class SetClipCommand(QUndoCommand):
    """Change one preview clip setting; consecutive frame-rate steps merge into one undo step."""

    def __init__(self, doc: Document, key: str, old: Any, new: Any):
        if key not in CLIP_TEXT:
            raise ValueError(f"unknown clip setting {key!r}")
        super().__init__(CLIP_TEXT[key])
        self.doc, self.key, self.old, self.new = doc, key, old, new

    def _set(self, value: Any) -> None:
        if self.doc.project is None:
            return
        setattr(self.doc.project.clip, self.key, value)
        self.doc.notify_clip(self.key)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)

    def id(self) -> int:
        return _CLIP_MERGE_ID if self.key == "fps" else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetClipCommand) or other.key != self.key:
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True
