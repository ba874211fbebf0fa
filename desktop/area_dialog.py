"""The inspection-area dialog: drag a rectangle on a reference image to choose what is scored.

Outside the rectangle (a fixture, a label, the edge of a tray) nothing is flagged.  The area is
kept as fractions of the image, so it holds for any resolution of the same camera view.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.area import MIN_SIDE, Area

CANVAS_SIDE = 560


class AreaCanvas(QWidget):
    """The reference image with the chosen rectangle; drag with the left button to draw a new one."""

    def __init__(self, image: QImage, area: Area | None) -> None:
        super().__init__()
        self.pixmap = QPixmap.fromImage(image).scaled(CANVAS_SIDE, CANVAS_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation)
        self.setFixedSize(self.pixmap.size())
        self.area: Area | None = area
        self._anchor: QPointF | None = None

    def _fraction(self, point: QPointF) -> QPointF:
        return QPointF(min(max(point.x() / self.width(), 0.0), 1.0), min(max(point.y() / self.height(), 0.0), 1.0))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._anchor = self._fraction(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._anchor is not None:
            self.set_corners(self._anchor, self._fraction(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._anchor is not None:
            self.set_corners(self._anchor, self._fraction(event.position()))
            self._anchor = None

    def set_corners(self, first: QPointF, second: QPointF) -> None:
        """Make the rectangle spanned by two corners (fractions) the area; too small a drag keeps the old one."""
        left, right = sorted((first.x(), second.x()))
        top, bottom = sorted((first.y(), second.y()))
        if right - left >= MIN_SIDE and bottom - top >= MIN_SIDE:
            self.area = (round(left, 4), round(top, 4), round(right, 4), round(bottom, 4))
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.pixmap)
        if self.area is not None:
            left, top, right, bottom = self.area
            rect = QRectF(left * self.width(), top * self.height(),
                          (right - left) * self.width(), (bottom - top) * self.height())
            shade = QColor(0, 0, 0, 140)
            whole = QRectF(self.rect())
            painter.fillRect(QRectF(0, 0, whole.width(), rect.top()), shade)
            painter.fillRect(QRectF(0, rect.bottom(), whole.width(), whole.height() - rect.bottom()), shade)
            painter.fillRect(QRectF(0, rect.top(), rect.left(), rect.height()), shade)
            painter.fillRect(QRectF(rect.right(), rect.top(), whole.width() - rect.right(), rect.height()), shade)
            painter.setPen(QPen(QColor("#00e0ff"), 2, Qt.PenStyle.DashLine))
            painter.drawRect(rect)
        painter.end()


class AreaDialog(QDialog):
    """Choose the inspection area on a reference image; ``area()`` is None for the whole image."""

    def __init__(self, image: QImage, area: Area | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inspection area")
        self.canvas = AreaCanvas(image, area)
        whole = QPushButton("Whole image")
        whole.clicked.connect(self.use_whole_image)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(whole, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        hint = QLabel("Drag a rectangle around the part. Outside it (fixtures, labels, the tray) nothing is "
                      "flagged. The reference bank is rebuilt with the new area at the next build or inspection.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(buttons)

    def use_whole_image(self) -> None:
        """Score the whole image again."""
        self.canvas.area = None
        self.canvas.update()

    def area(self) -> Area | None:
        """The chosen rectangle as fractions (left, top, right, bottom), or None for the whole image."""
        return self.canvas.area
