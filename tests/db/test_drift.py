"""Score drift of a project: the windows read from the history and the technician's warning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from db import repository as repo
from db.database import Database
from db.models import Inspection, ReferenceBank
from engine.calibration import calibrate
from engine.drift import DRIFT_WINDOW
from services.drift import describe_drift, drift_warning, project_drift
from services.trend import load_trend

START = datetime(2026, 11, 1, tzinfo=UTC)


def _scores(seed: int, count: int = DRIFT_WINDOW, shift: float = 0.0) -> list[float]:
    return list(np.random.default_rng(seed).normal(0.20 + shift, 0.02, count))


def _database(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'h.db'}")
    database.migrate()
    return database


def _bank(session, project) -> ReferenceBank:
    calibration = calibrate([0.18, 0.20, 0.21, 0.19], np.linspace(0.0, 0.2, 100), "leave-one-out",
                            view_scores=[0.2, 0.21, 0.22, 0.2])
    bank = ReferenceBank(project_id=project.id, bank_key="banks/x.pt", reference_keys=["a", "b", "c", "d"],
                         engine_version="t", calibration=calibration.to_dict())
    session.add(bank)
    session.flush()
    return bank


def _inspect(session, project, bank, scores: list[float], start: datetime = START) -> None:
    for index, score in enumerate(scores):
        session.add(Inspection(project_id=project.id, image_key=f"images/{start:%H}{index}.png", raw_score=score,
                               score=0.5, verdict="OK", map_key="maps/x.npz", engine_version="t", bank_id=bank.id,
                               created_at=start + timedelta(minutes=index)))
    session.flush()


def test_the_warning_needs_two_full_windows_of_the_latest_bank(tmp_path):
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        bank = _bank(session, project)
        _inspect(session, project, bank, _scores(1) + _scores(2, DRIFT_WINDOW - 1, shift=0.05))
        assert project_drift(session, project) is None  # 39 parts: the windows would overlap
        _inspect(session, project, bank, [0.25], start=START + timedelta(days=1))
        drift, calibration = project_drift(session, project)
        assert drift.first == tuple(_scores(1))  # the first 20, oldest first
        assert drift.latest[-1] == 0.25 and len(drift.latest) == DRIFT_WINDOW
        warning = drift_warning(drift, calibration, 0.5)
        assert warning is not None and "scored higher than the first 20" in warning
        first, latest = (calibration.normalise(float(np.median(w))) for w in (drift.first, drift.latest))
        assert f"median score {latest:.2f} against {first:.2f}" in warning

        # A new bank starts afresh: its parts are compared among themselves.
        rebuilt = _bank(session, project)
        _inspect(session, project, rebuilt, _scores(3, 2 * DRIFT_WINDOW), start=START + timedelta(days=2))
        drift, calibration = project_drift(session, project)
        assert not drift.drifting and drift_warning(drift, calibration, 0.5) is None
        assert describe_drift(drift, calibration, 0.5).startswith("The last 20 parts scored like the first 20")


def test_windows_do_not_overlap_when_the_bank_has_few_parts(tmp_path):
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        bank = _bank(session, project)
        _inspect(session, project, bank, [float(i) for i in range(30)])
        first, latest = repo.bank_score_windows(session, bank.id, DRIFT_WINDOW)
        assert first == [float(i) for i in range(20)] and latest == [float(i) for i in range(20, 30)]


def test_re_inspected_photos_are_not_the_line_s_parts(tmp_path):
    """Rejects picked from the history and inspected again with a new bank must not count as its first parts."""
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        bank = _bank(session, project)
        _inspect(session, project, bank, _scores(4, shift=0.2))  # 20 old rejects inspected again
        for row in session.query(Inspection).all():
            repo.audit(session, "ann", repo.REINSPECT_ACTION, "inspection", row.id, {"of": 1})
        _inspect(session, project, bank, _scores(1) + _scores(2), start=START + timedelta(days=1))
        drift, _ = project_drift(session, project)
        assert drift.first == tuple(_scores(1)) and not drift.drifting


def test_the_queries_run_after_each_part_read_indexes_not_the_whole_history(tmp_path):
    """At 200 000 inspections, sorting a project's rows made the drift check after each part take 0.8 s."""
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        _inspect(session, project, _bank(session, project), _scores(1) + _scores(2))

    def after_each_part(session: Session) -> None:
        project = repo.get_project(session, "disc")
        assert project_drift(session, project) is not None
        repo.recent_lots(session, project.id)
        repo.last_inspections(session, ["/line/part1.png", "/line/part2.png"])

    plans = _query_plans(database, after_each_part)
    assert len(plans) >= 5  # the latest bank, its first and newest parts, the lots, the catch-up lookup
    for statement, plan in plans:
        assert "SCAN inspections" not in plan and "TEMP B-TREE FOR GROUP BY" not in plan, plan
        if "RECURSIVE lots" not in statement:  # the lots' suggestions sort the lots, not the inspections
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_the_history_s_verdict_filters_read_their_rows_off_an_index(tmp_path):
    """At 200 000 inspections, the review queue (REVIEW, not reviewed) read every row of the project."""
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        _inspect(session, project, _bank(session, project), _scores(1) + _scores(2))
        project_id = project.id

    def review_queue(session: Session) -> None:
        criteria = repo.HistoryFilter(project_id=project_id, verdicts=["REVIEW"], reviewed=False)
        repo.history_count(session, criteria)
        load_trend(session, criteria, total=0)
        repo.history(session, criteria, limit=100)

    plans = _query_plans(database, review_queue)
    assert len(plans) == 3
    for _statement, plan in plans:
        assert "ix_inspections_project_verdict" in plan, plan


def test_a_search_reads_the_search_index_not_the_rows(tmp_path):
    """At 200 000 inspections a search read every row of the project, fact sheets and all: 0.4-0.6 s."""
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        _inspect(session, project, _bank(session, project), _scores(1))
        project_id = project.id

    def search(session: Session) -> None:
        criteria = repo.HistoryFilter(project_id=project_id, text="SN000666")
        repo.history_count(session, criteria)
        repo.history(session, criteria, limit=100)

    plans = _query_plans(database, search)
    assert len(plans) == 2
    for _statement, plan in plans:
        assert "COVERING INDEX ix_inspections_project_search" in plan, plan


def _query_plans(database: Database, run: Callable[[Session], None]) -> list[tuple[str, str]]:
    """SQLite's plan of each statement over the inspections that ``run`` executes."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    with database.read() as session:
        event.listen(database.engine, "before_cursor_execute", capture)
        try:
            run(session)
        finally:
            event.remove(database.engine, "before_cursor_execute", capture)
    plans = []
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            if "FROM inspections" in statement:
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append((statement, " / ".join(row[-1] for row in rows)))
    return plans
