"""The dialog that starts a watched folder: which folder, whether (and where) each inspected image
is then moved into ``OK``, ``REVIEW`` and ``NG`` folders by its verdict (``services.sorting``),
and, for the folder watched last, whether what was saved there while the app was not watching
(closed, the station restarted, a crash) is inspected first.

The app remembers when the last watch of its folder began (``AppSettings.watch_started``, UTC):
images modified since then that the project's history does not hold were missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from desktop.dialogs import CheckedDialog
from desktop.settings import AppSettings, with_browse
from services.local_time import local_text
from services.sorting import sort_target_problem


@dataclass(frozen=True)
class WatchOptions:
    """The folder to watch, where inspected images go (None: they stay where they are), and since
    when images not in the history are inspected first (None: only new ones)."""

    folder: Path
    sort_into: Path | None
    catch_up_since: datetime | None = None
    resume: bool = False  # started again when the app starts, if it was running when the app closed
    alert: bool = True  # a part held back beeps and flashes the taskbar


class WatchDialog(CheckedDialog):
    """Choose the folder to watch and, optionally, the folder that inspected images are sorted into."""

    def __init__(self, settings: AppSettings, project: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Watch a folder for {project}")
        self.project = project
        self._last_folder, self._last_start = settings.watch_folder, settings.watch_start()
        self.folder = QLineEdit(settings.watch_folder)
        self.folder.setPlaceholderText("where the camera or the line software saves its images")
        self.catch_up = QCheckBox()
        self.catch_up.setChecked(True)
        self.catch_up.setToolTip("Images the app did not see arrive because it was closed, restarted or had "
                                 "stopped; those the history holds already are left alone")
        self.folder.textChanged.connect(lambda _: self._offer_catch_up())
        sorting = settings.sorting == "1"
        self.sorting = QCheckBox("Move each inspected image into OK, REVIEW or NG under:")
        self.sorting.setChecked(sorting)
        self.sorting.setToolTip("By the verdict given when it was inspected; the history keeps its own copy, "
                                "so the moved image is not needed there")
        self.sort_into = QLineEdit(settings.sort_into)
        self.sort_into.setPlaceholderText("a folder outside the watched one, e.g. for a rework station")
        self.sorting.toggled.connect(self.sort_into.setEnabled)
        self.sort_into.setEnabled(sorting)
        self.alert = QCheckBox("Beep and flash the taskbar when a part is held back (NG or REVIEW)")
        self.alert.setChecked(settings.watch_alert == "1")
        self.resume = QCheckBox("Resume this watch when the app starts, if it was running when the app closed")
        self.resume.setToolTip("For a station that runs unattended: after a restart it watches again, into the "
                               "same project, and first inspects what was saved meanwhile")
        self.resume.setChecked(settings.watch_resume == "1")
        self.note = note = QLabel()
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Folder", with_browse(self.folder, "Folder to watch"))
        form.addRow(self.catch_up)
        form.addRow(self.sorting)
        form.addRow("Sort into", with_browse(self.sort_into, "Folder to sort inspected images into"))
        form.addRow(self.alert)
        form.addRow(self.resume)
        form.addRow(note)
        form.addRow(buttons)
        self._offer_catch_up()
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
        since = self._last_start if self.catch_up.isVisibleTo(self) and self.catch_up.isChecked() else None
        return WatchOptions(Path(self.folder.text().strip()),
                            Path(target) if self.sorting.isChecked() and target else None, since,
                            self.resume.isChecked(), self.alert.isChecked())

    def _offer_catch_up(self) -> None:
        """Offer to catch up only on the folder watched last, whose watch's start is known."""
        offered = (self._last_start is not None and bool(self._last_folder)
                   and self.folder.text().strip() == self._last_folder)
        self.catch_up.setVisible(offered)
        there = "those already there are left alone" + (", but for the catch-up above" if offered else "")
        self.note.setText(f"New images in the folder and its sub-folders are inspected into {self.project}, "
                          f"whichever project you open meanwhile, once their writer has finished; {there}.")
        if offered:
            self.catch_up.setText(f"First inspect the images saved there since its last watch began "
                                  f"({local_text(self._last_start, seconds=False)}) that are not in the history")

