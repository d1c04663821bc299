"""The preview played on the canvas (P): the motion at the canvas's size, overlays hidden, before/after split.

Why on the canvas: the Preview dock is a few hundred pixels wide on a laptop, too small to judge motion.
The frames are the preview panel's own (its worker renders them, `frameShown` says when one is on
screen), drawn over the still's pixel rectangle, so there is one render engine and zoom and pan work as
when painting. With the split on (Shift+P), the still ("before") stays left of a line that a drag moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QImage, QPainter, QPen

if TYPE_CHECKING:
    from .main_window import MainWindow

SPLIT_START = 0.5  # where the before/after line starts, as a share of the image width


class CanvasPreview:
    """What the canvas shows in place of its overlays while the preview plays on it."""

    def __init__(self) -> None:
        self.on = False
        self.frame: QImage | None = None
        #: Share of the image width left of the before/after line, or None without a split.
        self.split: float | None = None

    def set_split_at(self, x: float, width: int) -> None:
        """Move the before/after line to image column `x`."""
        self.split = min(1.0, max(0.0, (x + 0.5) / max(1, width)))

    def draw_frame(self, p: QPainter, width: int, height: int) -> None:
        """The current frame over the still's pixel rectangle (the painter maps image px); the still
        stays visible left of the split."""
        if self.frame is None or self.frame.isNull():
            return
        left = 0.0 if self.split is None else self.split * width
        target = QRectF(left, 0, width - left, height)
        sx = self.frame.width() / width
        source = QRectF(left * sx, 0, (width - left) * sx, self.frame.height())
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(target, self.frame, source)

    def draw_split_line(self, p: QPainter, frame: QRectF) -> None:
        """The before/after line and its labels (widget px)."""
        if self.split is None:
            return
        x = frame.left() + self.split * frame.width()
        p.setPen(QPen(QColor(0, 0, 0, 180), 3))
        p.drawLine(QPointF(x, frame.top()), QPointF(x, frame.bottom()))
        p.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        p.drawLine(QPointF(x, frame.top()), QPointF(x, frame.bottom()))
        top = max(frame.top(), 0.0) + 6
        p.drawText(QRectF(x - 86, top, 80, 20), Qt.AlignmentFlag.AlignRight, "before")
        p.drawText(QRectF(x + 6, top, 80, 20), Qt.AlignmentFlag.AlignLeft, "after")


def attach(window: MainWindow) -> tuple[QAction, QAction]:
    """The View menu's "Play on Canvas" (P) and "Before / After Split" (Shift+P), wired to the canvas
    and the preview panel's frames."""
    canvas, panel = window.canvas, window.preview
    play = window._action("Play on &Canvas", None, ["P"], "Play the preview on the canvas, overlays hidden",
                          checkable=True)  # fmt: skip
    split = window._action("&Before / After Split", None, ["Shift+P"],
                           "On the canvas preview: the still left of a line you drag, the motion right of it",
                           checkable=True)  # fmt: skip

    def toggle_play(on: bool) -> None:
        canvas.set_preview(on, panel.current_image())
        if on and not panel.is_playing():
            panel.play()
        if not on:
            split.setChecked(False)

    def toggle_split(on: bool) -> None:
        if on and not play.isChecked():
            play.setChecked(True)  # toggles the preview on first
        canvas.preview.split = SPLIT_START if on else None
        canvas.update()

    play.toggled.connect(toggle_play)
    split.toggled.connect(toggle_split)
    panel.frameShown.connect(lambda _index: canvas.show_preview_frame(panel.current_image()))
    for menu in window.act_play.associatedObjects():
        if menu is not window and hasattr(menu, "insertActions"):
            after = menu.actions()
            index = after.index(window.act_play) + 1
            menu.insertActions(after[index] if index < len(after) else None, [play, split])
    return play, split
