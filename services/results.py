"""A stored inspection, read back for display: image, map, facts, conversation, review, calibration.

Everything comes from the history and the store as it was written; nothing is recomputed.  The
calibration travels along so a view can re-label the verdict at another sensitivity from the
stored raw score, without running the model again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cv2
import numpy as np
from sqlalchemy.orm import Session

from db import repository as repo
from db.errors import StorageError
from db.models import Inspection, Project, ReferenceBank
from db.store import ImageStore
from engine.area import Area, area_share, crop_to_area
from engine.calibration import Calibration, relabel
from engine.errors import ImageLoadError
from engine.facts import FactSheet
from engine.imageio import load_rgb8, shrink_to_side, size_within
from services.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class StoredResult:
    """One inspection as the GUI shows it (plain data and numpy arrays; no Qt)."""

    id: int
    project: str
    source: str
    created_at: datetime
    image: np.ndarray  # at the photo's size, or smaller (``load_result``'s ``image_side``)
    anomaly_map: np.ndarray  # at the photo's size, or smaller (``load_result``'s ``map_side``)
    facts: FactSheet
    raw_score: float
    pixel_cut: float
    calibration: Calibration | None
    thresholds: dict[str, Any]
    reference: np.ndarray | None  # the nearest good reference, cropped to the inspection area
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    review: tuple[str, str, str] | None = None
    inspection_area: Area | None = None  # what was scored; None: the whole image
    ignored_areas: tuple[Area, ...] = ()
    lot: str = ""
    map_missing: bool = False  # the stored map is missing or damaged: ``anomaly_map`` is all zero

    @property
    def image_size(self) -> tuple[int, int]:
        """The photo's own (height, width), in which regions and positions are given."""
        return self.facts.image_size

    def verdict_at(self, sensitivity: float) -> tuple[str, float]:
        """(verdict, normalised score) at ``sensitivity``, from the stored raw score."""
        return relabel(self.calibration, self.raw_score, self.facts.verdict, self.facts.score, sensitivity)


PLACEHOLDER_GREY = 128
REMOVED_LINES = ("photo removed", "to free disk space")
MISSING_LINES = ("stored photo missing", "or unreadable: see db check")
MAP_MISSING_LINES = ("stored heatmap missing", "or unreadable: see db check")


def photo_placeholder(height: int, width: int, lines: tuple[str, ...] = REMOVED_LINES) -> np.ndarray:
    """A grey uint8 RGB image of (height, width) with ``lines`` written across it, shown where an
    inspection's stored photo is not there (removed to free disk space, ``db.retention``, or lost):
    the map and the region boxes still draw on it where they belong."""
    image = np.full((height, width, 3), PLACEHOLDER_GREY, dtype=np.uint8)
    scale = max(0.3, min(width, 4 * height) / 420)
    thickness = max(1, round(scale * 2))
    line_height = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][1] * 2
    for index, line in enumerate(lines):
        text_width = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][0]
        baseline = height // 2 + (index * 2 - 1) * line_height // 2 + line_height // 4
        origin = (max(0, (width - text_width) // 2), baseline)
        cv2.putText(image, line, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), thickness, cv2.LINE_AA)
    return image


def stored_image(store: ImageStore, row: Inspection, max_side: int | None = None,
                 min_side: int | None = None) -> np.ndarray:
    """An inspection's image as uint8 RGB (shrunk to ``max_side`` if given; see ``load_rgb8``
    for ``min_side``).

    Where its stored copy was removed, or is missing or unreadable, a placeholder of its size says
    so, so that the record, its map, regions and conversation can still be shown and reported.
    """
    height, width = FactSheet.from_dict(row.facts).image_size
    size = size_within(height, width, max_side) if max_side else (height, width)
    if row.image_removed_at is not None:
        return photo_placeholder(*size)
    path = store.path(row.image_key)
    try:
        return load_rgb8(path, max_side, min_side)
    except ImageLoadError:
        return photo_placeholder(*size, lines=MISSING_LINES)


def stored_map(store: ImageStore, row: Inspection, size: tuple[int, int] | None = None) -> np.ndarray | None:
    """An inspection's anomaly map (see ``ImageStore.load_map``), or None where its file is missing or
    damaged, so that the record, its regions and its conversation still open and report."""
    try:
        return store.load_map(row.map_key, size)
    except StorageError as exc:
        log.warning("inspection %s: %s", row.id, exc)
        return None


def bank_calibration(bank: ReferenceBank | None) -> Calibration | None:
    """The calibration stored with a bank row."""
    return Calibration.from_dict(bank.calibration) if bank is not None and bank.calibration else None


def read_calibrations(session: Session, bank_ids: Iterable[int | None],
                      known: dict[int, Calibration | None]) -> dict[int, Calibration | None]:
    """``known`` with the calibrations of ``bank_ids`` it lacks read in (each bank once); returns it."""
    for bank_id in {b for b in bank_ids if b is not None and b not in known}:
        known[bank_id] = bank_calibration(session.get(ReferenceBank, bank_id))
    return known


DEFAULT_SENSITIVITY = 0.5


def project_sensitivity(project: Project) -> float:
    """The project's sensitivity setting (0..1, default 0.5)."""
    return float(project.settings.get("sensitivity", DEFAULT_SENSITIVITY))


def scored_area(bank: ReferenceBank | None) -> tuple[Area | None, tuple[Area, ...]]:
    """The inspection area a bank row was built with (None: the whole image, or an older bank) and
    the rectangles ignored inside it."""
    resolved = bank.config.get("resolved", {}) if bank is not None else {}
    area = resolved.get("inspection_area")
    return (tuple(area) if area else None), tuple(tuple(r) for r in resolved.get("ignored_areas", []))


REFERENCE_SIDE = 512  # the nearest reference is shown small beside the photo
# A small inspection area is cut from the photo read at most this long (a 5 % area of a large photo
# would otherwise need it at 14400 px for a 720 px picture).
MAX_AREA_SOURCE_SIDE = 4096


def area_source_side(side: int, area: Area | None) -> int:
    """The longer side to read a photo at, for its inspection area to come out about ``side`` long."""
    return side if area is None else min(int(side / area_share(area)), MAX_AREA_SOURCE_SIDE)


def area_picture(picture: np.ndarray, area: Area | None, side: int) -> np.ndarray:
    """``picture`` cropped to the inspection area (what was inspected) and shrunk to ``side``."""
    return shrink_to_side(np.ascontiguousarray(crop_to_area(picture, area)), side)


def load_result(workspace: Workspace, inspection_id: int, map_side: int | None = None,
                image_side: int | None = None) -> StoredResult:
    """Read an inspection and its files back from the history.

    ``map_side``: the anomaly map comes shrunk to this longer side, for a view that colours it
    small anyway (a 100-megapixel photo's map is 400 MB at full size); ``image_side`` likewise
    for the photo (300 MB as RGB at full size), which a JPEG's codec may decode reduced down to
    3/4 of that side.
    """
    store = workspace.store
    with workspace.database.read() as session:
        row = repo.get_inspection(session, inspection_id)
        project = session.get(Project, row.project_id)
        bank = session.get(ReferenceBank, row.bank_id) if row.bank_id else None
        facts = FactSheet.from_dict(row.facts)
        reference = None
        area, ignored = scored_area(bank)
        if bank is not None and facts.nearest_reference is not None and facts.nearest_reference < len(
                bank.reference_keys) and store.exists(bank.reference_keys[facts.nearest_reference]):
            # The area is what was compared: shown whole, a small part would be lost in its fixture.
            reference_path = store.path(bank.reference_keys[facts.nearest_reference])
            reference = area_picture(load_rgb8(reference_path, area_source_side(REFERENCE_SIDE, area)), area,
                                     REFERENCE_SIDE)
        review = row.reviews[-1] if row.reviews else None
        image = stored_image(store, row, image_side, image_side * 3 // 4 if image_side else None)
        map_size = size_within(*facts.image_size, map_side) if map_side else None
        anomaly_map = stored_map(store, row, map_size)
        return StoredResult(
            id=row.id, project=project.name if project else "", source=row.source_path, created_at=row.created_at,
            lot=row.lot,
            image=image, anomaly_map=anomaly_map if anomaly_map is not None else np.zeros((1, 1), np.float32),
            map_missing=anomaly_map is None,
            facts=facts, raw_score=row.raw_score, pixel_cut=float(row.thresholds.get("pixel_cut_raw", 0.0)),
            calibration=bank_calibration(bank), thresholds=dict(row.thresholds), reference=reference,
            messages=[(m.role, m.text, m.backend) for m in row.messages],
            review=(review.verdict, review.comment, review.operator) if review else None,
            inspection_area=area, ignored_areas=ignored)
