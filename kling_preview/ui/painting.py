"""Drawing helpers of the canvas: a proxy image's visible part, a trajectory as an arrow.

Plain functions on a QPainter, so `paintEvent` stays short and each drawing rule sits in one place.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF


def draw_part(p: QPainter, image: QImage, sx: float, sy: float, ix0: int, iy0: int, ix1: int, iy1: int) -> None:
    """Draw the part of a proxy `image` (sx, sy proxy px per image px) covering image box ix0..ix1."""
    px0, py0 = math.floor(ix0 * sx), math.floor(iy0 * sy)
    px1 = min(image.width(), math.ceil(ix1 * sx))
    py1 = min(image.height(), math.ceil(iy1 * sy))
    if px1 <= px0 or py1 <= py0:
        return
    source = QRectF(px0, py0, px1 - px0, py1 - py0)
    target = QRectF(px0 / sx, py0 / sy, (px1 - px0) / sx, (py1 - py0) / sy)
    p.drawImage(target, image, source)


def draw_arrow(p: QPainter, pts: list[QPointF], color: QColor, bold: bool) -> None:
    """The path as a polyline with an arrow head at its end and a dot at its start."""
    width = 3.0 if bold else 2.0
    size = 14.0 if bold else 11.0
    head: QPolygonF | None = None
    line = list(pts)
    tip = pts[-1]
    base = next((q for q in reversed(pts[:-1]) if (q - tip).manhattanLength() > 0.5), None)
    if base is not None:
        dx, dy = tip.x() - base.x(), tip.y() - base.y()
        length = math.hypot(dx, dy)
        ux, uy = dx / length, dy / length
        back = QPointF(tip.x() - ux * size, tip.y() - uy * size)
        left = QPointF(back.x() - uy * size * 0.5, back.y() + ux * size * 0.5)
        right = QPointF(back.x() + uy * size * 0.5, back.y() - ux * size * 0.5)
        head = QPolygonF([tip, left, right])
        if length > size:
            line[-1] = back  # the line ends under the head, so its cap never pokes past the tip
    path = QPainterPath(line[0])
    for q in line[1:]:
        path.lineTo(q)
    outline = QPen(QColor(0, 0, 0, 170), width + 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)  # fmt: skip
    pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for pen_ in (outline, pen):
        p.setPen(pen_)
        p.drawPath(path)
    p.setPen(QPen(QColor(0, 0, 0, 200), 1.5))
    p.setBrush(color)
    p.drawEllipse(pts[0], 4.5, 4.5)
    if head is not None:
        p.setPen(QPen(QColor(0, 0, 0, 200), 1.2))
        p.drawPolygon(head)


def draw_empty_hint(p: QPainter, area: QRect) -> None:
    """What an empty canvas says: how to start."""
    p.setPen(QColor(200, 200, 205))
    font = p.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    p.setFont(font)
    p.drawText(area.adjusted(20, 0, -20, -30), Qt.AlignmentFlag.AlignCenter,
               "Open an image or a project (Ctrl+O)\nor drop a file here")  # fmt: skip
    font.setPointSizeF(font.pointSizeF() / 1.4)
    p.setFont(font)
    p.setPen(QColor(140, 140, 148))
    p.drawText(area.adjusted(20, 70, -20, 0), Qt.AlignmentFlag.AlignCenter, "File > Open Sample Project to try it")
