"""The main window's project actions: create, export, import and choose a part type's project."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from db import repository as repo
from db.errors import StorageError
from desktop import jobs
from desktop.window_actions import WindowActions
from services.file_names import file_stem
from services.project_transfer import SUFFIX as PROJECT_FILE_SUFFIX
from services.project_transfer import ImportResult

PROJECT_FILE_FILTER = f"IAD Inspector projects (*{PROJECT_FILE_SUFFIX})"


class ProjectActions(WindowActions):
    """Projects: the list on the left, new CLIP projects, export and import (mixed into ``MainWindow``)."""

    def refresh_projects(self) -> None:
        """Reload the project list, keeping the selection."""
        self.projects_panel.refresh(select=self.project_name)

    def parts_stored(self) -> None:
        """After parts were inspected (or inspected again): read the projects' counts, the history and
        the drift check again, and the references page when the inspection rebuilt the bank.  The
        project selected stays, so nothing else is read (``refresh_projects`` re-reads it all)."""
        self.projects_panel.refresh_activity()
        self.history_page.apply_filter(announce=False)
        self.check_drift()
        if self.bank_outdated:
            self.refresh_references()

    def new_project(self, name: str | None = None) -> None:
        """Create a project (asks for the name when not given) and go to its references."""
        self.projects_panel.new_project(name)

    def _create_clip_project(self, name: str) -> None:
        checkpoint = self.settings.clip_checkpoint or None
        self._submit("project-create", jobs.create_project(name, self.settings.backbone, checkpoint),
                     f"Checking and copying the CLIP checkpoint for '{name}'…", done=self._finish_project_create)

    def _finish_project_create(self, name: str) -> None:
        self.project_name = name
        self.refresh_projects()
        self.statusBar().showMessage(f"Created project '{name}' on {self.settings.backbone}.")
        self.projects_panel.created.emit(name)

    def export_project(self, name: str, target: Path | None = None) -> None:
        """Write a project's set-up to one file for another workstation (asks where unless given)."""
        if target is None:
            suggested = f"{file_stem(name, 'project')}{PROJECT_FILE_SUFFIX}"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export project", suggested, PROJECT_FILE_FILTER)
            if not chosen:
                return
            target = Path(chosen)
        self._submit("project-export", jobs.export_project(name, target), f"Exporting project '{name}'…",
                     done=lambda path: self.statusBar().showMessage(f"Wrote {path}"))

    def import_project(self, source: Path | None = None, new_name: str | None = None) -> None:
        """Create a project from a project file (asks which unless given); a taken name asks for another."""
        if source is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import project", "", PROJECT_FILE_FILTER)
            if not chosen:
                return
            source = Path(chosen)
        self._importing = source
        self._submit("project-import", jobs.import_project(source, new_name, self.settings.clip_checkpoint or None),
                     f"Importing {source.name}…", done=self._finish_project_import)

    def ask_import_name(self, taken: str) -> str | None:
        """Another name for an imported project whose own name is taken here; None cancels."""
        name, ok = QInputDialog.getText(self, "Import project",
                                        f"A project named '{taken}' already exists here. Import it as:",
                                        text=f"{taken} (imported)")
        return name.strip() if ok and name.strip() else None

    def _finish_project_import(self, result: ImportResult | str) -> None:
        if isinstance(result, str):
            name = self.ask_import_name(result)
            if name is not None and self._importing is not None:
                self.import_project(self._importing, name)
            return
        self.project_name = result.name
        self.refresh_projects()
        bank = "with its calibration" if result.bank_imported else "its reference bank is built on first use"
        self.statusBar().showMessage(f"Imported project '{result.name}' ({result.active_references} active "
                                     f"references; {bank}).")
        if result.note:
            self.show_error(result.note)

    def refresh_lots(self) -> None:
        """Offer the project's recent lots in the Lot field, so that a lot keeps one spelling."""
        lots: list[str] = []
        if self.project_id is not None:
            try:
                with self.workspace.database.read() as session:
                    lots = repo.recent_lots(session, self.project_id)
            except StorageError:
                pass  # suggestions only: the lot can still be typed
        self.lot_completer.model().setStringList(lots)

    def _select_project(self, name: str | None) -> None:
        self.project_name = name
        self.project_id = None
        if name is not None:
            try:
                with self.workspace.database.read() as session:
                    project = repo.get_project(session, name)
                    self.project_id = project.id
                    self.sensitivity = float(project.settings.get("sensitivity", 0.5))
            except (StorageError, repo.NotFoundError) as exc:
                self.show_error(str(exc))
                self.project_name = None
            self._save_timer.stop()
            self.sensitivity_slider.blockSignals(True)
            self.sensitivity_slider.setValue(round(self.sensitivity * 100))
            self.sensitivity_slider.blockSignals(False)
            self.set_sensitivity(self.sensitivity)
        self.setWindowTitle(f"IAD Inspector — {self.project_name}" if self.project_name else "IAD Inspector")
        panel = self.projects_panel
        self.demo_banner.setVisible(panel.count() == 0 and not panel.show_archived.isChecked())
        self.drift_text = None  # another project's warning does not apply; this one's is read again
        self.drift_warning.hide()
        self.refresh_references()
        self.check_drift()
        self.refresh_lots()
        self.history_page.set_project(self.project_id)
        self._watch_keeps_project()
