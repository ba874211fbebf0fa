"""Score trend: the scores of the newest inspections that match a history filter, oldest first.

A technician sees at a glance what the drift check (``services.drift``) tests: whether good parts
creep towards the threshold as a lamp dims or a lens drifts, when the references changed, and
which parts stood out.  Scores are normalised with the calibration of the bank that made each
one, at the sensitivity in force, as the history table shows them; a rolling median over the
project's drift window (``MEDIAN_WINDOW`` parts unless set, or across projects) shows the level
through the scatter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repository as repo
from db.models import Inspection, Project
from engine.calibration import Calibration, relabel
from engine.drift import DRIFT_WINDOW
from services.drift import drift_window
from services.results import read_calibrations

TREND_LIMIT = 500
MEDIAN_WINDOW = DRIFT_WINDOW


@dataclass(frozen=True)
class TrendSample:
    """One inspection's stored score and verdict, and the bank that made them."""

    inspection_id: int
    created: datetime
    raw_score: float
    stored_score: float
    stored_verdict: str
    bank_id: int | None


@dataclass
class ScoreTrend:
    """The newest ``len(samples)`` of ``total`` matching inspections, oldest first, with their banks' calibrations."""

    samples: list[TrendSample] = field(default_factory=list)
    calibrations: dict[int, Calibration | None] = field(default_factory=dict)
    total: int = 0
    median_window: int = MEDIAN_WINDOW

    def labels(self, sensitivity: float) -> list[tuple[str, float]]:
        """(verdict, normalised score) of each sample at ``sensitivity``, as the history table shows them."""
        return [relabel(self.calibrations.get(s.bank_id) if s.bank_id else None, s.raw_score, s.stored_verdict,
                        s.stored_score, sensitivity) for s in self.samples]

    def rolling_median(self, sensitivity: float) -> list[float | None]:
        """``rolling_median`` of the normalised scores at ``sensitivity`` over ``median_window`` parts."""
        return rolling_median([score for _, score in self.labels(sensitivity)], self.median_window)

    def bank_changes(self) -> list[int]:
        """``bank_changes`` of the samples."""
        return bank_changes([s.bank_id for s in self.samples])


def rolling_median(scores: Sequence[float], window: int = MEDIAN_WINDOW) -> list[float | None]:
    """The median of each score and the ``window - 1`` before it; None before a full window."""
    if len(scores) < window:
        return [None] * len(scores)
    medians = np.median(np.lib.stride_tricks.sliding_window_view(np.asarray(scores, dtype=np.float64), window), axis=1)
    return [None] * (window - 1) + [float(m) for m in medians]


def bank_changes(bank_ids: Sequence[int | None]) -> list[int]:
    """Indices of the inspections made with another bank than the one before (the references changed)."""
    return [i for i in range(1, len(bank_ids)) if bank_ids[i] != bank_ids[i - 1]]


def load_trend(session: Session, criteria: repo.HistoryFilter, limit: int = TREND_LIMIT,
               calibrations: dict[int, Calibration | None] | None = None, total: int | None = None) -> ScoreTrend:
    """The newest ``limit`` inspections matching ``criteria``, oldest first.

    ``calibrations`` (bank id to calibration) is reused and filled in, and ``total`` (how many
    match) taken as given, so that a caller that already holds them, such as the history table,
    reads each bank once and counts once.
    """
    columns = select(Inspection.id, Inspection.created_at, Inspection.raw_score, Inspection.score, Inspection.verdict,
                     Inspection.bank_id)
    rows = session.execute(criteria.apply(columns).order_by(Inspection.id.desc()).limit(limit)).all()
    samples = [TrendSample(row.id, row.created_at, float(row.raw_score), float(row.score), row.verdict, row.bank_id)
               for row in reversed(rows)]
    known = read_calibrations(session, (s.bank_id for s in samples), calibrations if calibrations is not None else {})
    wanted = {s.bank_id for s in samples if s.bank_id is not None}
    if total is None:
        total = len(samples) if len(samples) < limit else repo.history_count(session, criteria)
    project = session.get(Project, criteria.project_id) if criteria.project_id is not None else None
    window = drift_window(project) if project is not None else MEDIAN_WINDOW
    return ScoreTrend(samples, {bank_id: known[bank_id] for bank_id in wanted}, total, window)
