"""The tool bar's own widgets: painted tool icons and the log-scale brush size slider."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSlider, QWidget

from . import tools as T


def tool_icon(name: str, size: int = 28) -> QIcon:
    """Small painted icons, so the app needs no image assets for its tools."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size
        ink = QColor(230, 230, 235)
        if name in (T.ToolName.MOTION_BRUSH, T.ToolName.STATIC_BRUSH):
            fill = QColor(255, 99, 71) if name == T.ToolName.MOTION_BRUSH else QColor(120, 128, 145)
            p.setPen(QPen(ink, 1.5))
            p.setBrush(fill)
            p.drawEllipse(QPointF(s * 0.42, s * 0.58), s * 0.28, s * 0.28)
            p.setPen(QPen(ink, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(QPointF(s * 0.6, s * 0.4), QPointF(s * 0.9, s * 0.1))
            if name == T.ToolName.STATIC_BRUSH:
                p.setPen(QPen(QColor(240, 240, 245), 1.2))
                for k in (-0.15, 0.0, 0.15):
                    p.drawLine(QPointF(s * (0.25 + k), s * 0.76), QPointF(s * (0.45 + k), s * 0.4))
        elif name == T.ToolName.ERASER:
            p.setPen(QPen(ink, 1.5))
            p.setBrush(QColor(240, 170, 190))
            body = QPolygonF(
                [QPointF(s * 0.15, s * 0.62), QPointF(s * 0.5, s * 0.22), QPointF(s * 0.85, s * 0.52),
                 QPointF(s * 0.5, s * 0.9)]
            )  # fmt: skip
            p.drawPolygon(body)
            p.drawLine(QPointF(s * 0.32, s * 0.42), QPointF(s * 0.68, s * 0.72))
        elif name == T.ToolName.TRAJECTORY:
            path = QPainterPath(QPointF(s * 0.12, s * 0.82))
            path.cubicTo(QPointF(s * 0.3, s * 0.2), QPointF(s * 0.6, s * 0.9), QPointF(s * 0.84, s * 0.22))
            p.setPen(QPen(QColor(65, 155, 255), 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setPen(QPen(ink, 1.2))
            p.setBrush(QColor(65, 155, 255))
            p.drawPolygon(
                QPolygonF([QPointF(s * 0.92, s * 0.1), QPointF(s * 0.72, s * 0.2), QPointF(s * 0.88, s * 0.34)])
            )
            p.setBrush(ink)
            p.drawEllipse(QPointF(s * 0.12, s * 0.82), 2.5, 2.5)
        elif name == T.ToolName.MAGIC_WAND:
            p.setPen(QPen(ink, 2.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(QPointF(s * 0.14, s * 0.88), QPointF(s * 0.6, s * 0.42))
            star = QColor(255, 214, 90)
            p.setPen(QPen(star, 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            cx, cy, r = s * 0.74, s * 0.27, s * 0.16
            for dx, dy in ((1, 0), (0, 1), (0.7, 0.7), (0.7, -0.7)):
                p.drawLine(QPointF(cx - dx * r, cy - dy * r), QPointF(cx + dx * r, cy + dy * r))
    finally:
        p.end()
    return QIcon(pix)


class BrushSizeSlider(QSlider):
    """A slider on a log scale, so 1 px and 2000 px brushes are both easy to reach."""

    STEPS = 1000

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(0, self.STEPS)
        self.setFixedWidth(160)

    def size_value(self) -> int:
        frac = self.value() / self.STEPS
        return int(round(math.exp(frac * math.log(T.MAX_BRUSH))))

    def set_size_value(self, size: int) -> None:
        frac = math.log(max(1, size)) / math.log(T.MAX_BRUSH)
        self.setValue(int(round(frac * self.STEPS)))
