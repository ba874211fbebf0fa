"""The inspection-area dialog: on a reference image, drag the rectangle that is scored, and the
rectangles inside it that are not (a printed date code that differs by design).

Outside the area (a fixture, a label, the edge of a tray) and inside an ignored rectangle nothing
is flagged, and the model sees only the area, so a part that fills a fraction of the photo is
inspected at the detail of the whole processing size.  Rectangles are kept as fractions of the
image, so they hold for any resolution of the same camera view.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.area import MIN_IGNORED_SIDE, MIN_SIDE, Area

CANVAS_SIDE = 560
AREA_COLOUR, IGNORED_COLOUR = QColor("#00e0ff"), QColor("#ff4060")


class AreaCanvas(QWidget):
    """The reference image with the area and the ignored rectangles; a left-button drag draws the
    area, or in ``ignore_mode`` adds an ignored rectangle."""

    def __init__(self, image: QImage, area: Area | None, ignored: tuple[Area, ...] = ()) -> None:
        super().__init__()
        self.pixmap = QPixmap.fromImage(image).scaled(CANVAS_SIDE, CANVAS_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation)
        self.setFixedSize(self.pixmap.size())
        self.area: Area | None = area
        self.ignored: list[Area] = list(ignored)
        self.ignore_mode = False
        self._anchor: QPointF | None = None
        self._dragged: Area | None = None

    def _fraction(self, point: QPointF) -> QPointF:
        return QPointF(min(max(point.x() / self.width(), 0.0), 1.0), min(max(point.y() / self.height(), 0.0), 1.0))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._anchor = self._fraction(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._anchor is not None:
            self._dragged = _spanned(self._anchor, self._fraction(event.position()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._anchor is not None:
            self.add_rectangle(_spanned(self._anchor, self._fraction(event.position())))
            self._anchor = self._dragged = None
            self.update()

    def add_rectangle(self, rectangle: Area) -> None:
        """Make ``rectangle`` the area, or add it to the ignored ones in ignore mode; too small a drag is dropped."""
        left, top, right, bottom = rectangle
        smallest = MIN_IGNORED_SIDE if self.ignore_mode else MIN_SIDE
        if right - left < smallest or bottom - top < smallest:
            return
        if self.ignore_mode:
            self.ignored.append(rectangle)
        else:
            self.area = rectangle
        self.update()

    def _rect(self, area: Area) -> QRectF:
        left, top, right, bottom = area
        return QRectF(left * self.width(), top * self.height(), (right - left) * self.width(),
                      (bottom - top) * self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.pixmap)
        if self.area is not None:
            rect, whole = self._rect(self.area), QRectF(self.rect())
            shade = QColor(0, 0, 0, 140)
            painter.fillRect(QRectF(0, 0, whole.width(), rect.top()), shade)
            painter.fillRect(QRectF(0, rect.bottom(), whole.width(), whole.height() - rect.bottom()), shade)
            painter.fillRect(QRectF(0, rect.top(), rect.left(), rect.height()), shade)
            painter.fillRect(QRectF(rect.right(), rect.top(), whole.width() - rect.right(), rect.height()), shade)
            painter.setPen(QPen(AREA_COLOUR, 2, Qt.PenStyle.DashLine))
            painter.drawRect(rect)
        for rectangle in self.ignored:
            painter.fillRect(self._rect(rectangle), QColor(IGNORED_COLOUR.red(), IGNORED_COLOUR.green(),
                                                            IGNORED_COLOUR.blue(), 90))
            painter.setPen(QPen(IGNORED_COLOUR, 2, Qt.PenStyle.DashLine))
            painter.drawRect(self._rect(rectangle))
        if self._dragged is not None:
            painter.setPen(QPen(IGNORED_COLOUR if self.ignore_mode else AREA_COLOUR, 1, Qt.PenStyle.DotLine))
            painter.drawRect(self._rect(self._dragged))
        painter.end()


def _spanned(first: QPointF, second: QPointF) -> Area:
    """The rectangle (fractions) with these two corners."""
    left, right = sorted((first.x(), second.x()))
    top, bottom = sorted((first.y(), second.y()))
    return round(left, 4), round(top, 4), round(right, 4), round(bottom, 4)


class AreaDialog(QDialog):
    """Choose the inspection area and the ignored rectangles on a reference image."""

    def __init__(self, image: QImage, area: Area | None, ignored: tuple[Area, ...] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inspection area")
        self.canvas = AreaCanvas(image, area, ignored)
        self.area_mode = QRadioButton("Draw the inspected area")
        self.ignore_mode = QRadioButton("Draw an ignored rectangle (date code, lot number)")
        self.area_mode.setChecked(True)
        modes = QButtonGroup(self)
        modes.addButton(self.area_mode)
        modes.addButton(self.ignore_mode)
        self.ignore_mode.toggled.connect(lambda on: setattr(self.canvas, "ignore_mode", on))
        whole = QPushButton("Whole image")
        whole.clicked.connect(self.use_whole_image)
        clear = QPushButton("Clear ignored")
        clear.clicked.connect(self.clear_ignored)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(whole, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.addButton(clear, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        hint = QLabel("Drag a rectangle around the part: outside it (fixtures, labels, the tray) nothing is flagged, "
                      "and the part is inspected in finer detail, since the model sees only the rectangle. "
                      "Ignored rectangles inside it cover marks that differ from part to part by design; draw them "
                      "closely around the mark. The reference bank is rebuilt at the next build or inspection.")
        hint.setWordWrap(True)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.area_mode)
        mode_row.addWidget(self.ignore_mode)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(mode_row)
        layout.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(buttons)

    def use_whole_image(self) -> None:
        """Score the whole image again (the ignored rectangles stay)."""
        self.canvas.area = None
        self.canvas.update()

    def clear_ignored(self) -> None:
        """Drop every ignored rectangle."""
        self.canvas.ignored = []
        self.canvas.update()

    def area(self) -> Area | None:
        """The inspected rectangle as fractions (left, top, right, bottom), or None for the whole image."""
        return self.canvas.area

    def ignored(self) -> tuple[Area, ...]:
        """The ignored rectangles as fractions."""
        return tuple(self.canvas.ignored)
