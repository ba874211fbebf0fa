"""The dialog that sets how a project's image threshold is refined from labelled samples.

Two sources: the operator reviews (Mark OK / Mark NG) of the project's inspections (those made
with an earlier bank are scored again with the current one), or a validation folder with
``good/`` and defect sub-folders.  Two rules: the lowest
threshold that rejects at most a target share of the good samples (the miss rate on the
defective ones is reported), or the best F1.  The refinement itself runs on the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

MODES = {"Target false-reject rate": "frr", "Best F1 on the samples": "f1"}


@dataclass(frozen=True)
class RefineOptions:
    """What the technician chose: the rule, its target, and the samples (None: the reviews)."""

    mode: str
    target_frr: float
    validation: Path | None


class RefineDialog(QDialog):
    """Choose the samples and the rule for refining the threshold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Refine the threshold")
        self.from_reviews = QRadioButton("Operator reviews of this project's inspections (Mark OK / Mark NG)")
        self.from_folder = QRadioButton("Validation folder (good/ or OK/, and one sub-folder per defect)")
        self.from_reviews.setChecked(True)
        sources = QButtonGroup(self)
        sources.addButton(self.from_reviews)
        sources.addButton(self.from_folder)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Folder with good/ (or OK/) and defect sub-folders")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_folder)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.target = QDoubleSpinBox()
        self.target.setRange(0.0, 50.0)
        self.target.setDecimals(1)
        self.target.setSingleStep(0.5)
        self.target.setValue(1.0)
        self.target.setSuffix(" % of good parts rejected")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for signal in (self.from_folder.toggled, self.folder.textChanged, self.mode.currentTextChanged):
            signal.connect(lambda *_: self._update())
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Rule", self.mode)
        form.addRow("Target", self.target)
        layout = QVBoxLayout(self)
        layout.addWidget(self.from_reviews)
        layout.addWidget(self.from_folder)
        layout.addLayout(folder_row)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._update()

    def options(self) -> RefineOptions:
        """The choices as the worker job takes them."""
        folder = Path(self.folder.text().strip()) if self.from_folder.isChecked() else None
        return RefineOptions(MODES[self.mode.currentText()], self.target.value() / 100.0, folder)

    def _update(self) -> None:
        self.folder.setEnabled(self.from_folder.isChecked())
        self.target.setEnabled(MODES[self.mode.currentText()] == "frr")
        ready = not self.from_folder.isChecked() or bool(self.folder.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ready)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Validation folder")
        if folder:
            self.folder.setText(folder)
            self.from_folder.setChecked(True)
