"""Small line icons for the pump tile, drawn with QPainter in a given colour.

Drawn rather than shipped as files: they take the theme's text colour (light and dark alike),
need no SVG plugin in the bundle, and stay sharp at any device pixel ratio.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

SIZE = 18


def _canvas(ratio: float) -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(round(SIZE * ratio), round(SIZE * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def _pen(color: QColor, width: float = 1.6) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def icon(name: str, color: QColor | str, *, level: int = 4, ratio: float = 2.0) -> QPixmap:
    """`name`: water, pump, calendar, clock, wifi (with `level` 0-4 bars filled), uptime."""
    color = QColor(color)
    pixmap, p = _canvas(ratio)
    p.setPen(_pen(color))
    if name == "water":  # a drop
        path = QPainterPath(QPointF(9, 2))
        path.cubicTo(QPointF(13, 7), QPointF(15, 10), QPointF(15, 12))
        path.arcTo(QRectF(3, 6, 12, 11), 0, -180)
        path.cubicTo(QPointF(3, 10), QPointF(5, 7), QPointF(9, 2))
        p.setBrush(color)
        p.drawPath(path)
    elif name == "pump":  # a housing with a three-blade impeller
        p.drawEllipse(QRectF(2, 2, 14, 14))
        for angle in (0, 120, 240):
            p.save()
            p.translate(9, 9)
            p.rotate(angle)
            p.drawLine(QPointF(0, 0), QPointF(0, -5))
            p.drawLine(QPointF(0, -5), QPointF(2.5, -4))
            p.restore()
    elif name == "calendar":
        p.drawRoundedRect(QRectF(2.5, 4, 13, 11.5), 1.5, 1.5)
        p.drawLine(QPointF(2.5, 7.5), QPointF(15.5, 7.5))
        p.drawLine(QPointF(6, 2), QPointF(6, 5))
        p.drawLine(QPointF(12, 2), QPointF(12, 5))
    elif name == "clock":
        p.drawEllipse(QRectF(2, 2, 14, 14))
        p.drawLine(QPointF(9, 9), QPointF(9, 5))
        p.drawLine(QPointF(9, 9), QPointF(12, 11))
    elif name == "uptime":  # a power symbol
        p.drawArc(QRectF(3, 4, 12, 12), 120 * 16, -240 * 16)
        p.drawLine(QPointF(9, 2), QPointF(9, 9))
    elif name == "wifi":  # four rising bars, `level` of them filled
        faint = QColor(color)
        faint.setAlphaF(0.3)
        for index in range(4):
            height = 4 + index * 3.5
            rect = QRectF(2 + index * 4, 16 - height, 2.6, height)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color if index < level else faint)
            p.drawRoundedRect(rect, 0.8, 0.8)
    else:
        p.end()
        raise ValueError(f"no icon {name!r}")
    p.end()
    return pixmap
