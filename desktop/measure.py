"""Measuring on the photo: drag a line across it and read its length in pixels, and in millimetres
when the inspection has a pixel size (``engine.physical``).

The scene's units are the photo's own pixels (``ResultView`` draws every photo at its full size),
so a line's length in the scene is its length in the photo, whatever the zoom.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsScene, QGraphicsSimpleTextItem

from engine.physical import format_mm

LINE_COLOUR = QColor("#ffd600")


def measured_length(pixels: float, mm_per_pixel: float | None) -> str:
    """A length of ``pixels`` photo pixels in words: "123 px" or "123 px = 6.2 mm"."""
    text = f"{pixels:.0f} px"
    return text if mm_per_pixel is None else f"{text} = {format_mm(pixels * mm_per_pixel)}"


class MeasureLine:
    """The line being measured and its length written beside it, on ``scene``; hidden until drawn."""

    def __init__(self, scene: QGraphicsScene) -> None:
        pen = QPen(LINE_COLOUR, 2)
        pen.setCosmetic(True)
        self.line = QGraphicsLineItem()
        self.line.setPen(pen)
        self.line.setZValue(3)
        self.label = QGraphicsSimpleTextItem(self.line)
        self.label.setBrush(QBrush(LINE_COLOUR))
        self.label.setPen(QPen(QColor("black")))
        self.label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        font = QFont("Sans", 12, QFont.Weight.Bold)
        self.label.setFont(font)
        scene.addItem(self.line)
        self.hide()

    def draw(self, start: QPointF, end: QPointF, mm_per_pixel: float | None) -> str:
        """Show the line from ``start`` to ``end`` with its length; returns the length in words."""
        line = QLineF(start, end)
        text = measured_length(line.length(), mm_per_pixel)
        self.line.setLine(line)
        self.label.setText(text)
        self.label.setPos((start + end) / 2)  # the middle stays on screen where an end may not
        self.line.show()
        return text

    def hide(self) -> None:
        """Take the line off the photo (another result, or measuring turned off)."""
        self.line.hide()

    @property
    def visible(self) -> bool:
        """Whether a measured line is on the photo."""
        return self.line.isVisible()

