"""The dialog that starts a watched folder: which folder, and whether (and where) each inspected image
is then moved into ``OK``, ``REVIEW`` and ``NG`` folders by its verdict (``services.sorting``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from desktop.dialogs import CheckedDialog
from desktop.settings import with_browse
from services.sorting import sort_target_problem


@dataclass(frozen=True)
class WatchOptions:
    """The folder to watch, and where inspected images go (None: they stay where they are)."""

    folder: Path
    sort_into: Path | None


class WatchDialog(CheckedDialog):
    """Choose the folder to watch and, optionally, the folder that inspected images are sorted into."""

    def __init__(self, folder: str = "", sort_into: str = "", sorting: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Watch a folder")
        self.folder = QLineEdit(folder)
        self.folder.setPlaceholderText("where the camera or the line software saves its images")
        self.sorting = QCheckBox("Move each inspected image into OK, REVIEW or NG under:")
        self.sorting.setChecked(sorting)
        self.sorting.setToolTip("By the verdict given when it was inspected; the history keeps its own copy, "
                                "so the moved image is not needed there")
        self.sort_into = QLineEdit(sort_into)
        self.sort_into.setPlaceholderText("a folder outside the watched one, e.g. for a rework station")
        self.sorting.toggled.connect(self.sort_into.setEnabled)
        self.sort_into.setEnabled(sorting)
        note = QLabel("Images already in the folder are left alone; new ones in it and in its sub-folders "
                      "are inspected once their writer has finished.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Folder", with_browse(self.folder, "Folder to watch"))
        form.addRow(self.sorting)
        form.addRow("Sort into", with_browse(self.sort_into, "Folder to sort inspected images into"))
        form.addRow(note)
        form.addRow(buttons)
        self.resize(560, self.sizeHint().height())

    def problem(self) -> str | None:
        """Why the watch cannot start as filled in (None when it can)."""
        folder = self.folder.text().strip()
        if not folder:
            return "Choose the folder to watch."
        if not Path(folder).is_dir():
            return f"The folder {folder} does not exist (or is not reachable now)."
        if self.sorting.isChecked():
            target = self.sort_into.text().strip()
            if not target:
                return "Choose the folder to sort inspected images into, or untick sorting."
            if Path(target).exists() and not Path(target).is_dir():
                return f"{target} is a file, not a folder."
            return sort_target_problem(Path(folder), Path(target))
        return None

    def options(self) -> WatchOptions:
        """The choices as the watch takes them."""
        target = self.sort_into.text().strip()
        return WatchOptions(Path(self.folder.text().strip()),
                            Path(target) if self.sorting.isChecked() and target else None)
