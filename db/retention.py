"""Freeing disk space: the stored image copies of old inspections go, their records stay.

A line workstation that keeps a copy of every photo fills its disk within weeks (a 5 MP JPEG
is 2-3 MB; a thousand parts a day is 2-3 GB).  This removes the copies of inspections older than
a cut-off, and by default only of parts that passed and that nobody marked otherwise: the engine
said OK and the latest review, if any, agrees.  Rejects, parts held for review and false rejects
(engine NG, operator OK: the candidates for new references) keep their images unless asked, and
so do the reviewed images a threshold refinement scores again (``repo.reviewed_samples``: the
newest 500 of each project): without the photos of passed parts reviewed OK, a refinement done
again for new references would see mostly rejects, and set the threshold too high.

What stays of each inspection: its row (verdict, scores, thresholds, regions and fact sheet,
conversation, reviews), its anomaly map (tens of kB) and an audit event; the row records when its
image went (``Inspection.image_removed_at``), and views and reports show a placeholder of the
image's size.  A file that another row still uses (a reference image, a bank's reference list,
another inspection of the same content) is kept.

Order, for crash safety: the rows are marked and committed first, the files deleted after.  A
crash in between leaves files no row uses, which ``db check --clean`` removes; never a row that
believes its image present when it is gone.  One exception: on a disk so full that the database
cannot even record the marks, a batch's files are deleted first to make room and its marks are
then written; should that still fail, those records show a "missing" placeholder and ``db
check`` lists them.  That is the case the removal exists for, and the records stay readable.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from db import repository as repo
from db.check import referenced_keys
from db.database import Database
from db.errors import DiskFullError
from db.models import Inspection, Project, ReferenceBank, Review, utc_now
from db.store import ImageStore

# Inspections marked per transaction, so that a long removal holds the write lock briefly each time.
MARK_BATCH = 500


@dataclass
class RemovalPlan:
    """Which inspections lose their image copy, which files that frees, and the criteria that chose them.

    ``kept_samples``: how many inspections met the other criteria but keep their image, since a
    refinement scores it.
    """

    before: datetime
    made_at: float = field(default_factory=time.time)  # files written or touched since then are kept
    project_id: int | None = None
    include_flagged: bool = False
    image_keys: dict[int, str] = field(default_factory=dict)  # each chosen inspection's image, by id
    file_keys: list[str] = field(default_factory=list)  # used by no other row
    bytes_freed: int = 0
    kept_samples: int = 0

    @property
    def inspection_ids(self) -> list[int]:
        """The chosen inspections, oldest first."""
        return list(self.image_keys)


def kept_samples_note(plan: RemovalPlan) -> str:
    """A sentence on the reviewed photos the plan keeps for refinements; empty when none."""
    if not plan.kept_samples:
        return ""
    return (f"{plan.kept_samples} reviewed part(s) that would match keep their photo, since refining the threshold "
            "scores them again.")


@dataclass
class RemovalResult:
    """What ``remove_images`` did."""

    inspections: int
    files_removed: int
    bytes_freed: int
    failed: list[str] = field(default_factory=list)  # files that could not be deleted (left for ``db check --clean``)


def _eligible(query: Select, plan: RemovalPlan) -> Select:
    """``query`` over Inspection limited to the plan's criteria: older than ``before``, image still
    there, the project if given, and passed parts only unless ``include_flagged``."""
    query = query.where(Inspection.created_at < plan.before, Inspection.image_removed_at.is_(None))
    if plan.project_id is not None:
        query = query.where(Inspection.project_id == plan.project_id)
    if not plan.include_flagged:
        latest_review = (select(Review.verdict).where(Review.inspection_id == Inspection.id)
                         .order_by(Review.created_at.desc(), Review.id.desc()).limit(1).scalar_subquery())
        query = query.where(Inspection.verdict == "OK", or_(latest_review.is_(None), latest_review == "OK"))
    return query


def _sample_keys(session: Session, plan: RemovalPlan) -> set[str]:
    """Images that refinements score (none when the plan includes flagged parts): they keep their photo."""
    if plan.include_flagged:
        return set()
    if plan.project_id is not None:
        project_ids = [plan.project_id]
    else:
        project_ids = list(session.scalars(select(Project.id)))
    return {row.image_key for project_id in project_ids for row, _ in repo.reviewed_samples(session, project_id)}


def _keys_in_use(database: Database, excluded: set[int]) -> set[str]:
    """Store keys that rows other than the inspections in ``excluded`` use (``db.check.referenced_keys``),
    plus the keys banks list as their references."""
    used = {key for key, rows in referenced_keys(database).items()
            if any(table != "inspection" or row_id not in excluded for table, row_id in rows)}
    with database.read() as session:
        for keys in session.scalars(select(ReferenceBank.reference_keys)):
            used.update(keys or [])
    return used


def plan_removal(database: Database, store: ImageStore, before: datetime, project: str | None = None,
                 include_flagged: bool = False) -> RemovalPlan:
    """What ``remove_images`` would do; changes nothing (the dry run)."""
    with database.read() as session:
        plan = RemovalPlan(before=before, project_id=repo.get_project(session, project).id if project else None,
                           include_flagged=include_flagged)
        query = _eligible(select(Inspection.id, Inspection.image_key), plan).order_by(Inspection.id)
        rows = list(session.execute(query))
        samples = _sample_keys(session, plan)
    plan.image_keys = {row_id: key for row_id, key in rows if key not in samples}
    plan.kept_samples = len(rows) - len(plan.image_keys)
    in_use = _keys_in_use(database, set(plan.image_keys))
    for key in sorted(set(plan.image_keys.values()) - in_use):
        path = store.path(key)
        if path.is_file():
            plan.file_keys.append(key)
            plan.bytes_freed += path.stat().st_size
    return plan


def remove_images(database: Database, store: ImageStore, plan: RemovalPlan, actor: str = "") -> RemovalResult:
    """Mark the plan's inspections (audited) and commit, then delete the files no other row uses.

    The criteria are checked again as each row is marked: a part reviewed since the plan was made
    may keep its image.  On a disk too full to record the marks, see the module docstring.
    """
    result = RemovalResult(inspections=0, files_removed=0, bytes_freed=0)
    ids = plan.inspection_ids
    with database.read() as session:
        samples = _sample_keys(session, plan)  # as of now: reviews made since the plan count
    for start in range(0, len(ids), MARK_BATCH):
        batch = ids[start:start + MARK_BATCH]
        try:
            result.inspections += _mark_removed(database, plan, batch, actor, samples)
        except DiskFullError as exc:
            own = {plan.image_keys[i] for i in batch} & set(plan.file_keys)
            _delete_files(store, own - _keys_in_use(database, set(batch)), plan.made_at, result)
            try:
                result.inspections += _mark_removed(database, plan, batch, actor, samples)
            except DiskFullError:
                raise DiskFullError(
                    f"The disk is too full to record the removal: {result.files_removed} stored photo(s) were "
                    f"deleted to make room ({result.bytes_freed / 1e6:.1f} MB), but their records could not be "
                    "marked; 'db check' lists them, and running this again, once there is room, marks them.") from exc
    still_used = _keys_in_use(database, set())  # rows kept or written since the plan may share a file
    _delete_files(store, [key for key in plan.file_keys if key not in still_used], plan.made_at, result)
    return result


def _delete_files(store: ImageStore, keys: Iterable[str], made_at: float, result: RemovalResult) -> None:
    """Delete the files of ``keys`` not written or touched since ``made_at``, counting them in ``result``."""
    for key in sorted(keys):
        path = store.path(key)
        try:
            stat = path.stat() if path.is_file() else None
            if stat is None or stat.st_mtime >= made_at:
                continue  # gone already, or stored again since the plan by an inspection not yet committed
            size = stat.st_size
            store.remove(key)
        except OSError as exc:
            result.failed.append(f"{key}: {exc.strerror or exc}")
            continue
        result.files_removed += 1
        result.bytes_freed += size


def _mark_removed(database: Database, plan: RemovalPlan, inspection_ids: list[int], actor: str,
                  samples: set[str]) -> int:
    """Mark those of ``inspection_ids`` that still meet the plan's criteria and whose image is not
    one of the refinement ``samples``; returns how many."""
    now = utc_now()
    with database.write() as session:
        query = _eligible(select(Inspection), plan).where(Inspection.id.in_(inspection_ids))
        rows = [row for row in session.scalars(query) if row.image_key not in samples]
        for inspection in rows:
            inspection.image_removed_at = now
            repo.audit(session, actor, "remove-image", "inspection", inspection.id, {"image": inspection.image_key})
    return len(rows)
