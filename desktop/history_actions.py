"""The main window's history actions: reviews, re-inspection, housekeeping, backups and reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from db import repository as repo
from db.check import CheckReport, problems_summary
from db.models import Project
from db.retention import RemovalPlan, RemovalResult, kept_samples_note
from desktop import jobs
from desktop.audit_dialog import AuditDialog
from desktop.export_dialog import ExportDialog, ExportRequest
from desktop.free_space_dialog import FreeSpaceDialog, FreeSpaceRequest
from desktop.window_actions import WindowActions, shows_storage_errors

# The audit log dialog shows the newest this many events (``main.py db audit`` lists any number).
AUDIT_ROWS = 1000


class HistoryActions(WindowActions):
    """What the History page asks of the window (mixed into ``MainWindow``)."""

    @shows_storage_errors
    def review(self, inspection_ids: list[int], verdict: str, comment: str) -> None:
        """Record an operator verdict on inspections."""
        with self.workspace.database.write() as session:
            for inspection_id in inspection_ids:
                repo.add_review(session, repo.get_inspection(session, inspection_id), verdict, comment,
                                self.workspace.operator)
        self.history_model.refresh()
        self.statusBar().showMessage(f"Marked {len(inspection_ids)} inspection(s) {verdict}.")

    def review_current(self, verdict: str) -> None:
        """Review the inspection on screen (keyboard shortcut)."""
        if self.current is not None:
            self.review([self.current.id], verdict, "")

    def reinspect(self, inspection_ids: list[int]) -> None:
        """Inspect the chosen parts' stored images again with their projects' current references."""
        if not inspection_ids:
            self.show_error("Select the inspections to inspect again.")
            return
        self._submit("reinspect", jobs.reinspect(inspection_ids),
                     f"Inspecting {len(inspection_ids)} stored image(s) again…", done=self._finish_reinspect)

    def _finish_reinspect(self, result: tuple[int, int, int, list[str]]) -> None:
        done, changed, unchanged, failures = result
        self.parts_stored()
        message = f"Re-inspected {done} image(s) with the current references: {changed} verdict(s) changed"
        if unchanged:
            message += f"; {unchanged} unchanged (already inspected with these references)"
        self.statusBar().showMessage(message + ".")
        if failures:
            self.show_error("Some could not be inspected again:\n" + "\n".join(failures))

    @shows_storage_errors
    def add_inspections_to_references(self, inspection_ids: list[int]) -> None:
        """False rejects join the references (the bank rebuilds at the next inspection).

        An inspection whose stored image was removed to free disk space has nothing to add; it is
        named in a message and the others are added.
        """
        added, removed = 0, []
        with self.workspace.database.write() as session:
            for inspection_id in inspection_ids:
                row = repo.get_inspection(session, inspection_id)
                if row.image_removed_at is not None:
                    removed.append(f"#{row.id}")
                    continue
                project = session.get(Project, row.project_id)
                repo.add_reference(session, project, row.image_key, Path(row.source_path).name or row.image_key,
                                   self.workspace.operator)
                if not row.reviews or row.reviews[-1].verdict != "OK":
                    repo.add_review(session, row, "OK", "added to the references", self.workspace.operator)
                added += 1
        self.refresh_references()
        self.history_model.refresh()
        self.statusBar().showMessage(f"Added {added} image(s) to the references.")
        if removed:
            self.show_error(f"The stored image of inspection {', '.join(removed)} was removed to free disk space, "
                            "so it cannot become a reference; add the original file on the References page.")

    def free_disk_space(self, request: FreeSpaceRequest | None = None) -> None:
        """Find old inspections whose stored photo can go (asks the criteria unless given); the
        removal itself is confirmed once their count and size are known."""
        if request is None:
            dialog = FreeSpaceDialog(self.project_name, self)
            if dialog.exec() != FreeSpaceDialog.DialogCode.Accepted:
                return
            request = dialog.request()
        before = datetime.now(UTC) - timedelta(days=request.days)
        self._submit("removal-plan", jobs.plan_image_removal(before, request.project, request.include_flagged),
                     "Looking for stored images to remove…", done=self._finish_removal_plan)

    def show_audit_log(self) -> None:
        """Read the audit log on the worker, then show it (``AuditDialog``)."""
        project = self.project_name
        self._submit("audit", jobs.read_audit_log(project, AUDIT_ROWS), "Reading the audit log…",
                     done=lambda rows: self._open_audit_dialog(project, *rows), show_progress=False)

    def _open_audit_dialog(self, project: str | None, own: list[dict], everything: list[dict]) -> None:
        dialog = AuditDialog(project, own, everything, AUDIT_ROWS, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def choose_backup_folder(self) -> None:
        """Ask where to back the data folder up, then copy it there on the worker."""
        folder = QFileDialog.getExistingDirectory(self, "Back up the history to (an empty folder or an earlier backup)")
        if folder:
            self.back_up_data(Path(folder))

    def back_up_data(self, folder: Path) -> None:
        """Copy the history and its files to ``folder`` on the worker (``db.backup``), with progress and cancel."""
        self._submit("backup", jobs.back_up_data(folder), "Backing up the history…",
                     done=lambda report: self.statusBar().showMessage(report.summary()))

    def check_files(self) -> None:
        """Read every stored photo, heatmap and bank against its checksum on the worker, then say what
        is missing or damaged (``db check --verify``)."""
        self._submit("check", jobs.check_files(), "Checking the stored files…", done=self._finish_check)

    def _finish_check(self, report: CheckReport) -> None:
        if report.missing or report.damaged:
            self.show_error(problems_summary(report))
        else:
            self.statusBar().showMessage(f"All {report.verified} stored files are intact, and every record has "
                                         "its files.")

    def confirm_image_removal(self, plan: RemovalPlan) -> bool:
        """Ask before the photos of ``plan``'s inspections are deleted."""
        answer = QMessageBox.question(
            self, "Free disk space",
            f"Delete the stored photos of {len(plan.inspection_ids)} inspection(s), freeing "
            f"{plan.bytes_freed / 1e6:.1f} MB? Their records, heatmaps, conversations and reviews stay; the photos "
            f"cannot be brought back. {kept_samples_note(plan)}".rstrip())
        return answer == QMessageBox.StandardButton.Yes

    def _finish_removal_plan(self, plan: RemovalPlan) -> None:
        if not plan.inspection_ids:
            note = kept_samples_note(plan)
            self.statusBar().showMessage(f"No stored photos match: nothing to remove. {note}".rstrip())
        elif self.confirm_image_removal(plan):
            self._submit("remove-images", jobs.remove_images(plan), "Removing stored photos…",
                         done=self._finish_remove_images)
        else:
            self.statusBar().showMessage("Nothing removed.")

    def _finish_remove_images(self, result: RemovalResult) -> None:
        self.history_model.refresh()
        self.statusBar().showMessage(f"Removed the stored photos of {result.inspections} inspection(s), freeing "
                                     f"{result.bytes_freed / 1e6:.1f} MB; their records stay.")
        if result.failed:
            self.show_error("Some files could not be deleted ('db check --clean' retries):\n"
                            + "\n".join(result.failed))

    def export(self, selection: list[int], request: ExportRequest | None = None) -> None:
        """Export a report (asks what and where unless ``request`` is given)."""
        if request is None:
            dialog = ExportDialog(selection, self.current.id if self.current else None, self, lot=self.lot)
            if dialog.exec() != ExportDialog.DialogCode.Accepted:
                return
            request = dialog.request()
        if not request.out:
            self.show_error("Choose a file to export to.")
            return
        self._submit("export", jobs.export(request, self.project_name), "Writing the report…",
                     done=self._finish_export)

    def _finish_export(self, path: Path) -> None:
        self.last_export = Path(path)
        self.statusBar().showMessage(f"Wrote {path}")
