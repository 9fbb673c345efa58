"""The app icon drawn in code until `resources/` ships the artwork (issue 7)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap


def app_icon(size: int = 64) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QBrush(QColor("#1565c0")))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(QRectF(2, 2, size - 4, size - 4), size * 0.2, size * 0.2)
    painter.setPen(QPen(QColor("white"), size * 0.07))
    for row in (0.42, 0.62):
        path = QPainterPath(QPointF(size * 0.18, size * row))
        path.cubicTo(
            QPointF(size * 0.38, size * (row - 0.12)),
            QPointF(size * 0.62, size * (row + 0.12)),
            QPointF(size * 0.82, size * row),
        )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    painter.end()
    return QIcon(pixmap)
