"""Inspecting images into the history: one code path for the CLI, the GUI worker and reports.

For each image: hash its bytes; skip it when the same image was already inspected with the same
bank (unless forced); score it with the project's bank; build the fact sheet; write the image
and the map into the store; then commit one row.  Files are on disk before the row that points
to them commits, so a crash at any moment leaves at worst an unused file (``db check``), never
a row without its files.

The bank is rebuilt only when the active references, the engine version or the project's engine
settings changed, or when its file is missing or damaged (the audit log names the damaged one);
banks live in the store and their rows record the reference set they came from.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from db import repository as repo
from db.models import Inspection, Project
from db.models import ReferenceBank as BankRow
from db.store import sha256_bytes
from engine import ENGINE_VERSION
from engine.area import Area, area_share, check_something_is_scored, checked_area, checked_ignored, is_whole_image
from engine.backbones import is_clip
from engine.bank import ReferenceBank
from engine.calibration import Calibration, Refinement, refine
from engine.config import EngineConfig
from engine.datasets import labelled_images
from engine.defect_types import TypeExamples
from engine.errors import EmptyReferenceSetError, EngineError, ImageLoadError, ModelFileError
from engine.facts import FactSheet, build_facts
from engine.imageio import DecodedImage, check_pixels, decode_for_inspection, decode_image, encode_png
from engine.physical import photo_pixel_size
from engine.prompts import PromptLibrary
from services.checkpoints import with_local_checkpoint
from services.new_images import MTIME_SLACK_S
from services.part_prompts import project_prompt_library
from services.pixel_size import project_pixel_size
from services.reference_twins import repeated_photos
from services.results import project_sensitivity
from services.workspace import Workspace

log = logging.getLogger(__name__)


class DamagedReferenceError(EngineError):
    """A reference's stored copy cannot be read any more (a disk error, a backup restored half-way)."""

    def __init__(self, file_name: str, reference_id: int, reason: str) -> None:
        self.reference_id = reference_id
        super().__init__(f"Reference {file_name} (#{reference_id}) cannot be read, its stored copy is damaged: "
                         f"{reason}. Add the original file again to repair it, or disable or remove that "
                         "reference on the References page.")

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
REVIEWS = "reviews"  # a refinement's source when its samples are the operator reviews


@dataclass
class InspectionRecord:
    """What one inspection produced, as stored (plain data for the CLI and the GUI)."""

    id: int
    project: str
    source: str
    verdict: str
    score: float
    raw_score: float
    facts: FactSheet
    image_key: str
    map_key: str
    bank_id: int
    duration_ms: float
    skipped: bool = False
    lot: str = ""


@dataclass
class ReferenceAddResult:
    """Outcome of adding reference images; ``same_photo``: (new file, earlier reference) pairs that repeat a
    photo (``services.reference_twins``)."""

    added: list[str]
    already_there: list[str]
    failed: list[tuple[str, str]]
    same_photo: list[tuple[str, str]] = field(default_factory=list)


def _png_bytes(image: np.ndarray, source: str) -> bytes:
    """An in-memory image as the PNG file bytes the store keeps."""
    try:
        return encode_png(image)
    except ValueError as exc:
        raise ImageLoadError(source, "cannot encode the image") from exc


def requested_config(project: Project) -> dict[str, Any]:
    """The engine settings a project asks for (its bank is rebuilt when they change).

    An imported checkpoint counts by its stored name, which starts with its SHA-256, not by its
    path: a data folder that moved, or a project imported on another workstation, keeps its bank.
    With text guidance on, the prompts count by their digest: prompts written since rebuild it.
    """
    requested = {"backbone": project.backbone, **project.settings.get("engine", {})}
    if requested.get("backbone_weights"):
        requested["backbone_weights"] = Path(requested["backbone_weights"]).name
    if requested.get("text_guidance"):
        requested["text_prompts"] = project_prompt_library(project).digest()
    return requested


def matching_bank_row(session: Any, project: Project, reference_keys: list[str]) -> BankRow | None:
    """The newest bank row built from these references with this engine and the project's settings."""
    return repo.matching_bank(session, project, reference_keys, ENGINE_VERSION, requested_config(project))


def inspection_area(project: Project) -> tuple[Area | None, tuple[Area, ...]]:
    """The project's inspection area (None: the whole image) and the rectangles ignored inside it."""
    engine = project.settings.get("engine", {})
    area = engine.get("inspection_area")
    return (None if area is None else checked_area(area)), checked_ignored(engine.get("ignored_areas", []))


def set_inspection_area(workspace: Workspace, project_name: str, area: Sequence[float] | None,
                        ignored: Sequence[Sequence[float]] = ()) -> tuple[Area | None, tuple[Area, ...]]:
    """Set what a project scores: a rectangle (None: the whole image) less ``ignored`` rectangles.

    The bank is rebuilt on next use.  A bad rectangle raises ``InvalidAreaError`` and changes nothing.
    """
    checked = None if area is None else checked_area(area)
    checked = None if is_whole_image(checked) else checked
    hidden = checked_ignored(ignored)
    check_something_is_scored(checked, hidden)
    with workspace.database.write() as session:
        project = repo.get_project(session, project_name)
        engine = {k: v for k, v in project.settings.get("engine", {}).items()
                  if k not in ("inspection_area", "ignored_areas")}
        if checked is not None:
            engine["inspection_area"] = list(checked)
        if hidden:
            engine["ignored_areas"] = [list(rectangle) for rectangle in hidden]
        repo.update_project(session, project, workspace.operator, settings={**project.settings, "engine": engine})
    return checked, hidden


def redoable_refinement(bank_row: BankRow | None) -> Refinement | None:
    """A bank row's refinement from labelled samples, when it records enough to be done again."""
    labelled = (bank_row.calibration or {}).get("labelled") if bank_row is not None else None
    if not labelled or not labelled.get("source"):  # refined before sources were recorded
        return None
    refinement = Refinement(**labelled)
    return refinement if refinement.mode == "f1" or refinement.target_frr is not None else None


def type_examples(project: Project) -> TypeExamples:
    """The project's labelled defect regions."""
    examples = TypeExamples()
    for item in project.settings.get("type_examples", []):
        examples.descriptors.append(np.asarray(item["descriptor"], dtype=np.float64))
        examples.labels.append(str(item["label"]))
    return examples


class Inspector:
    """Runs the engine for projects of a workspace and records the results."""

    def __init__(self, workspace: Workspace, detector: Any = None, device: str = "auto") -> None:
        self.workspace = workspace
        self._detector = detector
        self._device = device
        self._banks: dict[int, ReferenceBank] = {}
        self._typers: dict[tuple, Any] = {}

    @property
    def detector(self) -> Any:
        """The engine's detector, created on first use."""
        if self._detector is None:
            from engine.detector import Detector
            from engine.runtime import configure_torch

            configure_torch()
            self._detector = Detector(self._device)
        return self._detector

    def add_references(self, project_name: str, paths: list[Path]) -> ReferenceAddResult:
        """Copy readable images into the store and add them as references; unreadable ones are reported."""
        result = ReferenceAddResult([], [], [])
        staged = []
        for path in paths:
            try:
                check_pixels(decode_image(path), path)
                staged.append((path, self.workspace.store.put_file(path)))
            except ImageLoadError as exc:
                result.failed.append((str(path), exc.reason))
        new_keys = []
        with self.workspace.database.write() as session:
            project = repo.get_project(session, project_name)
            for path, key in staged:
                added = repo.add_reference(session, project, key, path.name, self.workspace.operator)
                (result.added if added else result.already_there).append(str(path))
                if added:
                    new_keys.append(key)
        result.same_photo = repeated_photos(self.workspace, project_name, new_keys) if new_keys else []
        return result

    def ensure_bank(self, project_name: str, progress: ProgressCallback | None = None,
                    cancel: CancelCheck | None = None, redo_refinement: bool = True) -> tuple[int, ReferenceBank]:
        """The project's current bank (row id, bank), built from the active references if needed.

        A new bank starts from its references' own threshold; when the bank it replaces had a
        threshold refined from labelled samples, the same rule is applied again to the same
        samples scored with the new bank (``_redo_refinement``) before the row is written,
        unless ``redo_refinement`` is False (a caller about to refine it anyway).
        """
        store = self.workspace.store
        with self.workspace.database.read() as session:
            project = repo.get_project(session, project_name)
            keys = [r.image_key for r in repo.references(session, project, active_only=True)]
            wanted = requested_config(project)
            row = matching_bank_row(session, project, keys)
            project_id, backbone = project.id, project.backbone
            engine_settings = with_local_checkpoint(self.workspace.home, project.settings.get("engine", {}))
            prompts = project_prompt_library(project) if engine_settings.get("text_guidance") else None
        if not keys:
            raise EmptyReferenceSetError()
        damaged: tuple[int, str] | None = None
        if row is not None and row.id in self._banks:
            return row.id, self._banks[row.id]
        if row is not None and store.exists(row.bank_key):
            try:
                bank = ReferenceBank.load(store.path(row.bank_key))
            except ModelFileError as exc:  # damaged on disk: built again from the references, as a missing one is
                damaged = (row.id, str(exc))
                log.warning("rebuilding bank %s of %r: %s", row.id, project_name, exc)
            else:
                # the same checkpoint (by name), at this data folder's path, not the one it was built at
                bank.config = replace(bank.config, backbone_weights=engine_settings.get("backbone_weights"))
                if row.calibration:  # the row holds the newest revision (refinements from labelled samples)
                    bank.calibration = Calibration.from_dict(row.calibration)
                self._banks[row.id] = bank
                return row.id, bank
        with self.workspace.database.read() as session:  # the bank this one replaces
            previous = repo.latest_bank(session, repo.get_project(session, project_name))
            previous_id = previous.id if previous is not None else None
            earlier_refinement = redoable_refinement(previous) if redo_refinement else None
        config = EngineConfig.from_dict({**EngineConfig(backbone=backbone).to_dict(), **engine_settings})
        try:
            bank = self.detector.build_bank([store.path(k) for k in keys], config, reference_ids=keys,
                                            progress=progress, cancel=cancel, prompts=prompts)
        except ImageLoadError as exc:
            raise self._damaged_reference(project_name, exc) or exc from exc
        redone, not_redone = None, None
        if earlier_refinement is not None:
            try:
                redone = self._redo_refinement(project_id, bank, earlier_refinement, progress, cancel)
            except (ValueError, OSError) as exc:  # no usable samples left, or the validation folder is gone
                not_redone = str(exc)
        bank_key = store.put_bytes(bank.to_bytes(), "banks", ".bank")
        with self.workspace.database.write() as session:
            row = BankRow(project_id=project_id, bank_key=bank_key, reference_keys=keys, engine_version=ENGINE_VERSION,
                          config={"requested": wanted, "resolved": bank.config.to_dict()},
                          calibration=bank.calibration.to_dict() if bank.calibration else {})
            session.add(row)
            session.flush()
            built = {"references": len(keys), "augmentation": bank.augmentation}
            if damaged is not None:
                built.update(replaces_damaged_bank=damaged[0], damage=damaged[1])
            repo.audit(session, self.workspace.operator, "build", "bank", row.id, built)
            if earlier_refinement is not None:
                repo.audit(session, self.workspace.operator, "refine", "thresholds", row.id,
                           {"redone_from_bank": previous_id, "mode": earlier_refinement.mode,
                            "source": earlier_refinement.source,
                            "after": redone.threshold if redone else None, "not_redone": not_redone})
            bank_id = row.id
        self._banks[bank_id] = bank
        return bank_id, bank

    def _damaged_reference(self, project_name: str, exc: ImageLoadError) -> DamagedReferenceError | None:
        """The reference whose stored copy ``exc`` could not read, named as the technician added it;
        None when ``exc`` is not about a stored reference."""
        with self.workspace.database.read() as session:
            project = repo.get_project(session, project_name)
            for reference in repo.references(session, project, active_only=True):
                if self.workspace.store.path(reference.image_key) == exc.path:
                    return DamagedReferenceError(reference.file_name or reference.image_key, reference.id, exc.reason)
        return None

    def _redo_refinement(self, project_id: int, bank: ReferenceBank, earlier: Refinement,
                         progress: ProgressCallback | None, cancel: CancelCheck | None) -> Refinement:
        """Apply an earlier bank's refinement rule to a new bank: its samples scored with this bank.

        Sets ``bank.calibration`` to the new revision; raises ``ValueError`` (no usable samples)
        or ``OSError`` (the validation folder is gone), leaving the bank's own threshold.
        """
        validation = None if earlier.source == REVIEWS else Path(earlier.source)
        scores, labels = self._labelled_scores(project_id, None, bank, validation, progress, cancel)
        refined, report = refine(bank.calibration, scores, labels, earlier.mode, earlier.target_frr or 0.01,
                                 earlier.source)
        report = replace(report, carried=True)
        bank.calibration = replace(refined, labelled=asdict(report))
        return report

    def refine_calibration(self, project_name: str, mode: str = "frr", target_frr: float = 0.01,
                           validation: Path | None = None, progress: ProgressCallback | None = None,
                           cancel: CancelCheck | None = None) -> Refinement:
        """Refine the current bank's threshold from labelled samples and store the new revision.

        The samples are a validation folder (``good/`` and defect sub-folders, or an MVTec
        ``test/``), scored without touching the history; or, without a folder, the operator
        reviews of the project's inspections (see ``_labelled_scores``).  The rule and the
        samples' source are kept, so that a bank rebuilt later refines itself the same way.
        """
        bank_id, bank = self.ensure_bank(project_name, redo_refinement=False)
        with self.workspace.database.read() as session:
            project_id = repo.get_project(session, project_name).id
        source = REVIEWS if validation is None else str(Path(validation).resolve())
        scores, labels = self._labelled_scores(project_id, bank_id, bank, validation, progress, cancel)
        refined, report = refine(bank.calibration, scores, labels, mode, target_frr, source)
        with self.workspace.database.write() as session:
            row = session.get(BankRow, bank_id)
            before = dict(row.calibration)
            row.calibration = refined.to_dict()
            repo.audit(session, self.workspace.operator, "refine", "thresholds", bank_id,
                       {"before": before.get("image_threshold"), "after": refined.image_threshold,
                        "revision": refined.revision, "mode": mode, "source": source})
        bank.calibration = refined
        return report

    def _labelled_scores(self, project_id: int, bank_id: int | None, bank: ReferenceBank, validation: Path | None,
                         progress: ProgressCallback | None,
                         cancel: CancelCheck | None) -> tuple[list[float], list[int]]:
        """Raw scores with this bank and labels (1 = defective) of a validation folder or of reviews.

        Reviews: ``repo.reviewed_samples``, the newest review of each reviewed image (the newest
        ``repo.MAX_REVIEWED_SAMPLES`` images), its operator verdict as the label.  An inspection
        made with bank ``bank_id`` keeps its stored score; others are scored again from their
        stored photo, and those whose photo was removed or is missing are left out (freeing disk
        space keeps these photos unless told otherwise).
        """
        from engine.detector import Cancelled

        def check_cancel() -> None:
            if cancel is not None and cancel():
                raise Cancelled()

        if validation is not None:
            samples = labelled_images(validation)
            scores = []
            for index, (path, _) in enumerate(samples):
                check_cancel()
                scores.append(self.detector.inspect(path, bank).score)
                if progress is not None:
                    progress(index + 1, len(samples))
            return scores, [label for _, label in samples]
        with self.workspace.database.read() as session:
            samples = [(r.image_key, r.image_removed_at is None, r.raw_score if r.bank_id == bank_id else None, label)
                       for r, label in repo.reviewed_samples(session, project_id)]
        if not samples:
            raise ValueError("No inspection of this project has been reviewed yet: mark parts OK or NG first "
                             "(History or Inspect page), or use a validation folder.")
        scores, labels = [], []
        for index, (key, kept, stored_score, label) in enumerate(samples):
            check_cancel()
            if stored_score is None and kept:
                try:
                    stored_score = self.detector.inspect(self.workspace.store.path(key), bank).score
                except ImageLoadError:
                    stored_score = None
            if stored_score is not None:
                scores.append(stored_score)
                labels.append(label)
            if progress is not None:
                progress(index + 1, len(samples))
        if not scores:
            raise ValueError("The reviewed inspections' photos were all removed or are missing, so they cannot be "
                             "scored with the current references: use a validation folder.")
        return scores, labels

    def _typer(self, bank: ReferenceBank, prompts: PromptLibrary | None) -> Any:
        """CLIP prompt typing for banks on a CLIP backbone (cached per backbone and prompts)."""
        if prompts is None or not is_clip(bank.config.backbone):
            return None
        key = (bank.config.backbone, bank.config.backbone_weights, json.dumps(asdict(prompts), sort_keys=True))
        if key not in self._typers:
            from engine.prompts import ClipDefectTyper

            self._typers[key] = ClipDefectTyper(self.detector.backbone(bank.config), "", prompts)
        return self._typers[key]

    def inspect_file(self, project_name: str, path: str | Path, force: bool = False, lot: str = "") -> InspectionRecord:
        """Inspect one image file into the history (or return the earlier record when skipped); ``lot``
        is the lot, batch or order the part belongs to."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(path, exc.strerror or str(exc)) from exc
        return self._inspect(project_name, data, path.suffix or ".png",
                             lambda share: decode_for_inspection(path, share), str(path), force, lot)

    def split_by_history(self, paths: list[Path], saved_at: Mapping[str, float]) -> tuple[list[Path], dict[Path, str]]:
        """(``paths`` the history, of any project, holds no inspection of made since the file was
        saved, in order; the others, with the verdict of their latest inspection).  ``saved_at``:
        seconds since the epoch, by path.  The first are what a watch that was not running has left
        to do; a file written over under its name since (a camera that saves every frame as
        ``last.bmp``) is among them again.  The others are done, though a watch that sorts may not
        have moved them yet (it crashed between the two, or the file was locked)."""
        with self.workspace.database.read() as session:
            inspected = repo.last_inspections(session, [str(path) for path in paths])
        todo: list[Path] = []
        done: dict[Path, str] = {}
        for path in paths:
            last, saved = inspected.get(str(path)), saved_at.get(str(path))
            if last is not None and (saved is None or last.at.timestamp() >= saved - MTIME_SLACK_S):
                done[path] = last.verdict
            else:
                todo.append(path)
        return todo, done

    def reinspect(self, inspection_id: int) -> tuple[str, InspectionRecord]:
        """Inspect a stored image again with its project's current references: (old verdict, new record).

        For the loop "a false reject joins the references, then the recent rejects are checked
        again".  The stored copy is used, so this works when the original file has moved; the
        earlier record stays in the history.  When that image was already inspected with the
        project's current bank, nothing would change and that record comes back, skipped.
        """
        with self.workspace.database.read() as session:
            row = repo.get_inspection(session, inspection_id)
            project_name = session.get(Project, row.project_id).name
            image_key, source, before, removed = row.image_key, row.source_path, row.verdict, row.image_removed_at
            lot = row.lot
        path = self.workspace.store.path(image_key)
        if removed is not None:
            raise ImageLoadError(source or path, f"the stored copy of inspection #{inspection_id} was removed on "
                                                 f"{removed:%Y-%m-%d} to free disk space; inspect the original file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(path, "the stored copy of inspection "
                                       f"#{inspection_id} is missing ('db check' lists such rows)") from exc
        record = self._inspect(project_name, data, path.suffix, lambda share: decode_for_inspection(path, share),
                               source, force=False, lot=lot)
        if not record.skipped:
            with self.workspace.database.write() as session:
                repo.audit(session, self.workspace.operator, repo.REINSPECT_ACTION, "inspection", record.id,
                           {"of": inspection_id, "verdict_before": before, "verdict_after": record.verdict})
        return before, record

    def inspect_array(self, project_name: str, image: np.ndarray, source: str, force: bool = True,
                      lot: str = "") -> InspectionRecord:
        """Inspect an in-memory image (clipboard, camera); it is stored as PNG."""
        return self._inspect(project_name, _png_bytes(image, source), ".png", lambda share: image, source, force, lot)

    def add_reference_array(self, project_name: str, image: np.ndarray, name: str) -> ReferenceAddResult:
        """Add an in-memory good image (a camera frame, the clipboard) as a reference, stored as PNG
        under ``name``: references can be collected at a station whose camera is its only source."""
        check_pixels(image, name)
        key = self.workspace.store.put_bytes(_png_bytes(image, name), "images", ".png")
        with self.workspace.database.write() as session:
            project = repo.get_project(session, project_name)
            added = repo.add_reference(session, project, key, name, self.workspace.operator)
        if not added:
            return ReferenceAddResult([], [name], [])
        return ReferenceAddResult([name], [], [], repeated_photos(self.workspace, project_name, [key]))

    def _inspect(self, project_name: str, data: bytes, suffix: str,
                 loader: Callable[[float], np.ndarray | DecodedImage], source: str, force: bool,
                 lot: str = "") -> InspectionRecord:
        """Inspect one image into the history; ``loader`` decodes it, given the inspection area's share
        of the image (``decode_for_inspection``)."""
        lot = repo.checked_lot(lot)
        store = self.workspace.store
        bank_id, bank = self.ensure_bank(project_name)
        digest = sha256_bytes(data)
        image_key = f"images/{digest[:2]}/{digest}{suffix.lower()}"
        with self.workspace.database.read() as session:
            project = repo.get_project(session, project_name)
            project_id, sensitivity, examples = project.id, project_sensitivity(project), type_examples(project)
            prompts = project_prompt_library(project) if is_clip(bank.config.backbone) else None
            pixel_size = project_pixel_size(project)
            earlier = None if force else repo.find_inspection(session, project_id, image_key, bank_id)
            if earlier is not None:
                return _record(earlier, project_name, skipped=True)
        start = time.perf_counter()
        image = loader(area_share(bank.config.inspection_area))
        result = self.detector.inspect(image, bank)
        pixels = image.pixels if isinstance(image, DecodedImage) else image
        mm_per_pixel = None if pixel_size is None else photo_pixel_size(pixel_size, bank.config.reference_frame,
                                                                        result.image_size)
        facts = build_facts(pixels, result, bank, sensitivity, examples, self._typer(bank, prompts), mm_per_pixel)
        duration = (time.perf_counter() - start) * 1e3
        image_key = store.put_bytes(data, "images", suffix)
        map_key = store.put_map(result.storable_map(), result.image_size)
        calibration = bank.calibration
        thresholds = {
            "calibration_version": calibration.version, "calibration_revision": calibration.revision,
            "calibration_method": calibration.method,
            "sensitivity": sensitivity, "threshold_raw": calibration.threshold(sensitivity),
            "grey_zone_raw": list(calibration.grey_zone(sensitivity)),
            "pixel_cut_raw": calibration.pixel_cut(sensitivity),
            "spread_raw": calibration.spread, "bank_id": bank_id,
        }
        with self.workspace.database.write() as session:
            row = Inspection(project_id=project_id, image_key=image_key, source_path=source,
                             operator=self.workspace.operator, lot=lot, raw_score=result.score, score=facts.score,
                             verdict=facts.verdict, thresholds=thresholds, map_key=map_key, facts=facts.to_dict(),
                             bank_id=bank_id, engine_version=ENGINE_VERSION, duration_ms=duration)
            session.add(row)
            session.flush()
            record = _record(row, project_name)
        return record


def _record(row: Any, project_name: str, skipped: bool = False) -> InspectionRecord:
    return InspectionRecord(id=row.id, project=project_name, source=row.source_path, verdict=row.verdict,
                            score=row.score, raw_score=row.raw_score, facts=FactSheet.from_dict(row.facts),
                            image_key=row.image_key, map_key=row.map_key, bank_id=row.bank_id or 0,
                            duration_ms=row.duration_ms, skipped=skipped, lot=row.lot or "")
