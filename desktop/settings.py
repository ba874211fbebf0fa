"""Application settings in QSettings, and the dialog that edits them.

Data folder, database URL, device, backbone for new projects, language model path and operator
name.  Tests redirect QSettings to a temp folder (``QSettings.setPath``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

ORGANISATION, APPLICATION = "IAD Inspector", "IAD Inspector"


@dataclass
class AppSettings:
    """The user's settings (empty strings mean the defaults)."""

    data_folder: str = ""
    database_url: str = ""
    device: str = "auto"
    backbone: str = "efficientnet-lite0"
    llm_path: str = ""
    operator: str = ""

    @classmethod
    def load(cls) -> AppSettings:
        """Read from QSettings."""
        store = _store()
        return cls(**{f.name: str(store.value(f.name, getattr(cls(), f.name))) for f in fields(cls)})

    def save(self) -> None:
        """Write to QSettings."""
        store = _store()
        for f in fields(self):
            store.setValue(f.name, getattr(self, f.name))
        store.sync()


def _store() -> QSettings:
    """INI settings in the user scope: ``QSettings.setPath`` can redirect them (tests do)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class SettingsDialog(QDialog):
    """Edit the settings; data folder and database changes apply at the next start."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.data_folder = QLineEdit(settings.data_folder)
        self.data_folder.setPlaceholderText("default: the user data folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(browse)
        self.database_url = QLineEdit(settings.database_url)
        self.database_url.setPlaceholderText("default: SQLite in the data folder")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.device)
        self.backbone = QComboBox()
        self.backbone.setEditable(True)
        self.backbone.addItems(["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"])
        self.backbone.setCurrentText(settings.backbone)
        self.llm_path = QLineEdit(settings.llm_path)
        self.llm_path.setPlaceholderText("default: the embedded SmolLM2-135M")
        self.operator = QLineEdit(settings.operator)
        form = QFormLayout(self)
        form.addRow("Data folder", folder_row)
        form.addRow("Database URL", self.database_url)
        form.addRow("Device", self.device)
        form.addRow("Backbone (new projects)", self.backbone)
        form.addRow("Language model folder", self.llm_path)
        form.addRow("Operator name", self.operator)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder")
        if folder:
            self.data_folder.setText(folder)

    def values(self) -> AppSettings:
        """The edited settings."""
        return AppSettings(self.data_folder.text().strip(), self.database_url.text().strip(),
                           self.device.currentText(), self.backbone.currentText().strip(),
                           self.llm_path.text().strip(), self.operator.text().strip())
