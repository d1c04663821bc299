"""A brush stroke from press to release, without Qt.

Dabs are painted into the project live (so the canvas shows them at once) and the stroke is recorded
at its end as one undo step: a single MaskEdit over the stroke's bounding box, merged over every dab.
A motion-brush stroke with no region yet makes one first, in the same undo step. The session talks to
any document with the `EditSink` protocol: the core `Document` (tests) or the Qt adapter (the app).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kling_preview.core.edits import AddRegion, Edit, PaintEdit, check_room
from kling_preview.core.masks import STATIC, MaskEdit, merge_edits
from kling_preview.core.project import Project
from kling_preview.core.trajectory import Point


class EditSink(Protocol):
    """What a stroke needs of a document."""

    @property
    def project(self) -> Project | None: ...

    def apply(self, edit: Edit) -> object: ...

    def begin_group(self, text: str) -> None: ...

    def end_group(self) -> object: ...


@dataclass
class StrokeSession:
    """One stroke in progress; `begin` it, `paint` each run of points, `finish` it once."""

    doc: EditSink
    erase: bool
    label: int | None
    radius: float
    grouped: bool = False
    edits: list[MaskEdit] = field(default_factory=list)

    @classmethod
    def begin(cls, doc: EditSink, erase: bool, label: int | None, radius: float) -> StrokeSession | None:
        """A new stroke; None without a project. Raises LimitError when the motion brush would need a
        seventh region (nothing is changed then)."""
        project = doc.project
        if project is None:
            return None
        grouped = False
        if label is None and not erase:
            check_room(project)
            doc.begin_group("Paint new region")
            add = AddRegion()
            doc.apply(add)
            label, grouped = add.label, True
        return cls(doc, erase, label, radius, grouped)

    def paint(self, points: Sequence[Point]) -> MaskEdit | None:
        """Paint (or erase) `points` joined by a thick line; the change, for the view to refresh."""
        project = self.doc.project
        if project is None:
            return None
        if self.erase:
            edit = project.erase(self.label, points, self.radius)
        else:
            assert self.label is not None
            edit = project.paint(self.label, points, self.radius)
        if edit is not None:
            self.edits.append(edit)
        return edit

    @property
    def text(self) -> str:
        """The undo step's name: "Paint Water", "Erase static mask", ..."""
        project = self.doc.project
        if self.label == STATIC:
            name = "static mask"
        elif self.label is None:
            name = "all masks"
        else:
            region = project.find_region(self.label) if project is not None else None
            name = region.name if region is not None else "region"
        return f"Erase {name}" if self.erase else f"Paint {name}"

    def finish(self) -> MaskEdit | None:
        """Record the stroke as one undo step; its merged change, or None when it changed nothing."""
        project = self.doc.project
        merged = merge_edits(project.labels, self.edits) if project is not None else None
        if merged is not None:
            self.doc.apply(PaintEdit(merged, self.text))
        if self.grouped:
            self.doc.end_group()
        return merged
