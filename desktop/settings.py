"""Application settings in QSettings, and the dialog that edits them.

Data folder, database URL, device, backbone (and CLIP checkpoint) for new projects, language model
path, operator name, the camera to grab from; and the last watched folder's set-up (sorting,
alerts, when it began, whether it runs and is to be resumed), so that a station that restarts
each day is set up again in one click, or by itself.  Tests redirect QSettings to a temp folder
(``QSettings.setPath``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from db.models import MAX_OPERATOR_LENGTH
from desktop.dialogs import CheckedDialog
from services.camera import CameraChoice

ORGANISATION, APPLICATION = "IAD Inspector", "IAD Inspector"
CAMERA_RESOLUTIONS = ["the driver's default", "the highest the camera offers"]


@dataclass
class AppSettings:
    """The user's settings (empty strings mean the defaults)."""

    data_folder: str = ""
    database_url: str = ""
    device: str = "auto"
    backbone: str = "efficientnet-lite0"
    llm_path: str = ""
    operator: str = ""
    clip_checkpoint: str = ""
    watch_folder: str = ""
    sort_into: str = ""
    sorting: str = ""  # "1" when the last watch sorted its images (QSettings' INI keeps strings)
    watch_started: str = ""  # when the watch of watch_folder began (ISO, UTC): what a catch-up starts from
    watch_project: str = ""  # the project that watch inspected into
    watch_resume: str = ""  # "1": the dialog's choice to resume a watch when the app starts
    watching: str = ""  # "1" while a watch to be resumed runs; a watch stopped by hand clears it
    watch_alert: str = "1"  # "1": a watched part held back (NG or REVIEW) beeps and flashes the taskbar
    camera: str = "0"  # the camera to grab from, as OpenCV numbers them (0: the first)
    camera_resolution: str = ""  # "highest": ask the camera for its largest mode, else the driver's default

    @classmethod
    def load(cls) -> AppSettings:
        """Read from QSettings."""
        store = _store()
        return cls(**{f.name: str(store.value(f.name, getattr(cls(), f.name))) for f in fields(cls)})

    def camera_choice(self) -> CameraChoice:
        """The camera the Camera and From camera buttons grab from."""
        index = int(self.camera) if self.camera.strip().isdigit() else 0
        return CameraChoice(index, self.camera_resolution == "highest")

    def watch_start(self) -> datetime | None:
        """When the last watch of ``watch_folder`` began; None when unknown (or the file was edited by hand
        into something else: no catch-up rather than no watch)."""
        try:
            return datetime.fromisoformat(self.watch_started) if self.watch_started else None
        except ValueError:
            return None

    def save(self) -> None:
        """Write to QSettings."""
        store = _store()
        for f in fields(self):
            store.setValue(f.name, getattr(self, f.name))
        store.sync()


def _store() -> QSettings:
    """INI settings in the user scope: ``QSettings.setPath`` can redirect them (tests do)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class SettingsDialog(CheckedDialog):
    """Edit the settings; data folder and database changes apply at the next start."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self.data_folder = QLineEdit(settings.data_folder)
        self.data_folder.setPlaceholderText("default: the user data folder")
        folder_row = with_browse(self.data_folder, "Data folder")
        self.database_url = QLineEdit(settings.database_url)
        self.database_url.setPlaceholderText("default: SQLite in the data folder")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.device)
        self.backbone = QComboBox()
        self.backbone.setEditable(True)
        self.backbone.addItems(["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"])
        self.backbone.setCurrentText(settings.backbone)
        self.backbone.setToolTip("clip:<open_clip model>, e.g. clip:ViT-B-16, uses the CLIP checkpoint below")
        self.clip_checkpoint = QLineEdit(settings.clip_checkpoint)
        self.clip_checkpoint.setPlaceholderText("for clip: backbones: an open_clip checkpoint file")
        checkpoint_row = with_browse(self.clip_checkpoint, "CLIP checkpoint", pick_file=True)
        self.llm_path = QLineEdit(settings.llm_path)
        self.llm_path.setPlaceholderText("default: the embedded SmolLM2-135M")
        llm_row = with_browse(self.llm_path, "Language model folder (a Hugging Face model or a LoRA adapter)")
        self.operator = QLineEdit(settings.operator)
        self.operator.setMaxLength(MAX_OPERATOR_LENGTH)  # the history's operator column
        choice = settings.camera_choice()
        self.camera = QSpinBox()
        self.camera.setRange(0, 9)
        self.camera.setValue(choice.index)
        self.camera.setToolTip("0 is the first camera the system lists; a laptop's own camera is usually 0, "
                               "a USB camera plugged in beside it 1")
        self.camera_resolution = QComboBox()
        self.camera_resolution.addItems(CAMERA_RESOLUTIONS)
        self.camera_resolution.setCurrentIndex(int(choice.highest_resolution))
        form = QFormLayout(self)
        form.addRow("Data folder", folder_row)
        form.addRow("Database URL", self.database_url)
        form.addRow("Device", self.device)
        form.addRow("Backbone (new projects)", self.backbone)
        form.addRow("CLIP checkpoint", checkpoint_row)
        form.addRow("Language model folder", llm_row)
        form.addRow("Operator name", self.operator)
        form.addRow("Camera", self.camera)
        form.addRow("Camera resolution", self.camera_resolution)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def problem(self) -> str | None:
        """Why the settings cannot be saved as filled in (None when they can)."""
        data_folder, llm_path = self.data_folder.text().strip(), self.llm_path.text().strip()
        if data_folder and Path(data_folder).exists() and not Path(data_folder).is_dir():
            return f"The data folder {data_folder} is a file, not a folder."
        if llm_path and not Path(llm_path).exists():
            return f"The language model folder {llm_path} does not exist."
        from engine.backbones import is_clip, list_backbones  # torch: the window has loaded it by now

        backbone, checkpoint = self.backbone.currentText().strip(), self.clip_checkpoint.text().strip()
        if not is_clip(backbone) and backbone not in list_backbones():
            return f"Unknown backbone {backbone}: choose one from the list, or clip:<open_clip model>."
        if is_clip(backbone) and not checkpoint:
            return f"The backbone {backbone} needs a CLIP checkpoint file: no CLIP weights come with the program."
        if checkpoint and not Path(checkpoint).is_file():
            return f"The CLIP checkpoint {checkpoint} is not a file."
        return None

    def values(self) -> AppSettings:
        """The edited settings, and the others as they were."""
        return replace(self._settings, data_folder=self.data_folder.text().strip(),
                       database_url=self.database_url.text().strip(), device=self.device.currentText(),
                       backbone=self.backbone.currentText().strip(), llm_path=self.llm_path.text().strip(),
                       operator=self.operator.text().strip(), clip_checkpoint=self.clip_checkpoint.text().strip(),
                       camera=str(self.camera.value()),
                       camera_resolution="highest" if self.camera_resolution.currentIndex() == 1 else "")


def with_browse(line: QLineEdit, title: str, pick_file: bool = False) -> QHBoxLayout:
    """``line`` with a Browse button beside it that picks a folder (or a file) into it."""
    def browse() -> None:
        if pick_file:
            chosen = QFileDialog.getOpenFileName(line, title)[0]
        else:
            chosen = QFileDialog.getExistingDirectory(line, title)
        if chosen:
            line.setText(chosen)

    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(line, 1)
    row.addWidget(button)
    return row
