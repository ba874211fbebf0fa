"""The "Audit log…" dialog: who changed what and when, for the open project or all of them.

The window reads the events on the worker (``db.audit_log``) and hands them over as plain rows;
the dialog only shows and filters them, so it never touches the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.audit_log import summarise
from services.local_time import local_text

COLUMNS = ("Time", "Operator", "Action", "Of", "Detail")
ALL_ACTIONS = "All actions"


class AuditDialog(QDialog):
    """A table of audit events, newest first, filtered by action and by project or all projects."""

    def __init__(self, project: str | None, project_rows: list[dict[str, Any]], all_rows: list[dict[str, Any]],
                 limit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.resize(900, 500)
        self.project_rows, self.all_rows, self.limit = project_rows, all_rows, limit
        self.every_project = QCheckBox("All projects")
        self.every_project.setChecked(project is None)
        self.every_project.setEnabled(project is not None)
        self.action = QComboBox()
        self.action.addItem(ALL_ACTIONS)
        self.action.addItems(sorted({row["action"] for row in all_rows}))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.note = QLabel()
        self.every_project.toggled.connect(self.refresh)
        self.action.currentTextChanged.connect(self.refresh)
        filters = QHBoxLayout()
        filters.addWidget(QLabel(f"Project {project}" if project else "No project open"))
        filters.addWidget(self.every_project)
        filters.addWidget(self.action)
        filters.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.refresh()

    def shown_rows(self) -> list[dict[str, Any]]:
        """The events the filters let through, newest first."""
        rows = self.all_rows if self.every_project.isChecked() else self.project_rows
        action = self.action.currentText()
        return [row for row in rows if action == ALL_ACTIONS or row["action"] == action]

    def refresh(self) -> None:
        """Fill the table from the filters."""
        rows = self.shown_rows()
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            entity = row["entity"] + (f" {row['entity_id']}" if row["entity_id"] is not None else "")
            cells = (local_text(datetime.fromisoformat(row["time"])), row["operator"] or "-", row["action"], entity,
                     summarise(row["detail"]))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == len(cells) - 1:
                    item.setToolTip(summarise(row["detail"], width=2000))
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        source = self.all_rows if self.every_project.isChecked() else self.project_rows
        more = f" (the newest {self.limit}; main.py db audit lists more)" if len(source) >= self.limit else ""
        self.note.setText(f"{len(rows)} event(s){more}.")
