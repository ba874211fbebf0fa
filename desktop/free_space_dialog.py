"""The "Free disk space…" dialog: which old inspections lose their stored image copy.

It only collects the criteria; the window finds the inspections on the worker, says how many and
how much space that frees, and asks before anything is removed (``db.retention``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from db.repository import MAX_REVIEWED_SAMPLES

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class FreeSpaceRequest:
    """Inspections older than ``days``, of ``project`` (None: all), flagged parts too or not."""

    days: int
    project: str | None
    include_flagged: bool


class FreeSpaceDialog(QDialog):
    """Age, scope and whether rejected parts are included."""

    def __init__(self, project: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Free disk space")
        self.days = QSpinBox()
        self.days.setRange(0, 3650)
        self.days.setValue(DEFAULT_DAYS)
        self.days.setSuffix(" days")
        self.scope = QComboBox()
        if project:
            self.scope.addItem(f"Project {project}", project)
        self.scope.addItem("All projects", None)
        self.include_flagged = QCheckBox("Also rejected parts, parts held for review, false rejects and reviewed parts")
        explanation = QLabel(
            "Deletes the stored copies of the photos of older inspections. Each inspection keeps its "
            "record: verdict, score, regions, heatmap, conversation and reviews. Without the box ticked, "
            f"only parts that passed lose their photo, except those a review marked NG and the newest "
            f"{MAX_REVIEWED_SAMPLES} reviewed parts of each project, which refining the threshold scores again.")
        explanation.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Inspected more than", self.days)
        form.addRow("Of", self.scope)
        form.addRow("", self.include_flagged)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Find images…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def request(self) -> FreeSpaceRequest:
        """The criteria as chosen."""
        return FreeSpaceRequest(self.days.value(), self.scope.currentData(), self.include_flagged.isChecked())
