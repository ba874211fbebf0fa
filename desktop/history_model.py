"""The history as a Qt table model over paged database queries, with thumbnails loaded in the background.

Rows are fetched a page at a time as the view scrolls (``canFetchMore``/``fetchMore``).  The
verdict column is computed from the stored raw score and the calibration of the bank that
produced it, at the current sensitivity, so the sensitivity slider re-labels the history live.
The score trend of the same filter (``services.trend``) is read with each query, for the chart.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPixmap

from db import repository as repo
from desktop.images import verdict_colour
from desktop.region_sizes import largest_length
from desktop.thumbnails import ThumbnailLoader
from engine.calibration import Calibration, relabel
from engine.facts import FactSheet
from services.local_time import local_text, zone_label
from services.results import read_calibrations
from services.trend import ScoreTrend, load_trend
from services.workspace import Workspace

PAGE_SIZE = 100
# Thumbnails kept for the rows seen most recently (about 9 kB each); older ones are read again when shown.
MAX_PIXMAPS = 2000
# Shown after the file name of an inspection whose stored photo was removed (db/retention.py).
REMOVED_NOTE = "  (photo removed to free disk space)"
COLUMNS = ("", "#", "Time", "Image", "Lot", "Verdict", "Score", "Regions", "Largest", "Review")
VERDICT_COLUMN, SCORE_COLUMN = COLUMNS.index("Verdict"), COLUMNS.index("Score")
Index = QModelIndex | QPersistentModelIndex


@dataclass
class HistoryRow:
    """One inspection as the history table shows it."""

    id: int
    created: str
    source: str
    lot: str
    raw_score: float
    score: float
    verdict: str
    regions: int
    largest: str  # the largest region's length (``desktop.region_sizes``); "" without regions
    review: str
    bank_id: int | None
    image_path: str


class HistoryModel(QAbstractTableModel):
    """Paged, filterable inspections of the history; ``trend_changed`` when the trend or its labels change."""

    trend_changed = Signal()

    def __init__(self, workspace: Workspace, thumbnails: ThumbnailLoader) -> None:
        super().__init__()
        self.workspace = workspace
        self.criteria = repo.HistoryFilter()
        self.rows: list[HistoryRow] = []
        self.total = 0
        self.sensitivity = 0.5
        self._calibrations: dict[int, Calibration | None] = {}
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self.trend = ScoreTrend()
        self.thumbnails = thumbnails
        thumbnails.loaded.connect(self._thumbnail_loaded)

    def set_filter(self, criteria: repo.HistoryFilter) -> None:
        """Query again with new criteria (first page)."""
        self.beginResetModel()
        self.criteria = replace(criteria)
        self.rows = []
        with self.workspace.database.read() as session:
            self.total = repo.history_count(session, self.criteria)
            self.trend = load_trend(session, self.criteria, calibrations=self._calibrations, total=self.total)
        self._load_page()
        self.endResetModel()
        self.trend_changed.emit()

    def refresh(self) -> None:
        """Reload with the current criteria."""
        self.set_filter(self.criteria)

    def forget_calibrations(self) -> None:
        """Re-read the banks' calibrations (after a refinement) and re-label the rows with them."""
        self._calibrations.clear()
        self.refresh()

    def _load_page(self) -> list[HistoryRow]:
        with self.workspace.database.read() as session:
            records = repo.history(session, self.criteria, offset=len(self.rows), limit=PAGE_SIZE)
            page = [HistoryRow(id=r.id, created=local_text(r.created_at),
                               source=r.source_path + (REMOVED_NOTE if r.image_removed_at is not None else ""),
                               lot=r.lot,
                               raw_score=r.raw_score, score=r.score, verdict=r.verdict,
                               regions=len(r.facts.get("regions", [])), largest=_largest(r.facts),
                               review=r.reviews[-1].verdict if r.reviews else "",
                               bank_id=r.bank_id, image_path=str(self.workspace.store.path(r.image_key)))
                    for r in records]
            read_calibrations(session, (row.bank_id for row in page), self._calibrations)
        self.rows.extend(page)
        return page

    def loaded_ids(self) -> list[int]:
        """Inspection ids of the rows fetched so far, in the table's order."""
        return [row.id for row in self.rows]

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008 (Qt API)
        """More rows in the database than loaded."""
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008 (Qt API)
        """Load the next page."""
        if parent.isValid():
            return
        start = len(self.rows)
        count = min(PAGE_SIZE, self.total - start)
        if count <= 0:
            return
        self.beginInsertRows(QModelIndex(), start, start + count - 1)
        page = self._load_page()
        del self.rows[start + len(page):]
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        """Loaded rows."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        """Fixed columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """Column titles; the time's says which clock it follows."""
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section] == "Time":
            return f"This workstation's local time ({zone_label()}); the history stores UTC"
        return None

    def verdict_of(self, row: HistoryRow) -> tuple[str, float]:
        """(verdict, normalised score) at the current sensitivity."""
        calibration = self._calibrations.get(row.bank_id) if row.bank_id else None
        return relabel(calibration, row.raw_score, row.verdict, row.score, self.sensitivity)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell contents."""
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            if row.id not in self._pixmaps:
                self._pixmaps[row.id] = QPixmap()
                self.thumbnails.request(("history", row.id), Path(row.image_path))
                while len(self._pixmaps) > MAX_PIXMAPS:
                    self._pixmaps.popitem(last=False)
            self._pixmaps.move_to_end(row.id)
            pixmap = self._pixmaps[row.id]
            return None if pixmap.isNull() else pixmap
        if role == Qt.ItemDataRole.DisplayRole:
            verdict, score = self.verdict_of(row)
            return ["", row.id, row.created, row.source, row.lot, verdict, f"{score:.2f}", row.regions, row.largest,
                    row.review][column]
        if role == Qt.ItemDataRole.ForegroundRole and column == VERDICT_COLUMN:
            return verdict_colour(self.verdict_of(row)[0])
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def set_sensitivity(self, sensitivity: float) -> None:
        """Re-label the verdicts (no inference, no query)."""
        self.sensitivity = sensitivity
        if self.rows:
            self.dataChanged.emit(self.index(0, VERDICT_COLUMN), self.index(len(self.rows) - 1, SCORE_COLUMN))
        self.trend_changed.emit()

    def _thumbnail_loaded(self, key: object, image: object) -> None:
        if not (isinstance(key, tuple) and key[0] == "history" and key[1] in self._pixmaps):
            return  # another view's, or dropped from the cache while it loaded
        self._pixmaps[key[1]] = QPixmap.fromImage(image).scaled(48, 48, Qt.AspectRatioMode.KeepAspectRatio)
        for position, row in enumerate(self.rows):
            if row.id == key[1]:
                self.dataChanged.emit(self.index(position, 0), self.index(position, 0))
                break


def _largest(facts: dict[str, Any]) -> str:
    """The stored fact sheet's largest region length as the table shows it."""
    largest = largest_length(FactSheet.from_dict(facts)) if facts.get("regions") else None
    return largest[0] if largest else ""
