"""The score trend chart above the history table (``services.trend``).

Each inspection is a dot at its score on the 0-1 scale, oldest left, coloured by its verdict at
the current sensitivity and shaped by it too (OK round, REVIEW a diamond, NG a square), for
colour-blind eyes; the threshold (0.5) is a dashed line inside the grey zone's band, a
dark line follows the rolling median, and a dotted vertical line marks where the references
changed.  Hovering a dot names the part; clicking it opens it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop.images import verdict_colour
from engine.calibration import VERDICT_NG, VERDICT_REVIEW, grey_zone_normalised
from services.local_time import local_text
from services.trend import ScoreTrend

LEFT, RIGHT, TOP, BOTTOM = 34, 12, 22, 20
DOT_RADIUS = 3.0
PICK_DISTANCE = 7.0
THRESHOLD_COLOUR = QColor("#b00020")
MEDIAN_COLOUR = QColor("#1f3b73")
BAND_COLOUR = QColor(0, 0, 0, 22)
CHANGE_COLOUR = QColor("#7a7a7a")


class TrendChart(QWidget):
    """Scores of the history filter's newest parts over time; ``inspection_clicked`` gives a dot's inspection id."""

    inspection_clicked = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.trend = ScoreTrend()
        self.sensitivity = 0.5
        self._labels: list[tuple[str, float]] = []
        self._medians: list[float | None] = []
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)

    def show_trend(self, trend: ScoreTrend, sensitivity: float) -> None:
        """Draw ``trend`` labelled at ``sensitivity``."""
        self.trend, self.sensitivity = trend, sensitivity
        self._labels = trend.labels(sensitivity)
        self._medians = trend.rolling_median(sensitivity)
        self.setToolTip("")
        self.update()

    def verdicts(self) -> list[str]:
        """The verdict each dot is coloured by, oldest first."""
        return [verdict for verdict, _ in self._labels]

    def title(self) -> str:
        """What the chart shows, in words."""
        shown, total = len(self.trend.samples), self.trend.total
        if not shown:
            return "Score trend: no inspections match the filter"
        which = f"the newest {shown} of {total}" if total > shown else f"{shown}"
        return (f"Score trend of {which} inspection(s), oldest left; dark line: median of the last "
                f"{self.trend.median_window}; dotted: references changed")

    def plot_area(self) -> QRectF:
        """Where the dots go, in widget coordinates."""
        return QRectF(LEFT, TOP, max(self.width() - LEFT - RIGHT, 1), max(self.height() - TOP - BOTTOM, 1))

    def dot_position(self, index: int) -> QPointF:
        """The centre of the ``index``-th dot (oldest first)."""
        area = self.plot_area()
        count = len(self._labels)
        x = area.left() + (area.width() * (index + 0.5) / count if count else 0.0)
        return QPointF(x, self._y(self._labels[index][1]))

    def inspection_at(self, position: QPointF) -> int | None:
        """The inspection whose dot lies nearest ``position``, if within ``PICK_DISTANCE`` pixels."""
        index = self._index_at(position)
        return None if index is None else self.trend.samples[index].inspection_id

    def _index_at(self, position: QPointF) -> int | None:
        best, best_distance = None, PICK_DISTANCE
        for index in range(len(self.trend.samples)):
            dot = self.dot_position(index)
            distance = ((dot.x() - position.x()) ** 2 + (dot.y() - position.y()) ** 2) ** 0.5
            if distance <= best_distance:
                best, best_distance = index, distance
        return best

    def _y(self, score: float) -> float:
        area = self.plot_area()
        inset = DOT_RADIUS * 1.3 + 1  # markers at 0 or 1 stay whole inside the frame
        return area.bottom() - inset - (area.height() - 2 * inset) * min(max(score, 0.0), 1.0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Axes, grey zone, threshold, reference changes, dots and the rolling median."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = self.plot_area()
        palette_text = self.palette().text().color()
        painter.setPen(palette_text)
        painter.drawText(QRectF(LEFT, 2, self.width() - LEFT - RIGHT, TOP - 4),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title())
        low, high = grey_zone_normalised()
        painter.fillRect(QRectF(area.left(), self._y(high), area.width(), self._y(low) - self._y(high)), BAND_COLOUR)
        painter.setPen(QPen(THRESHOLD_COLOUR, 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(area.left(), self._y(0.5)), QPointF(area.right(), self._y(0.5)))
        painter.setPen(palette_text)
        painter.drawRect(area)
        for value in (0.0, 0.5, 1.0):
            painter.drawText(QRectF(0, self._y(value) - 8, LEFT - 4, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.1f}")
        samples = self.trend.samples
        if samples:
            dates = local_text(samples[0].created, seconds=False), local_text(samples[-1].created, seconds=False)
            painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), BOTTOM - 2),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, dates[0])
            painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), BOTTOM - 2),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, dates[1])
        painter.setPen(QPen(CHANGE_COLOUR, 1, Qt.PenStyle.DotLine))
        for index in self.trend.bank_changes():
            x = (self.dot_position(index - 1).x() + self.dot_position(index).x()) / 2
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        painter.setPen(Qt.PenStyle.NoPen)
        for index, (verdict, _) in enumerate(self._labels):
            painter.setBrush(verdict_colour(verdict))
            _draw_marker(painter, self.dot_position(index), verdict)
        path = QPainterPath()
        for index, median in enumerate(self._medians):
            if median is None:
                continue
            point = QPointF(self.dot_position(index).x(), self._y(median))
            if path.elementCount():
                path.lineTo(point)
            else:
                path.moveTo(point)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(MEDIAN_COLOUR, 2))
        painter.drawPath(path)
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Name the part under the mouse."""
        index = self._index_at(event.position())
        if index is None:
            QToolTip.hideText()
            return
        sample, (verdict, score) = self.trend.samples[index], self._labels[index]
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"#{sample.inspection_id}  {local_text(sample.created)}\n{verdict}, score {score:.2f}\n"
                          "Click to open", self)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Open the part whose dot was clicked."""
        if event.button() == Qt.MouseButton.LeftButton:
            inspection_id = self.inspection_at(event.position())
            if inspection_id is not None:
                self.inspection_clicked.emit(inspection_id)
                return
        super().mousePressEvent(event)


def _draw_marker(painter: QPainter, centre: QPointF, verdict: str) -> None:
    """A verdict's marker: OK round, REVIEW a diamond, NG a square (``DOT_RADIUS`` across half)."""
    r = DOT_RADIUS
    if verdict == VERDICT_NG:
        painter.drawRect(QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r))
    elif verdict == VERDICT_REVIEW:
        d = r * 1.3
        painter.drawPolygon(QPolygonF([QPointF(centre.x(), centre.y() - d), QPointF(centre.x() + d, centre.y()),
                                       QPointF(centre.x(), centre.y() + d), QPointF(centre.x() - d, centre.y())]))
    else:
        painter.drawEllipse(centre, r, r)
