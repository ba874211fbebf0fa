"""The batch page: inspect a folder with progress, ETA and cancel; results fill a table live.

The table sorts by any column and filters by verdict; a double click opens the result.  Failed
files (corrupt, unsupported) get a row of their own with the reason, and the batch goes on.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.images import verdict_colour
from desktop.jobs import BatchItem
from engine.calibration import relabel
from engine.facts import FactSheet
from services.region_sizes import largest_length

ERROR = "ERROR"
COLUMNS = ("#", "Image", "Verdict", "Score", "Regions", "Largest", "Note")
COLUMN_WIDTHS = {"#": 56, "Verdict": 80, "Score": 64, "Regions": 70, "Largest": 80, "Note": 260}


class NumberItem(QTableWidgetItem):
    """A table item that sorts by its numeric value."""

    def __init__(self, text: str, value: float) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, value)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        return (mine if mine is not None else -1) < (theirs if theirs is not None else -1)


class BatchPage(QWidget):
    """Folder batch with a live, sortable, filterable results table."""

    start_requested = Signal(list)
    cancel_requested = Signal()
    open_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.items: list[BatchItem] = []
        self.sensitivity = 0.5
        self._started = 0.0
        self._common_folder: Path | None = None
        self._shown_before: str | None = None  # the progress note before a batch whose folders are being listed
        self.choose_button = QPushButton("Inspect folder…")
        self.choose_button.clicked.connect(self._choose_folder)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.filter = QComboBox()
        self.filter.addItems(["All", "OK", "REVIEW", "NG", ERROR])
        self.filter.currentTextChanged.connect(lambda _: self._apply_filter())
        self.progress = QProgressBar()
        self.eta = QLabel("")
        self.summary = QLabel("")
        self.summary.setToolTip("Verdicts of this batch at the current sensitivity")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(COLUMNS.index("Image"), QHeaderView.ResizeMode.Stretch)
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(COLUMNS.index(column), width)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its file name in view
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.cellDoubleClicked.connect(self._open_row)
        top = QHBoxLayout()
        top.addWidget(self.choose_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.eta)
        top.addWidget(self.summary)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of parts to inspect")
        if folder:
            self.start_requested.emit([Path(folder)])

    @property
    def running(self) -> bool:
        """Between ``reading`` (or ``started``) and ``finished``: the table still fills."""
        return self.cancel_button.isEnabled()

    def reading(self) -> None:
        """A batch's folders are being listed; the last batch's rows stay until ``started``."""
        self._shown_before = self.eta.text()
        self.cancel_button.setEnabled(True)
        self.choose_button.setEnabled(False)
        self.eta.setText("Reading the folder…")

    def started(self, files: list[Path]) -> None:
        """A batch of ``files`` has started; rows name each file from the folder they all share."""
        total = len(files)
        self._shown_before = None
        self._common_folder = common_folder(files)
        self.items.clear()
        self.table.setRowCount(0)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.choose_button.setEnabled(False)
        self._started = time.monotonic()
        self.eta.setText(f"0 / {total}")
        self.summary.setText("")

    def add_item(self, item: BatchItem) -> None:
        """Append one result row."""
        self.items.append(item)
        sorting = self.table.isSortingEnabled()
        self.table.setSortingEnabled(False)
        row = self.table.rowCount()
        self.table.insertRow(row)
        record = item.record
        verdict, score = self._verdict(item)
        cells = [
            NumberItem(str(record.id) if record else "", record.id if record else None),
            QTableWidgetItem(shown_name(Path(item.path), self._common_folder)),
            QTableWidgetItem(verdict),
            NumberItem(f"{score:.2f}" if record else "", score if record else None),
            NumberItem(str(record.facts.region_count) if record else "", record.facts.region_count if record else None),
            _largest_cell(record.facts if record else None),
            QTableWidgetItem(_note(item)),
        ]
        cells[1].setToolTip(item.path)
        cells[2].setForeground(verdict_colour(verdict))
        cells[0].setData(Qt.ItemDataRole.UserRole + 1, len(self.items) - 1)
        for column, cell in enumerate(cells):
            self.table.setItem(row, column, cell)
        self.table.setSortingEnabled(sorting)
        done = len(self.items)
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._started
        remaining = (self.progress.maximum() - done) * elapsed / max(done, 1)
        self.eta.setText(f"{done} / {self.progress.maximum()} · about {remaining:.0f} s left")
        self._rows_changed()

    def finished(self, cancelled: bool) -> None:
        """The batch ended (completely or by cancel)."""
        self.cancel_button.setEnabled(False)
        self.choose_button.setEnabled(True)
        if self._shown_before is not None:  # ended while its folders were listed: the last batch's rows stay
            self.eta.setText(self._shown_before)
            self._shown_before = None
            return
        done = len(self.items)
        self.eta.setText(f"Cancelled after {done} image(s)." if cancelled else f"Done: {done} image(s).")

    def relabel(self, sensitivity: float) -> None:
        """Recompute the verdict column at ``sensitivity`` from the stored raw scores."""
        self.sensitivity = sensitivity
        for row in range(self.table.rowCount()):
            item = self.items[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)]
            if item.record is None:
                continue
            verdict, score = self._verdict(item)
            self.table.item(row, 2).setText(verdict)
            self.table.item(row, 2).setForeground(verdict_colour(verdict))
            self.table.item(row, 3).setText(f"{score:.2f}")
            self.table.item(row, 3).setData(Qt.ItemDataRole.UserRole, score)
        self._rows_changed()

    def _verdict(self, item: BatchItem) -> tuple[str, float]:
        if item.record is None:
            return ERROR, 0.0
        record = item.record
        return relabel(item.calibration, record.raw_score, record.verdict, record.score, self.sensitivity)

    def verdict_counts(self) -> dict[str, int]:
        """How many rows show each verdict (OK, REVIEW, NG, ERROR) at the current sensitivity."""
        shown = [self.table.item(row, 2).text() for row in range(self.table.rowCount())]
        return {verdict: shown.count(verdict) for verdict in ("OK", "REVIEW", "NG", ERROR)}

    def _rows_changed(self) -> None:
        """Recount the verdicts and re-apply the filter after rows were added or re-labelled."""
        counts = self.verdict_counts()
        self.summary.setText(" · ".join(f"{verdict} {count}" for verdict, count in counts.items()
                                        if count or verdict != ERROR))
        self._apply_filter()

    def _apply_filter(self) -> None:
        wanted = self.filter.currentText()
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, wanted != "All" and self.table.item(row, 2).text() != wanted)

    def shown_ids(self) -> list[int]:
        """Inspection ids of the rows shown, in the table's order (its sorting and filter applied)."""
        ids = []
        for row in range(self.table.rowCount()):
            item = self.items[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)]
            if not self.table.isRowHidden(row) and item.record is not None:
                ids.append(item.record.id)
        return ids

    def _open_row(self, row: int, _column: int) -> None:
        item = self.items[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)]
        if item.record is not None:
            self.open_requested.emit(item.record.id)


def common_folder(files: list[Path]) -> Path | None:
    """The deepest folder holding every file, so that "crack/000.png" and "good/000.png" stay apart."""
    try:
        return Path(os.path.commonpath([path.parent for path in files])) if files else None
    except ValueError:  # different drives, or relative beside absolute paths
        return None


def shown_name(path: Path, folder: Path | None) -> str:
    """``path`` relative to ``folder`` (its file name when it lies elsewhere), with forward slashes."""
    try:
        return path.relative_to(folder).as_posix() if folder is not None else path.name
    except ValueError:
        return path.name


def _largest_cell(facts: FactSheet | None) -> NumberItem:
    """The length of the largest region (``services.region_sizes``); sorted by pixels."""
    largest = largest_length(facts) if facts is not None else None
    if largest is None:
        return NumberItem("", None)
    cell = NumberItem(*largest)
    cell.setToolTip(f"The largest of {facts.region_count} region(s), about {largest[1]:.0f} px long")
    return cell


def _note(item: BatchItem) -> str:
    """What the row should tell besides the verdict: an error, a skip, an image unlike the references, a grey
    photo of a colour part, or a photo of another shape than the references' frame."""
    record = item.record
    if item.error or record is None:
        return item.error or ""
    notes = ["already inspected"] if record.skipped else []
    if record.facts.unlike_references:
        notes.append("unlike the references as a whole: check the project")
    if record.facts.compared_in_grey:
        notes.append("grey photo: compared in grey")
    if record.facts.frame_aspects is not None:
        notes.append("another shape than the references: another view or a crop?")
    return "; ".join(notes)
