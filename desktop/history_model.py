"""The history as a Qt table model over paged database queries, with thumbnails loaded in the background.

Rows are fetched a page at a time as the view scrolls (``canFetchMore``/``fetchMore``), each page
read on a thread of the model's own, so that a search of a long history never freezes the window.  The
verdict column is computed from the stored raw score and the calibration of the bank that
produced it, at the current sensitivity, so the sensitivity slider re-labels the history live.
The score trend of the same filter (``services.trend``) is read with each query, for the chart.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPixmap

from db import repository as repo
from desktop.background_reads import BackgroundReader
from desktop.images import verdict_colour
from desktop.thumbnails import ThumbnailLoader
from engine.calibration import Calibration, relabel
from services.history_rows import HistoryAnswer, HistoryRow, read_history
from services.local_time import zone_label
from services.trend import ScoreTrend
from services.workspace import Workspace

PAGE_SIZE = 100
# Thumbnails kept for the rows seen most recently (about 9 kB each); older ones are read again when shown.
MAX_PIXMAPS = 2000
COLUMNS = ("", "#", "Time", "Image", "Lot", "Verdict", "Score", "Regions", "Largest", "Review")
VERDICT_COLUMN, SCORE_COLUMN = COLUMNS.index("Verdict"), COLUMNS.index("Score")
IMAGE_COLUMN, REVIEW_COLUMN = COLUMNS.index("Image"), COLUMNS.index("Review")
Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """Paged, filterable inspections of the history, read off the GUI thread.

    ``set_filter`` and ``fetchMore`` queue a read on a reader thread of their own (so a history
    read never waits behind an inspection, nor the GUI behind a read); the rows shown stay until
    the answer arrives, and an answer to a filter since replaced is dropped.  ``loaded`` follows
    each answer put in, ``failed(message)`` a read that failed, ``trend_changed`` when the trend
    or its labels change.
    """

    trend_changed = Signal()
    loaded = Signal()
    failed = Signal(str)

    def __init__(self, workspace: Workspace, thumbnails: ThumbnailLoader) -> None:
        super().__init__()
        self.workspace = workspace
        self.criteria = repo.HistoryFilter()
        self.rows: list[HistoryRow] = []
        self.total = 0
        self.sensitivity = 0.5
        self._calibrations: dict[int, Calibration | None] = {}
        self._reread_calibrations = False
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self.trend = ScoreTrend()
        self.thumbnails = thumbnails
        thumbnails.loaded.connect(self._thumbnail_loaded)
        self._reader = BackgroundReader()
        self._generation = 0  # of the latest filter; an answer to an earlier one is dropped
        self._closed = False
        self._filtering = False  # a first page is being read
        self._fetching = False  # a next page is being read
        self._after_load: list[Callable[[], None]] = []
        self._reader.answered.connect(self._put_in)
        self._reader.failed.connect(self._report_failure)

    @property
    def loading(self) -> bool:
        """Whether a read is under way."""
        return self._filtering or self._fetching

    def set_filter(self, criteria: repo.HistoryFilter) -> None:
        """Read the first page of new criteria; the table changes when it arrives."""
        if self._closed:
            return
        self.criteria = replace(criteria)
        self._generation += 1
        self._filtering, self._fetching = True, False
        calibrations = {} if self._reread_calibrations else dict(self._calibrations)
        self._read(calibrations, None)

    def _read(self, calibrations: dict[int, Calibration | None], after_id: int | None) -> None:
        workspace, criteria, page_size = self.workspace, self.criteria, PAGE_SIZE
        self._reader.start(self._generation,
                           lambda: read_history(workspace, criteria, calibrations, page_size, after_id))

    def refresh(self) -> None:
        """Read again with the current criteria."""
        self.set_filter(self.criteria)

    def forget_calibrations(self) -> None:
        """Re-read the banks' calibrations (after a refinement) and re-label the rows with them."""
        self._reread_calibrations = True
        self.refresh()

    def when_loaded(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the next answer is in: at once when no read is under way and no page
        is left to fetch, else after the read under way or the next page."""
        if not self.loading and not self.canFetchMore():
            callback()
            return
        if callback not in self._after_load:  # N pressed twice while the page is read steps once
            self._after_load.append(callback)
        if not self.loading:
            self.fetchMore()

    def wait(self, msecs: int = 10000) -> None:
        """Wait for the reads asked for; their answers arrive with the next events."""
        self._reader.wait(msecs)

    def close(self, msecs: int = 10000) -> None:
        """Wait for the read under way and drop every answer from now on (the window is closing: its widgets go)."""
        self._closed = True
        self._generation += 1
        self._reader.close(msecs)

    def _put_in(self, generation: int, answer: HistoryAnswer) -> None:
        if generation != self._generation:
            return  # the answer to a filter since replaced
        if answer.after_id is None:
            self._filtering = False
            if self._reread_calibrations:
                self._calibrations, self._reread_calibrations = {}, False
            self._calibrations.update(answer.calibrations)
            self.beginResetModel()
            self.rows, self.total, self.trend = answer.rows, answer.total or 0, answer.trend or ScoreTrend()
            self.endResetModel()
            self.trend_changed.emit()
        elif self._fetching and self.rows and answer.after_id == self.rows[-1].id:
            self._fetching = False
            self._calibrations.update(answer.calibrations)
            if answer.rows:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(answer.rows) - 1)
                self.rows.extend(answer.rows)
                self.endInsertRows()
            if answer.last_page:  # fewer may match than were counted (parts deleted since)
                self.total = len(self.rows)
        else:
            return
        self.loaded.emit()
        callbacks, self._after_load = self._after_load, []
        for callback in callbacks:
            callback()

    def _report_failure(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._filtering = self._fetching = False
        self._after_load.clear()
        self.total = len(self.rows)  # no further page is asked for (by the view's scrolling) until the next filter
        self.failed.emit(message)

    def loaded_ids(self) -> list[int]:
        """Inspection ids of the rows fetched so far, in the table's order."""
        return [row.id for row in self.rows]

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008 (Qt API)
        """More rows match than are loaded, and no read is under way."""
        return not parent.isValid() and not self.loading and not self._closed and len(self.rows) < self.total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008 (Qt API)
        """Queue the read of the next page; the rows are added when it arrives."""
        if not self.canFetchMore(parent) or not self.rows:
            return
        self._fetching = True
        self._read(dict(self._calibrations), self.rows[-1].id)

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
        if role == Qt.ItemDataRole.ToolTipRole and column in (IMAGE_COLUMN, REVIEW_COLUMN):
            return (row.source if column == IMAGE_COLUMN else row.review) or None  # whole, where the cell elides
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

