"""Queries and changes on the history, each taking a session from ``Database.read``/``write``.

Every change a person makes (project settings, references, thresholds, reviews, deletions) also
writes an ``AuditEvent`` in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, Text, cast, func, literal_column, select, text
from sqlalchemy.orm import Session, aliased, selectinload

from db.models import (
    MAX_LOT_LENGTH,
    MAX_PROJECT_NAME_LENGTH,
    AuditEvent,
    ChatMessage,
    Inspection,
    Project,
    ReferenceBank,
    ReferenceImage,
    Review,
)

# Reviewed images a threshold refinement scores (``reviewed_samples``): about 45 s to score again
# (5 MP JPEGs, 2-core CPU).  Freeing disk space keeps their photos.
MAX_REVIEWED_SAMPLES = 500


class NotFoundError(LookupError):
    """A project or inspection named by the user does not exist.

    ``listing`` names the command that lists what does exist ("project list"), for a hint.
    """

    def __init__(self, message: str, listing: str = "") -> None:
        super().__init__(message)
        self.listing = listing


# The audit action of an inspection made by inspecting a stored photo again (``Inspector.reinspect``).
REINSPECT_ACTION = "reinspect"


def audit(session: Session, actor: str, action: str, entity: str, entity_id: int | None,
          detail: dict[str, Any] | None = None) -> None:
    """Record who changed what."""
    session.add(AuditEvent(actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail or {}))


def free_project_name(session: Session, name: str, renamed: Project | None = None) -> str:
    """``name`` stripped; ValueError when it is empty, longer than ``MAX_PROJECT_NAME_LENGTH`` (SQLite
    would keep it, a database server refuse it), or another project (than ``renamed``) has it."""
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name.")
    if len(name) > MAX_PROJECT_NAME_LENGTH:
        raise ValueError(f"A project name can have at most {MAX_PROJECT_NAME_LENGTH} characters; this one has "
                         f"{len(name)}.")
    query = select(Project.id).where(Project.name == name)
    if renamed is not None:
        query = query.where(Project.id != renamed.id)
    if session.scalar(query) is not None:
        raise ValueError(f"A project named '{name}' already exists.")
    return name


def create_project(session: Session, name: str, description: str = "", backbone: str = "efficientnet-lite0",
                   settings: dict[str, Any] | None = None, actor: str = "") -> Project:
    """A new project; raises ValueError when the name is taken or empty."""
    name = free_project_name(session, name)
    project = Project(name=name, description=description, backbone=backbone, settings=settings or {})
    session.add(project)
    session.flush()
    audit(session, actor, "create", "project", project.id, {"name": name, "backbone": backbone})
    return project


def get_project(session: Session, name_or_id: str | int) -> Project:
    """A project by name or numeric id."""
    query = select(Project).where(Project.name == str(name_or_id))
    project = session.scalar(query)
    if project is None and str(name_or_id).isdigit():
        project = session.get(Project, int(name_or_id))
    if project is None:
        raise NotFoundError(f"No project '{name_or_id}'.", listing="project list")
    return project


def list_projects(session: Session, include_archived: bool = False) -> list[Project]:
    """Projects by name."""
    query = select(Project).order_by(Project.name)
    if not include_archived:
        query = query.where(Project.archived_at.is_(None))
    return list(session.scalars(query))


def update_project(session: Session, project: Project, actor: str = "", **changes: Any) -> None:
    """Change name, description, backbone, settings or archived_at, with an audit record.

    A new name is stripped and must be free; ValueError otherwise.
    """
    if "name" in changes:
        changes = {**changes, "name": free_project_name(session, str(changes["name"]), renamed=project)}
    before = {k: _plain(getattr(project, k)) for k in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    audit(session, actor, "update", "project", project.id, {"before": before,
                                                           "after": {k: _plain(v) for k, v in changes.items()}})


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def add_reference(session: Session, project: Project, image_key: str, file_name: str,
                  actor: str = "") -> ReferenceImage | None:
    """Add a good image to the project; None when that exact image is already there (re-activated)."""
    existing = session.scalar(select(ReferenceImage).where(ReferenceImage.project_id == project.id,
                                                           ReferenceImage.image_key == image_key))
    if existing is not None:
        if not existing.active:
            existing.active = True
            audit(session, actor, "activate", "reference", existing.id, {"file": file_name})
        return None
    reference = ReferenceImage(project_id=project.id, image_key=image_key, file_name=file_name, added_by=actor)
    session.add(reference)
    session.flush()
    audit(session, actor, "add", "reference", reference.id, {"file": file_name, "project": project.name})
    return reference


def set_reference_active(session: Session, reference: ReferenceImage, active: bool, actor: str = "") -> None:
    """Enable or disable a reference image."""
    reference.active = active
    audit(session, actor, "enable" if active else "disable", "reference", reference.id, {"file": reference.file_name})


def references(session: Session, project: Project, active_only: bool = False) -> list[ReferenceImage]:
    """The project's references in the order they were added."""
    query = select(ReferenceImage).where(ReferenceImage.project_id == project.id).order_by(ReferenceImage.id)
    if active_only:
        query = query.where(ReferenceImage.active.is_(True))
    return list(session.scalars(query))


def matching_bank(session: Session, project: Project, reference_keys: list[str], engine_version: str,
                  config_id: dict[str, Any]) -> ReferenceBank | None:
    """The newest bank built from exactly these references with this engine and settings."""
    query = (select(ReferenceBank).where(ReferenceBank.project_id == project.id,
                                         ReferenceBank.engine_version == engine_version)
             .order_by(ReferenceBank.id.desc()))
    wanted = sorted(reference_keys)
    for bank in session.scalars(query):
        if sorted(bank.reference_keys) == wanted and bank.config.get("requested") == config_id:
            return bank
    return None


def latest_bank(session: Session, project: Project) -> ReferenceBank | None:
    """The project's newest bank."""
    return session.scalar(select(ReferenceBank).where(ReferenceBank.project_id == project.id)
                          .order_by(ReferenceBank.id.desc()).limit(1))


def latest_inspection_bank(session: Session, project: Project) -> ReferenceBank | None:
    """The bank the project's latest inspection was made with (None: no inspection, or its bank is gone)."""
    bank_id = session.scalar(select(Inspection.bank_id).where(Inspection.project_id == project.id)
                             .order_by(Inspection.created_at.desc(), Inspection.id.desc()).limit(1))
    return session.get(ReferenceBank, bank_id) if bank_id is not None else None


def bank_score_windows(session: Session, bank_id: int, window: int) -> tuple[list[float], list[float]]:
    """Raw scores of the first ``window`` parts inspected with a bank and of its latest ``window``
    after those (fewer when it has inspected fewer than ``2 * window``), each oldest first.

    Re-inspections of stored photos are left out: they are parts picked from the history (often
    rejects), not the line's flow of parts.
    """
    # Without NULLs: NOT IN a list that holds one matches no row at all.
    reinspected = select(AuditEvent.entity_id).where(AuditEvent.action == REINSPECT_ACTION,
                                                     AuditEvent.entity == "inspection",
                                                     AuditEvent.entity_id.is_not(None))
    made_with = select(Inspection.id, Inspection.raw_score).where(Inspection.bank_id == bank_id,
                                                                  Inspection.id.not_in(reinspected))
    first = list(session.execute(made_with.order_by(Inspection.created_at, Inspection.id).limit(window)))
    # The newest that are not among the first: no count of every part the bank inspected is needed.
    first_ids = {row.id for row in first}
    newest = [row for row in session.execute(made_with.order_by(Inspection.created_at.desc(), Inspection.id.desc())
                                             .limit(window)) if row.id not in first_ids]
    return [row.raw_score for row in first], [row.raw_score for row in newest[::-1]]


def find_inspection(session: Session, project_id: int, image_key: str, bank_id: int) -> Inspection | None:
    """An earlier inspection of the same image with the same bank, whose stored copy is still there."""
    return session.scalar(select(Inspection).where(Inspection.project_id == project_id,
                                                   Inspection.image_key == image_key,
                                                   Inspection.bank_id == bank_id,
                                                   Inspection.image_removed_at.is_(None)).limit(1))


@dataclass(frozen=True)
class LastInspection:
    """When a file was last inspected (UTC), into any project, and the verdict it got then."""

    at: datetime
    verdict: str


def last_inspections(session: Session, sources: list[str], chunk: int = 500) -> dict[str, LastInspection]:
    """The latest inspection of each of ``sources`` (file paths as inspected); those never inspected
    are absent."""
    latest: dict[str, tuple[datetime, int, str]] = {}
    for start in range(0, len(sources), chunk):
        part = sources[start:start + chunk]  # SQLite limits the parameters of one statement
        rows = session.execute(select(Inspection.source_path, Inspection.created_at, Inspection.id, Inspection.verdict)
                               .where(Inspection.source_path.in_(part)))
        for source, when, row_id, verdict in rows:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            if source not in latest or (when, row_id) > latest[source][:2]:
                latest[source] = (when, row_id, verdict)
    return {source: LastInspection(when, verdict) for source, (when, _, verdict) in latest.items()}


def get_inspection(session: Session, inspection_id: int) -> Inspection:
    """An inspection with its reviews and messages loaded."""
    inspection = session.scalar(select(Inspection).where(Inspection.id == inspection_id)
                                .options(selectinload(Inspection.reviews), selectinload(Inspection.messages)))
    if inspection is None:
        raise NotFoundError(f"No inspection {inspection_id}.", listing="history")
    return inspection


@dataclass
class HistoryFilter:
    """History query criteria; None means any."""

    project_id: int | None = None
    verdicts: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    reviewed: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    text: str | None = None
    lot: str | None = None

    def apply(self, query: Select) -> Select:
        """Add the criteria to a select over Inspection.

        ``text`` matches, case-insensitively and literally, a part of the image's source path, the
        operator, the lot, or a review comment: a serial number in a file name, a name, a lot
        number, "false alarm".  ``lot`` matches one lot exactly.
        """
        if self.project_id is not None:
            query = query.where(Inspection.project_id == self.project_id)
        if self.verdicts:
            query = query.where(Inspection.verdict.in_(self.verdicts))
        if self.since is not None:
            query = query.where(Inspection.created_at >= self.since)
        if self.until is not None:
            query = query.where(Inspection.created_at < self.until)
        if self.min_score is not None:
            query = query.where(Inspection.score >= self.min_score)
        if self.max_score is not None:
            query = query.where(Inspection.score <= self.max_score)
        if self.lot is not None:
            query = query.where(Inspection.lot == self.lot)
        if self.reviewed is not None:
            has_review = select(Review.id).where(Review.inspection_id == Inspection.id).exists()
            query = query.where(has_review if self.reviewed else ~has_review)
        if self.text and self.text.strip():
            pattern = "%" + _escape_like(self.text.strip()) + "%"

            def like(column: Any) -> Any:
                return column.ilike(pattern, escape="\\")

            # The matching ids are read once as a list, from the (project, file, operator, lot) index
            # rather than from rows that carry their fact sheets (at 200 000 inspections a search read
            # 330 MB of rows), and the comments' matches once, not probed for every row.
            searched = aliased(Inspection)
            commented = select(Review.inspection_id).where(like(Review.comment))
            matching = select(searched.id).where(like(searched.source_path) | like(searched.operator)
                                                 | like(searched.lot) | searched.id.in_(commented))
            if self.project_id is not None:
                matching = matching.where(searched.project_id == self.project_id)
            query = query.where(Inspection.id.in_(matching))
        return query


MAX_SUGGESTED_LOTS = 30


# Each step seeks the next lot on the (project, lot) index, so the cost follows the number of lots, not
# of inspections: grouping 200 000 inspections by lot took 65 ms, after every part, on the GUI thread.
RECENT_LOTS = text("""
WITH RECURSIVE lots(lot) AS (
    SELECT (SELECT min(lot) FROM inspections WHERE project_id = :project AND lot > '')
    UNION ALL
    SELECT (SELECT min(i.lot) FROM inspections i WHERE i.project_id = :project AND i.lot > lots.lot)
    FROM lots WHERE lots.lot IS NOT NULL
)
SELECT lot FROM lots WHERE lot IS NOT NULL
ORDER BY (SELECT max(i.id) FROM inspections i WHERE i.project_id = :project AND i.lot = lots.lot) DESC
LIMIT :limit
""")


def recent_lots(session: Session, project_id: int, limit: int = MAX_SUGGESTED_LOTS) -> list[str]:
    """The project's lots, the one inspected most recently first (for the Lot field's suggestions)."""
    return list(session.scalars(RECENT_LOTS, {"project": project_id, "limit": limit}))


def checked_lot(lot: str) -> str:
    """A lot name as stored: runs of white space made one space, at most ``MAX_LOT_LENGTH`` characters
    (ValueError otherwise)."""
    lot = " ".join(lot.split())
    if len(lot) > MAX_LOT_LENGTH:
        raise ValueError(f"A lot name has at most {MAX_LOT_LENGTH} characters; this one has {len(lot)}.")
    return lot


def _escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def history(session: Session, criteria: HistoryFilter, offset: int = 0, limit: int | None = 100,
            newest_first: bool = True, before_id: int | None = None) -> list[Inspection]:
    """One page of inspections matching ``criteria`` (reviews loaded).

    ``before_id`` starts the page below that inspection, newest first: the next page of a table
    read off an index, however deep, and not shifted by parts inspected since the last page.
    """
    order = Inspection.id.desc() if newest_first else Inspection.id
    query = criteria.apply(select(Inspection))
    if before_id is not None:
        query = query.where(Inspection.id < before_id)
    query = query.options(selectinload(Inspection.reviews)).order_by(order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def project_activity(session: Session, project_id: int) -> tuple[int, datetime | None]:
    """How many inspections a project has, and when its newest was made (None: never): its list entry."""
    criteria = HistoryFilter(project_id=project_id)
    newest = history(session, criteria, limit=1)
    return history_count(session, criteria), (newest[0].created_at if newest else None)


def inspections_newest_first(session: Session, ids: Iterable[int]) -> list[Inspection]:
    """The inspections of ``ids`` that exist (reviews loaded), newest first."""
    query = select(Inspection).where(Inspection.id.in_(list(ids))).options(selectinload(Inspection.reviews))
    return list(session.scalars(query.order_by(Inspection.id.desc())))


def history_digest(session: Session, criteria: HistoryFilter) -> list[Any]:
    """Every matching inspection's id, time, lot, verdict, score and bank, oldest first.

    What a project report counts and draws, without the fact sheets and reviews of full rows: for
    200 000 inspections, full rows took 40 s and 2 GB to load.
    """
    columns = select(Inspection.id, Inspection.created_at, Inspection.lot, Inspection.verdict, Inspection.score,
                     Inspection.bank_id)
    return list(session.execute(criteria.apply(columns).order_by(Inspection.id)))


def history_thresholds(session: Session, criteria: HistoryFilter) -> list[dict[str, Any]]:
    """The different thresholds records (bank, calibration, sensitivity) of the matching inspections.

    Told apart by the database as text, so that only a few are decoded: a project report of 200 000
    inspections spent 4 of its 10 s decoding every row's record.
    """
    stored = session.scalars(criteria.apply(select(cast(Inspection.thresholds, Text)).distinct()))
    return [json.loads(record) for record in stored]


# The fact sheet's figures the CSV export lists, read by SQLite's JSON functions from the stored JSON
# instead of decoded in Python.  The largest region is the one with the most pixels, the first of
# equals, as ``FactSheet.largest_region`` (and ``fact_figures``) take it.
_SQLITE_FACT_FIGURES = (
    func.json_array_length(Inspection.facts, "$.regions").label("region_count"),
    literal_column("(SELECT json_extract(region.value, '$.major_axis_px')"
                   " FROM json_each(inspections.facts, '$.regions') AS region"
                   " ORDER BY json_extract(region.value, '$.area_px') DESC, region.key LIMIT 1)").label("largest_px"),
    func.json_extract(Inspection.facts, "$.mm_per_pixel").label("mm_per_pixel"),
)


def fact_figures(facts: dict[str, Any]) -> dict[str, Any]:
    """``region_count``, ``largest_px`` (the length of the region with the most pixels) and ``mm_per_pixel``
    of a stored fact sheet: what SQLite's JSON functions read for ``export_rows``, for other databases."""
    regions = facts.get("regions") or []
    largest = max(regions, key=lambda region: region["area_px"], default=None)
    return {"region_count": len(regions), "largest_px": None if largest is None else largest["major_axis_px"],
            "mm_per_pixel": facts.get("mm_per_pixel")}


def _latest_review(column: Any) -> Any:
    return (select(column).where(Review.inspection_id == Inspection.id)
            .order_by(Review.created_at.desc(), Review.id.desc()).limit(1).scalar_subquery())


def export_rows(session: Session, criteria: HistoryFilter | None = None, ids: Iterable[int] | None = None,
                page: int = 5000) -> Iterator[Any]:
    """What the CSV export lists of each inspection, oldest first (or in the order of ``ids``), ``page``
    rows at a time so that a long history is never held in memory.

    Each row has the inspection's columns, ``project``, ``region_count``, ``largest_px`` and
    ``mm_per_pixel`` from its fact sheet (on SQLite read by its JSON functions: decoding 200 000 fact
    sheets and full rows in Python took most of a 43 s export), and ``review``/``review_comment``
    of its latest review (None when none).  The thresholds come as their JSON text,
    ``thresholds_json``: it is the same for every part of a bank and sensitivity, so a reader can
    decode each text once (decoding it row by row took 3.4 of a 17 s export of 200 000 rows).  An id
    of ``ids`` not in the history raises ``NotFoundError``.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    columns = select(Inspection.id, Project.name.label("project"), Inspection.created_at, Inspection.source_path,
                     Inspection.lot, Inspection.verdict, Inspection.score, Inspection.raw_score,
                     Inspection.operator, Inspection.bank_id, Inspection.engine_version,
                     cast(Inspection.thresholds, Text).label("thresholds_json"),
                     *(_SQLITE_FACT_FIGURES if sqlite else (Inspection.facts,)),
                     _latest_review(Review.verdict).label("review"),
                     _latest_review(Review.comment).label("review_comment"),
                     ).join(Project, Project.id == Inspection.project_id)

    def read(query: Select) -> list[Any]:
        rows = session.execute(query)
        if sqlite:
            return list(rows)
        return [SimpleNamespace(**row._asdict(), **fact_figures(row.facts)) for row in rows]

    if ids is not None:
        wanted = list(ids)
        for start in range(0, len(wanted), page):
            chunk = wanted[start:start + page]
            found = {row.id: row for row in read(columns.where(Inspection.id.in_(chunk)))}
            for inspection_id in chunk:
                if inspection_id not in found:
                    raise NotFoundError(f"No inspection {inspection_id}.", listing="history")
                yield found[inspection_id]
        return
    after = 0
    while True:
        rows = read((criteria or HistoryFilter()).apply(columns).where(Inspection.id > after)
                    .order_by(Inspection.id).limit(page))
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].id


def reviewed_samples(session: Session, project_id: int, limit: int | None = None) -> list[tuple[Inspection, int]]:
    """A project's labelled samples: the newest ``limit`` (``MAX_REVIEWED_SAMPLES``) reviewed images, each once.

    Each comes as the newest inspection of that image with a review, and the label of its latest
    review (1 = NG, 0 = OK).  Refining a threshold from reviews scores these.
    """
    limit = MAX_REVIEWED_SAMPLES if limit is None else limit
    newest: dict[str, tuple[Inspection, int]] = {}
    criteria, offset, page = HistoryFilter(project_id=project_id, reviewed=True), 0, 1000
    while len(newest) < limit:
        rows = history(session, criteria, offset=offset, limit=page)
        for row in rows:  # newest first: the first row of an image holds its latest word
            if row.image_key not in newest and len(newest) < limit:
                newest[row.image_key] = (row, 1 if row.reviews[-1].verdict == "NG" else 0)
        if len(rows) < page:
            break
        offset += page
    return list(newest.values())


def history_count(session: Session, criteria: HistoryFilter) -> int:
    """How many inspections match ``criteria``."""
    return int(session.scalar(criteria.apply(select(func.count(Inspection.id)))) or 0)


def add_review(session: Session, inspection: Inspection, verdict: str, comment: str = "", operator: str = "") -> Review:
    """Record an operator's verdict on an inspection."""
    if verdict not in ("OK", "NG"):
        raise ValueError("A review verdict is OK or NG.")
    review = Review(inspection_id=inspection.id, verdict=verdict, comment=comment, operator=operator)
    session.add(review)
    session.flush()
    audit(session, operator, "review", "inspection", inspection.id,
          {"engine_verdict": inspection.verdict, "review_verdict": verdict, "comment": comment})
    return review


def add_message(session: Session, inspection_id: int, role: str, text: str, backend: str = "") -> ChatMessage:
    """Store one conversation turn."""
    message = ChatMessage(inspection_id=inspection_id, role=role, text=text, backend=backend)
    session.add(message)
    return message


def delete_inspection(session: Session, inspection: Inspection, actor: str = "") -> None:
    """Delete an inspection (its files stay until ``check --clean``)."""
    audit(session, actor, "delete", "inspection", inspection.id, {"image": inspection.image_key})
    session.delete(inspection)
