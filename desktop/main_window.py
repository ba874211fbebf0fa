"""The main window: projects on the left; Inspect, References, Batch and History pages on the right.

Every engine call, file read for a result and history write of an inspection runs on the one
inference worker; the window only sends jobs and shows what comes back.  Small history queries
(a page of rows, a review) run here: they are indexed and take milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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
from db.models import MAX_LOT_LENGTH
from db.store import low_space_warning
from desktop import jobs
from desktop.area_dialog import CANVAS_SIDE, AreaDialog
from desktop.batch_page import BatchPage
from desktop.chat_panel import ChatPanel
from desktop.folder_watch import FolderWatch
from desktop.history_actions import HistoryActions
from desktop.history_model import HistoryModel
from desktop.history_page import HistoryPage
from desktop.inspect_actions import InspectActions
from desktop.jobs import BatchFiles, BatchItem, Problem
from desktop.project_actions import ProjectActions
from desktop.projects_panel import ProjectsPanel
from desktop.reference_actions import ReferenceActions
from desktop.references_page import ReferencesPage
from desktop.result_view import ResultView
from desktop.settings import AppSettings, SettingsDialog
from desktop.thumbnails import ThumbnailLoader
from desktop.window_actions import shows_storage_errors
from desktop.worker import InferenceWorker, Job
from engine.explain import Answer
from services.results import StoredResult
from services.verification import VerificationRun
from services.workspace import Workspace

# Jobs that stop between steps when asked: the status bar offers Cancel while they run (a batch
# has its own button on its page).
# Jobs the status bar's Cancel button can stop, with what its tooltip says a cancel keeps.
KEEPS_DONE_WORK = "Stop after the current image; what is done so far is kept"
CANCELLABLE_JOBS = {"build": KEEPS_DONE_WORK, "refine": KEEPS_DONE_WORK, "reinspect": KEEPS_DONE_WORK,
                    "prompts": KEEPS_DONE_WORK, "verify": KEEPS_DONE_WORK,
                    "backup": "Stop the backup; a backup already in that folder keeps its history",
                    "check": "Stop reading the stored files; nothing is changed",
                    "export": "Stop the export; no file is written and one already there stays as it was"}
DISK_JOB = "disk"
# Housekeeping: after parts are inspected, whether their scores drift from the first ones (services/drift.py).
DRIFT_JOB = "drift"
HOUSEKEEPING_JOBS = (DISK_JOB, DRIFT_JOB)
# Jobs that write to (or free) the data folder; the free space is read again after each.
CHANGE_DISK_JOBS = ("inspect", "batch", "references", "reinspect", "remove-images", "project-import", "project-create",
                    "demo")


class MainWindow(ProjectActions, ReferenceActions, InspectActions, HistoryActions, QMainWindow):
    """The inspector's main window for one workspace (data folder).

    It lays out the pages, owns the worker and routes each job's outcome; what the user does with
    projects, references, inspections and the history lives in the action groups it mixes in.

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
        self._queue_from_history = False
        self.errors: list[str] = []
        self.verification: VerificationRun | None = None  # the latest verification run of this session
        self._job_ids = itertools.count(1)
        self._done: dict[str, Callable[[Any], None]] = {}  # job id: what takes its result
        self._closing = False
        self.bank_outdated = False  # the references page says the next inspection rebuilds the bank

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
        self.projects_panel.renamed.connect(self._watched_project_renamed)
        self.projects_panel.archived.connect(self._watched_project_archived)
        self.projects_panel.error.connect(self.show_error)
        self.projects_panel.export_requested.connect(lambda name: self.export_project(name))
        self.projects_panel.import_requested.connect(lambda: self.import_project())
        self.projects_panel.create_requested.connect(self._create_clip_project)
        self.result_view = ResultView()
        self.result_view.label_requested.connect(self.ask_region_label)
        self.result_view.files_dropped.connect(self.inspect_dropped)
        self.result_view.pixel_size_from_line_requested.connect(self.ask_pixel_size_from_line)
        self.result_view.save_image_requested.connect(self.save_shown_image)
        self.chat = ChatPanel()
        self.chat.ask.connect(self.ask)
        self.chat.backend.currentTextChanged.connect(self._backend_chosen)
        self.references_page = ReferencesPage(self.thumbnails)
        self.references_page.add_requested.connect(self.add_references)
        self.references_page.camera_requested.connect(self.add_reference_from_camera)
        self.references_page.paste_requested.connect(self.paste_reference)
        self.references_page.toggle_requested.connect(self.toggle_reference)
        self.references_page.remove_requested.connect(self.remove_reference)
        self.references_page.build_requested.connect(self.build_bank)
        self.references_page.refine_requested.connect(self.refine_threshold)
        self.references_page.verify_requested.connect(self.choose_masters)
        self.references_page.area_requested.connect(self.choose_inspection_area)
        self.references_page.detail_requested.connect(self.apply_detail)
        self.references_page.text_guidance_requested.connect(self.apply_text_guidance)
        self.references_page.drift_window_requested.connect(self.apply_drift_window)
        self.references_page.pixel_size_requested.connect(self.apply_pixel_size)
        self.references_page.prompts_requested.connect(self.write_prompts)
        self.batch_page = BatchPage()
        self.batch_page.start_requested.connect(self.start_batch)
        self.batch_page.cancel_requested.connect(self.cancel_job)
        self.batch_page.open_requested.connect(self.open_from_batch)
        self.history_model = HistoryModel(workspace, self.thumbnails)
        self.history_model.failed.connect(lambda message: self.show_error(f"The history could not be read: {message}"))
        self.history_page = HistoryPage(self.history_model)
        self.history_page.open_requested.connect(self.open_from_history)
        self.history_page.review_requested.connect(self.review)
        self.history_page.add_reference_requested.connect(self.add_inspections_to_references)
        self.history_page.export_requested.connect(self.export)
        self.history_page.reinspect_requested.connect(self.reinspect)
        self.history_page.free_space_requested.connect(self.free_disk_space)
        self.history_page.backup_requested.connect(self.choose_backup_folder)
        self.history_page.audit_requested.connect(self.show_audit_log)
        self.history_page.check_requested.connect(self.check_files)
        self._build_layout()
        self._build_actions()
        self.folder_watch = FolderWatch(self)
        self.folder_watch.new_images.connect(self._inspect_watched)
        self.folder_watch.new_images.connect(self._count_watched)
        self.folder_watch.first_listed.connect(self._catch_up)
        self.folder_watch.scanned.connect(self._show_watch_status)  # the first listing's end; a tree grown too big
        if self.settings.watching == "1":
            self.project_name = self.settings.watch_project or None  # the resumed watch's project, if still listed
        self.refresh_projects()
        self.resume_watch()
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
        self.watch_status = QLabel()  # stays while a folder is watched; messages come and go beside it
        self.watch_status.hide()
        self.statusBar().addPermanentWidget(self.watch_status)
        self.watched_count = 0
        self.watch_sort_into: Path | None = None
        self.watched_project: str | None = None  # the project a watch inspects into, set when it starts
        self._catch_up_since = None  # when set, the watch's first listing is caught up from then
        self._watch_began = datetime.now(UTC)
        self.held_back_alerts = 0  # how often a watch drew attention to parts held back (_alert_held_back)

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
        self.lot_edit = QLineEdit()
        self.lot_edit.setPlaceholderText("Lot")
        self.lot_edit.setMaxLength(MAX_LOT_LENGTH)
        self.lot_edit.setMaximumWidth(120)
        self.lot_edit.setClearButtonEnabled(True)
        self.lot_edit.setToolTip("The lot, batch or order the parts inspected from now on belong to: recorded with "
                                 "each, shown in the history and its search, and selectable in reports")
        self.lot_completer = QCompleter([], self.lot_edit)  # the project's recent lots: one spelling per lot
        self.lot_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.lot_edit.setCompleter(self.lot_completer)
        toolbar.addWidget(self.lot_edit)
        self.lot_action = self._action("Lot", self._focus_lot, "Ctrl+L")
        toolbar.addSeparator()
        self.next_action = self._action("Next image", self.next_image, "N", toolbar)
        self.ok_action = self._action("Mark OK", lambda: self.review_current("OK"), "Ctrl+1", toolbar)
        self.ng_action = self._action("Mark NG", lambda: self.review_current("NG"), "Ctrl+2", toolbar)
        self.heatmap_action = self._action("Heatmap on/off", self.result_view.show_overlay.toggle, "H")
        self.whole_image_action = self._action("Whole image", self.result_view.view.fit, "F")
        self.measure_action = self._action("Measure", self.result_view.measure_button.toggle, "M")
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

    @shows_storage_errors
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
        self._set_queue(ids)
        self.refresh_projects()
        self.show_result(shown)
        self.demo_button.setEnabled(True)

    def _focus_lot(self) -> None:
        self.lot_edit.setFocus()
        self.lot_edit.selectAll()

    def edit_settings(self) -> None:
        """Edit the settings (data folder and database apply at the next start)."""
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self.settings = dialog.values()
            self.settings.save()
            self.projects_panel.default_backbone = self.settings.backbone or "efficientnet-lite0"
            self.statusBar().showMessage("Settings saved. A new data folder or database applies at the next start.")

    def bring_to_front(self) -> None:
        """Show this window in front, restored if minimised: the app was started a second time."""
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()
        self.statusBar().showMessage("IAD Inspector was started again: it already runs, in this window.")

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
            self.cancel_button.setToolTip(CANCELLABLE_JOBS.get(kind, ""))

    def _on_progress(self, job_id: str, done: int, total: int) -> None:
        _assert_gui_thread()
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_item(self, job_id: str, item: object) -> None:
        _assert_gui_thread()
        kind = job_id.split(":")[0]
        if kind == "batch" and isinstance(item, BatchItem):
            self.batch_page.add_item(item)
        elif kind == "batch" and isinstance(item, BatchFiles):
            self.batch_page.started(item.files)
            self.statusBar().showMessage(f"Inspecting {len(item.files)} image(s)…")
        elif isinstance(item, Problem):
            self.show_error(item.message)
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
            self.parts_stored()
        elif job_id.startswith("reinspect"):  # the parts done before the cancel are in the history
            self.parts_stored()
        self.statusBar().showMessage("Export cancelled; no file was written." if job_id.startswith("export")
                                     else "Cancelled.")
        self.job_cancelled.emit(job_id)

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt override)
        """Cancel running work and stop the worker cleanly before the window goes."""
        self._closing = True
        self.folder_watch.stop()  # resumed at the next start if so chosen (settings.watching stays)
        self.worker.shutdown()
        self.thumbnails.wait()
        self.history_model.close()
        self.projects_panel.close_reads()
        self.area_images.wait()
        super().closeEvent(event)


def _assert_gui_thread() -> None:
    """Slots that touch widgets must run on the GUI thread; a violation is a bug, not a warning."""
    app = QApplication.instance()
    if app is not None and QThread.currentThread() is not app.thread():
        raise RuntimeError("a widget slot ran outside the GUI thread")
