"""Preview player panel: plays the project's motion at proxy size, rendered in a worker thread.

The GUI thread only takes cheap immutable snapshots (`render.snapshot`) and paints finished frames.
Frames are cached per (scene generation, index) and requested a little ahead of the play head, so
playback shows cached frames at the timer's pace while the worker renders the next ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_preview.core import limits, render
from kling_preview.core.project import PREVIEW_MODES, ClipMode
from kling_preview.core.trajectory import position_at
from kling_preview.ui.painting import draw_arrow
from kling_preview.ui.worker import RenderWorker, describe_exception

DEBOUNCE_MS = 30
PROXY_SIDE = 960
SECONDS_CHOICES = (5.0, 10.0)
FPS_RANGE = (8, 60)
#: Frames requested ahead of the play head while playing (about half a second at 24 fps).
AHEAD_PLAYING = 12
CACHE_BYTES = 256 * 1024 * 1024

#: One trajectory overlay: colour and points normalised to 0..1 of the image.
OverlayPath = tuple[QColor, list[tuple[float, float]]]


class FrameView(QWidget):
    """Shows one frame scaled to fit (aspect kept, smooth) with an optional trajectory overlay.

    Painting only scales a finished QImage and draws a few polylines; all the work is done elsewhere.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._paths: list[OverlayPath] = []
        self._markers: list[tuple[QColor, tuple[float, float]]] = []
        self._placeholder = "No image"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(480, 300)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 100)

    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        if self._image is None:
            self.update()

    def set_overlay(self, paths: list[OverlayPath], markers: list[tuple[QColor, tuple[float, float]]]) -> None:
        self._paths, self._markers = paths, markers
        self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn: centred, as large as fits, aspect kept."""
        if self._image is None or self._image.isNull():
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # Qt API
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Shadow))
            if self._image is None or self._image.isNull():
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
                return
            target = self.image_rect()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
            if self._paths or self._markers:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                self._paint_overlay(painter, target)
        finally:
            painter.end()

    def _paint_overlay(self, painter: QPainter, target: QRectF) -> None:
        def at(p: tuple[float, float]) -> QPointF:
            return QPointF(target.x() + p[0] * target.width(), target.y() + p[1] * target.height())

        for color, points in self._paths:
            draw_arrow(painter, [at(p) for p in points], color, bold=False)  # the way it moves, as on the canvas
        for color, p in self._markers:
            painter.setPen(QPen(QColor("white"), 2))
            painter.setBrush(color)
            painter.drawEllipse(at(p), 5.5, 5.5)


class PreviewPanel(QWidget):
    """Plays the project's motion preview, rendered in a worker thread at proxy size."""

    frameShown = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, max_side: int = PROXY_SIDE) -> None:
        super().__init__(parent)
        self.max_side = max_side
        self._project = None
        self._gen = 0  # generation of the scene on screen; 0 = none
        self._times: list[float] = [0.0]
        self._clip_seconds = 5.0
        self._index = 0  # the frame shown, or awaited when not yet rendered
        self._shown: tuple[int, int] | None = None
        self._cache: OrderedDict[tuple[int, int], QImage] = OrderedDict()
        self._cache_bytes = 0
        self._pending: set[int] = set()
        self._playing = False
        self._trajectories: list[tuple[QColor, list[tuple[float, float]]]] = []
        self._error_from: str | None = None  # "snapshot" or "worker": what clears the red line
        #: How a clip control's change reaches the project: (field of project.clip, new value). The
        #: window routes it through an undoable edit; on its own the panel writes the field.
        self.clip_setter: Callable[[str, Any], None] = self._write_clip
        self._worker: RenderWorker | None = RenderWorker(parent=None)
        self._worker.sceneReady.connect(self._on_scene_ready)
        self._worker.frameReady.connect(self._on_frame)
        self._worker.warningsChanged.connect(self._on_warnings)
        self._worker.failed.connect(self._on_failed)
        self._worker.dropped.connect(self._on_dropped)
        self.destroyed.connect(self._worker.stop)

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._send_scene)
        self._play_timer = QTimer(self)
        self._play_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._play_timer.timeout.connect(self._on_tick)
        self._build()
        self._set_enabled(False)

    # ----- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = FrameView(self)
        self.error_label = QLabel(self, wordWrap=True, visible=False)
        self.error_label.setStyleSheet("color: #d32f2f;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label = QLabel(self, wordWrap=True, visible=False)
        self.warning_label.setStyleSheet("color: #b26a00;")

        self.play_button = QToolButton(self, toolTip="Play / pause (Space)", autoRaise=True)
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal, self, toolTip="Scrub through the clip")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.time_label = QLabel(self)
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance("00.00 / 00.00 s") + 8)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.mode_combo = QComboBox(self, toolTip="Preview mode: Kling's motion brush, cinemagraph loop, ambient")
        self.mode_combo.addItems(list(PREVIEW_MODES))
        self.mode_combo.currentTextChanged.connect(self._on_mode)
        self.seconds_combo = QComboBox(self, toolTip="Clip length")
        for s in SECONDS_CHOICES:
            self.seconds_combo.addItem(f"{s:g} s", s)
        self.seconds_combo.currentIndexChanged.connect(self._on_seconds)
        self.fps_spin = QSpinBox(self, suffix=" fps", toolTip="Preview frame rate")
        self.fps_spin.setRange(*FPS_RANGE)
        self.fps_spin.valueChanged.connect(self._on_fps)
        self.loop_check = QCheckBox("Loop", self, checked=True, toolTip="Start again at the end")
        self.trajectories_check = QCheckBox("Trajectories", self, toolTip="Draw the regions' trajectories")
        self.trajectories_check.toggled.connect(self._update_overlay)

        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        options = QHBoxLayout()
        options.addWidget(self.mode_combo)
        options.addWidget(self.seconds_combo)
        options.addWidget(self.fps_spin)
        options.addStretch(1)
        options.addWidget(self.loop_check)
        options.addWidget(self.trajectories_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.warning_label)
        layout.addLayout(transport)
        layout.addLayout(options)
        self._update_play_button()
        self._update_time_label()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.play_button, self.slider, self.mode_combo, self.seconds_combo, self.fps_spin):
            w.setEnabled(on)

    # ----- public API -----------------------------------------------------------------------------
    def set_project(self, project) -> None:
        """Show `project` (or nothing for None); starts a fresh render."""
        self.pause()
        self._debounce.stop()
        self._project = project
        self._gen = 0
        self._drop_cache()
        self._index = 0
        self._shown = None
        self.view.set_image(None)
        self._show_error(None)
        self._on_warnings(0, [])
        self._set_enabled(project is not None)
        if project is None:
            self._times = [0.0]
            self._trajectories = []
            self._update_overlay()
            self._sync_slider()
            self.view.set_placeholder("No image")
            return
        self._sync_controls()
        self.view.set_placeholder("Rendering…")
        self._send_scene()

    def schedule_update(self) -> None:
        """Call after any edit: the next frames reflect it (debounced, never blocks the GUI)."""
        if self._project is not None and self._worker is not None:
            self._debounce.start()

    def toggle_play(self) -> None:
        """Play or pause (the main window binds Space to this)."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self._project is None or self._worker is None or self._playing:
            return
        if self._index >= len(self._times) - 1 and not self.loop_check.isChecked():
            self._go_to(0)
        self._playing = True
        self._play_timer.start(round(1000 / max(1, self._fps())))
        self._update_play_button()
        self._request_around(self._index)

    def pause(self) -> None:
        self._playing = False
        self._play_timer.stop()
        self._update_play_button()

    def is_playing(self) -> bool:
        return self._playing

    def seek(self, index: int) -> None:
        """Show frame `index` (clamped); the same as moving the slider."""
        self._go_to(index)

    def current_index(self) -> int:
        return self._index

    def frame_count(self) -> int:
        return len(self._times)

    def shown_index(self) -> int | None:
        """Index of the frame on screen when it belongs to the current scene (None while it is rendered)."""
        if self._shown is None or self._shown[0] != self._gen:
            return None
        return self._shown[1]

    @property
    def worker(self) -> RenderWorker | None:
        """The render worker (None after `shutdown()`)."""
        return self._worker

    def current_image(self) -> QImage | None:
        """The frame on screen (None before the first one arrives)."""
        return self.view.image()

    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def warning_text(self) -> str:
        return self.warning_label.text() if not self.warning_label.isHidden() else ""

    def shutdown(self) -> None:
        """Stop the worker thread; called when the window closes (and on destruction)."""
        self.pause()
        self._debounce.stop()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.stop()
            worker.deleteLater()

    # ----- scene ----------------------------------------------------------------------------------
    @Slot()
    def _send_scene(self) -> None:
        project = self._project
        if project is None or self._worker is None:
            return
        try:
            scene = render.snapshot(project, max_side=self.max_side, quality="live")
        except Exception as exc:  # shown in the panel; editing goes on
            self._show_error(f"Preview failed: {describe_exception(exc)}", "snapshot")
            return
        if self._error_from == "snapshot":
            self._show_error(None)
        self._gen = self._worker.set_scene(scene)
        self._drop_cache()
        # The worker's `sceneReady` brings the exact frame times; until then an estimate. A new clip
        # length or frame rate keeps the play head at the same place in the clip.
        old_n = len(self._times)
        self._clip_seconds = float(scene.seconds)
        fps = max(1.0, float(scene.fps))
        n = max(1, round(self._clip_seconds * fps))
        self._times = [self._clip_seconds * i / n for i in range(n)]
        if n != old_n:
            self._index = round(self._index * (n - 1) / max(1, old_n - 1))
        self._trajectories = [
            (QColor(*r.color), [(x / project.size[0], y / project.size[1]) for x, y in r.trajectory])
            for r in project.regions
            if r.visible and len(r.trajectory) >= 2
        ]
        self._sync_slider()
        self._go_to(self._index)

    @Slot(int, list)
    def _on_scene_ready(self, gen: int, times: list) -> None:
        if gen != self._gen or not times:
            return
        self._times = [float(t) for t in times]
        self._sync_slider()
        if self._index >= len(self._times):
            self._go_to(len(self._times) - 1)
        else:
            self._update_time_label()

    # ----- frames ---------------------------------------------------------------------------------
    def _go_to(self, index: int) -> None:
        if self._project is None:
            return
        self._index = max(0, min(int(index), len(self._times) - 1))
        self._sync_slider()
        self._update_time_label()
        self._update_overlay()
        image = self._cache.get((self._gen, self._index))
        if image is not None:
            self._cache.move_to_end((self._gen, self._index))
            self._display(self._index, image)
        self._request_around(self._index)

    def _request_around(self, index: int) -> None:
        """Ask for the frame at `index` and a few after it that are not cached, most urgent first."""
        if self._worker is None or self._gen == 0:
            return
        n = len(self._times)
        ahead = min(n, AHEAD_PLAYING if self._playing else 2)
        order = []
        for k in range(ahead):
            i = index + k
            if i >= n:
                if not self.loop_check.isChecked():
                    break
                i %= n
            if (self._gen, i) not in self._cache:
                order.append(i)
        if not order:
            return
        new = [i for i in order if i not in self._pending]
        self._pending.update(new)
        self._worker.request(self._gen, order, new)

    @Slot(int, int, QImage)
    def _on_frame(self, gen: int, index: int, image: QImage) -> None:
        if gen != self._gen:
            return
        self._pending.discard(index)
        self._cache_put((gen, index), image)
        if self._error_from == "worker":
            self._show_error(None)
        if index == self._index and self._shown != (gen, index):
            self._display(index, image)

    @Slot(int, list)
    def _on_dropped(self, gen: int, indices: list) -> None:
        if gen == self._gen:
            self._pending.difference_update(indices)

    def _display(self, index: int, image: QImage) -> None:
        self._shown = (self._gen, index)
        self.view.set_image(image)
        self.frameShown.emit(index)

    def _cache_put(self, key: tuple[int, int], image: QImage) -> None:
        if key in self._cache:
            return
        self._cache[key] = image
        self._cache_bytes += image.sizeInBytes()
        while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.sizeInBytes()

    def _drop_cache(self) -> None:
        self._cache.clear()
        self._cache_bytes = 0
        self._pending.clear()

    # ----- playback -------------------------------------------------------------------------------
    @Slot()
    def _on_tick(self) -> None:
        if not self._playing or self._project is None:
            return
        if self.shown_index() != self._index:
            self._request_around(self._index)  # (again, if it was dropped) and wait rather than skip
            return
        nxt = self._index + 1
        if nxt >= len(self._times):
            if not self.loop_check.isChecked():
                self.pause()
                return
            nxt = 0
        self._go_to(nxt)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        if value != self._index:
            self._go_to(value)

    # ----- settings (stored in project.clip; the window makes each change an undo step) ----------
    def _length_field(self) -> str:
        """The clip setting the length combo edits: a loop lasts `loop_seconds`, other clips `seconds`."""
        return "loop_seconds" if self._project is not None and self._project.clip.mode == ClipMode.LOOP else "seconds"

    def _sync_controls(self) -> None:
        clip = self._project.clip
        for w in (self.mode_combo, self.seconds_combo, self.fps_spin):
            w.blockSignals(True)
        try:
            if clip.mode not in PREVIEW_MODES:
                clip.mode = PREVIEW_MODES[0]
            self.mode_combo.setCurrentText(clip.mode)
            self._sync_length()
            # Clamped for the control only: an out-of-bounds clip is refused (one line) when the scene is built.
            fps = clip.fps if limits.fps_problem(clip.fps) is None else FPS_RANGE[1]
            self.fps_spin.setValue(int(fps))
        finally:
            for w in (self.mode_combo, self.seconds_combo, self.fps_spin):
                w.blockSignals(False)

    def clip_changed(self) -> None:
        """The project's clip settings changed (an edit, undo or redo): show them and render again."""
        if self._project is None:
            return
        self._sync_controls()
        if self._playing:
            self._play_timer.setInterval(round(1000 / max(1, self._fps())))
        self.schedule_update()

    def _write_clip(self, field: str, value: Any) -> None:
        if self._project is not None:
            setattr(self._project.clip, field, value)
            self.clip_changed()

    def _sync_length(self) -> None:
        field = self._length_field()
        seconds = getattr(self._project.clip, field)
        if limits.seconds_problem(seconds) is not None:
            return  # never offered as a choice; the scene refuses it with the reason
        seconds = float(seconds)
        self.seconds_combo.setToolTip("Loop length" if field == "loop_seconds" else "Clip length")
        idx = self.seconds_combo.findData(seconds)
        if idx < 0:
            self.seconds_combo.addItem(f"{seconds:g} s", seconds)
            idx = self.seconds_combo.count() - 1
        blocked = self.seconds_combo.blockSignals(True)
        self.seconds_combo.setCurrentIndex(idx)
        self.seconds_combo.blockSignals(blocked)

    def _fps(self) -> int:
        return int(self._project.clip.fps) if self._project is not None else self.fps_spin.value()

    @Slot(str)
    def _on_mode(self, mode: str) -> None:
        if self._project is not None and mode and mode != self._project.clip.mode:
            self.clip_setter("mode", mode)

    @Slot(int)
    def _on_seconds(self, _index: int) -> None:
        if self._project is None:
            return
        field, seconds = self._length_field(), float(self.seconds_combo.currentData())
        if seconds != getattr(self._project.clip, field):
            self.clip_setter(field, seconds)

    @Slot(int)
    def _on_fps(self, fps: int) -> None:
        if self._project is not None and int(fps) != self._project.clip.fps:
            self.clip_setter("fps", int(fps))

    # ----- feedback -------------------------------------------------------------------------------
    @Slot(int, str)
    def _on_failed(self, gen: int, message: str) -> None:
        if gen != self._gen:
            return
        self.pause()
        self._show_error(f"Preview failed: {message}", "worker")

    @Slot(int, list)
    def _on_warnings(self, gen: int, warnings: list) -> None:
        if gen != self._gen:
            return
        self.warning_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warning_label.setVisible(bool(warnings))

    def _show_error(self, message: str | None, source: str | None = None) -> None:
        self._error_from = source if message else None
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def _sync_slider(self) -> None:
        self.slider.blockSignals(True)
        try:
            self.slider.setRange(0, max(0, len(self._times) - 1))
            self.slider.setPageStep(max(1, len(self._times) // 10))
            self.slider.setValue(self._index)
        finally:
            self.slider.blockSignals(False)

    def _update_time_label(self) -> None:
        t = self._times[min(self._index, len(self._times) - 1)] if self._project is not None else 0.0
        total = self._clip_seconds if self._project is not None else 0.0
        self.time_label.setText(f"{t:.2f} / {total:.2f} s")

    def _update_play_button(self) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if self._playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if self._playing else "Play")

    @Slot()
    def _update_overlay(self) -> None:
        if not self.trajectories_check.isChecked() or not self._trajectories:
            self.view.set_overlay([], [])
            return
        markers = []
        if self._project is not None and self._project.clip.mode == ClipMode.KLING and self._clip_seconds > 0:
            t = self._times[min(self._index, len(self._times) - 1)]
            u = min(1.0, t / self._clip_seconds)
            markers = [(color, position_at(points, u)) for color, points in self._trajectories]
        self.view.set_overlay(self._trajectories, markers)
