"""The main window's inspection actions: files, clipboard, camera, a watched folder and batches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from desktop import jobs
from desktop.folder_watch import POLL_MS
from desktop.images import qimage_to_array
from desktop.references_page import IMAGE_FILTER
from desktop.watch_dialog import WatchDialog, WatchOptions
from desktop.window_actions import WindowActions
from services.file_names import file_stem
from services.new_images import TreeListing
from services.results import StoredResult
from services.sorting import sort_target_problem


class InspectActions(WindowActions):
    """Inspecting parts and showing results (mixed into ``MainWindow``)."""

    def choose_images(self) -> None:
        """Open one or more images and inspect them."""
        files, _ = QFileDialog.getOpenFileNames(self, "Images to inspect", "", IMAGE_FILTER)
        if files:
            self.inspect_paths([Path(f) for f in files])

    def inspect_paths(self, paths: list[Path], force: bool = False, sort_into: Path | None = None,
                      done: Callable[[Any], None] | None = None, listed: bool = False) -> None:
        """Inspect image files one after another; the first result is shown, N steps through them.
        With ``sort_into``, each is then moved into its verdict's folder there; ``listed``: files a
        watch's listing found (``jobs.inspect_files``)."""
        if not self._need_project():
            return
        self._submit("inspect", jobs.inspect_files(self.project_name, paths, force, self._lot_for_job(), sort_into,
                                                   listed=listed),
                     f"Inspecting {_named(paths)}…", done=done or self._finish_inspect)

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
        self._submit("inspect", jobs.inspect_array(self.project_name, image, source, self._lot_for_job()),
                     f"Inspecting {source}…", done=self._finish_inspect)

    def paste_image(self) -> None:
        """Inspect the image on the clipboard."""
        image = QApplication.clipboard().image()
        if image.isNull():
            self.show_error("The clipboard holds no image.")
            return
        self.inspect_array(qimage_to_array(image), "clipboard")

    def grab_camera(self) -> None:
        """Grab a settled frame from the camera chosen in Settings (on the worker) and inspect it."""
        if not self._need_project():
            return
        camera = self.settings.camera_choice()
        self._submit("inspect", jobs.grab_camera(self.project_name, self._lot_for_job(), camera),
                     f"Grabbing a frame from {camera.describe()}…", done=self._finish_inspect)

    def _finish_inspect(self, result: tuple[Any, ...]) -> None:
        ids, first = result[0], result[1]
        self._set_queue(ids)
        if first is not None:
            self.show_result(first)
        self.parts_stored()

    def save_shown_image(self, target: Path | None = None) -> None:
        """Save the photo as shown (``ResultView.rendered_image``) as PNG or JPEG; asks where unless given."""
        image = self.result_view.rendered_image()
        if image is None or self.current is None:
            self.show_error("Inspect or open a part first: there is no image to save.")
            return
        if target is None:
            stem = file_stem(Path(self.current.source).stem, "part")
            suggested = f"{stem}-{self.current.verdict}-{self.current.id}.png"
            chosen, _ = QFileDialog.getSaveFileName(self, "Save image", suggested,
                                                    "PNG image (*.png);;JPEG image (*.jpg *.jpeg)")
            if not chosen:
                return
            target = Path(chosen)
        self._submit("save-image", jobs.save_image(image, target), f"Saving {target.name}…",
                     done=lambda path: self.statusBar().showMessage(f"Wrote {path}"))

    def toggle_watch(self, checked: bool) -> None:
        """Start watching a folder for new images (asks which, and whether to sort them), or stop."""
        self.folder_watch.stop()
        self._show_watch_status()
        if not checked:
            self.settings.watching = ""  # stopped by hand: not resumed at the next start
            self.settings.save()
            self.statusBar().showMessage("Stopped watching.")
            return
        if not self._need_project():  # a watch inspects into the project shown when it starts
            self.watch_action.setChecked(False)
            return
        dialog = WatchDialog(self.settings, self.project_name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._start_chosen_watch(dialog.options()))
        dialog.rejected.connect(lambda: self.watch_action.setChecked(False))
        dialog.open()

    def _start_chosen_watch(self, options: WatchOptions) -> None:
        self.settings.watch_folder = str(options.folder)
        self.settings.sorting = "1" if options.sort_into is not None else ""
        if options.sort_into is not None:
            self.settings.sort_into = str(options.sort_into)
        self.settings.watch_resume = "1" if options.resume else ""
        self.settings.watch_alert = "1" if options.alert else ""
        self.settings.watching = "1" if options.resume else ""
        self.settings.watch_project = self.project_name or ""
        self._watch_began = datetime.now(UTC)
        if options.catch_up_since is None:  # catching up, the older start stays until the catch-up is done
            self.settings.watch_started = self._watch_began.isoformat()
        self.settings.save()
        self.watch_folder(options.folder, options.sort_into, options.catch_up_since)

    def _remember_watch_start(self) -> None:
        """From now on, a catch-up of the watched folder starts when this watch began."""
        self.settings.watch_started = self._watch_began.isoformat()
        self.settings.save()

    def watch_folder(self, folder: Path, sort_into: Path | None = None, catch_up_since: datetime | None = None) -> None:
        """Inspect images that appear in ``folder`` or its sub-folders from now on, into the project
        shown now, whichever project is shown later; with ``sort_into``, move each inspected one
        into ``sort_into``/OK, REVIEW or NG (outside ``folder``); with ``catch_up_since``, first
        those modified since then that the history does not hold."""
        problem = None if sort_into is None else sort_target_problem(folder, sort_into)
        if problem is not None or not self._need_project():
            self.watch_action.setChecked(False)
            if problem is not None:
                self.show_error(problem)
            return
        self.watched_project = self.project_name
        self.watch_sort_into, self._catch_up_since = sort_into, catch_up_since
        self.folder_watch.start(folder)
        self.watched_count = 0
        self.watch_action.setChecked(True)
        self._show_watch_status()
        self.statusBar().showMessage(f"Watching {folder} and its sub-folders for new images…")

    def _watch_keeps_project(self) -> None:
        """A watch inspects into the project it was started for, whichever project is shown, so that
        looking something up in another project does not judge the line's parts against the wrong
        references: say so when the technician switches away."""
        if self.folder_watch.root is None or self.watched_project == self.project_name:
            return
        self.statusBar().showMessage(f"New images of {self.folder_watch.root} still go to "
                                     f"{self.watched_project}; Watch folder stops the watch.")

    def _watched_project_renamed(self, old: str, new: str) -> None:
        if self.watched_project == old:
            self.watched_project = new
            self._show_watch_status()
        if self.settings.watch_project == old:  # the watch resumed at the next start
            self.settings.watch_project = new
            self.settings.save()

    def _watched_project_archived(self, name: str) -> None:
        """An archived project takes no new parts: its watch stops (and is not resumed)."""
        if self.folder_watch.root is None or self.watched_project != name:
            return
        root = self.folder_watch.root
        self.watch_action.setChecked(False)
        self.toggle_watch(False)
        self.statusBar().showMessage(f"Stopped watching {root}: its project '{name}' was archived.")

    def _inspect_for_watch(self, paths: list[Path], done: Callable[[Any], None], message: str,
                           saved_at: dict[str, float] | None = None) -> None:
        """Inspect files a watch's listing found into the watch's own project."""
        self._submit("inspect", jobs.inspect_files(self.watched_project, paths, lot=self._lot_for_job(),
                                                   sort_into=self.watch_sort_into, saved_at=saved_at, listed=True),
                     message, done=done)

    def _finish_for_watch(self, result: tuple[list[int], StoredResult | None, list[tuple[str, str]]]) -> None:
        """Show a watch's results when its project is the one shown; otherwise only say what came."""
        if self.watched_project == self.project_name:
            self._finish_inspect(result)
            return
        self.projects_panel.refresh_activity()
        first = result[1]
        latest = "" if first is None else f"; {Path(first.source).name}: {first.facts.verdict}"
        self.statusBar().showMessage(f"Watch: {len(result[0])} image(s) inspected into "
                                     f"{self.watched_project}{latest}")

    def resume_watch(self) -> None:
        """At start: watch again the folder that was watched, with resuming chosen, when the app closed
        (or crashed), into the same project, catching up first."""
        settings = self.settings
        if settings.watching != "1" or not settings.watch_folder:
            return
        folder = Path(settings.watch_folder)
        if not settings.watch_project or settings.watch_project != self.project_name:
            why = (f"its project '{settings.watch_project}' is gone or archived" if settings.watch_project
                   else "it had no project")
            self.show_error(f"The watch of {folder} was not resumed: {why}. Start it again with Watch folder.")
            return
        self._watch_began = datetime.now(UTC)
        sort_into = Path(settings.sort_into) if settings.sorting == "1" and settings.sort_into else None
        self.watch_folder(folder, sort_into, settings.watch_start())
        self.statusBar().showMessage(f"Resumed watching {folder}, as it was when the app closed.")

    def _catch_up(self, listing: TreeListing) -> None:
        """Inspect what the first listing holds from since ``_catch_up_since`` and the history lacks."""
        since, self._catch_up_since = self._catch_up_since, None
        if since is None:
            return
        missed = listing.saved_since(since)
        if not missed:
            self._remember_watch_start()
        else:
            self._inspect_for_watch(missed, self._finish_catch_up,
                                    f"Checking {len(missed)} image(s) saved while the folder was not watched…",
                                    saved_at=listing.modified)

    def _finish_catch_up(self, result: tuple[list[int], StoredResult | None, list[tuple[str, str]]]) -> None:
        self._finish_for_watch(result)
        self._count_watched(result[0])
        self._remember_watch_start()
        self.statusBar().showMessage(f"Inspected {len(result[0])} image(s) saved while the folder was not watched.")
        self._alert_held_back(result[2])

    def _inspect_watched(self, paths: list[Path]) -> None:
        self._inspect_for_watch(paths, self._finish_watched, f"Inspecting {_named(paths)}…")

    def _finish_watched(self, result: tuple[list[int], StoredResult | None, list[tuple[str, str]]]) -> None:
        self._finish_for_watch(result)
        self._alert_held_back(result[2])

    def _alert_held_back(self, held_back: list[tuple[str, str]]) -> None:
        """Draw a person to parts of a watch that were held back (NG or REVIEW): a beep, the taskbar
        entry flashing while the window is in the background, and a status-bar line naming them."""
        if not held_back or self.settings.watch_alert != "1":
            return
        self.held_back_alerts += 1
        QApplication.beep()
        QApplication.alert(self)
        names = ", ".join(f"{name} ({verdict})" for name, verdict in held_back[:3])
        more = f" and {len(held_back) - 3} more" if len(held_back) > 3 else ""
        self.statusBar().showMessage(f"Held back: {names}{more}")

    def _count_watched(self, paths: list[Path]) -> None:
        self.watched_count += len(paths)
        self._show_watch_status()

    def _show_watch_status(self) -> None:
        """The status bar's lasting note of the watched folder and how many new images it gave."""
        root = self.folder_watch.root
        self.watch_status.setVisible(root is not None)
        if root is not None:
            if not self.folder_watch.reachable:
                found = f"cannot read the folder now, trying every {POLL_MS // 1000} s"
            elif self.folder_watch.reading:
                found = "reading what is there…"
            else:
                found = f"{self.watched_count} new image(s)"
            limit = "" if self.folder_watch.complete else f" (its {self.folder_watch.folder_limit()} newest folders)"
            sorted_into = "" if self.watch_sort_into is None else f", sorted into {self.watch_sort_into.name}"
            into = f" for {self.watched_project}" if self.watched_project else ""
            self.watch_status.setText(f"Watching {root.name or root}{into}{limit}{sorted_into}: {found}")
            sorting = "" if self.watch_sort_into is None else (
                f"; inspected images move into {self.watch_sort_into}/OK, REVIEW or NG")
            self.watch_status.setToolTip(f"{root} and its sub-folders{sorting}; Watch folder again stops")

    def next_image(self) -> None:
        """Show the next result of the queue: the last multi-image inspection, or the history or batch
        rows a result was opened from."""
        if self.current is None or self.current.id not in self.queue:
            return
        position = self.queue.index(self.current.id)
        if position + 1 == len(self.queue) and self._queue_from_history:
            more = self._history_rows_not_queued()
            if self.history_model.loading or (not more and self.history_model.canFetchMore()):
                # The history reads its rows in the background, a page at a time: step once they are in.
                self.statusBar().showMessage("Reading the next page of the history…")
                self.history_model.when_loaded(self.next_image)
                return
            self.queue += more
        if position + 1 < len(self.queue):
            self.open_inspection(self.queue[position + 1])
        else:
            self.statusBar().showMessage("That was the last one.")

    def _history_rows_not_queued(self) -> list[int]:
        """History rows after the queue's (a review refreshes the rows: a part reviewed under "Not
        reviewed" leaves them, not the queue)."""
        return [i for i in self.history_model.loaded_ids() if i not in self.queue]

    def open_from_history(self, inspection_id: int) -> None:
        """Open a part of the history; N then steps through the rest of its filtered rows (a review
        queue: filter REVIEW and not reviewed, open the first, Ctrl+1 / Ctrl+2 and N)."""
        self._open_in_queue(inspection_id, self.history_model.loaded_ids(), from_history=True)

    def open_from_batch(self, inspection_id: int) -> None:
        """Open a part of the batch; N then steps through the rest of the rows shown."""
        self._open_in_queue(inspection_id, self.batch_page.shown_ids(), from_history=False)

    def _open_in_queue(self, inspection_id: int, ids: list[int], from_history: bool) -> None:
        self._set_queue(ids if inspection_id in ids else [inspection_id], from_history)
        self.open_inspection(inspection_id)

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
        place = ""
        if result.id in self.queue and len(self.queue) > 1:
            place = f" · {self.queue.index(result.id) + 1} of {len(self.queue)}, N for the next"
        self.statusBar().showMessage(f"#{result.id} {Path(result.source).name}: {verdict}, score {score:.2f} "
                                     f"(threshold 0.50){place}")

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

    def start_batch(self, paths: list[Path]) -> None:
        """Inspect a folder on the worker; results fill the batch table as they come."""
        if not self._need_project():
            return
        if self.batch_page.running:
            # A second batch would clear the table while the first one's results still arrive.
            self.show_error("A batch is still running: wait for it to finish or cancel it first.")
            return
        self.batch_page.reading()
        self.tabs.setCurrentWidget(self.batch_page)
        self._submit("batch", jobs.batch(self.project_name, paths, self._lot_for_job()),
                     f"Reading {_named(paths)}…", done=self._finish_batch)

    def _finish_batch(self, count: int) -> None:
        self.batch_page.finished(cancelled=False)
        self.statusBar().showMessage(f"Batch done: {count} image(s).")
        self.parts_stored()

    def cancel_job(self) -> None:
        """Cancel the running job.  Called here on the GUI thread: a slot of the worker object itself
        would be queued behind the very job it is meant to stop."""
        self.worker.cancel()


def _named(paths: list[Path]) -> str:
    """What a job was given, in a few words for the status bar."""
    return (paths[0].name or str(paths[0])) if len(paths) == 1 else f"{len(paths)} files or folders"
