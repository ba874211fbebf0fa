"""The history as its table shows it: pages of rows, with the count and score trend of a filter.

Qt-free, so that the table reads it on a thread of its own and ``bench-history`` times the same
reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db import repository as repo
from engine.calibration import Calibration
from engine.facts import FactSheet
from services.local_time import local_text
from services.region_sizes import largest_length
from services.results import read_calibrations
from services.trend import ScoreTrend, load_trend
from services.workspace import Workspace

# Shown after the file name of an inspection whose stored photo was removed (db/retention.py).
REMOVED_NOTE = "  (photo removed to free disk space)"


@dataclass
class HistoryRow:
    """One inspection as the history table shows it."""

    id: int
    created: str
    source: str
    lot: str
    raw_score: float
    score: float
    verdict: str
    regions: int
    largest: str  # the largest region's length (``services.region_sizes``); "" without regions
    review: str
    bank_id: int | None
    image_path: str


@dataclass
class HistoryAnswer:
    """One read of the history: a page of rows, and with a first page the count and trend."""

    rows: list[HistoryRow]
    calibrations: dict[int, Calibration | None]  # those the read started from, with the rows' banks added
    after_id: int | None  # a next page starts below this inspection; None: a first page
    last_page: bool  # fewer rows than a page: none match below them
    total: int | None = None  # with a first page: how many match, and their trend
    trend: ScoreTrend | None = None


def read_history(workspace: Workspace, criteria: repo.HistoryFilter, calibrations: dict[int, Calibration | None],
                 page_size: int, after_id: int | None = None) -> HistoryAnswer:
    """A page of the history as table rows: the first (with count and trend), or the one below ``after_id``.

    ``calibrations`` (bank id to calibration) is filled in with the rows' banks; the history table
    passes a copy of its own, since it reads on a thread of its own.
    """
    with workspace.database.read() as session:
        total = trend = None
        if after_id is None:
            # The trend holds the newest matching rows (TREND_LIMIT, more than a page): the first page is
            # its newest, read by id, so that a search, which no index serves, reads the history once, and
            # counts it in the same pass when fewer than TREND_LIMIT match.
            trend = load_trend(session, criteria, calibrations=calibrations)
            total = trend.total
            newest = [sample.inspection_id for sample in reversed(trend.samples)][:page_size]
            records = repo.inspections_newest_first(session, newest)
        else:
            records = repo.history(session, criteria, limit=page_size, before_id=after_id)
        rows = [HistoryRow(id=r.id, created=local_text(r.created_at),
                           source=r.source_path + (REMOVED_NOTE if r.image_removed_at is not None else ""),
                           lot=r.lot, raw_score=r.raw_score, score=r.score, verdict=r.verdict,
                           regions=len(r.facts.get("regions", [])), largest=_largest(r.facts),
                           review=r.reviews[-1].verdict if r.reviews else "",
                           bank_id=r.bank_id, image_path=str(workspace.store.path(r.image_key)))
                for r in records]
        read_calibrations(session, (row.bank_id for row in rows), calibrations)
    return HistoryAnswer(rows, calibrations, after_id, len(rows) < page_size, total, trend)


def _largest(facts: dict[str, Any]) -> str:
    """The stored fact sheet's largest region length as the table shows it."""
    largest = largest_length(FactSheet.from_dict(facts)) if facts.get("regions") else None
    return largest[0] if largest else ""
