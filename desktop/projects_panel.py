"""The projects sidebar: one entry per part type, with create, rename, describe, archive, restore,
export and import.

The list of projects and their references are small indexed queries, so they are read on the GUI
thread; each project's inspection count and newest time (a count over what may be hundreds of
thousands of inspections) are read in the background, and an entry shows the figures read
before until they arrive.  Thumbnails come from the background loader, and export and import
(files of tens of megabytes) are left to the main window, which runs them on the worker.

Archiving hides a project from the list but keeps its references and history; "Show archived"
lists archived projects again, where "Restore" brings one back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db import repository as repo
from db.errors import StorageError
from desktop.background_reads import BackgroundReader
from desktop.thumbnails import ThumbnailLoader, place_icon
from engine.backbones import is_clip
from services.local_time import local_text
from services.workspace import Workspace

NAME_ROLE = Qt.ItemDataRole.UserRole
ARCHIVED_ROLE = Qt.ItemDataRole.UserRole + 1
PROJECT_ID_ROLE = Qt.ItemDataRole.UserRole + 2
REFERENCES_ROLE = Qt.ItemDataRole.UserRole + 3
Activity = tuple[int, datetime | None]  # inspections, the newest one's time


def read_activity(workspace: Workspace, project_ids: list[int]) -> dict[int, Activity]:
    """Each project's inspection count and newest inspection time (run off the GUI thread)."""
    with workspace.database.read() as session:
        return {project_id: repo.project_activity(session, project_id) for project_id in project_ids}


class ProjectsPanel(QWidget):
    """Lists the projects and edits them; ``selected(name or None)`` follows the current row.

    ``error(message)`` reports what a user can cause (a taken name, a locked database) without
    raising; ``created(name)`` follows a new project; ``export_requested(name)`` and
    ``import_requested()`` ask for a project file to be written or read; ``create_requested(name)``
    asks for a project on a CLIP backbone, whose checkpoint must be checked and copied on the worker.
    """

    selected = Signal(object)
    created = Signal(str)
    renamed = Signal(str, str)  # old name, new name
    archived = Signal(str)
    create_requested = Signal(str)
    error = Signal(str)
    export_requested = Signal(str)
    import_requested = Signal()

    def __init__(self, workspace: Workspace, thumbnails: ThumbnailLoader, default_backbone: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.thumbnails = thumbnails
        self.default_backbone = default_backbone
        self.current: str | None = None
        # name -> (image key, icon): a refresh of the list reuses the icon instead of blanking it
        # until the file is read again.
        self._icons: dict[str, tuple[str, QIcon]] = {}
        self._activity: dict[int, Activity] = {}  # project id -> the figures read last
        self._activity_reader = BackgroundReader()
        self._activity_reader.answered.connect(self._put_in_activity)
        self._activity_reader.failed.connect(self._activity_failed)
        self._activity_generation = 0
        self._activity_pending = False
        self.list = QListWidget()
        self.list.setIconSize(QSize(48, 48))
        # A narrow panel cuts long names at the right (the tooltip has the whole) rather than scrolling sideways.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentItemChanged.connect(self._chosen)
        thumbnails.loaded.connect(self._thumbnail)
        self.show_archived = QCheckBox("Show archived")
        self.show_archived.toggled.connect(lambda _: self.refresh())
        self.new_button = self._button("New…", lambda: self.new_project())
        self.rename_button = self._button("Rename…", lambda: self.rename_project())
        self.describe_button = self._button("Describe…", lambda: self.describe_project())
        self.archive_button = self._button("Archive", lambda: self.archive_project())
        self.export_button = self._button("Export…", lambda: self.export_requested.emit(self.current))
        self.export_button.setToolTip("Write this project's references, settings and calibration to one file, "
                                      "for another workstation")
        self.import_button = self._button("Import…", lambda: self.import_requested.emit())
        self.import_button.setToolTip("Create a project from a file written by Export")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Projects</b> (part types)"))
        layout.addWidget(self.list, 1)
        for row in ((self.new_button, self.rename_button), (self.describe_button, self.archive_button),
                    (self.export_button, self.import_button)):
            line = QHBoxLayout()
            for button in row:
                line.addWidget(button)
            layout.addLayout(line)
        layout.addWidget(self.show_archived)

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        return button

    def count(self) -> int:
        """Number of listed projects."""
        return self.list.count()

    def refresh(self, select: str | None = None) -> None:
        """Reload the list, keeping (or moving to) the selection, and announce the selected project."""
        wanted = select if select is not None else self.current
        self.list.blockSignals(True)
        self.list.clear()
        try:
            with self.workspace.database.read() as session:
                for project in repo.list_projects(session, include_archived=self.show_archived.isChecked()):
                    item = self._item(session, project)
                    self.list.addItem(item)
                    if project.name == wanted:
                        self.list.setCurrentItem(item)
        except StorageError as exc:
            self.error.emit(str(exc))
        finally:
            self.list.blockSignals(False)
        self.refresh_activity()
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        else:
            self._chosen(self.list.currentItem())

    @property
    def activity_loading(self) -> bool:
        """Whether the projects' inspection counts are being read."""
        return self._activity_pending

    def refresh_activity(self) -> None:
        """Read the listed projects' inspection counts and newest times again, in the background
        (after parts were inspected: the list itself has not changed)."""
        project_ids = [self.list.item(row).data(PROJECT_ID_ROLE) for row in range(self.list.count())]
        self._activity_generation += 1
        self._activity_pending = bool(project_ids)
        if project_ids:
            workspace = self.workspace
            self._activity_reader.start(self._activity_generation, lambda: read_activity(workspace, project_ids))

    def wait_activity(self, msecs: int = 10000) -> None:
        """Wait for the count reads asked for; their answers arrive with the next events."""
        self._activity_reader.wait(msecs)

    def close_reads(self, msecs: int = 10000) -> None:
        """Drop the count reads to come and wait for the one under way (the window is closing)."""
        self._activity_generation += 1
        self._activity_reader.close(msecs)

    def _put_in_activity(self, generation: int, activity: dict[int, Activity]) -> None:
        if generation != self._activity_generation:
            return  # asked again since (the list may have changed)
        self._activity_pending = False
        self._activity.update(activity)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(self._entry_text(item))

    def _activity_failed(self, generation: int, message: str) -> None:
        if generation != self._activity_generation:
            return
        self._activity_pending = False  # the entries keep the figures read before
        self.error.emit(f"The projects' inspection counts could not be read: {message}")

    def _entry_text(self, item: QListWidgetItem) -> str:
        name = item.data(NAME_ROLE)
        title = f"{name} (archived)" if item.data(ARCHIVED_ROLE) else name
        activity = self._activity.get(item.data(PROJECT_ID_ROLE))
        if activity is None:
            counted = "counting…"
        else:
            count, newest = activity
            counted = f"{count} inspected\nlast {local_text(newest, seconds=False) if newest else 'never'}"
        return f"{title}\n{item.data(REFERENCES_ROLE)} refs · {counted}"

    def _item(self, session: Any, project: Any) -> QListWidgetItem:
        active = repo.references(session, project, active_only=True)
        item = QListWidgetItem()
        item.setData(NAME_ROLE, project.name)
        item.setData(ARCHIVED_ROLE, project.archived_at is not None)
        item.setData(PROJECT_ID_ROLE, project.id)
        item.setData(REFERENCES_ROLE, len(active))
        item.setText(self._entry_text(item))
        item.setToolTip(f"{project.name}\n{project.description}" if project.description else project.name)
        if active:
            image_key = active[0].image_key
            cached = self._icons.get(project.name)
            if cached is not None and cached[0] == image_key:
                item.setIcon(cached[1])
            else:
                self.thumbnails.request(("project", project.name, image_key), self.workspace.store.path(image_key))
        return item

    def _thumbnail(self, key: object, image: QImage) -> None:
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] == "project"):
            return
        icon = QIcon(QPixmap.fromImage(image))
        self._icons[key[1]] = (key[2], icon)
        place_icon(self.list, "project", key, icon)

    def _chosen(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        self.current = item.data(NAME_ROLE) if item else None
        archived = bool(item.data(ARCHIVED_ROLE)) if item else False
        self.archive_button.setText("Restore" if archived else "Archive")
        for button in (self.rename_button, self.describe_button, self.archive_button, self.export_button):
            button.setEnabled(item is not None)
        self.selected.emit(self.current)

    def current_is_archived(self) -> bool:
        """Whether the selected project is an archived one (shown with "Show archived")."""
        item = self.list.currentItem()
        return bool(item.data(ARCHIVED_ROLE)) if item else False

    def new_project(self, name: str | None = None) -> bool:
        """Create a project (asks for the name when not given) and select it."""
        if not name:
            name, ok = QInputDialog.getText(self, "New project", "Part type name:")
            if not ok or not name.strip():
                return False
        if is_clip(self.default_backbone):
            self.create_requested.emit(name.strip())
            return True
        try:
            with self.workspace.database.write() as session:
                repo.create_project(session, name, backbone=self.default_backbone, actor=self.workspace.operator)
        except (ValueError, repo.NotFoundError, StorageError) as exc:
            self.error.emit(str(exc))
            return False
        self.refresh(select=name.strip())
        self.created.emit(name.strip())
        return True

    def rename_project(self, name: str | None = None) -> bool:
        """Rename the selected project (asks for the new name when not given)."""
        if self.current is None:
            return False
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename project", "New name:", text=self.current)
            if not ok:
                return False
        name = name.strip()
        if not name or name == self.current:
            return False
        old = self.current
        if not self._update(name=name):
            return False
        self.renamed.emit(old, name)
        self.refresh(select=name)
        return True

    def describe_project(self, text: str | None = None) -> bool:
        """Set the selected project's description (asks when not given)."""
        if self.current is None:
            return False
        if text is None:
            text, ok = QInputDialog.getMultiLineText(self, "Describe project", "Description:")
            if not ok:
                return False
        if not self._update(description=text):
            return False
        self.refresh()
        return True

    def archive_project(self, confirm: bool = True) -> bool:
        """Archive the selected project, or restore it when it is an archived one.

        Archiving asks first (``confirm``): the project leaves the list, though its references
        and history stay and "Show archived" brings it back.
        """
        if self.current is None:
            return False
        if self.current_is_archived():
            if not self._update(archived_at=None):
                return False
            self.refresh()
            return True
        if confirm:
            answer = QMessageBox.question(
                self, "Archive project",
                f"Archive '{self.current}'? It leaves the list; its references and history are kept, "
                "and 'Show archived' brings it back.")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        name = self.current
        if not self._update(archived_at=datetime.now(UTC)):
            return False
        self.current = None
        self.archived.emit(name)
        self.refresh()
        return True

    def _update(self, **changes: Any) -> bool:
        """Apply ``changes`` to the selected project; False (and an error signal) when refused."""
        try:
            with self.workspace.database.write() as session:
                project = repo.get_project(session, self.current)
                repo.update_project(session, project, self.workspace.operator, **changes)
        except (ValueError, repo.NotFoundError, StorageError) as exc:
            self.error.emit(str(exc))
            return False
        return True
