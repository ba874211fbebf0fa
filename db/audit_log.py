"""Reading the audit log: who changed what and when, for one project or all, in a period.

Every change is written with an ``AuditEvent`` by the repository and the services; this module is
the other half, for a quality audit ("who raised the threshold, and when?").  An event names its
entity (a project, reference, bank, threshold revision, inspection or region) by id; events of a
project are those of the project itself and of the entities that belong to it.  An inspection
deleted since cannot be traced to its project, so its deletion shows only in the unfiltered log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.models import AuditEvent, Inspection, ReferenceBank, ReferenceImage, as_utc

SUMMARY_CHARS = 120


def audit_events(session: Session, project_id: int | None = None, since: datetime | None = None,
                 until: datetime | None = None, actions: Sequence[str] = (), limit: int | None = None,
                 newest_first: bool = True) -> list[AuditEvent]:
    """Audit events, filtered by project, period (``since`` inclusive, ``until`` exclusive) and action."""
    query = select(AuditEvent)
    if project_id is not None:
        owned = {
            ("project",): None,
            ("reference",): select(ReferenceImage.id).where(ReferenceImage.project_id == project_id),
            ("inspection", "region"): select(Inspection.id).where(Inspection.project_id == project_id),
            ("bank", "thresholds"): select(ReferenceBank.id).where(ReferenceBank.project_id == project_id),
        }
        query = query.where(or_(*[
            and_(AuditEvent.entity.in_(entities),
                 AuditEvent.entity_id == project_id if ids is None else AuditEvent.entity_id.in_(ids))
            for entities, ids in owned.items()]))
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    if actions:
        query = query.where(AuditEvent.action.in_(list(actions)))
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id.asc()
    return list(session.scalars(query.order_by(order).limit(limit)))


def summarise(detail: dict[str, Any], width: int = SUMMARY_CHARS) -> str:
    """An event's detail on one line, cut to ``width`` characters: its own ``summary`` when it
    carries one (a verification's results are long), else the detail itself."""
    summary = detail.get("summary")
    text = summary if isinstance(summary, str) else json.dumps(detail, ensure_ascii=False, separators=(", ", ": "),
                                                                default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


def as_row(event: AuditEvent) -> dict[str, Any]:
    """An event as plain data (JSON and CSV output, reports), its time in UTC on every database."""
    return {"id": event.id, "time": as_utc(event.created_at).isoformat(timespec="seconds"), "operator": event.actor,
            "action": event.action, "entity": event.entity, "entity_id": event.entity_id, "detail": event.detail}
