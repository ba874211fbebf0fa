"""The main window: projects on the left; Inspect, References, Batch and History pages on the right.

Every engine call, file read for a result and history write of an inspection runs on the one
inference worker; the window only sends jobs and shows what comes back.  Small history queries
(a page of rows, a review) run here: they are indexed and take milliseconds.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from db import repository as repo
from db.errors import StorageError
from db.models import Project, ReferenceImage
from db.retention import RemovalPlan, RemovalResult, kept_samples_note
from db.store import low_space_warning
from desktop import jobs
from desktop.area_dialog import CANVAS_SIDE, AreaDialog
from desktop.audit_dialog import AuditDialog
from desktop.batch_page import BatchPage
from desktop.chat_panel import ChatPanel
from desktop.export_dialog import ExportDialog, ExportRequest
from desktop.folder_watch import FolderWatch
from desktop.free_space_dialog import FreeSpaceDialog, FreeSpaceRequest
from desktop.history_model import HistoryModel
from desktop.history_page import HistoryPage
from desktop.jobs import BatchItem
from desktop.projects_panel import ProjectsPanel
from desktop.references_page import IMAGE_FILTER, ReferenceEntry, ReferencesPage
from desktop.refine_dialog import RefineDialog, RefineOptions
from desktop.result_view import ResultView
from desktop.settings import AppSettings, SettingsDialog
from desktop.thumbnails import ThumbnailLoader
from desktop.worker import InferenceWorker, Job
from engine.area import Area, describe_area
from engine.backbones import DEFAULT_BACKBONE, is_clip
from engine.calibration import VERDICT_OK, Refinement, reference_count_advice, reference_outliers
from engine.errors import TextGuidanceError
from engine.explain import Answer
from engine.imageio import list_images
from engine.prompt_writer import WrittenPrompts
from services.checkpoints import checkpoint_label
from services.detail import UnknownDetailError, project_detail, set_detail
from services.drift import DriftWindowError, drift_window, set_drift_window
from services.inspection import (
    ReferenceAddResult,
    inspection_area,
    matching_bank_row,
    redoable_refinement,
    set_inspection_area,
)
from services.part_prompts import describe_prompts, written_prompts
from services.project_transfer import SUFFIX as PROJECT_FILE_SUFFIX
from services.project_transfer import ImportResult
from services.results import StoredResult, bank_calibration
from services.text_guidance import project_text_guidance, set_text_guidance
from services.verification import VerificationRun, describe_last, last_verification
from services.workspace import Workspace


def _shows_storage_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """History writes made on the GUI thread report a locked or read-only database instead of raising."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (StorageError, repo.NotFoundError, ValueError) as exc:
            self.show_error(str(exc))
            return None

    return wrapper


PROJECT_FILE_FILTER = f"IAD Inspector projects (*{PROJECT_FILE_SUFFIX})"
# Jobs that stop between steps when asked: the status bar offers Cancel while they run (a batch
# has its own button on its page).
# The audit log dialog shows the newest this many events (``main.py db audit`` lists any number).
AUDIT_ROWS = 1000
CANCELLABLE_JOBS = ("build", "refine", "reinspect", "prompts", "verify", "backup")
DISK_JOB = "disk"
# Housekeeping: after parts are inspected, whether their scores drift from the first ones (services/drift.py).
DRIFT_JOB = "drift"
HOUSEKEEPING_JOBS = (DISK_JOB, DRIFT_JOB)
# Jobs that write to (or free) the data folder; the free space is read again after each.
CHANGE_DISK_JOBS = ("inspect", "batch", "references", "reinspect", "remove-images", "project-import", "project-create",
                    "demo")


class MainWindow(QMainWindow):
    """The inspector's main window for one workspace (data folder).

    ``job_finished``, ``job_failed`` and ``job_cancelled`` are emitted on the GUI thread once the
    window has handled a worker job's outcome (tests and scripts wait on these).
    """

    job_finished = Signal(str)
    job_failed = Signal(str)
    job_cancelled = Signal(str)

    def __init__(self, workspace: Workspace, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.settings = settings or AppSettings()
        self.setWindowTitle("IAD Inspector")
        self.resize(1280, 820)
        self.project_name: str | None = None
        self.project_id: int | None = None
        self.sensitivity = 0.5
        self.current: StoredResult | None = None
        self._importing: Path | None = None  # the project file being imported, asked again under a new name
        self.queue: list[int] = []
        self.errors: list[str] = []
        self.verification: VerificationRun | None = None  # the latest verification run of this session
        self._job_ids = itertools.count(1)
        self._done: dict[str, Callable[[Any], None]] = {}  # job id: what takes its result
        self._closing = False

        self.worker = InferenceWorker(workspace, device=self.settings.device or "auto")
        self.worker.started.connect(self._on_started)
        self.worker.progress.connect(self._on_progress)
        self.worker.item.connect(self._on_item)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.thumbnails = ThumbnailLoader()
        self.area_images = ThumbnailLoader(side=CANVAS_SIDE)
        self.area_images.loaded.connect(self._open_area_dialog)
        self.area_dialog: AreaDialog | None = None

        self.projects_panel = ProjectsPanel(workspace, self.thumbnails, self.settings.backbone or "efficientnet-lite0")
        self.projects_panel.selected.connect(self._select_project)
        self.projects_panel.created.connect(lambda _: self.tabs.setCurrentWidget(self.references_page))
        self.projects_panel.error.connect(self.show_error)
        self.projects_panel.export_requested.connect(lambda name: self.export_project(name))
        self.projects_panel.import_requested.connect(lambda: self.import_project())
        self.projects_panel.create_requested.connect(self._create_clip_project)
        self.result_view = ResultView()
        self.result_view.label_requested.connect(self.ask_region_label)
        self.result_view.files_dropped.connect(self.inspect_dropped)
        self.chat = ChatPanel()
        self.chat.ask.connect(self.ask)
        self.chat.backend.currentTextChanged.connect(self._backend_chosen)
        self.references_page = ReferencesPage(self.thumbnails)
        self.references_page.add_requested.connect(self.add_references)
        self.references_page.toggle_requested.connect(self.toggle_reference)
        self.references_page.remove_requested.connect(self.remove_reference)
        self.references_page.build_requested.connect(self.build_bank)
        self.references_page.refine_requested.connect(self.refine_threshold)
        self.references_page.verify_requested.connect(self.choose_masters)
        self.references_page.area_requested.connect(self.choose_inspection_area)
        self.references_page.detail_requested.connect(self.apply_detail)
        self.references_page.text_guidance_requested.connect(self.apply_text_guidance)
        self.references_page.drift_window_requested.connect(self.apply_drift_window)
        self.references_page.prompts_requested.connect(self.write_prompts)
        self.batch_page = BatchPage()
        self.batch_page.start_requested.connect(self.start_batch)
        self.batch_page.cancel_requested.connect(self.cancel_job)
        self.batch_page.open_requested.connect(self.open_inspection)
        self.history_model = HistoryModel(workspace, self.thumbnails)
        self.history_page = HistoryPage(self.history_model)
        self.history_page.open_requested.connect(self.open_inspection)
        self.history_page.review_requested.connect(self.review)
        self.history_page.add_reference_requested.connect(self.add_inspections_to_references)
        self.history_page.export_requested.connect(self.export)
        self.history_page.reinspect_requested.connect(self.reinspect)
        self.history_page.free_space_requested.connect(self.free_disk_space)
        self.history_page.backup_requested.connect(self.choose_backup_folder)
        self.history_page.audit_requested.connect(self.show_audit_log)
        self._build_layout()
        self._build_actions()
        self.folder_watch = FolderWatch(self)
        self.folder_watch.new_images.connect(self.inspect_paths)
        self.refresh_projects()
        self.check_disk_space()

    # ----------------------------------------------------------------- layout
    def _build_layout(self) -> None:
        self.demo_banner = QWidget()
        banner = QHBoxLayout(self.demo_banner)
        banner.addWidget(QLabel("New here? A demo project shows the whole flow in a minute."))
        self.demo_button = QPushButton("Create demo project")
        self.demo_button.clicked.connect(self.create_demo)
        banner.addWidget(self.demo_button)
        banner.addStretch(1)
        inspect = QSplitter()
        inspect.addWidget(self.result_view)
        inspect.addWidget(self.chat)
        inspect.setStretchFactor(0, 3)
        inspect.setStretchFactor(1, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(inspect, "Inspect")
        self.tabs.addTab(self.references_page, "References")
        self.tabs.addTab(self.batch_page, "Batch")
        self.tabs.addTab(self.history_page, "History")
        self.tabs.currentChanged.connect(self._tab_changed)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.demo_banner)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter()
        splitter.addWidget(self.projects_panel)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 1020])
        self.setCentralWidget(splitter)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_bar)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current image; what is done so far is kept")
        self.cancel_button.clicked.connect(self.cancel_job)
        self.cancel_button.hide()
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.disk_warning = QLabel()
        self.disk_warning.setStyleSheet("color: #b00020; font-weight: bold")
        self.disk_warning.hide()
        self.statusBar().addPermanentWidget(self.disk_warning)
        self.drift_warning = QLabel()
        self.drift_warning.setStyleSheet("color: #a15c00; font-weight: bold")
        self.drift_warning.hide()
        self.statusBar().addPermanentWidget(self.drift_warning)
        self.drift_text: str | None = None

    def _action(self, text: str, slot: Any, shortcut: str | QKeySequence.StandardKey | None = None,
                toolbar: QToolBar | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        if toolbar is not None:
            toolbar.addAction(action)
        return action

    def _build_actions(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        self.addToolBar(toolbar)
        self.open_action = self._action("Open images…", self.choose_images, QKeySequence.StandardKey.Open, toolbar)
        self.folder_action = self._action("Inspect folder…", self.batch_page._choose_folder, "Ctrl+Shift+O", toolbar)
        self.paste_action = self._action("Paste", self.paste_image, QKeySequence.StandardKey.Paste, toolbar)
        self.camera_action = self._action("Camera", self.grab_camera, "Ctrl+Shift+C", toolbar)
        self.watch_action = self._action("Watch folder…", self.toggle_watch, None, toolbar)
        self.watch_action.setCheckable(True)
        toolbar.addSeparator()
        self.next_action = self._action("Next image", self.next_image, "N", toolbar)
        self.ok_action = self._action("Mark OK", lambda: self.review_current("OK"), "Ctrl+1", toolbar)
        self.ng_action = self._action("Mark NG", lambda: self.review_current("NG"), "Ctrl+2", toolbar)
        self.heatmap_action = self._action("Heatmap on/off", self.result_view.show_overlay.toggle, "H")
        self.whole_image_action = self._action("Whole image", self.result_view.view.fit, "F")
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Sensitivity "))
        self.sensitivity_slider = QSlider(Qt.Orientation.Horizontal)
        self.sensitivity_slider.setRange(0, 100)
        self.sensitivity_slider.setValue(50)
        self.sensitivity_slider.setMaximumWidth(160)
        self.sensitivity_slider.setToolTip("Higher flags more parts. Re-labels results live; saved for the project.")
        self.sensitivity_slider.valueChanged.connect(lambda v: self.set_sensitivity(v / 100))
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(600)
        self._save_timer.timeout.connect(self.save_sensitivity)
        self.sensitivity_slider.valueChanged.connect(lambda _: self._save_timer.start())
        toolbar.addWidget(self.sensitivity_slider)
        self.sensitivity_label = QLabel(" 0.50 ")
        toolbar.addWidget(self.sensitivity_label)
        toolbar.addSeparator()
        self.export_action = self._action("Export…", lambda: self.export([]), "Ctrl+E", toolbar)
        self.settings_action = self._action("Settings…", self.edit_settings, QKeySequence.StandardKey.Preferences,
                                            toolbar)

    # --------------------------------------------------------------- projects
    def refresh_projects(self) -> None:
        """Reload the project list, keeping the selection."""
        self.projects_panel.refresh(select=self.project_name)

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
            chosen, _ = QFileDialog.getSaveFileName(self, "Export project", f"{name}{PROJECT_FILE_SUFFIX}",
                                                    PROJECT_FILE_FILTER)
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
        self.history_page.set_project(self.project_id)

    # ------------------------------------------------------------- references
    def refresh_references(self) -> None:
        """Reload the references grid and the bank summary."""
        if self.project_name is None:
            self.references_page.show_references([], "no project selected")
            self.references_page.show_prompts_button(False)
            self.references_page.show_text_guidance(False, False)
            return
        with self.workspace.database.read() as session:
            project = repo.get_project(session, self.project_name)
            references = repo.references(session, project)
            active_keys = [r.image_key for r in references if r.active]
            # The bank the next inspection uses; else the newest, which the next inspection replaces.
            current = matching_bank_row(session, project, active_keys)
            bank = current or repo.latest_bank(session, project)
            scores: dict[str, float] = {}
            flags: dict[str, bool] = {}
            calibration = bank_calibration(bank)
            # With two references or more the normal scores are the references' leave-one-out scores,
            # one each, and a refinement keeps them.
            if calibration is not None and len(bank.reference_keys) >= 2 \
                    and len(calibration.normal_scores) == len(bank.reference_keys):
                raw = dict(zip(bank.reference_keys, calibration.normal_scores))
                flags = dict(zip(raw, reference_outliers(list(raw.values()))))
                scores = {key: calibration.normalise(value) for key, value in raw.items()}
            entries = [ReferenceEntry(r.id, r.file_name, self.workspace.store.path(r.image_key), r.active,
                                      scores.get(r.image_key), flags.get(r.image_key, False)) for r in references]
            if bank is None:
                text = "no bank built yet"
            else:
                text = (f"bank of {len(bank.reference_keys)} built {bank.created_at:%Y-%m-%d %H:%M}"
                        + (" (out of date: rebuilds at the next inspection)" if current is None else ""))
                if calibration is not None and calibration.labelled:
                    refinement = Refinement(**calibration.labelled)
                    text += f"\nCalibration revision {calibration.revision}: {refinement.summary()}"
                    if current is None and redoable_refinement(bank) is not None:
                        text += "\nThe rebuilt bank will refine its threshold again by the same rule and samples."
                    elif current is None:  # refined before the rule was recorded: the rebuilt bank starts afresh
                        text += "\nThe rebuilt bank starts from the references' own threshold: refine it again."
            if project.backbone != DEFAULT_BACKBONE:
                text += f"\nBackbone: {project.backbone}" + checkpoint_label(project.settings.get("engine", {}))
            clip = is_clip(project.backbone)
            written = written_prompts(project) if clip else None
            if clip:
                text += "\nDefect prompts: " + describe_prompts(project)
            text += "\nInspection area: " + describe_area(*inspection_area(project))
            text += "\nMaster parts: " + describe_last(last_verification(session, project))
            detail = project_detail(project)
            guided = project_text_guidance(project)
            window = drift_window(project)
            advice = reference_count_advice(len(active_keys)) if active_keys else None
            if advice:
                text += "\n" + advice
            if self.drift_text:
                text += "\n" + self.drift_text
        self.references_page.show_references(entries, text)
        self.references_page.show_detail(detail)
        self.references_page.show_drift_window(window)
        self.references_page.show_prompts_button(clip, written.all_prompts() if written else None)
        self.references_page.show_text_guidance(clip, guided)

    def add_references(self, paths: list[Path]) -> None:
        """Copy good images (files or folders) into the project on the worker."""
        if not self._need_project():
            return
        files = _expand(paths)
        self._submit("references", jobs.add_references(self.project_name, files),
                     f"Adding {len(files)} reference image(s)…", done=self._finish_add_references)

    def _finish_add_references(self, added: ReferenceAddResult) -> None:
        for path, reason in added.failed:
            self.show_error(f"Skipped {path}: {reason}")
        self.statusBar().showMessage(f"Added {len(added.added)} reference image(s).")
        self.refresh_references()
        self.refresh_projects()

    @_shows_storage_errors
    def toggle_reference(self, reference_id: int, active: bool) -> None:
        """Enable or disable one reference."""
        with self.workspace.database.write() as session:
            reference = session.get(ReferenceImage, reference_id)
            if reference is not None:
                repo.set_reference_active(session, reference, active, self.workspace.operator)
        self.refresh_references()

    @_shows_storage_errors
    def remove_reference(self, reference_id: int) -> None:
        """Remove one reference from the project (its file stays until a store clean-up)."""
        with self.workspace.database.write() as session:
            reference = session.get(ReferenceImage, reference_id)
            if reference is not None:
                repo.audit(session, self.workspace.operator, "delete", "reference", reference.id,
                           {"file": reference.file_name})
                session.delete(reference)
        self.refresh_references()

    def build_bank(self) -> None:
        """Build the bank (with calibration) on the worker, with progress."""
        if not self._need_project():
            return
        self._submit("build", jobs.build_bank(self.project_name), "Building the reference bank…",
                     done=self._finish_build)

    def _finish_build(self, _: object) -> None:
        self.statusBar().showMessage("Reference bank ready.")
        self.refresh_references()
        self.refresh_projects()

    def write_prompts(self) -> None:
        """Have the language model write the CLIP project's defect prompts on the worker."""
        if not self._need_project():
            return
        self._submit("prompts", jobs.write_prompts(self.project_name, self.settings.llm_path or None),
                     "The language model is writing defect prompts…", done=self._finish_prompts)

    def _finish_prompts(self, written: WrittenPrompts) -> None:
        self.statusBar().showMessage(f"{written.model} wrote {written.kept} defect prompt(s) for "
                                     f"'{written.object_name}'; {written.refused} answer(s) were refused.")
        self.refresh_references()

    def choose_inspection_area(self) -> None:
        """Load the first active reference off the GUI thread, then let the user draw the area on it."""
        if not self._need_project():
            return
        with self.workspace.database.read() as session:
            project = repo.get_project(session, self.project_name)
            active = [r for r in repo.references(session, project) if r.active]
            path = self.workspace.store.path(active[0].image_key) if active else None
        if path is None:
            self.show_error("Add a good reference image first: the inspection area is drawn on one.")
            return
        self.area_images.request(("area", self.project_name), path)

    def _open_area_dialog(self, key: object, image: QImage) -> None:
        if key != ("area", self.project_name):
            return  # the project changed while the image loaded
        with self.workspace.database.read() as session:
            area, ignored = inspection_area(repo.get_project(session, self.project_name))
        dialog = self.area_dialog = AreaDialog(image, area, ignored, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_inspection_area(dialog.area(), dialog.ignored()))
        dialog.open()

    @_shows_storage_errors
    def apply_inspection_area(self, area: Area | None, ignored: tuple[Area, ...] = ()) -> None:
        """Store what the project scores (area None: the whole image); the bank rebuilds on next use."""
        if not self._need_project():
            return
        set_inspection_area(self.workspace, self.project_name, area, ignored)
        self.refresh_references()
        self.statusBar().showMessage("Inspection area: " + describe_area(area, ignored) + ". The reference bank "
                                     "is rebuilt with it at the next build or inspection.")

    @_shows_storage_errors
    def apply_detail(self, level: str) -> None:
        """Store the project's level of detail; the bank rebuilds at its next use."""
        if not self._need_project():
            return
        try:
            side = set_detail(self.workspace, self.project_name, level)
        except UnknownDetailError as exc:
            self.show_error(str(exc))
            return
        self.refresh_references()
        self.statusBar().showMessage(f"Level of detail: {level} (about {side} x {side} pixels). The reference bank "
                                     "is rebuilt with it at the next build or inspection.")

    @_shows_storage_errors
    def apply_text_guidance(self, on: bool) -> None:
        """Turn the project's text guidance on or off; the bank rebuilds at its next use."""
        if not self._need_project():
            return
        try:
            set_text_guidance(self.workspace, self.project_name, on)
        except TextGuidanceError as exc:
            self.show_error(str(exc))
        self.refresh_references()
        if self.references_page.guidance_box.isChecked() == on:
            self.statusBar().showMessage(f"Text guidance {'on' if on else 'off'}. The reference bank is rebuilt "
                                         "with it at the next build or inspection.")

    @_shows_storage_errors
    def apply_drift_window(self, window: int) -> None:
        """Store how many parts the score-drift check compares on each side, then check again."""
        if not self._need_project():
            return
        try:
            if not set_drift_window(self.workspace, self.project_name, window):
                return  # the spin box lost focus without a change
        except DriftWindowError as exc:
            self.show_error(str(exc))
            return
        self.statusBar().showMessage(f"Score-drift check: the latest {window} parts against the first {window}.")
        self.check_drift()

    def refine_threshold(self) -> None:
        """Ask how to refine the threshold, then refine it on the worker."""
        if not self._need_project():
            return
        dialog = RefineDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_refine(dialog.options()))
        dialog.open()

    def start_refine(self, options: RefineOptions) -> None:
        """Refine the project's threshold with ``options`` on the worker."""
        if not self._need_project():
            return
        job = jobs.refine_threshold(self.project_name, options.mode, options.target_frr, options.validation)
        self._submit("refine", job, "Refining the threshold…", done=self._finish_refine)

    def _finish_refine(self, report: Refinement) -> None:
        """Show what the new threshold does; the history and the shown result re-label with it."""
        self.refresh_references()
        self.history_model.forget_calibrations()
        if self.current is not None:
            self.open_inspection(self.current.id)
        self.statusBar().showMessage(report.summary())

    def choose_masters(self) -> None:
        """Ask for the folder of master-part photos, then verify the set-up with them."""
        if not self._need_project():
            return
        folder = QFileDialog.getExistingDirectory(self, "Master-part photos: good/ (or OK/), one sub-folder per defect")
        if folder:
            self.verify_with_masters(Path(folder))

    def verify_with_masters(self, folder: Path) -> None:
        """Judge the master-part photos in ``folder`` on the worker (``services.verification``)."""
        if not self._need_project():
            return
        self._submit("verify", jobs.verify_masters(self.project_name, folder, self.sensitivity),
                     "Verifying with master parts…", done=self._finish_verification)

    def _finish_verification(self, run: VerificationRun) -> None:
        """Say how the masters were judged: a failure in a box that names each master that failed."""
        self.refresh_references()
        self.statusBar().showMessage(run.summary().split(":")[0] + ".")
        lines = [f"{r.file}: should be {'OK' if r.expected == VERDICT_OK else 'held back'}, got "
                 f"{r.reason or r.verdict}{'' if r.score is None else f' (score {r.score:.2f})'}: "
                 f"{'pass' if r.passed else 'FAIL'}" for r in run.results]
        icon = QMessageBox.Icon.Information if run.passed else QMessageBox.Icon.Critical
        box = QMessageBox(icon, "Verification with master parts", run.summary(), QMessageBox.StandardButton.Ok, self)
        box.setDetailedText("\n".join(lines))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.verification = run
        if not self._closing:
            box.open()

    # ---------------------------------------------------------------- inspect
    def choose_images(self) -> None:
        """Open one or more images and inspect them."""
        files, _ = QFileDialog.getOpenFileNames(self, "Images to inspect", "", IMAGE_FILTER)
        if files:
            self.inspect_paths([Path(f) for f in files])

    def inspect_paths(self, paths: list[Path], force: bool = False) -> None:
        """Inspect image files one after another; the first result is shown, N steps through them."""
        if not self._need_project():
            return
        files = _expand(paths)
        self._submit("inspect", jobs.inspect_files(self.project_name, files, force),
                     f"Inspecting {len(files)} image(s)…", done=self._finish_inspect)

    def inspect_dropped(self, paths: list[Path]) -> None:
        """Files dropped on the image view are inspected there; a folder among them goes to Batch."""
        if any(path.is_dir() for path in paths):
            self.start_batch(paths)
        else:
            self.inspect_paths(paths)

    def inspect_array(self, image: np.ndarray, source: str) -> None:
        """Inspect an in-memory image (clipboard, camera)."""
        if not self._need_project():
            return
        self._submit("inspect", jobs.inspect_array(self.project_name, image, source), f"Inspecting {source}…",
                     done=self._finish_inspect)

    def paste_image(self) -> None:
        """Inspect the image on the clipboard."""
        image = QApplication.clipboard().image()
        if image.isNull():
            self.show_error("The clipboard holds no image.")
            return
        self.inspect_array(_qimage_to_array(image), "clipboard")

    def grab_camera(self) -> None:
        """Grab one frame from the first camera (on the worker) and inspect it."""
        if not self._need_project():
            return
        self._submit("inspect", jobs.grab_camera(self.project_name), "Grabbing a camera frame…",
                     done=self._finish_inspect)

    def _finish_inspect(self, result: tuple[list[int], StoredResult | None]) -> None:
        ids, first = result
        self.queue = list(ids)
        if first is not None:
            self.show_result(first)
        self.refresh_projects()

    def toggle_watch(self, checked: bool) -> None:
        """Start or stop watching a folder for new images."""
        self.folder_watch.stop()
        if not checked:
            self.statusBar().showMessage("Stopped watching.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder to watch")
        if not folder:
            self.watch_action.setChecked(False)
            return
        self.watch_folder(Path(folder))

    def watch_folder(self, folder: Path) -> None:
        """Inspect images that appear in ``folder`` from now on."""
        self.folder_watch.start(folder)
        self.watch_action.setChecked(True)
        self.statusBar().showMessage(f"Watching {folder} for new images…")

    def next_image(self) -> None:
        """Show the next result of the last multi-image inspection."""
        if self.current is None or self.current.id not in self.queue:
            return
        position = self.queue.index(self.current.id)
        if position + 1 < len(self.queue):
            self.open_inspection(self.queue[position + 1])

    def open_inspection(self, inspection_id: int) -> None:
        """Show a stored inspection exactly as it was recorded."""
        self._submit("open", jobs.open_result(inspection_id), f"Opening inspection #{inspection_id}…",
                     done=self.show_result)

    def show_result(self, result: StoredResult) -> None:
        """Display a stored result with its conversation."""
        self.current = result
        self.result_view.show_result(result, self.sensitivity)
        summary = f"{result.facts.verdict}, score {result.facts.score:.2f}, {result.facts.region_count} region(s)"
        self.chat.set_inspection(result.id, result.messages, summary)
        self.tabs.setCurrentIndex(0)
        verdict, score = result.verdict_at(self.sensitivity)
        self.statusBar().showMessage(f"#{result.id} {Path(result.source).name}: {verdict}, score {score:.2f} "
                                     "(threshold 0.50)")

    def ask_region_label(self, region_index: int) -> None:
        """Ask for the defect type of a region and store it."""
        name, ok = QInputDialog.getText(self, "Name defect type", f"Type of region {region_index}:")
        if ok and name.strip():
            self.label_region(region_index, name)

    def label_region(self, region_index: int, name: str) -> None:
        """Name the type of a region of the shown inspection; the result is shown again as stored."""
        from services.labels import label_region

        if self.current is None:
            return
        try:
            label_region(self.workspace, self.current.id, region_index, name)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.open_inspection(self.current.id)

    # ------------------------------------------------------------------ batch
    def start_batch(self, paths: list[Path]) -> None:
        """Inspect a folder on the worker; results fill the batch table as they come."""
        if not self._need_project():
            return
        if self.batch_page.running:
            # A second batch would clear the table while the first one's results still arrive.
            self.show_error("A batch is still running: wait for it to finish or cancel it first.")
            return
        files = _expand(paths)
        self.batch_page.started(len(files))
        self.tabs.setCurrentWidget(self.batch_page)
        self._submit("batch", jobs.batch(self.project_name, files), f"Inspecting {len(files)} image(s)…",
                     done=self._finish_batch)

    def _finish_batch(self, count: int) -> None:
        self.batch_page.finished(cancelled=False)
        self.statusBar().showMessage(f"Batch done: {count} image(s).")
        self.refresh_projects()

    def cancel_job(self) -> None:
        """Cancel the running job.  Called here on the GUI thread: a slot of the worker object itself
        would be queued behind the very job it is meant to stop."""
        self.worker.cancel()

    # --------------------------------------------------------------- history
    @_shows_storage_errors
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
        self.history_model.refresh()
        self.refresh_projects()
        message = f"Re-inspected {done} image(s) with the current references: {changed} verdict(s) changed"
        if unchanged:
            message += f"; {unchanged} unchanged (already inspected with these references)"
        self.statusBar().showMessage(message + ".")
        if failures:
            self.show_error("Some could not be inspected again:\n" + "\n".join(failures))

    @_shows_storage_errors
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
            dialog = ExportDialog(selection, self.current.id if self.current else None, self)
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

    # ------------------------------------------------------------------- chat
    def ask(self, inspection_id: int, question: str, backend: str) -> None:
        """Answer a question about an inspection on the worker; tokens stream back."""
        job = jobs.ask(inspection_id, question, backend, self.settings.llm_path or None, self.sensitivity)
        self._submit("chat", job, "Answering…", done=self._show_answer, show_progress=False)

    def _backend_chosen(self, text: str) -> None:
        """Load the language model in the background as soon as it is chosen."""
        if "LLM" in text:
            self._submit("warm", jobs.warm_llm(self.settings.llm_path or None), "Loading the language model…",
                         done=self._finish_warm, show_progress=False)

    # ------------------------------------------------------------ sensitivity
    def set_sensitivity(self, sensitivity: float) -> None:
        """Re-label the shown result, the batch table and the history live (no inference)."""
        self.sensitivity = sensitivity
        self.sensitivity_label.setText(f" {sensitivity:.2f} ")
        self.result_view.relabel(sensitivity)
        self.batch_page.relabel(sensitivity)
        self.history_model.set_sensitivity(sensitivity)

    @_shows_storage_errors
    def save_sensitivity(self) -> None:
        """Store the sensitivity in the project (used by later inspections; audited)."""
        if self.project_name is None:
            return
        with self.workspace.database.write() as session:
            project = repo.get_project(session, self.project_name)
            settings = {**project.settings, "sensitivity": round(self.sensitivity, 2)}
            repo.update_project(session, project, self.workspace.operator, settings=settings)
        if self.drift_text:  # its medians are on the 0-1 scale of the sensitivity now stored
            self.check_drift()

    # ------------------------------------------------------------- demo, misc
    def create_demo(self) -> None:
        """Create the demo project, build its bank and inspect its parts."""
        self.demo_button.setEnabled(False)
        self._submit("demo", jobs.create_demo(), "Creating the demo project…", done=self._finish_demo)

    def _finish_demo(self, result: tuple[str, list[int], StoredResult]) -> None:
        name, ids, shown = result
        self.project_name = name
        self.queue = list(ids)
        self.refresh_projects()
        self.show_result(shown)
        self.demo_button.setEnabled(True)

    def edit_settings(self) -> None:
        """Edit the settings (data folder and database apply at the next start)."""
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.settings = dialog.values()
            self.settings.save()
            self.projects_panel.default_backbone = self.settings.backbone or "efficientnet-lite0"
            self.statusBar().showMessage("Settings saved. A new data folder or database applies at the next start.")

    def show_error(self, message: str) -> None:
        """Show an error without blocking the window."""
        self.errors.append(message)
        self.statusBar().showMessage(message.split("\n")[0])
        if self._closing:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "IAD Inspector", message.split("\n\n")[0],
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _need_project(self) -> bool:
        if self.project_name is None:
            self.show_error("Choose or create a project first.")
            return False
        return True

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.history_page:
            self.history_page.apply_filter()

    # ------------------------------------------------------------ worker I/O
    def _submit(self, kind: str, job: Job, message: str, *, done: Callable[[Any], None] | None = None,
                show_progress: bool = True) -> None:
        """Run ``job`` on the worker; ``done`` gets its result on the GUI thread once it finishes."""
        job_id = f"{kind}:{next(self._job_ids)}"
        if done is not None:
            self._done[job_id] = done
        self.statusBar().showMessage(message)
        if show_progress:
            self.progress_bar.setRange(0, 0)
            self.progress_bar.show()
        self.worker.submit(job_id, job)

    def _hide_progress(self) -> None:
        self.progress_bar.hide()
        self.cancel_button.hide()

    def _on_started(self, job_id: str) -> None:
        _assert_gui_thread()
        kind = job_id.split(":")[0]
        if kind not in HOUSEKEEPING_JOBS:
            self.cancel_button.setVisible(kind in CANCELLABLE_JOBS)

    def _on_progress(self, job_id: str, done: int, total: int) -> None:
        _assert_gui_thread()
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_item(self, job_id: str, item: object) -> None:
        _assert_gui_thread()
        kind = job_id.split(":")[0]
        if kind == "batch" and isinstance(item, BatchItem):
            self.batch_page.add_item(item)
        elif kind == "chat" and isinstance(item, tuple):
            self.chat.stream(item[1])
        elif isinstance(item, str):
            self.errors.append(item)
            self.statusBar().showMessage(item)

    def check_disk_space(self) -> None:
        """Read the data folder's free space on the worker; a warning shows when it runs low."""
        self._housekeeping(DISK_JOB, jobs.free_disk_space_left(self.workspace.store), self._show_disk_space)

    def check_drift(self) -> None:
        """Compare the project's latest scores with its first ones on the worker; a warning shows on drift."""
        if self.project_name is None:
            self._show_drift((None, None))
            return
        self._housekeeping(DRIFT_JOB, jobs.score_drift(self.workspace, self.project_name), self._show_drift)

    def _housekeeping(self, kind: str, job: Job, done: Callable[[Any], None]) -> None:
        """Run a check on the worker without the progress bar, status message or ``job_finished``."""
        job_id = f"{kind}:{next(self._job_ids)}"
        self._done[job_id] = done
        self.worker.submit(job_id, job)

    def _show_drift(self, result: tuple[str | None, str | None]) -> None:
        project, warning = result
        if project != self.project_name:  # answered for a project no longer shown
            return
        self.drift_warning.setText("Scores drifting: see References" if warning else "")
        self.drift_warning.setToolTip(warning or "")
        self.drift_warning.setVisible(warning is not None)
        if warning != self.drift_text:
            self.drift_text = warning
            self.refresh_references()

    def _show_disk_space(self, free: int | None) -> None:
        warning = low_space_warning(free)
        self.disk_warning.setText(f"{warning}: History › Free disk space…" if warning else "")
        self.disk_warning.setVisible(warning is not None)

    def _on_finished(self, job_id: str, result: object) -> None:
        _assert_gui_thread()
        kind = job_id.split(":")[0]
        done = self._done.pop(job_id, None)
        if kind in HOUSEKEEPING_JOBS:  # leave the progress bar and job_finished to the user's jobs
            if done is not None:
                done(result)
            return
        self._hide_progress()
        if kind in CHANGE_DISK_JOBS:
            self.check_disk_space()
        if kind in ("inspect", "batch"):
            self.check_drift()
        if done is not None:
            done(result)
        if self.history_page.isVisible():
            self.history_page.apply_filter()
        self.job_finished.emit(job_id)

    def _finish_warm(self, problem: str | None) -> None:
        self.statusBar().showMessage(f"Language model unavailable: {problem}; answers come from the facts."
                                     if problem else "Language model ready.")

    def _show_answer(self, answer: Answer) -> None:
        self.statusBar().showMessage(f"Answered by {answer.backend}.")
        detail = answer.backend
        if answer.first_token_s is not None:
            detail += f" · first token {answer.first_token_s:.2f} s, {answer.tokens_per_s or 0:.1f} tokens/s"
        self.chat.answered(answer.text, detail)

    def _on_failed(self, job_id: str, message: str) -> None:
        _assert_gui_thread()
        self._done.pop(job_id, None)
        kind = job_id.split(":")[0]
        if kind in HOUSEKEEPING_JOBS:
            return
        self._hide_progress()
        if kind == "batch":
            self.batch_page.finished(cancelled=True)
        elif kind == "chat":
            self.chat.failed(message.split("\n\n")[0])
        elif kind == "demo":
            self.demo_button.setEnabled(True)
        self.show_error(message)
        self.job_failed.emit(job_id)

    def _on_cancelled(self, job_id: str) -> None:
        _assert_gui_thread()
        self._done.pop(job_id, None)
        self._hide_progress()
        if job_id.startswith("batch"):
            self.batch_page.finished(cancelled=True)
            self.refresh_projects()
            self.check_drift()
        elif job_id.startswith("reinspect"):  # the parts done before the cancel are in the history
            self.history_model.refresh()
            self.refresh_projects()
        self.statusBar().showMessage("Cancelled.")
        self.job_cancelled.emit(job_id)

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt override)
        """Cancel running work and stop the worker cleanly before the window goes."""
        self._closing = True
        self.worker.shutdown()
        self.thumbnails.wait()
        self.area_images.wait()
        super().closeEvent(event)


def _assert_gui_thread() -> None:
    """Slots that touch widgets must run on the GUI thread; a violation is a bug, not a warning."""
    app = QApplication.instance()
    if app is not None and QThread.currentThread() is not app.thread():
        raise RuntimeError("a widget slot ran outside the GUI thread")


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders as their image files (sorted)."""
    files: list[Path] = []
    for path in paths:
        files.extend(list_images(path) if path.is_dir() else [path])
    return files


def _qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage as a uint8 RGB array."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    return buffer.reshape(height, converted.bytesPerLine())[:, :width * 3].reshape(height, width, 3).copy()
