"""The history page: filters over the paged history table, open a result, review it, export.

Reviews (mark OK / NG with a comment) and "add to references" (a false reject joins the good
images) are requested by signal; the main window carries them out and refreshes the table.  Above
the table, the score trend of the same filter (``desktop.trend_chart``); a click on a dot opens it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db import repository as repo
from desktop.history_model import COLUMNS, HistoryModel
from desktop.trend_chart import TrendChart
from services.local_time import local_day_end, local_day_start

CUSTOM = "From … to …"
COLUMN_WIDTHS = {"": 64, "#": 56, "Time": 140, "Lot": 80, "Verdict": 70, "Score": 60, "Regions": 70,
                 "Largest": 72, "Review": 120}
RANGES = {"All time": None, "Last 24 hours": timedelta(days=1), "Last 7 days": timedelta(days=7),
          "Last 30 days": timedelta(days=30), CUSTOM: None}


class HistoryPage(QWidget):
    """Filters, the history table and review actions."""

    open_requested = Signal(int)
    review_requested = Signal(list, str, str)
    add_reference_requested = Signal(list)
    export_requested = Signal(list)
    reinspect_requested = Signal(list)
    free_space_requested = Signal()
    backup_requested = Signal()
    audit_requested = Signal()
    check_requested = Signal()

    def __init__(self, model: HistoryModel) -> None:
        super().__init__()
        self.model = model
        self.project_id: int | None = None
        self.verdict = QComboBox()
        self.verdict.addItems(["Any verdict", "OK", "REVIEW", "NG"])
        self.period = QComboBox()
        self.period.addItems(list(RANGES))
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-7))
        self.date_to = QDateEdit(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setVisible(False)
            edit.dateChanged.connect(lambda _: self.apply_filter())
        self.period.currentTextChanged.connect(
            lambda text: [e.setVisible(text == CUSTOM) for e in (self.date_from, self.date_to)])
        self.reviewed = QComboBox()
        self.reviewed.addItems(["Reviewed or not", "Reviewed", "Not reviewed"])
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setPrefix("score ≥ ")
        for widget in (self.verdict, self.period, self.reviewed):
            widget.currentTextChanged.connect(lambda _: self.apply_filter())
        self.min_score.valueChanged.connect(lambda _: self.apply_filter())
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file, lot, operator, comment")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(120)  # on a narrow screen the buttons beside it had left it a few letters
        # Re-query once typing pauses, not on every key.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.count_label = QLabel("")
        # Said only when a read takes long enough to be noticed (a search of a long history).
        self._reading_timer = QTimer(self)
        self._reading_timer.setSingleShot(True)
        self._reading_timer.setInterval(300)
        self._reading_timer.timeout.connect(lambda: self.count_label.setText("Reading the history…"))
        model.loaded.connect(self._show_count)
        model.failed.connect(self._show_failure)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One line per cell, cut at the left: a long path keeps its file name and nearest folders in view (its
        # tooltip is whole); cut in the middle or wrapped, narrow windows showed only its first folders.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COLUMNS.index("Image"), QHeaderView.ResizeMode.Stretch)
        # Fixed starting widths, not ResizeToContents: that measures every row on each refresh.
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(COLUMNS.index(column), width)
        self.table.verticalHeader().setDefaultSectionSize(52)
        self.table.doubleClicked.connect(lambda index: self.open_requested.emit(model.rows[index.row()].id))
        self.trend = TrendChart()
        self.trend.inspection_clicked.connect(self.open_requested.emit)
        model.trend_changed.connect(lambda: self.trend.show_trend(model.trend, model.sensitivity))
        self.show_trend = QCheckBox("Trend")  # the chart says what it shows; a short label for narrow screens
        self.show_trend.setChecked(True)
        self.show_trend.setToolTip("The scores of the newest parts that match the filter, oldest left")
        self.show_trend.toggled.connect(self.trend.setVisible)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Review comment")
        self.open_button = QPushButton("Open")
        self.ok_button = QPushButton("Mark OK")
        self.ng_button = QPushButton("Mark NG")
        self.to_reference_button = QPushButton("Add to references")
        self.to_reference_button.setToolTip("A false reject: this good part joins the references")
        self.export_button = QPushButton("Export…")
        self.reinspect_button = QPushButton("Re-inspect")
        self.reinspect_button.setToolTip("Inspect the selected parts again with the current references "
                                         "(after adding false rejects, say); the old records stay")
        self.free_space_button = QPushButton("Free disk space…")
        self.free_space_button.setToolTip("Delete the stored photos of old inspections; their records stay")
        self.free_space_button.clicked.connect(self.free_space_requested.emit)
        self.backup_button = QPushButton("Back up…")
        self.backup_button.setToolTip("Copy the whole history (every project, photo, map and bank) to a backup "
                                      "folder, ideally on another disk; an earlier backup gets only what is new")
        self.backup_button.clicked.connect(self.backup_requested.emit)
        self.check_button = QPushButton("Check files")
        self.check_button.setToolTip("Read every stored photo, heatmap and bank and say which are missing or "
                                     "damaged (a disk error, a backup restored half-way)")
        self.check_button.clicked.connect(self.check_requested.emit)
        self.audit_button = QPushButton("Audit log…")
        self.audit_button.setToolTip("Who changed the references, bank, thresholds and settings, reviewed or deleted "
                                     "parts, and verified with master parts, and when")
        self.audit_button.clicked.connect(self.audit_requested.emit)
        self.open_button.clicked.connect(lambda: [self.open_requested.emit(i) for i in self.selected_ids()[:1]])
        self.ok_button.clicked.connect(lambda: self._review("OK"))
        self.ng_button.clicked.connect(lambda: self._review("NG"))
        self.to_reference_button.clicked.connect(lambda: self.add_reference_requested.emit(self.selected_ids()))
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.selected_ids()))
        self.reinspect_button.clicked.connect(lambda: self.reinspect_requested.emit(self.selected_ids()))
        filters = QHBoxLayout()
        for widget in (self.verdict, self.period, self.date_from, self.date_to, self.reviewed, self.min_score):
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.show_trend)
        filters.addWidget(self.count_label)
        # What is done to the selected parts, with room for the comment; below, what concerns the whole history.
        actions = QHBoxLayout()
        actions.addWidget(self.open_button)
        actions.addWidget(self.comment, 1)
        for button in (self.ok_button, self.ng_button, self.to_reference_button, self.reinspect_button):
            actions.addWidget(button)
        records = QHBoxLayout()
        records.addWidget(self.export_button)
        records.addStretch(1)
        for button in (self.audit_button, self.check_button, self.backup_button, self.free_space_button):
            records.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.trend)
        split.addWidget(self.table)
        split.setStretchFactor(1, 1)
        split.setSizes([170, 500])
        layout.addWidget(split, 1)
        layout.addLayout(actions)
        layout.addLayout(records)

    def set_project(self, project_id: int | None) -> None:
        """Show one project's history (None: every project)."""
        self.project_id = project_id
        self.apply_filter()

    def criteria(self) -> repo.HistoryFilter:
        """The filter the widgets describe."""
        verdict = self.verdict.currentText()
        period = RANGES[self.period.currentText()]
        since = datetime.now(UTC) - period if period else None
        until = None
        if self.period.currentText() == CUSTOM:
            since = local_day_start(self.date_from.date().toPython())
            until = local_day_end(self.date_to.date().toPython())
        reviewed = {"Reviewed": True, "Not reviewed": False}.get(self.reviewed.currentText())
        return repo.HistoryFilter(project_id=self.project_id, verdicts=[] if verdict == "Any verdict" else [verdict],
                                  since=since, until=until, reviewed=reviewed, min_score=self.min_score.value() or None,
                                  text=self.search.text().strip() or None)

    def apply_filter(self, announce: bool = True) -> None:
        """Query with the current filter (in the background; the table and count follow).

        ``announce``: say "Reading the history…" when the answer takes a while.  A refresh for parts
        just inspected does not, so that on a fast line the count does not flicker between reads.
        """
        self.model.set_filter(self.criteria())
        if announce:
            self._reading_timer.start()

    def _show_count(self) -> None:
        self._reading_timer.stop()
        self.count_label.setText(f"{self.model.total} inspection(s)")
        self.count_label.setToolTip("")

    def _show_failure(self, message: str) -> None:
        self._reading_timer.stop()
        self.count_label.setText("The history could not be read")
        self.count_label.setToolTip(message)

    def selected_ids(self) -> list[int]:
        """Ids of the selected rows."""
        return [self.model.rows[i.row()].id for i in self.table.selectionModel().selectedRows()]

    def _review(self, verdict: str) -> None:
        ids = self.selected_ids()
        if ids:
            self.review_requested.emit(ids, verdict, self.comment.text().strip())
            self.comment.clear()
