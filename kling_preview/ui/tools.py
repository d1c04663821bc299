"""Canvas tools as Qt-free state machines.

The canvas turns Qt's mouse and key events into small `Pointer` records in image pixels and feeds them
to the active tool together with a `Context` (paint target, brush radius, the target's trajectory). The
tool answers with a list of actions (begin/continue/end a stroke, commit a trajectory, say something to
the user) that the canvas carries out through undo commands. Keeping Qt out makes every gesture testable
with plain records, and keeps the rules of a gesture in one place.

Gestures (what Photoshop, Krita and labelme users expect):
- brushes: left-drag paints (motion brush: the selected region, static brush: the static mask, eraser:
  clears the selected target); right-drag erases with any brush; Shift+click draws a straight line from
  the previous click.
- trajectory: drag on empty space draws a freehand path (resampled to at most 77 points); a click adds a
  point at the end; dragging a handle moves that point; Enter or a double-click finishes (stops the rubber
  band); Delete/Backspace removes the hovered point (or, while building, the last one); Escape cancels a
  drag in progress or finishes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from kling_preview.core import trajectory as traj
from kling_preview.core.masks import STATIC

Point = tuple[float, float]


class ToolName(StrEnum):
    """The canvas tools (the names the window's actions and settings use)."""

    MOTION_BRUSH = "motion_brush"
    STATIC_BRUSH = "static_brush"
    ERASER = "eraser"
    TRAJECTORY = "trajectory"
    MAGIC_WAND = "magic_wand"  # the smart-selection tool (ui/smart_select.py)


class Button(IntEnum):
    NONE = 0
    LEFT = 1
    RIGHT = 2
    MIDDLE = 4


@dataclass(frozen=True)
class Pointer:
    """One mouse event in image pixels (pixel centres at integers)."""

    x: float
    y: float
    button: Button = Button.NONE  # the button pressed or released by this event
    buttons: int = 0  # buttons held (a bit set of `Button`)
    shift: bool = False
    ctrl: bool = False
    alt: bool = False

    @property
    def pos(self) -> Point:
        return (self.x, self.y)


@dataclass(frozen=True)
class Context:
    """What a tool needs to know about the document for one event."""

    target: int | None = None  # region label, STATIC, or None (nothing selected)
    radius: float = 10.0  # brush radius in image pixels
    path: tuple[Point, ...] = ()  # the target region's trajectory
    slop: float = 4.0  # image pixels: handle hit radius
    drag: float = 4.0  # image pixels a press must travel to become a drag instead of a click
    max_points: int = traj.MAX_POINTS


#: The undo step of a freehand drag over an existing trajectory (the window names the region in the status bar).
REPLACE_PATH = "Replace trajectory"


# ----- actions ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BeginStroke:
    """Start a mask stroke. `label` None for a motion brush means "no region yet: create one"."""

    erase: bool
    label: int | None


@dataclass(frozen=True)
class StrokeTo:
    """Paint (or erase) these points joined by a thick line, in the stroke begun last."""

    points: tuple[Point, ...]


@dataclass(frozen=True)
class EndStroke:
    pass


@dataclass(frozen=True)
class CommitPath:
    """Replace the target's trajectory with `points` as one undoable step named `text`."""

    points: tuple[Point, ...]
    text: str


@dataclass(frozen=True)
class Message:
    """Tell the user why a gesture did nothing."""

    text: str


@dataclass(frozen=True)
class Repaint:
    """The tool's own overlay (handles, rubber band, live path) changed."""


Action = BeginStroke | StrokeTo | EndStroke | CommitPath | Message | Repaint


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class Tool:
    """Base: ignores everything."""

    name = ""
    title = ""
    #: The canvas shows the brush circle for tools that paint.
    paints = False

    def press(self, ev: Pointer, ctx: Context) -> list[Action]:
        return []

    def move(self, ev: Pointer, ctx: Context) -> list[Action]:
        return []

    def release(self, ev: Pointer, ctx: Context) -> list[Action]:
        return []

    def double_click(self, ev: Pointer, ctx: Context) -> list[Action]:
        return self.press(ev, ctx)

    def key(self, key: str, ctx: Context) -> list[Action]:
        """`key` is one of "enter", "delete", "escape"."""
        return []

    def reset(self) -> list[Action]:
        """Drop any gesture in progress (tool switched, project changed)."""
        return []

    @property
    def busy(self) -> bool:
        """A gesture is in progress (a stroke or a drag)."""
        return False


class BrushTool(Tool):
    """Motion brush, static brush and eraser: the same gesture, different label and mode."""

    paints = True

    def __init__(self, kind: str):
        if kind not in ("motion", "static", "eraser"):
            raise ValueError(f"unknown brush {kind!r}")
        self.kind = kind
        self.name = {"motion": ToolName.MOTION_BRUSH, "static": ToolName.STATIC_BRUSH, "eraser": ToolName.ERASER}[kind]
        self.title = {"motion": "Motion brush", "static": "Static brush", "eraser": "Eraser"}[kind]
        self._last: Point | None = None  # where the previous stroke ended (Shift+click lines)
        self._stroking = False

    @property
    def busy(self) -> bool:
        return self._stroking

    def _label(self, ctx: Context, erase: bool) -> int | None:
        if self.kind == "static":
            return STATIC
        if self.kind == "eraser" or erase:
            return ctx.target
        return ctx.target if ctx.target not in (None, STATIC) else None

    def press(self, ev: Pointer, ctx: Context) -> list[Action]:
        if ev.button not in (Button.LEFT, Button.RIGHT) or self._stroking:
            return []
        erase = self.kind == "eraser" or ev.button == Button.RIGHT
        self._stroking = True
        start: tuple[Point, ...] = (ev.pos,)
        if ev.shift and self._last is not None:
            start = (self._last, ev.pos)
        self._last = ev.pos
        return [BeginStroke(erase=erase, label=self._label(ctx, erase)), StrokeTo(start)]

    def move(self, ev: Pointer, ctx: Context) -> list[Action]:
        if not self._stroking or self._last is None:
            return []
        if ev.pos == self._last:
            return []
        segment = (self._last, ev.pos)
        self._last = ev.pos
        return [StrokeTo(segment)]

    def release(self, ev: Pointer, ctx: Context) -> list[Action]:
        if not self._stroking:
            return []
        actions: list[Action] = []
        if self._last is not None and ev.pos != self._last:
            actions.append(StrokeTo((self._last, ev.pos)))
            self._last = ev.pos
        self._stroking = False
        actions.append(EndStroke())
        return actions

    def reset(self) -> list[Action]:
        if self._stroking:
            self._stroking = False
            return [EndStroke()]
        return []


@dataclass
class PathOverlay:
    """What the canvas draws for the trajectory tool on top of the stored trajectories."""

    points: tuple[Point, ...] | None  # a live path replacing the stored one, or None
    hover: int | None
    rubber: tuple[Point, Point] | None  # segment from the last point to the cursor while building


@dataclass
class TrajectoryTool(Tool):
    """Draw, extend and edit the target region's trajectory."""

    name: str = ToolName.TRAJECTORY
    title: str = "Trajectory"
    building: bool = False
    hover: int | None = None
    _mode: str = "idle"  # idle | pending | drawing | dragging
    _label: int | None = None
    _press: Point | None = None
    _drawn: list[Point] = field(default_factory=list)
    _drag_index: int | None = None
    _live: tuple[Point, ...] | None = None
    _cursor: Point | None = None

    @property
    def busy(self) -> bool:
        return self._mode != "idle"

    def overlay(self, ctx: Context) -> PathOverlay:
        rubber = None
        if self.building and self._mode == "idle" and ctx.path and self._cursor is not None:
            rubber = (ctx.path[-1], self._cursor)
        return PathOverlay(points=self._live, hover=self.hover, rubber=rubber)

    def _sync_target(self, ctx: Context) -> None:
        if ctx.target != self._label:
            self._label = ctx.target
            self.building = False
            self.hover = None
            self._mode = "idle"
            self._live = None

    @staticmethod
    def _usable(ctx: Context) -> bool:
        return ctx.target is not None and ctx.target != STATIC

    def hit(self, pos: Point, ctx: Context) -> int | None:
        """Index of the handle under `pos` (the nearest within `slop`), or None."""
        best, best_d = None, ctx.slop
        for i, p in enumerate(ctx.path):
            d = _dist(p, pos)
            if d <= best_d:
                best, best_d = i, d
        return best

    def press(self, ev: Pointer, ctx: Context) -> list[Action]:
        self._sync_target(ctx)
        if ev.button != Button.LEFT or self._mode != "idle":
            return []
        if not self._usable(ctx):
            return [Message("Select a motion region first (Regions panel), or paint one with the motion brush (B).")]
        index = self.hit(ev.pos, ctx)
        if index is not None:
            self._mode, self._drag_index, self._press = "dragging", index, ev.pos
            return [Repaint()]
        self._mode, self._press, self._drawn = "pending", ev.pos, [ev.pos]
        return []

    def move(self, ev: Pointer, ctx: Context) -> list[Action]:
        self._sync_target(ctx)
        self._cursor = ev.pos
        if self._mode == "idle":
            hover = self.hit(ev.pos, ctx) if self._usable(ctx) else None
            changed = hover != self.hover
            self.hover = hover
            return [Repaint()] if (changed or self.building) else []
        if self._mode == "dragging" and self._drag_index is not None:
            pts = list(ctx.path)
            if self._drag_index < len(pts):
                pts[self._drag_index] = ev.pos
                self._live = tuple(pts)
            return [Repaint()]
        if self._mode == "pending" and self._press is not None and _dist(ev.pos, self._press) > ctx.drag:
            self._mode = "drawing"
        if self._mode == "drawing":
            if _dist(ev.pos, self._drawn[-1]) >= 0.5:
                self._drawn.append(ev.pos)
            self._live = tuple(self._drawn)
            return [Repaint()]
        return []

    def release(self, ev: Pointer, ctx: Context) -> list[Action]:
        self._sync_target(ctx)
        if ev.button != Button.LEFT:
            return []
        mode, self._mode = self._mode, "idle"
        self._live = None
        if mode == "dragging" and self._drag_index is not None:
            index, self._drag_index = self._drag_index, None
            if self._press is not None and ev.pos != self._press and index < len(ctx.path):
                pts = list(ctx.path)
                pts[index] = ev.pos
                self.hover = index
                return [CommitPath(tuple(pts), "Move trajectory point")]
            return [Repaint()]
        if mode == "drawing":
            if _dist(ev.pos, self._drawn[-1]) >= 0.5:
                self._drawn.append(ev.pos)
            drawn, self._drawn = self._drawn, []
            if len(drawn) >= 2:
                self.building = False
                fitted = traj.fit_to_limit(drawn, ctx.max_points)
                # Drawing over a path replaces it: named so in the history, and the window says so.
                return [CommitPath(tuple(fitted), REPLACE_PATH if ctx.path else "Draw trajectory")]
            mode = "pending"
        if mode == "pending" and self._press is not None:
            self._drawn = []
            if len(ctx.path) >= ctx.max_points:
                self.building = False
                return [
                    Message(f"Kling allows at most {ctx.max_points} points per trajectory; this one is full."),
                    Repaint(),
                ]
            self.building = True
            self.hover = None
            return [CommitPath((*ctx.path, self._press), "Add trajectory point")]
        return []

    def double_click(self, ev: Pointer, ctx: Context) -> list[Action]:
        # Qt sends press, release, double-click, release: the first click already added the point.
        self._sync_target(ctx)
        self._mode = "idle"
        return self.finish()

    def finish(self) -> list[Action]:
        self.building = False
        self._mode = "idle"
        self._live = None
        return [Repaint()]

    def key(self, key: str, ctx: Context) -> list[Action]:
        self._sync_target(ctx)
        if key == "enter":
            return self.finish()
        if key == "escape":
            if self._mode != "idle":
                self._mode, self._live, self._drawn, self._drag_index = "idle", None, [], None
                return [Repaint()]
            return self.finish()
        if key == "delete" and self._mode == "idle" and self._usable(ctx):
            index = self.hover
            if index is None and self.building and ctx.path:
                index = len(ctx.path) - 1
            if index is None or index >= len(ctx.path):
                return []
            pts = ctx.path[:index] + ctx.path[index + 1 :]
            self.hover = None
            return [CommitPath(tuple(pts), "Delete trajectory point")]
        return []

    def leave(self) -> list[Action]:
        """The cursor left the canvas: no hover, no rubber band."""
        self._cursor = None
        if self.hover is not None and self._mode == "idle":
            self.hover = None
        return [Repaint()]

    def reset(self) -> list[Action]:
        self._mode, self._live, self._drawn, self._drag_index = "idle", None, [], None
        self.building, self.hover = False, None
        return [Repaint()]


def make_tools() -> dict[str, Tool]:
    """One instance of each tool, keyed by name."""
    tools: list[Tool] = [BrushTool("motion"), BrushTool("static"), BrushTool("eraser"), TrajectoryTool()]
    return {t.name: t for t in tools}


# ----- brush size steps ------------------------------------------------------------------------------
MIN_BRUSH = 1
MAX_BRUSH = 2000


def bigger_brush(size: int) -> int:
    """Next size up for `]`: about 20 % larger, at least one pixel."""
    return min(MAX_BRUSH, max(size + 1, int(round(size * 1.2))))


def smaller_brush(size: int) -> int:
    """Next size down for `[`."""
    return max(MIN_BRUSH, min(size - 1, int(round(size / 1.2))))


#: Screen px between two drawn handles of a path far from the cursor, and the reach (screen px) of the
#: cursor within which every handle is drawn.
HANDLE_GAP = 16.0
HANDLE_NEAR = 56.0


def handles_to_show(
    points: Sequence[Point], cursor: Point | None, hover: int | None, gap: float = HANDLE_GAP, near: float = HANDLE_NEAR
) -> list[int]:
    """Which handles of a path (in screen px) to draw. Why: a freehand path has up to 77 points, and 77
    white dots hide the path and the photo under it. The ends, the hovered point and every point near the
    cursor are drawn (what a click would grab); elsewhere only one every `gap` px along the path."""
    shown: list[int] = []
    last: Point | None = None
    end = len(points) - 1
    for i, p in enumerate(points):
        close = cursor is not None and _dist(p, cursor) <= near
        spaced = last is None or _dist(p, last) >= gap
        if i in (0, end) or i == hover or close or spaced:
            shown.append(i)
            last = p
    return shown
