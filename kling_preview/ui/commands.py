"""The Qt side of the document: the core `Document` behind Qt signals and a QUndoStack.

Every edit goes through the core document (`kling_preview.core.document`), which changes the project,
keeps the history and says what changed. This adapter adds what only Qt needs: signals for the views,
and a QUndoStack (for the History panel, the clean state and Ctrl+Z) whose commands are one generic
`EditCommand`. The two histories move in step: a command's first `redo` records its edit in the core
(where it may merge with the previous step, and then Qt merges the commands too), and every later undo
or redo is the core's.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from kling_preview.core.document import UNDO_LIMIT, Outcome
from kling_preview.core.document import Document as CoreDocument
from kling_preview.core.edits import Change, ChangeKind, Edit
from kling_preview.core.project import Project

_EDIT_ID = 0x4B50


class EditCommand(QUndoCommand):
    """One undo step of the core history. `record(merge)` records it there on the first redo."""

    def __init__(self, doc: Document, edit: Edit, record: Callable[[bool], Outcome | None]) -> None:
        super().__init__(edit.text)
        self.doc = doc
        self.edit = edit  #: the step (a Group for several edits)
        self._record: Callable[[bool], Outcome | None] | None = record
        self.outcome: Outcome | None = None

    def redo(self) -> None:
        if self._record is None:
            self.doc.core.redo()
            return
        record, self._record = self._record, None
        stack = self.doc.stack
        # QUndoStack merges only away from the clean state; the core is told the same.
        self.outcome = record(stack.index() != stack.cleanIndex())

    def undo(self) -> None:
        self.doc.core.undo()

    def id(self) -> int:
        return _EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand) or other.outcome not in (Outcome.MERGED, Outcome.DROPPED):
            return False
        if other.outcome == Outcome.DROPPED:
            self.setObsolete(True)
        return True


class Document(QObject):
    """The project being edited (the core document) as Qt signals, with its QUndoStack."""

    projectChanged = Signal()  # a different project (or none) is open
    masksChanged = Signal(object)  # bbox (y0, y1, x0, x1) in image pixels, or None for everything
    regionsChanged = Signal()  # regions added, removed, moved, or an attribute changed
    trajectoryChanged = Signal(int)  # region label
    targetChanged = Signal(int)  # label, 0 for none
    overlayChanged = Signal()  # display-only state (static mask shown or hidden, a colour)
    settingsChanged = Signal(str)  # a request setting (a project.kling field) or "camera" changed
    clipChanged = Signal(str)  # a preview clip setting (a project.clip field) changed
    changed = Signal(object)  # every core `Change`, after the specific signal above
    edited = Signal()  # the project's content changed (any edit done or undone)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = CoreDocument(limit=UNDO_LIMIT)
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self.core.subscribe(self._on_change)

    # ----- the core document -----------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.core.project

    @property
    def target(self) -> int | None:
        return self.core.target

    @property
    def last_region(self) -> int | None:
        return self.core.last_region

    @property
    def show_static(self) -> bool:
        return self.core.show_static

    def set_target(self, label: int | None) -> None:
        self.core.set_target(label)

    def set_static_visible(self, visible: bool) -> None:
        self.core.set_static_visible(visible)

    def set_project(self, project: Project | None) -> None:
        self.stack.clear()
        self.core.set_project(project)
        self.stack.setClean()

    # ----- edits -----------------------------------------------------------------------------------
    def apply(self, edit: Edit) -> Outcome | None:
        """Apply `edit` as an undo step (or as part of the open group); None without a project."""
        if self.core.project is None:
            return None
        if self.core.in_group:
            return self.core.apply(edit)
        command = EditCommand(self, edit, lambda merge: self.core.apply(edit, merge=merge))
        self.stack.push(command)
        return command.outcome

    def begin_group(self, text: str) -> None:
        """Edits until `end_group` are one undo step."""
        self.core.begin_group(text)

    def end_group(self) -> None:
        group = self.core.open_group
        if group is None:
            return
        if not group.edits:
            self.core.end_group()  # nothing happened: no undo step
            return
        self.stack.push(EditCommand(self, group, lambda _merge: self.core.end_group()))

    def mark_clean(self) -> None:
        """The project was saved as it is now."""
        self.stack.setClean()
        self.core.mark_clean()

    def mark_never_clean(self) -> None:
        """Nothing in the history matches a file (a restored project): modified until saved."""
        self.stack.resetClean()
        self.core.mark_never_clean()

    # ----- signals ---------------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        kind = change.kind
        if kind == ChangeKind.PROJECT:
            self.projectChanged.emit()
        elif kind == ChangeKind.TARGET:
            self.targetChanged.emit(self.core.target or 0)
        elif kind == ChangeKind.MASKS:
            self.masksChanged.emit(change.bbox)
        elif kind == ChangeKind.REGIONS:
            self.regionsChanged.emit()
        elif kind == ChangeKind.TRAJECTORY:
            self.trajectoryChanged.emit(next(iter(change.labels)))
        elif kind == ChangeKind.OVERLAY:
            self.overlayChanged.emit()
        elif kind == ChangeKind.SETTINGS:
            self.settingsChanged.emit(change.key)
        elif kind == ChangeKind.CLIP:
            self.clipChanged.emit(change.key)
        self.changed.emit(change)
        if change.edited:
            self.edited.emit()
