"""Smart selection in the app: snap a region to edges, a smart brush that snaps each stroke, a magic wand.

The edge finding (core.selection) takes a fraction of a second, so it runs as a background job and the
window stays responsive. Only the newest request counts: starting another one, Escape on the canvas or
opening another project cancels the running one and its result is dropped. A result lands as one undo step
that sets the target's pixels (a motion region or the static mask alike), so the newest paint still wins
between regions.

Gestures (Tools menu): Magic wand tool (W): click selects the area under the cursor as the target's mask,
Shift+click adds it, Alt+click removes it; its Tolerance (in the tool options while it is the tool) says how
different a colour it may take in. Snap to Edges (Ctrl+Shift+G) snaps the target's painted mask.
Smart Brush (Ctrl+Shift+B) snaps every brush stroke as it ends (its own undo step, so one Undo gives back
the raw stroke).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QMenu, QSpinBox, QToolBar
from shiboken6 import isValid

from kling_preview.core import selection
from kling_preview.core.edits import PaintEdit
from kling_preview.core.errors import Cancelled
from kling_preview.core.masks import STATIC, MaskEdit

from . import tools as T
from .tool_widgets import tool_icon
from .worker import BackgroundJob, ProgressFn, describe_exception, run_in_background

if TYPE_CHECKING:
    from .main_window import MainWindow

WAND = T.ToolName.MAGIC_WAND


class WandTool(T.Tool):
    """Magic wand: a left click asks for the area under the cursor; Shift adds it, Alt removes it."""

    name = WAND
    title = "Magic wand"

    def __init__(self, on_click: Callable[[T.Point, str], None]):
        self._on_click = on_click

    def press(self, ev: T.Pointer, ctx: T.Context) -> list[T.Action]:
        if ev.button != T.Button.LEFT:
            return []
        if ctx.target is None:
            return [T.Message("Select a region or the static mask first (Regions panel), then click with the wand.")]
        self._on_click(ev.pos, "add" if ev.shift else "remove" if ev.alt else "replace")
        return []


@dataclass(frozen=True)
class _Request:
    label: int
    mode: str  # replace | add | remove | stroke
    text: str  # the undo step's name
    stroke: MaskEdit | None = None  # the smart brush's stroke, to give back what it covered


def merge_selection(labels: np.ndarray, request: _Request, found: np.ndarray) -> MaskEdit | None:
    """The edit that applies a selection result to the label map (not applied yet); None if nothing changes.

    replace/add/remove combine `found` with the label's current pixels. A snapped stroke keeps what the snap
    found and gives the pixels the stroke covered but the snap dropped back to whatever they held before
    the stroke (another region's paint, or nothing).
    """
    label = request.label
    current = labels == label
    restore = np.zeros(labels.shape, bool)
    if request.mode == "replace":
        wanted = found
    elif request.mode == "add":
        wanted = current | found
    elif request.mode == "remove":
        wanted = current & ~found
    else:
        wanted = current | found
        if request.stroke is not None:
            y0, y1, x0, x1 = request.stroke.bbox
            painted = (request.stroke.after == label) & (request.stroke.before != label)
            restore[y0:y1, x0:x1] = painted & current[y0:y1, x0:x1] & ~found[y0:y1, x0:x1]
            wanted &= ~restore
    changed = wanted != current
    rows, cols = np.nonzero(changed)
    if len(rows) == 0:
        return None
    y0, y1, x0, x1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    before = labels[y0:y1, x0:x1].copy()
    after = before.copy()
    after[(current & ~wanted)[y0:y1, x0:x1]] = 0
    after[wanted[y0:y1, x0:x1]] = label
    if request.stroke is not None and restore.any():
        sy0, sy1, sx0, sx1 = request.stroke.bbox
        previous = np.zeros(labels.shape, labels.dtype)
        previous[sy0:sy1, sx0:sx1] = request.stroke.before
        back = restore[y0:y1, x0:x1]
        after[back] = previous[y0:y1, x0:x1][back]
    return MaskEdit((y0, y1, x0, x1), before, after)


class SmartSelect(QObject):
    """Adds the wand tool, Snap to Edges and the smart brush to a main window and runs their jobs."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.doc = window.doc
        self.jobs: list[BackgroundJob] = []  # running, in the order they started
        self.canvas.tools[WAND] = WandTool(self._wand_click)
        self.canvas.strokeEnded.connect(self._stroke_ended)
        self.canvas.installEventFilter(self)
        self.doc.projectChanged.connect(self.cancel)
        self._index = self.doc.stack.index()
        self._redo_next: object = None
        self.doc.stack.indexChanged.connect(self._on_history)
        self._make_actions()

    # ----- window ----------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        w = self.window
        tip = "Magic wand (W): click takes the area under the cursor, Shift+click adds, Alt+click removes"
        self.act_wand = w._action("&Magic Wand", None, ["W"], tip, checkable=True)
        self.act_wand.setIcon(tool_icon(WAND))
        self.act_wand.setData(WAND)
        self.act_wand.triggered.connect(lambda _checked=False: w.set_tool(WAND))
        w.tool_group.addAction(self.act_wand)
        w.tool_actions[WAND] = self.act_wand
        self.act_snap = w._action(
            "&Snap to Edges", self.snap_target, ["Ctrl+Shift+G"],
            "Grow or shrink the selected region's paint to the edges in the photo",
        )  # fmt: skip
        self.act_smart_brush: QAction = w._action(
            "Smart &Brush", None, ["Ctrl+Shift+B"], "Snap every brush stroke to the edges as it ends", checkable=True
        )
        menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()}
        menu = menus.get("Tools")
        if isinstance(menu, QMenu):
            menu.addSeparator()
            menu.addActions([self.act_wand, self.act_snap, self.act_smart_brush])
        bar = w.findChild(QToolBar, "toolsBar")
        if bar is not None:
            bar.addAction(self.act_wand)
        self.tolerance_spin = QSpinBox(w)
        self.tolerance_spin.setRange(1, 100)
        self.tolerance_spin.setValue(round(selection.DEFAULT_TOLERANCE))
        self.tolerance_spin.setPrefix("Tolerance ")
        self.tolerance_spin.setToolTip(
            "Magic wand: how different a colour the click may take in (CIELAB ΔE); lower takes less"
        )
        self.tolerance_spin.setKeyboardTracking(False)
        shown = w.options_bar.addWidget(self.tolerance_spin)
        shown.setVisible(self.canvas.tool.name == WAND)
        self.canvas.toolChanged.connect(lambda name: shown.setVisible(name == WAND))

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 4000)

    # ----- requests --------------------------------------------------------------------------------
    def snap_target(self) -> None:
        """Snap the selected region (or the static mask) to the edges: one undo step."""
        project, label = self.doc.project, self.doc.target
        if project is None:
            return
        if label is None or not np.any(project.labels == label):
            self.canvas.message.emit("Paint the region roughly first, then snap it to the edges.")
            return
        self.canvas.commit_pending()
        scribble = project.labels == label
        self._start(_Request(label, "replace", f"Snap {self._name(label)} to edges"), "snap", scribble, True)

    def _wand_click(self, pos: T.Point, mode: str) -> None:
        project, label = self.doc.project, self.doc.target
        if project is None or label is None:
            return
        x, y = int(round(pos[0])), int(round(pos[1]))
        verb = {"replace": "Select", "add": "Add to", "remove": "Remove from"}[mode]
        request = _Request(label, mode, f"{verb} {self._name(label)} (magic wand)")
        self._start(request, "wand", (x, y, float(self.tolerance_spin.value())), True)

    def _stroke_ended(self, label: object, edit: object) -> None:
        if not self.act_smart_brush.isChecked() or not isinstance(edit, MaskEdit) or not isinstance(label, int):
            return
        y0, y1, x0, x1 = edit.bbox
        stroke = (edit.after == label) & (edit.before != label)
        project = self.doc.project
        if project is None or not stroke.any():
            return
        scribble = np.zeros(project.labels.shape, bool)
        scribble[y0:y1, x0:x1] = stroke
        request = _Request(label, "stroke", f"Snap stroke of {self._name(label)} to edges", edit)
        self._start(request, "snap", scribble, False)  # every stroke snaps, however fast they come

    def _name(self, label: int) -> str:
        project = self.doc.project
        if label == STATIC:
            return "static mask"
        return next((r.name for r in project.regions if r.label == label), "region") if project else "region"

    @property
    def busy(self) -> bool:
        """Edges are being looked for."""
        return bool(self.jobs)

    def _start(self, request: _Request, kind: str, arg: object, exclusive: bool) -> None:
        """Run a request; `exclusive` cancels the running ones first (a new wand click supersedes the last)."""
        project = self.doc.project
        if project is None:
            return
        if exclusive:
            self.cancel()
        pixels = project.image.pixels

        def work(_progress: ProgressFn, cancel: threading.Event) -> np.ndarray:
            if kind == "snap":
                assert isinstance(arg, np.ndarray)
                found = selection.snap(pixels, arg)
            else:
                assert isinstance(arg, tuple)
                x, y, tolerance = arg
                found = selection.magic_wand(pixels, (x, y), tolerance)
            if cancel.is_set():
                raise Cancelled("smart selection cancelled")
            return found

        job = run_in_background(work, self)
        self.jobs.append(job)
        job.succeeded.connect(lambda found, j=job, r=request: self._finished(j, r, found))
        job.failed.connect(lambda exc, j=job: self._failed(j, exc))
        self._status("Finding edges... (Esc cancels)")

    def cancel(self) -> None:
        """Drop the running requests, if any: their results will not be applied."""
        for job in self.jobs:
            job.cancel()
        if self.jobs:
            self._status("Smart selection cancelled")
        self.jobs.clear()

    def _on_history(self, index: int) -> None:
        # Undo or redo while edges are being looked for: the result would land on a state it was not
        # asked for, so it is dropped. A push (a stroke, a result) moves the index too, and is fine.
        stack = self.doc.stack
        if not isValid(stack):  # the window is being torn down
            return
        undone = index < self._index
        redone = (
            index == self._index + 1 and self._redo_next is not None and stack.command(index - 1) is self._redo_next
        )
        self._index = index
        self._redo_next = stack.command(index) if index < stack.count() else None
        if undone or redone:
            self.cancel()

    def _finished(self, job: BackgroundJob, request: _Request, found: object) -> None:
        if job not in self.jobs or job.cancel_event.is_set():
            return
        self.jobs.remove(job)
        project = self.doc.project
        if project is None or not isinstance(found, np.ndarray) or found.shape != project.labels.shape:
            return
        if request.label != STATIC and not any(r.label == request.label for r in project.regions):
            return  # the region was deleted meanwhile
        edit = merge_selection(project.labels, request, found)
        if edit is None:
            self._status("Smart selection: nothing to change")
            return
        self.doc.apply(PaintEdit(edit, request.text))
        self._status(request.text)

    def _failed(self, job: BackgroundJob, exc: object) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            self.canvas.message.emit(f"Smart selection failed: {describe_exception(exc)}")  # type: ignore[arg-type]

    # ----- Escape on the canvas cancels ------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.canvas
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.jobs
        ):
            self.cancel()
            return True
        return False
