"""The export dialog: one inspection, a selection, or a project over a date range, to PDF, HTML or CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from db.models import MAX_LOT_LENGTH
from db.repository import checked_lot
from desktop.dialogs import CheckedDialog
from services.local_time import local_day_end, local_day_start

FORMATS = ("pdf", "html", "csv")


@dataclass
class ExportRequest:
    """What to export, where and how."""

    scope: str
    fmt: str
    out: str
    inspection_ids: list[int]
    since: datetime | None
    until: datetime | None
    lot: str | None = None  # a project report of this lot only


class ExportDialog(CheckedDialog):
    """Choose scope, format, dates and file."""

    def __init__(self, selection: list[int], current: int | None, parent: QWidget | None = None,
                 lot: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.selection, self.current = selection, current
        self.scope = QComboBox()
        if current is not None:
            self.scope.addItem(f"This inspection (#{current})", "inspection")
        if selection:
            self.scope.addItem(f"Selected inspections ({len(selection)})", "selection")
        self.scope.addItem("Project over a date range", "project")
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.format.currentTextChanged.connect(self._format_changed)
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-7))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
        self.lot = QLineEdit(lot)
        self.lot.setMaxLength(MAX_LOT_LENGTH)
        self.lot.setPlaceholderText("any lot")
        self.lot.setToolTip("Only the parts of this lot (a project report); empty for every part")
        self.scope.currentIndexChanged.connect(self._scope_changed)
        self._scope_changed()
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Export", self.scope)
        form.addRow("Format", self.format)
        form.addRow("From", self.since)
        form.addRow("Until (inclusive)", self.until)
        form.addRow("Lot", self.lot)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def problem(self) -> str | None:
        """Why the export cannot start as filled in (None when it can)."""
        if not self.path.text().strip():
            return "Choose a file to export to."
        if self.scope.currentData() == "project" and self.since.date() > self.until.date():
            return "The start date is after the end date."
        return None

    def _scope_changed(self) -> None:
        """Dates and lot choose the parts of a project report only."""
        project = self.scope.currentData() == "project"
        for edit in (self.since, self.until, self.lot):
            edit.setEnabled(project)

    def _format_changed(self, fmt: str) -> None:
        """Keep the file's extension in step with the format (a CSV saved as report.pdf misleads)."""
        text = self.path.text().strip()
        if text and Path(text).suffix.lower().lstrip(".") in FORMATS:
            self.path.setText(str(Path(text).with_suffix(f".{fmt}")))

    def _browse(self) -> None:
        fmt = self.format.currentText()
        path, _ = QFileDialog.getSaveFileName(self, "Save report", f"report.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if path:
            self.path.setText(path)

    def request(self) -> ExportRequest:
        """The chosen export."""
        scope = self.scope.currentData()
        ids = [self.current] if scope == "inspection" and self.current is not None else list(self.selection)
        since = local_day_start(self.since.date().toPython())
        until = local_day_end(self.until.date().toPython())
        fmt = self.format.currentText()
        out = self.path.text().strip()
        if out and not Path(out).suffix:
            out += f".{fmt}"
        lot = checked_lot(self.lot.text()) or None
        return ExportRequest(scope, fmt, out, ids, since if scope == "project" else None,
                             until if scope == "project" else None, lot if scope == "project" else None)
