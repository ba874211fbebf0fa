"""The main window's reference actions: the good images, the bank and what the project scores."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from db import repository as repo
from db.models import ReferenceImage
from desktop import jobs
from desktop.area_dialog import AreaDialog
from desktop.images import qimage_to_array
from desktop.references_page import ReferenceEntry
from desktop.refine_dialog import RefineDialog, RefineOptions
from desktop.window_actions import WindowActions, shows_storage_errors
from engine.area import Area, describe_area
from engine.backbones import DEFAULT_BACKBONE, is_clip
from engine.calibration import VERDICT_OK, Refinement, reference_count_advice, same_photo_advice
from engine.errors import TextGuidanceError
from engine.physical import PixelSizeError
from engine.prompt_writer import WrittenPrompts
from services.checkpoints import checkpoint_label
from services.detail import UnknownDetailError, project_detail, set_detail
from services.drift import DriftWindowError, drift_window, set_drift_window
from services.inspection import (
    ReferenceAddResult,
    inspection_area,
    redoable_refinement,
    set_inspection_area,
)
from services.local_time import local_text
from services.part_prompts import describe_prompts, written_prompts
from services.pixel_size import pixel_size_from_line, project_pixel_size, set_pixel_size
from services.reference_status import references_state
from services.reference_twins import repeated_photos_note
from services.text_guidance import project_text_guidance, set_text_guidance
from services.verification import VerificationRun, describe_last, last_verification


class ReferenceActions(WindowActions):
    """References, bank, calibration and the project's scoring settings (mixed into ``MainWindow``)."""

    def refresh_references(self) -> None:
        """Reload the references grid and the bank summary."""
        self.bank_outdated = False
        if self.project_name is None:
            self.references_page.show_references([], "no project selected")
            self.references_page.show_prompts_button(False)
            self.references_page.show_text_guidance(False, False)
            return
        with self.workspace.database.read() as session:
            project = repo.get_project(session, self.project_name)
            references = repo.references(session, project)
            active_keys = [r.image_key for r in references if r.active]
            state = references_state(session, project, references)
            bank, calibration = state.bank, state.calibration
            current = bank if state.current else None
            self.bank_outdated = not state.current
            entries = [ReferenceEntry(r.id, r.file_name, self.workspace.store.path(r.image_key), r.active,
                                      state.scores.get(r.image_key), state.outliers.get(r.image_key, False),
                                      state.same_part_as.get(r.image_key)) for r in references]
            if bank is None:
                text = "no bank built yet"
            else:
                text = (f"bank of {len(bank.reference_keys)} built {local_text(bank.created_at, seconds=False)}"
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
            pixel_size = project_pixel_size(project)
            detail = project_detail(project)
            guided = project_text_guidance(project)
            window = drift_window(project)
            advice = reference_count_advice(len(active_keys), state.same_part) if active_keys else None
            if advice:
                text += "\n" + advice
            if calibration is not None and bank is not None:
                names = {r.image_key: r.file_name for r in references}
                twins = same_photo_advice(calibration.same_photo, [names.get(k, k) for k in bank.reference_keys])
                if twins:
                    text += "\n" + twins
            if self.drift_text:
                text += "\n" + self.drift_text
        self.references_page.show_references(entries, text)
        self.references_page.show_detail(detail)
        self.references_page.show_drift_window(window)
        self.references_page.show_pixel_size(pixel_size)
        self.references_page.show_prompts_button(clip, written.all_prompts() if written else None)
        self.references_page.show_text_guidance(clip, guided)

    def add_references(self, paths: list[Path]) -> None:
        """Copy good images (files or folders) into the project on the worker."""
        if not self._need_project():
            return
        self._submit("references", jobs.add_references(self.project_name, paths),
                     "Adding reference image(s)…", done=self._finish_add_references)

    def add_reference_from_camera(self) -> None:
        """Grab a settled frame from the camera chosen in Settings (on the worker) and add it as a good reference."""
        if self._need_project():
            camera = self.settings.camera_choice()
            job = jobs.add_reference_from_camera(self.project_name, _captured_name("camera"), camera)
            self._submit("references", job,
                         f"Grabbing a frame from {camera.describe()} for the references…",
                         done=self._finish_add_references)

    def paste_reference(self) -> None:
        """Add the image on the clipboard as a good reference."""
        if not self._need_project():
            return
        image = QApplication.clipboard().image()
        if image.isNull():
            self.show_error("The clipboard holds no image.")
            return
        self._submit("references", jobs.add_reference_array(self.project_name, qimage_to_array(image),
                                                            _captured_name("clipboard")),
                     "Adding the clipboard's image to the references…", done=self._finish_add_references)

    def _finish_add_references(self, added: ReferenceAddResult) -> None:
        for path, reason in added.failed:
            self.show_error(f"Skipped {path}: {reason}")
        note = repeated_photos_note(added.same_photo)
        if note:
            self.show_error(note)
        self.statusBar().showMessage(f"Added {len(added.added)} reference image(s).")
        self.refresh_references()
        self.refresh_projects()

    @shows_storage_errors
    def toggle_reference(self, reference_id: int, active: bool) -> None:
        """Enable or disable one reference."""
        with self.workspace.database.write() as session:
            reference = session.get(ReferenceImage, reference_id)
            if reference is not None:
                repo.set_reference_active(session, reference, active, self.workspace.operator)
        self.refresh_references()

    @shows_storage_errors
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

    @shows_storage_errors
    def apply_inspection_area(self, area: Area | None, ignored: tuple[Area, ...] = ()) -> None:
        """Store what the project scores (area None: the whole image); the bank rebuilds on next use."""
        if not self._need_project():
            return
        set_inspection_area(self.workspace, self.project_name, area, ignored)
        self.refresh_references()
        self.statusBar().showMessage("Inspection area: " + describe_area(area, ignored) + ". The reference bank "
                                     "is rebuilt with it at the next build or inspection.")

    @shows_storage_errors
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

    @shows_storage_errors
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

    @shows_storage_errors
    def apply_pixel_size(self, mm_per_pixel: float | None) -> None:
        """Store the project's pixel size (None: sizes in pixels); inspections from now on give millimetres."""
        if not self._need_project():
            return
        try:
            set_pixel_size(self.workspace, self.project_name, mm_per_pixel)
        except PixelSizeError as exc:
            self.show_error(str(exc))
            self.refresh_references()  # the box shows the stored pixel size again
            return
        self.refresh_references()
        self.statusBar().showMessage("Pixel size " + (f"{mm_per_pixel:g} mm: parts inspected from now on get sizes in "
                                                       "millimetres too." if mm_per_pixel else
                                                       "not set: sizes are in pixels."))

    def ask_pixel_size_from_line(self, length_px: float) -> None:
        """Ask how long the line measured on the shown photo is on the part, then set the pixel size from it."""
        if self.current is None:
            return
        length_mm, ok = QInputDialog.getDouble(
            self, "Pixel size from a line", f"The line is {length_px:.0f} px long on the photo. How long is it on "
            "the part, in millimetres (a ruler, or a dimension from the drawing)?", 10.0, 0.001, 100_000.0, 3)
        if ok:
            self.set_pixel_size_from_line(length_px, length_mm)

    @shows_storage_errors
    def set_pixel_size_from_line(self, length_px: float, length_mm: float) -> None:
        """Set the shown inspection's project pixel size from a line of ``length_px`` photo pixels that
        spans ``length_mm`` on the part (``services.pixel_size.pixel_size_from_line``)."""
        if self.current is None:
            return
        try:
            value = pixel_size_from_line(self.workspace, self.current.id, length_px, length_mm)
        except PixelSizeError as exc:
            self.show_error(str(exc))
            return
        self.refresh_references()
        self.statusBar().showMessage(f"Pixel size {value:.4g} mm, from a {length_px:.0f} px line of {length_mm:g} mm: "
                                     "parts inspected from now on get sizes in millimetres too.")

    @shows_storage_errors
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


def _captured_name(source: str) -> str:
    """A reference's file name for an image that had none: where it came from and when (local time)."""
    return f"{source}-{datetime.now():%Y%m%d-%H%M%S}.png"

