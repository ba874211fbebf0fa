"""The work the window sends to the inference worker: each function returns a job for its thread.

A job runs on the worker thread with a ``JobContext`` and returns plain data; it never touches a
widget.  Keeping them here draws the thread boundary in the file layout: everything in this
module runs on the worker, everything in ``main_window`` on the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from db import repository as repo
from db.audit_log import as_row, audit_events
from db.backup import BackupCancelled, back_up
from desktop.result_view import OVERLAY_MAX_SIDE, PHOTO_MAX_SIDE
from desktop.worker import Job, JobContext
from engine.calibration import VERDICT_OK
from engine.imageio import empty_folders_note, find_images, no_images_reason, unreadable_folders_note
from services.camera import FIRST_CAMERA, CameraChoice, grab_frame
from services.results import StoredResult, load_result
from services.sorting import move_into
from services.verification import verify_with_masters


@dataclass
class BatchItem:
    """One batch result, sent by the worker: a record, or the error for that file."""

    path: str
    record: Any = None
    calibration: Any = None
    error: str | None = None


@dataclass
class Problem:
    """Something the person must read, sent by a job that goes on (folders it could not list)."""

    message: str


@dataclass
class BatchFiles:
    """The images a batch found in what it was given, sent before the first is inspected."""

    files: list[Path]


class NoImagesError(ValueError):
    """What a job was given holds no image it can read."""


def image_files(ctx: JobContext, paths: list[Path]) -> list[Path]:
    """The files of ``paths``, folders as the images in them and their sub-folders (``find_images``).

    Listed on the worker, since a folder on a network share can take seconds to list and the window
    must not freeze meanwhile.  Folders that could not be listed, or hold no image, are named in a
    ``Problem`` and the rest goes on; raises ``NoImagesError`` (or ``FileNotFoundError``) with the reason when there is
    nothing to read.
    """
    unreadable: list[Path] = []
    empty: list[Path] = []
    try:
        files = find_images(paths, unreadable, empty)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise OSError(f"Cannot read {exc.filename or 'the folder'}: {exc.strerror or exc}.") from exc
    if unreadable:
        ctx.emit(Problem(unreadable_folders_note(unreadable)))
    if not files:
        raise NoImagesError(no_images_reason(paths))
    if empty:
        ctx.emit(Problem(empty_folders_note(empty)))
    return files


def _shown(ctx: JobContext, inspection_id: int) -> StoredResult:
    """An inspection as the result view shows it: its photo and map no larger than the view draws them."""
    return load_result(ctx.inspector.workspace, inspection_id, map_side=OVERLAY_MAX_SIDE,
                       image_side=PHOTO_MAX_SIDE)


def add_references(project: str, paths: list[Path]) -> Job:
    """Copy good images (files, or the images in folders) into the project."""
    return lambda ctx: ctx.inspector.add_references(project, image_files(ctx, paths))


def build_bank(project: str) -> Job:
    """Build (or reuse) the project's bank; returns its id."""
    return lambda ctx: ctx.inspector.ensure_bank(project, progress=ctx.progress, cancel=ctx.cancelled)[0]


def refine_threshold(project: str, mode: str, target_frr: float, validation: Path | None) -> Job:
    """Refine the current bank's threshold from labelled samples; returns the ``Refinement``."""
    return lambda ctx: ctx.inspector.refine_calibration(project, mode, target_frr, validation,
                                                        progress=ctx.progress, cancel=ctx.cancelled)


def back_up_data(folder: Path) -> Job:
    """Copy the data folder to ``folder`` (``db.backup``); returns the ``BackupReport``."""
    def job(ctx: JobContext) -> Any:
        from engine.detector import Cancelled

        workspace = ctx.inspector.workspace
        try:
            return back_up(workspace.home, workspace.database, folder, progress=ctx.progress, cancel=ctx.cancelled)
        except BackupCancelled as exc:
            raise Cancelled() from exc

    return job


def check_files() -> Job:
    """Read every stored file against its checksum (``db.check``); returns the ``CheckReport``."""
    def job(ctx: JobContext) -> Any:
        from db.check import check
        from engine.detector import Cancelled

        workspace = ctx.inspector.workspace
        report = check(workspace.database, workspace.store, verify=True, progress=ctx.progress,
                       cancel=ctx.cancelled)
        if report.cancelled:
            raise Cancelled()
        return report

    return job


def read_audit_log(project: str | None, limit: int) -> Job:
    """The newest ``limit`` audit events of ``project`` (none without one) and of all projects, as rows."""
    def job(ctx: JobContext) -> Any:
        with ctx.inspector.workspace.database.read() as session:
            project_id = repo.get_project(session, project).id if project else None
            own = [as_row(e) for e in audit_events(session, project_id, limit=limit)] if project_id else []
            return own, [as_row(e) for e in audit_events(session, limit=limit)]

    return job


def verify_masters(project: str, folder: Path, sensitivity: float) -> Job:
    """Judge photos of master parts with the project's set-up at ``sensitivity``; returns the ``VerificationRun``."""
    return lambda ctx: verify_with_masters(ctx.inspector, project, folder, progress=ctx.progress,
                                           cancel=ctx.cancelled, sensitivity=sensitivity)


def inspect_files(project: str, paths: list[Path], force: bool = False, lot: str = "",
                  sort_into: Path | None = None, saved_at: Mapping[str, float] | None = None,
                  listed: bool = False) -> Job:
    """Inspect files (folders: the images in them) one after another, as parts of ``lot``; per-file
    errors are emitted as text and the rest go on.  ``listed``: ``paths`` are image files a listing
    found (a watch), so one gone since is reported on its own instead of failing the lot.  With
    ``sort_into``, each inspected file is then moved into its verdict's folder there
    (``services.sorting``); one that cannot be moved is named and stays.  With ``saved_at`` (when
    each file was saved), the files the history has inspected since are left out (a watch catching
    up: ``Inspector.split_by_history``); with ``sort_into`` too, they are moved by the verdict they
    got then, since they still lie there unsorted.

    Returns (inspection ids, the first stored result or None, (file name, verdict) of each part held
    back: NG or REVIEW).
    """
    def job(ctx: JobContext) -> Any:
        ids, held_back = [], []
        files = paths if listed else image_files(ctx, paths)
        todo, done = (files, {}) if saved_at is None else ctx.inspector.split_by_history(files, saved_at)
        if sort_into is not None:
            for path, verdict in done.items():  # inspected before, still unsorted: a crash or a locked file
                _sort(ctx, path, sort_into / verdict)
        for index, path in enumerate(todo):
            if ctx.cancelled():
                break
            try:
                record = ctx.inspector.inspect_file(project, path, force=force, lot=lot)
                ids.append(record.id)
            except Exception as exc:  # noqa: BLE001 (reported per file; the others go on)
                ctx.emit(f"{path.name}: {exc}")
            else:
                if record.verdict != VERDICT_OK:
                    held_back.append((path.name, record.verdict))
                if sort_into is not None:
                    _sort(ctx, path, sort_into / record.verdict)
            ctx.progress(index + 1, len(todo))
        return ids, _shown(ctx, ids[0]) if ids else None, held_back

    return job


def _sort(ctx: JobContext, path: Path, verdict_folder: Path) -> None:
    try:
        move_into(path, verdict_folder)
    except OSError as exc:
        ctx.emit(f"{path.name} was inspected but not moved to {verdict_folder}: {exc.strerror or exc}")


def inspect_array(project: str, image: np.ndarray, source: str, lot: str = "") -> Job:
    """Inspect an in-memory image (clipboard); returns ([id], stored result)."""
    def job(ctx: JobContext) -> Any:
        record = ctx.inspector.inspect_array(project, image, source, lot=lot)
        return [record.id], _shown(ctx, record.id)

    return job


def grab_camera(project: str, lot: str = "", camera: CameraChoice = FIRST_CAMERA) -> Job:
    """Grab a settled frame from ``camera`` and inspect it; a clear error when there is none."""
    return lambda ctx: inspect_array(project, grab_frame(camera).pixels, "camera", lot)(ctx)


def add_reference_array(project: str, image: np.ndarray, name: str) -> Job:
    """Add an in-memory good image (the clipboard) as a reference; returns the ``ReferenceAddResult``."""
    return lambda ctx: ctx.inspector.add_reference_array(project, image, name)


def add_reference_from_camera(project: str, name: str, camera: CameraChoice = FIRST_CAMERA) -> Job:
    """Grab a settled frame from ``camera`` and add it as a reference named ``name``."""
    return lambda ctx: ctx.inspector.add_reference_array(project, grab_frame(camera).pixels, name)


def reinspect(inspection_ids: list[int]) -> Job:
    """Inspect stored images again with their projects' current references.

    Returns (re-inspected, verdicts changed, unchanged, failure messages); stops between images
    when cancelled.
    """
    def job(ctx: JobContext) -> Any:
        done = changed = unchanged = 0
        failures: list[str] = []
        for inspection_id in inspection_ids:
            if ctx.cancelled():
                break
            try:
                before, record = ctx.inspector.reinspect(inspection_id)
            except Exception as exc:  # noqa: BLE001 (one missing image must not stop the rest)
                failures.append(f"#{inspection_id}: {exc}")
            else:
                unchanged += record.skipped
                changed += not record.skipped and record.verdict != before
            done += 1
            ctx.progress(done, len(inspection_ids))
        return done - unchanged - len(failures), changed, unchanged, failures

    return job


def open_result(inspection_id: int) -> Job:
    """Read a stored inspection back."""
    return lambda ctx: _shown(ctx, inspection_id)


def batch(project: str, paths: list[Path], lot: str = "") -> Job:
    """Inspect folders (as parts of ``lot``): a ``BatchFiles`` with the images found, then a ``BatchItem``
    per file; stops between files when cancelled."""
    def job(ctx: JobContext) -> Any:
        from engine.detector import Cancelled

        files = image_files(ctx, paths)
        if ctx.cancelled():
            raise Cancelled()
        ctx.emit(BatchFiles(files))
        _, bank = ctx.inspector.ensure_bank(project)
        done = 0
        for path in files:
            if ctx.cancelled():
                break
            try:
                ctx.emit(BatchItem(str(path), ctx.inspector.inspect_file(project, path, lot=lot), bank.calibration))
            except Exception as exc:  # noqa: BLE001 (one bad file must not stop the batch)
                ctx.emit(BatchItem(str(path), error=str(exc)))
            done += 1
            ctx.progress(done, len(files))
        return done

    return job


def export(request: Any, project: str | None) -> Job:
    """Write a report file, with progress over a CSV's rows or the inspections' pages; returns its path.
    Cancelled before the file is written, it leaves an older file of that name as it was."""
    def job(ctx: JobContext) -> Any:
        # QTextDocument and QPdfWriter paint like a QImage, which Qt allows off the GUI thread.
        from desktop.pdf import html_to_pdf_bytes
        from engine.detector import Cancelled
        from services.report_writer import write_report
        from services.reports import ExportCancelled

        try:
            return write_report(ctx.inspector.workspace, request.out, request.fmt,
                                inspection_ids=request.inspection_ids or None,
                                project=None if request.inspection_ids else project, since=request.since,
                                until=request.until, pdf_renderer=html_to_pdf_bytes, lot=request.lot,
                                progress=ctx.progress, cancelled=ctx.cancelled)
        except ExportCancelled as exc:
            raise Cancelled() from exc

    return job


IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG"}


def save_image(image: Any, target: Path) -> Job:
    """Write a QImage (Qt allows that off the GUI thread) as PNG, or JPEG by its suffix (PNG when it has
    another); written beside the target first, so a full disk leaves an older file of that name whole."""
    def job(ctx: JobContext) -> Path:
        path = target if target.suffix.lower() in IMAGE_FORMATS else target.with_name(target.name + ".png")
        partial = path.with_name(f".{path.name}.part")
        try:
            if not image.save(str(partial), IMAGE_FORMATS[path.suffix.lower()], 95):
                raise OSError(f"Could not write {path}: check that its folder exists, can be written to and "
                              "has free space.")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    return job


def export_project(project: str, target: Path) -> Job:
    """Write a project file (``services.project_transfer``); returns its path."""
    def job(ctx: JobContext) -> Any:
        from services.project_transfer import export_project as write_project_file

        return write_project_file(ctx.inspector.workspace, project, target)

    return job


def import_project(source: Path, new_name: str | None, checkpoint: str | None = None) -> Job:
    """Create a project from a project file (``checkpoint``: the CLIP checkpoint it may need); returns its
    ``ImportResult``, or the taken name (str)."""
    def job(ctx: JobContext) -> Any:
        from services.project_transfer import ProjectNameTakenError
        from services.project_transfer import import_project as read_project_file

        try:
            return read_project_file(ctx.inspector.workspace, source, new_name, checkpoint)
        except ProjectNameTakenError as exc:
            return exc.name

    return job


def create_project(name: str, backbone: str, checkpoint: str | None) -> Job:
    """Create a project whose backbone needs its checkpoint checked and copied first; returns its name."""
    def job(ctx: JobContext) -> Any:
        from services.projects import create_project as create

        return create(ctx.inspector.workspace, name, backbone=backbone, checkpoint=checkpoint)

    return job


def _cached_llm(ctx: JobContext, llm_path: str | None) -> tuple[Any, str | None]:
    """The worker's language model (loaded on first use), or (None, why it cannot be used)."""
    from services.chat import llm_cache_dir, load_llm

    key = llm_path or "embedded"
    if key not in ctx.llm_cache:
        ctx.llm_cache[key] = load_llm(llm_path, cache_dir=llm_cache_dir(ctx.inspector.workspace))
    return ctx.llm_cache[key]


def warm_llm(llm_path: str | None) -> Job:
    """Load the language model ahead of the first question (it takes seconds); returns why not, or None."""
    return lambda ctx: _cached_llm(ctx, llm_path)[1]


def ask(inspection_id: int, question: str, backend: str, llm_path: str | None, sensitivity: float) -> Job:
    """Answer a question about the inspection as shown at ``sensitivity`` (tokens emitted as
    ("token", text)); the model is loaded once per worker."""
    def job(ctx: JobContext) -> Any:
        from services.chat import InspectionChat

        llm, unavailable = _cached_llm(ctx, llm_path) if backend == "llm" else (None, None)
        chat = InspectionChat(ctx.inspector.workspace, inspection_id, llm, unavailable, sensitivity)
        return chat.ask(question, on_token=lambda text: ctx.emit(("token", text)))

    return job


def write_prompts(project: str, llm_path: str | None) -> Job:
    """Have the language model write the CLIP project's defect prompts (cancellable); returns ``WrittenPrompts``."""
    def job(ctx: JobContext) -> Any:
        from services.part_prompts import prompt_project, write_project_prompts

        prompt_project(ctx.inspector.workspace, project)  # refused before the model loads
        llm, unavailable = _cached_llm(ctx, llm_path)
        if llm is None:
            raise ValueError(f"No language model to write prompts with: {unavailable}")
        return write_project_prompts(ctx.inspector.workspace, project, llm, ctx.progress, ctx.cancelled)

    return job


def create_demo() -> Job:
    """Create the demo project, build its bank, inspect its parts; returns (name, ids, result to show)."""
    def job(ctx: JobContext) -> Any:
        from services.demo import create_demo_project

        name, images = create_demo_project(ctx.inspector.workspace, ctx.inspector)
        ctx.inspector.ensure_bank(name, progress=ctx.progress)
        records = [ctx.inspector.inspect_file(name, path) for path in images]
        shown = max(records, key=lambda record: record.facts.region_count)
        return name, [record.id for record in records], _shown(ctx, shown.id)

    return job


def plan_image_removal(before: datetime, project: str | None, include_flagged: bool) -> Job:
    """Which inspections would lose their stored image, and the space freed (``db.retention``)."""
    def job(ctx: JobContext) -> Any:
        from db.retention import plan_removal

        workspace = ctx.inspector.workspace
        return plan_removal(workspace.database, workspace.store, before, project, include_flagged)

    return job


def remove_images(plan: Any) -> Job:
    """Carry out a removal plan; returns the ``RemovalResult``."""
    def job(ctx: JobContext) -> Any:
        from db.retention import remove_images as remove

        workspace = ctx.inspector.workspace
        return remove(workspace.database, workspace.store, plan, workspace.operator)

    return job


def free_disk_space_left(store: Any) -> Job:
    """Free bytes on the disk of ``store`` (an ``ImageStore``; None when unknown), for the low-space warning."""
    return lambda ctx: store.free_bytes()


def score_drift(workspace: Any, project: str) -> Job:
    """(project, the score-drift warning or None) for ``project``'s latest bank (``services.drift``)."""
    from services.drift import current_drift_warning

    return lambda ctx: (project, current_drift_warning(workspace, project))
