"""The canvas: the still with its regions tinted, the trajectories as arrows, zoom, pan and the tools.

Why a plain QWidget and not a QGraphicsView: the canvas shows one image, one overlay and at most six
short polylines. A single transform we own (scale + offset, no rotation) makes image <-> widget mapping
exact and easy to test, lets the big-image proxy be a detail of drawing (the proxy is drawn into the
image's own pixel rectangle), and keeps partial repaints simple: a stroke updates the overlay rows it
touched and repaints that rectangle only. A scene graph would add item bookkeeping, scene-rect quirks
and per-item hit testing for no gain here.

Coordinates: image pixel i covers [i, i + 1) in the painter's image space, and a point (x, y) in image
pixels (trajectories, brush dabs) refers to pixel centres, so it is drawn at (x + .5, y + .5). The zoom
and pan math is the Qt-free `Viewport` (`viewport.py`); a brush stroke is a Qt-free `StrokeSession`
(`stroke.py`); this widget turns Qt events into tool records and draws.

Nothing heavy happens in `paintEvent`: it draws the pyramid level and the overlay that were prepared
when the project opened or a mask changed, and it never lets an exception escape with the painter open.
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from kling_preview.core.edits import SetTrajectory
from kling_preview.core.errors import LimitError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project

from . import canvas_input as I
from . import tools as T
from .canvas_preview import CanvasPreview
from .commands import Document
from .painting import draw_arrow, draw_empty_hint, draw_part
from .qimage import ImagePyramid, LabelOverlay
from .stroke import StrokeSession
from .viewport import Viewport

log = logging.getLogger(__name__)

HANDLE_HIT_PX = 8.0  # how close (widget px) the cursor must be to grab a trajectory handle
DRAG_START_PX = 5.0  # how far (widget px) a press must move to become a drag
BACKGROUND = QColor(38, 38, 40)
REGION_ALPHA = 105
SELECTED_ALPHA = 150
STATIC_RGBA = (96, 104, 120, 170)


def _rgba(r: int, g: int, b: int, a: int) -> int:
    return ((a & 255) << 24) | ((r & 255) << 16) | ((g & 255) << 8) | (b & 255)


class Canvas(QWidget):
    """View and controller of the document's image, masks and trajectories."""

    cursorMoved = Signal(object)  # (x, y) in image pixels, or None when the cursor left the image
    zoomChanged = Signal(float)  # scale: screen px per image px
    spaceTapped = Signal()  # Space pressed and released without panning (play / pause)
    message = Signal(str)  # a gesture was refused; the text says why
    toolChanged = Signal(str)
    brushSizeChanged = Signal(int)
    strokeEnded = Signal(object, object)  # label, MaskEdit: a paint stroke was committed (smart brush)

    def __init__(self, doc: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMouseTracking(True)
        self.setTabletTracking(True)  # pen hover shows the brush outline
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self.doc = doc
        self.tools = T.make_tools()
        self.tool: T.Tool = self.tools[T.ToolName.MOTION_BRUSH]
        self._brush_size = 40
        self.viewport = Viewport()
        self._pyramid: ImagePyramid | None = None
        self._overlay: LabelOverlay | None = None
        self._stroke: StrokeSession | None = None
        self._committing = False
        self._pan_from: QPointF | None = None
        self._pan_button = Qt.MouseButton.NoButton
        self._space = False
        self._space_used = False
        self._mouse: QPointF | None = None  # last cursor position in widget px
        self.paint_errors = 0  # paintEvent failures (logged, never raised)
        self.pressure_enabled = I.pen_pressure_enabled()
        self.pen_pressure: float | None = None  # the pen's pressure during a pen stroke
        self.pen_tool: T.Tool | None = None  # the tool to go back to after the pen's eraser end
        self.zoom_box = I.zoom_buttons(self)
        self.preview = CanvasPreview()  # the motion played on the canvas (P)
        doc.projectChanged.connect(self._on_project)
        doc.masksChanged.connect(self._on_masks)
        doc.regionsChanged.connect(self._on_regions)
        doc.trajectoryChanged.connect(lambda _label: self.update())
        doc.targetChanged.connect(self._on_target)
        doc.overlayChanged.connect(self._on_regions)

    # ----- public state ----------------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.doc.project

    @property
    def scale(self) -> float:
        """Screen pixels per image pixel (1.0 = 100 %)."""
        return self.viewport.scale

    @property
    def offset(self) -> tuple[float, float]:
        return self.viewport.ox, self.viewport.oy

    @property
    def brush_size(self) -> int:
        """Brush diameter in image pixels."""
        return self._brush_size

    def set_brush_size(self, size: int) -> None:
        size = max(T.MIN_BRUSH, min(T.MAX_BRUSH, int(size)))
        if size != self._brush_size:
            old = self._brush_circle_rect()
            self._brush_size = size
            self.update(old.united(self._brush_circle_rect()))
            self.brushSizeChanged.emit(size)

    def set_tool(self, name: str) -> None:
        if name not in self.tools:
            raise ValueError(f"unknown tool {name!r}")
        if self.tools[name] is self.tool:
            return
        self.commit_pending()
        self.tool.reset()
        self.tool = self.tools[name]
        self._update_cursor()
        self.update()
        self.toolChanged.emit(name)

    @property
    def pyramid(self) -> ImagePyramid | None:
        return self._pyramid

    @property
    def overlay(self) -> LabelOverlay | None:
        return self._overlay

    # ----- coordinates (the math is the viewport's) -------------------------------------------------
    def view_transform(self) -> QTransform:
        """Maps the painter's image space (pixel i covers [i, i + 1)) to widget pixels."""
        v = self.viewport
        return QTransform(v.scale, 0, 0, v.scale, v.ox, v.oy)

    def image_to_widget(self, x: float, y: float) -> QPointF:
        """A point in image pixels (pixel centres at integers) to widget coordinates."""
        return QPointF(*self.viewport.image_to_widget(x, y))

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        return self.viewport.widget_to_image(pos.x(), pos.y())

    def image_rect_to_widget(self, y0: int, y1: int, x0: int, x1: int) -> QRect:
        return QRectF(*self.viewport.image_rect_to_widget(y0, y1, x0, x1)).toAlignedRect().adjusted(-2, -2, 2, 2)

    # ----- zoom and pan ----------------------------------------------------------------------------
    def _view_size(self) -> tuple[int, int]:
        return self.width(), self.height()

    def fit_scale(self) -> float:
        if self.project is None:
            return 1.0
        return Viewport.fit_scale(self.project.size, self._view_size())

    def fit(self) -> None:
        """Whole image in view, centred (Ctrl+0); stays fitted when the window is resized."""
        if self.project is None:
            return
        self.viewport.fit(self.project.size, self._view_size())
        self._view_changed()

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to `scale`, keeping the image point under `anchor` (default: the view centre) in place."""
        if self.project is None:
            return
        at = (anchor.x(), anchor.y()) if anchor is not None else (self.width() / 2, self.height() / 2)
        self.viewport.set_zoom(scale, at, self.project.size, self._view_size())
        self._view_changed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.scale * factor, anchor)

    def zoom_in(self) -> None:
        self.set_zoom(Viewport.step_in(self.scale), self._keyboard_anchor())

    def zoom_out(self) -> None:
        self.set_zoom(Viewport.step_out(self.scale), self._keyboard_anchor())

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel (Ctrl+1)."""
        self.set_zoom(1.0, self._keyboard_anchor())

    def _keyboard_anchor(self) -> QPointF | None:
        """Keyboard zoom keeps the point under the cursor if it is over the canvas, else the centre."""
        if self._mouse is not None and self.rect().contains(self._mouse.toPoint()):
            return self._mouse
        return None

    def pan_by(self, dx: float, dy: float) -> None:
        if self.project is None:
            return
        self.viewport.pan_by(dx, dy, self.project.size, self._view_size())
        self._view_changed()

    def set_preview(self, on: bool, frame: QImage | None) -> None:
        """Play the preview on the canvas (overlays, handles and the brush hidden; tools paused) or stop."""
        self.commit_pending()
        self.preview.on, self.preview.frame = on, frame
        self._update_cursor()
        self.update()

    def show_preview_frame(self, frame: QImage | None) -> None:
        if self.preview.on:
            self.preview.frame = frame
            self.update()

    def _view_changed(self) -> None:
        self.update()
        self.zoomChanged.emit(self.scale)

    # ----- document signals ------------------------------------------------------------------------
    def _on_project(self) -> None:
        self._stroke = None
        for tool in self.tools.values():
            tool.reset()
        project = self.project
        self._pyramid = self._overlay = None
        if project is not None:
            self._pyramid = ImagePyramid(project.image.pixels)
            self._overlay = LabelOverlay(project.labels.shape, self._pyramid.proxy_scale)
            self._overlay.refresh(project.labels)
            self._update_colors()
            self.fit()
        self._update_cursor()
        self.update()

    def _on_masks(self, bbox: tuple[int, int, int, int] | None) -> None:
        if self._overlay is None or self.project is None or self._committing:
            return
        self._overlay.refresh(self.project.labels, bbox)
        self.update(self.image_rect_to_widget(*bbox) if bbox is not None else self.rect())

    def _on_regions(self) -> None:
        self._update_colors()
        self.update()

    def _on_target(self, _label: int) -> None:
        if self._stroke is None:
            self.tools[T.ToolName.TRAJECTORY].reset()
        self._update_colors()
        self.update()

    def _update_colors(self) -> None:
        if self._overlay is None or self.project is None:
            return
        table = [0] * 256
        for region in self.project.regions:
            if region.visible:
                alpha = SELECTED_ALPHA if region.label == self.doc.target else REGION_ALPHA
                table[region.label] = _rgba(*region.color, alpha)
        if self.doc.show_static:
            table[STATIC] = _rgba(*STATIC_RGBA)
        self._overlay.set_colors(table)

    # ----- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter, event.rect())
        except Exception:  # a failing frame must never leave the painter open or take the app down
            self.paint_errors += 1
            log.exception("canvas paint failed")
        finally:
            painter.end()

    def _paint(self, p: QPainter, clip: QRect) -> None:
        p.fillRect(clip, BACKGROUND)
        project = self.project
        if project is None or self._pyramid is None or self._overlay is None:
            draw_empty_hint(p, self.rect())
            return
        w, h = project.size
        inv = self.view_transform().inverted()[0]
        visible = inv.mapRect(QRectF(clip)).intersected(QRectF(0, 0, w, h))
        if not visible.isEmpty():
            ix0, iy0 = max(0, math.floor(visible.left())), max(0, math.floor(visible.top()))
            ix1, iy1 = min(w, math.ceil(visible.right())), min(h, math.ceil(visible.bottom()))
            p.save()
            p.setTransform(self.view_transform())
            sx, sy, level = self._pyramid.level_for(self.scale)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale < 2.0)
            draw_part(p, level, sx, sy, ix0, iy0, ix1, iy1)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            if self.preview.on:
                self.preview.draw_frame(p, w, h)
            else:
                draw_part(p, self._overlay.image, self._overlay.sx, self._overlay.sy, ix0, iy0, ix1, iy1)
            p.restore()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        frame = self.view_transform().mapRect(QRectF(0, 0, w, h))
        p.setPen(QPen(QColor(0, 0, 0, 160), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(frame.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.preview.on:
            self.preview.draw_split_line(p, frame)
            return
        self._paint_trajectories(p)
        self._paint_brush(p)

    def _paint_trajectories(self, p: QPainter) -> None:
        project = self.project
        if project is None:
            return
        traj_tool = self.tools[T.ToolName.TRAJECTORY]
        active = self.tool is traj_tool
        ctx = self._context()
        overlay = traj_tool.overlay(ctx) if active else T.PathOverlay(None, None, None)
        target = self.doc.target
        regions = sorted(project.regions, key=lambda r: r.label == target)  # the target on top
        for region in regions:
            if not region.visible:
                continue
            selected = region.label == target
            points = overlay.points if (selected and overlay.points is not None) else tuple(region.trajectory)
            if not points:
                continue
            color = QColor(*region.color)
            wpts = [self.image_to_widget(x, y) for x, y in points]
            draw_arrow(p, wpts, color, bold=selected)
            if active and selected:
                for i in self.handles_shown(wpts, overlay.hover):
                    pt, hovered = wpts[i], i == overlay.hover
                    radius = 6.0 if hovered else 4.0
                    p.setPen(QPen(QColor(0, 0, 0, 200), 1.5))
                    p.setBrush(color if hovered else QColor(255, 255, 255))
                    p.drawEllipse(pt, radius, radius)
        if active and overlay.rubber is not None and target is not None and target != STATIC:
            a, b = (self.image_to_widget(*q) for q in overlay.rubber)
            color = QColor(*project.region(target).color) if target in {r.label for r in project.regions} else None
            if color is not None:
                pen = QPen(color, 1.5, Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.drawLine(a, b)

    def handles_shown(self, wpts: list[QPointF], hover: int | None) -> list[int]:
        """The handles drawn of the selected path: thinned far from the cursor (`tools.handles_to_show`)."""
        cursor = (self._mouse.x(), self._mouse.y()) if self._mouse is not None else None
        return T.handles_to_show([(q.x(), q.y()) for q in wpts], cursor, hover)

    def _brush_circle_visible(self) -> bool:
        return (
            self.project is not None
            and self.tool.paints
            and self._mouse is not None
            and self._pan_from is None
            and not self._space
            and not self.preview.on
        )

    def _brush_circle_rect(self) -> QRect:
        if self._mouse is None:
            return QRect()
        r = self._brush_size / 2 * self.scale + 3
        return QRectF(self._mouse.x() - r, self._mouse.y() - r, 2 * r, 2 * r).toAlignedRect()

    def _paint_brush(self, p: QPainter) -> None:
        if not self._brush_circle_visible() or self._mouse is None:
            return
        r = self._brush_size / 2 * self.scale
        c = self._mouse
        p.setBrush(Qt.BrushStyle.NoBrush)
        if r >= 3:
            p.setPen(QPen(QColor(0, 0, 0, 200), 1.0))
            p.drawEllipse(c, r, r)
            p.setPen(QPen(QColor(255, 255, 255, 220), 1.0))
            p.drawEllipse(c, max(0.5, r - 1), max(0.5, r - 1))
        # a small cross marks the exact centre (and stands in for tiny brushes)
        p.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
        p.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
        p.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))

    # ----- tools -----------------------------------------------------------------------------------
    def _context(self) -> T.Context:
        project = self.project
        target = self.doc.target
        path: tuple[T.Point, ...] = ()
        if project is not None and target not in (None, STATIC):
            region = project.find_region(target)
            if region is not None:
                path = tuple(region.trajectory)
        return T.Context(
            target=target,
            radius=self._brush_size / 2,
            path=path,
            slop=HANDLE_HIT_PX / self.scale,
            drag=DRAG_START_PX / self.scale,
        )

    def _pointer(self, event: QMouseEvent, button: T.Button = T.Button.NONE) -> T.Pointer:
        x, y = self.widget_to_image(event.position())
        held = event.buttons()
        bits = (
            (T.Button.LEFT if held & Qt.MouseButton.LeftButton else 0)
            | (T.Button.RIGHT if held & Qt.MouseButton.RightButton else 0)
            | (T.Button.MIDDLE if held & Qt.MouseButton.MiddleButton else 0)
        )
        mods = event.modifiers()
        return T.Pointer(
            x,
            y,
            button=button,
            buttons=int(bits),
            shift=bool(mods & Qt.KeyboardModifier.ShiftModifier),
            ctrl=bool(mods & Qt.KeyboardModifier.ControlModifier),
            alt=bool(mods & Qt.KeyboardModifier.AltModifier),
        )

    @staticmethod
    def _button(event: QMouseEvent) -> T.Button:
        return {
            Qt.MouseButton.LeftButton: T.Button.LEFT,
            Qt.MouseButton.RightButton: T.Button.RIGHT,
            Qt.MouseButton.MiddleButton: T.Button.MIDDLE,
        }.get(event.button(), T.Button.NONE)

    def run_actions(self, actions: list[T.Action]) -> None:
        """Carry out what a tool asked for."""
        for action in actions:
            if isinstance(action, T.BeginStroke):
                self._begin_stroke(action)
            elif isinstance(action, T.StrokeTo):
                self._stroke_to(action.points)
            elif isinstance(action, T.EndStroke):
                self._end_stroke()
            elif isinstance(action, T.CommitPath):
                self._commit_path(action)
            elif isinstance(action, T.Message):
                self.message.emit(action.text)
            elif isinstance(action, T.Repaint):
                self.update()

    def _begin_stroke(self, action: T.BeginStroke) -> None:
        try:
            self._stroke = StrokeSession.begin(self.doc, action.erase, action.label, self._brush_size / 2)
        except LimitError as exc:  # the motion brush with no region yet, and six already
            self.tool.reset()
            self.message.emit(f"{exc}. Select one of them in the Regions panel to paint it.")

    def _stroke_to(self, points: tuple[T.Point, ...]) -> None:
        if self._stroke is None:
            return
        if self.pen_pressure is not None:
            self._stroke.radius = I.pressure_radius(self._brush_size / 2, self.pen_pressure)
        edit = self._stroke.paint(points)
        if edit is None:
            return
        if self._overlay is not None and self.project is not None:
            self._overlay.refresh(self.project.labels, edit.bbox)
        self.update(self.image_rect_to_widget(*edit.bbox))

    def _end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self._committing = True  # the overlay already shows the stroke
        try:
            merged = stroke.finish()
        finally:
            self._committing = False
        if merged is not None and not stroke.erase:
            self.strokeEnded.emit(stroke.label, merged)

    def _commit_path(self, action: T.CommitPath) -> None:
        project, label = self.project, self.doc.target
        region = project.find_region(label) if project is not None else None
        if region is None:
            return
        if [tuple(p) for p in region.trajectory] == list(action.points):
            self.update()
            return
        self.doc.apply(SetTrajectory(region.label, region.trajectory, list(action.points), action.text))

    def commit_pending(self) -> None:
        """Finish any gesture in progress (before undo, save, switching tools or projects)."""
        if self.tool.busy:
            self.run_actions(self.tool.reset())
        if self._stroke is not None:
            self._end_stroke()

    # ----- Qt events -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._mouse = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            if self._pan_from is None:
                self._pan_from, self._pan_button = event.position(), button
                self._space_used = True
                self._update_cursor()
                self.update()
            return
        if self.project is None or self._pan_from is not None or self._preview_drag(event):
            return
        self.run_actions(self.tool.press(self._pointer(event, self._button(event)), self._context()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        old_circle = self._brush_circle_rect() if self._brush_circle_visible() else QRect()
        self._mouse = event.position()
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
            return
        if self.project is None or self._preview_drag(event):
            return
        x, y = self.widget_to_image(event.position())
        w, h = self.project.size
        inside = -0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5
        self.cursorMoved.emit((x, y) if inside else None)
        if self._brush_circle_visible():
            self.update(old_circle.united(self._brush_circle_rect()))
        self.run_actions(self.tool.move(self._pointer(event), self._context()))
        self._update_cursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._mouse = event.position()
        if self._pan_from is not None:
            if event.button() == self._pan_button:
                self._pan_from = None
                self._update_cursor()
                self.update()
            return
        if self.project is None or self.preview.on:
            return
        self.run_actions(self.tool.release(self._pointer(event, self._button(event)), self._context()))

    def _preview_drag(self, event: QMouseEvent) -> bool:
        """While the preview plays on the canvas the tools rest; a left drag moves the before/after line."""
        if self.preview.on and self.preview.split is not None and event.buttons() & Qt.MouseButton.LeftButton:
            assert self.project is not None
            self.preview.set_split_at(self.widget_to_image(event.position())[0], self.project.size[0])
            self.update()
        return self.preview.on

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._space or self.project is None or self.preview.on:
            self.mousePressEvent(event)
            return
        self.run_actions(self.tool.double_click(self._pointer(event, T.Button.LEFT), self._context()))

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.project is not None:
            I.wheel(self, event)
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        I.tablet(self, event)

    _TOOL_KEYS = {
        Qt.Key.Key_Return: "enter",
        Qt.Key.Key_Enter: "enter",
        Qt.Key.Key_Delete: "delete",
        Qt.Key.Key_Backspace: "delete",
        Qt.Key.Key_Escape: "escape",
    }

    def event(self, event: QEvent) -> bool:
        # Space, Enter, Delete and Escape belong to the canvas while it has focus (pan, finish a path,
        # delete a point), not to window shortcuts such as Space for play / pause.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier and (
                event.key() == Qt.Key.Key_Space or event.key() in self._TOOL_KEYS
            ):
                event.accept()
                return True
        if isinstance(event, QNativeGestureEvent) and self.project is not None and I.native_gesture(self, event):
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat() and not self._space:
                self._space, self._space_used = True, False
                self._update_cursor()
                self.update(self._brush_circle_rect())
            return
        if key in self._TOOL_KEYS and self.project is not None:
            self.run_actions(self.tool.key(self._TOOL_KEYS[key], self._context()))
            return
        if I.arrow_key(self, event):
            return
        super().keyPressEvent(event)

    def claim_space(self) -> bool:
        """Space pressed while another widget had the keyboard: with the pointer over the canvas it is the
        hand (the canvas takes the keyboard and pans on drag, and its release plays nothing); else False."""
        if self._mouse is None or not self.rect().contains(self._mouse.toPoint()):
            return False
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._space, self._space_used = True, True
        self._update_cursor()
        self.update(self._brush_circle_rect())
        return True

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat() and self._space:
                self._space = False
                tapped = not self._space_used and self._pan_from is None
                self._update_cursor()
                if tapped:
                    self.spaceTapped.emit()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        self._update_cursor()
        super().focusOutEvent(event)

    def enterEvent(self, event) -> None:
        # Like Krita: the canvas takes the keyboard when the cursor comes over it (so Space pans and
        # Enter / Delete edit the path at once), unless the user is typing in a text or number field.
        focused = QApplication.focusWidget()
        typing = isinstance(focused, QLineEdit | QAbstractSpinBox | QTextEdit | QPlainTextEdit)
        if not typing and self.isActiveWindow() and not self.hasFocus():
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._update_cursor()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        old = self._brush_circle_rect()
        self._mouse = None
        self.cursorMoved.emit(None)
        traj_tool = self.tools[T.ToolName.TRAJECTORY]
        if isinstance(traj_tool, T.TrajectoryTool) and not traj_tool.busy:
            traj_tool.leave()
        self.update(old)
        if self.tool is traj_tool:
            self.update()
        super().leaveEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        I.place_corner(self, self.zoom_box)
        if self.viewport.fit_mode:
            self.fit()
        elif self.project is not None:
            self.viewport.clamp(self.project.size, self._view_size())

    def _update_cursor(self) -> None:
        if self._pan_from is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space:
            shape = Qt.CursorShape.OpenHandCursor
        elif self.project is None:
            shape = Qt.CursorShape.ArrowCursor
        elif self.tool.paints:
            shape = Qt.CursorShape.BlankCursor
        elif isinstance(self.tool, T.TrajectoryTool) and self.tool.hover is not None:
            shape = Qt.CursorShape.SizeAllCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
