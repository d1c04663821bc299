"""The open project as a document: one edit path, an undo history and change events, without Qt.

Every change to a project goes through `Document.apply(edit)`: the edit changes the project, the
history records it (merging spin-box steps and typing bursts), the revision counter moves, and every
listener hears `Change`s that say what changed (kind, region labels, mask box, whether the preview
depends on it). The desktop app adapts this to Qt (`ui/commands.py`); the tests drive it directly.

A brush stroke is painted live for speed and recorded at its end as one `PaintEdit` (applying a mask
edit again is the same as once). `begin_group` / `end_group` make several edits one undo step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .edits import Change, ChangeKind, Edit, Group
from .masks import STATIC
from .project import Project

#: Undo steps kept; a full-image stroke on a big photo holds two copies of the image's label box.
UNDO_LIMIT = 200

Listener = Callable[[Change], None]


class Outcome(StrEnum):
    """What `Document.apply` did with an edit."""

    PUSHED = "pushed"  # a new undo step
    MERGED = "merged"  # folded into the previous step
    DROPPED = "dropped"  # merged, and the pair changed nothing: the previous step is gone too
    GROUPED = "grouped"  # added to the open group


@dataclass
class _OpenGroup:
    group: Group


class Document:
    """A project, its undo history and revision, which label the tools paint, and change listeners."""

    def __init__(self, project: Project | None = None, *, limit: int = UNDO_LIMIT) -> None:
        self.project: Project | None = None
        self.limit = limit
        self.revision = 0  #: moves on every change of the project's content (apply, undo, redo)
        self.show_static = True
        self._history: list[Edit] = []
        self._index = 0  # edits before it are done, edits from it on are undone (redo)
        self._clean: int | None = 0  # the index matching the saved file; None: no undo reaches it
        self._group: _OpenGroup | None = None
        self._target: int | None = None
        self._last_region: int | None = None
        self._listeners: list[Listener] = []
        if project is not None:
            self.set_project(project)

    # ----- listeners -------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call `listener(change)` for every change from now on."""
        self._listeners.append(listener)

    def _emit(self, changes: list[Change]) -> None:
        if any(c.kind == ChangeKind.REGIONS for c in changes):
            self._fix_target()  # before the views hear of it, so none sees a deleted target
        for change in changes:
            for listener in list(self._listeners):
                listener(change)
        for change in changes:
            if change.select is not None:
                self.set_target(change.select)

    # ----- project ---------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Open `project` (or none): the history starts empty and clean."""
        self.project = project
        self._history.clear()
        self._index, self._clean, self._group = 0, 0, None
        self.revision += 1
        self._target = self._last_region = None
        if project is not None and project.regions:
            self._target = self._last_region = project.regions[0].label
        self._emit([Change(ChangeKind.PROJECT), Change(ChangeKind.TARGET)])

    def _require(self) -> Project:
        if self.project is None:
            raise RuntimeError("no project is open")
        return self.project

    # ----- editing ---------------------------------------------------------------------------------
    def apply(self, edit: Edit, *, merge: bool = True) -> Outcome:
        """Change the project by `edit` and record it as an undo step (or part of the open group).

        With `merge`, an edit whose `merge_key` equals the previous step's joins that step, unless the
        previous step is the saved state (undo must still reach what was saved).
        """
        project = self._require()
        changes = edit.apply(project)
        self.revision += 1
        outcome = self._record(edit, merge)
        self._emit(changes)
        return outcome

    def _record(self, edit: Edit, merge: bool) -> Outcome:
        key = edit.merge_key
        if self._group is not None:
            edits = self._group.group.edits
            if merge and key is not None and edits and edits[-1].merge_key == key:
                if edits[-1].absorb(edit):
                    edits.pop()
                    return Outcome.DROPPED
                return Outcome.MERGED
            edits.append(edit)
            return Outcome.GROUPED
        del self._history[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None
        top = self._history[-1] if self._history else None
        if merge and key is not None and top is not None and top.merge_key == key and self._index != self._clean:
            if top.absorb(edit):
                self._history.pop()
                self._index -= 1
                return Outcome.DROPPED
            return Outcome.MERGED
        self._history.append(edit)
        self._index += 1
        if len(self._history) > self.limit:
            del self._history[0]
            self._index -= 1
            self._clean = None if self._clean is None or self._clean == 0 else self._clean - 1
        return Outcome.PUSHED

    def begin_group(self, text: str) -> None:
        """Edits applied until `end_group` become one undo step called `text`."""
        if self._group is not None:
            raise RuntimeError("a group is already open")
        self._require()
        self._group = _OpenGroup(Group(text=text))

    def end_group(self) -> Outcome | None:
        """Close the open group; it becomes one undo step (None when it holds no edit)."""
        if self._group is None:
            raise RuntimeError("no group is open")
        group, self._group = self._group.group, None
        if not group.edits:
            return None
        return self._record(group, merge=False)

    @property
    def in_group(self) -> bool:
        return self._group is not None

    @property
    def open_group(self) -> Group | None:
        """The group being filled (between `begin_group` and `end_group`)."""
        return None if self._group is None else self._group.group

    # ----- history ---------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return self._group is None and self._index > 0

    def can_redo(self) -> bool:
        return self._group is None and self._index < len(self._history)

    def undo_text(self) -> str:
        return self._history[self._index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self._history[self._index].text if self.can_redo() else ""

    @property
    def count(self) -> int:
        """Undo steps recorded (done and undone)."""
        return len(self._history)

    @property
    def index(self) -> int:
        """Undo steps done."""
        return self._index

    def undo(self) -> bool:
        """Revert the last step; False when there is none."""
        if not self.can_undo():
            return False
        self._index -= 1
        self.revision += 1
        self._emit(self._history[self._index].revert(self._require()))
        return True

    def redo(self) -> bool:
        """Apply the next undone step again; False when there is none."""
        if not self.can_redo():
            return False
        edit = self._history[self._index]
        self._index += 1
        self.revision += 1
        self._emit(edit.apply(self._require()))
        return True

    # ----- saved state -----------------------------------------------------------------------------
    def mark_clean(self) -> None:
        """The project was saved: its state now is the clean one."""
        self._clean = self._index

    def mark_never_clean(self) -> None:
        """No state in the history matches a file (a project restored after a crash)."""
        self._clean = None

    @property
    def modified(self) -> bool:
        return self.project is not None and self._clean != self._index

    # ----- target (which label the tools paint; view state, not an undo step) -------------------
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
        if label is not None and label != STATIC and (self.project is None or self.project.find_region(label) is None):
            label = None
        if label not in (None, STATIC):
            self._last_region = label
        if label != self._target:
            self._target = label
            for listener in list(self._listeners):
                listener(Change(ChangeKind.TARGET, frozenset({label or 0}), preview=False))

    def _fix_target(self) -> None:
        """After regions changed: a target that no longer exists falls back to a neighbour."""
        target = self._target
        if target is None or target == STATIC or (self.project is not None and self.project.find_region(target)):
            return
        self.set_target(self.last_region)

    def set_static_visible(self, visible: bool) -> None:
        if visible != self.show_static:
            self.show_static = visible
            for listener in list(self._listeners):
                listener(Change(ChangeKind.OVERLAY, preview=False))
