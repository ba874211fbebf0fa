"""What the main window's action groups share: the window state they read, and helpers for projects and
storage errors.

The main window's actions come in groups, one module each (projects, references, inspection,
history), mixed into ``MainWindow``.  ``WindowActions`` names what they use from the window, so
that each group reads on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from db import repository as repo
from db.errors import StorageError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QCompleter, QLineEdit, QStatusBar, QTabWidget

    from desktop.batch_page import BatchPage
    from desktop.history_model import HistoryModel
    from desktop.history_page import HistoryPage
    from desktop.projects_panel import ProjectsPanel
    from desktop.references_page import ReferencesPage
    from desktop.result_view import ResultView
    from desktop.settings import AppSettings
    from desktop.worker import InferenceWorker
    from services.results import StoredResult
    from services.workspace import Workspace


class WindowActions:
    """The main window's state and services as the action groups see them (declarations only)."""

    workspace: Workspace
    settings: AppSettings
    worker: InferenceWorker
    project_name: str | None
    project_id: int | None
    sensitivity: float
    current: StoredResult | None
    queue: list[int]
    _queue_from_history: bool
    tabs: QTabWidget
    projects_panel: ProjectsPanel
    references_page: ReferencesPage
    result_view: ResultView
    batch_page: BatchPage
    history_model: HistoryModel
    history_page: HistoryPage
    _closing: bool
    bank_outdated: bool
    lot_edit: QLineEdit
    lot_completer: QCompleter
    _submit: Callable[..., None]
    show_error: Callable[[str], None]
    set_sensitivity: Callable[[float], None]
    check_drift: Callable[[], None]
    # defined by one group, called by another
    refresh_projects: Callable[[], None]
    parts_stored: Callable[[], None]
    refresh_references: Callable[[], None]
    refresh_lots: Callable[[], None]
    open_inspection: Callable[[int], None]
    statusBar: Callable[[], QStatusBar]  # noqa: N815 (Qt's name)

    @property
    def lot(self) -> str:
        """The lot that parts inspected now belong to (the toolbar's Lot field); "" for none."""
        return repo.checked_lot(self.lot_edit.text())  # the field holds at most as many characters as a lot

    def _lot_for_job(self) -> str:
        """The lot for an inspection job being submitted; it goes to the front of the field's suggestions
        (``refresh_lots`` reads them from the history only when the project changes)."""
        lot = self.lot
        if lot:
            suggestions = self.lot_completer.model()
            others = [known for known in suggestions.stringList() if known != lot]
            suggestions.setStringList([lot, *others][:repo.MAX_SUGGESTED_LOTS])
        return lot

    def _set_queue(self, ids: list[int], from_history: bool = False) -> None:
        """The inspections N steps through; ``from_history``: the history's rows, read further as N needs them."""
        self.queue = list(ids)
        self._queue_from_history = from_history

    def _need_project(self) -> bool:
        """True when a project is chosen; otherwise says to choose one."""
        if self.project_name is None:
            self.show_error("Choose or create a project first.")
            return False
        return True


def shows_storage_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """History writes made on the GUI thread report a locked or read-only database instead of raising."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (StorageError, repo.NotFoundError, ValueError) as exc:
            self.show_error(str(exc))
            return None

    return wrapper
