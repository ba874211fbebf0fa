"""The score trend read from the history: newest parts oldest first, labelled like the history table."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from db import repository as repo
from services.results import bank_calibration
from services.trend import MEDIAN_WINDOW, load_trend
from tests.db.test_drift import START, _bank, _database, _inspect


def test_the_trend_holds_the_newest_matching_parts_oldest_first_with_the_reference_changes(tmp_path):
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        other = repo.create_project(session, "screw")
        first_bank, second_bank, other_bank = _bank(session, project), _bank(session, project), _bank(session, other)
        _inspect(session, project, first_bank, [0.10 + 0.001 * i for i in range(30)])
        _inspect(session, other, other_bank, [0.9] * 5, start=START + timedelta(hours=1))
        _inspect(session, project, second_bank, [0.30 + 0.001 * i for i in range(10)], start=START + timedelta(days=1))
        trend = load_trend(session, repo.HistoryFilter(project_id=project.id), limit=25)
        assert trend.total == 40 and len(trend.samples) == 25
        assert [s.raw_score for s in trend.samples] == sorted(s.raw_score for s in trend.samples)
        assert trend.samples[-1].raw_score == pytest.approx(0.309)
        assert trend.bank_changes() == [15]  # 15 of the first bank's parts, then the second bank's
        assert set(trend.calibrations) == {first_bank.id, second_bank.id}
        everything = load_trend(session, repo.HistoryFilter(project_id=project.id))
        assert everything.total == len(everything.samples) == 40


def test_scores_are_labelled_at_the_sensitivity_and_the_median_follows_them(tmp_path):
    database = _database(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        bank = _bank(session, project)
        scores = list(np.random.default_rng(4).normal(0.22, 0.03, 30))
        _inspect(session, project, bank, scores)
        trend = load_trend(session, repo.HistoryFilter(project_id=project.id))
        calibration = bank_calibration(bank)
        labels = trend.labels(0.5)
        assert labels == [(calibration.verdict(s, 0.5), calibration.normalise(s, 0.5)) for s in scores]
        flagged = [sum(verdict == "NG" for verdict, _ in trend.labels(level)) for level in (0.2, 0.5, 0.8)]
        assert flagged[0] < flagged[1] < flagged[2]
        medians = trend.rolling_median(0.5)
        assert medians[:MEDIAN_WINDOW - 1] == [None] * (MEDIAN_WINDOW - 1)
        normalised = [score for _, score in labels]
        assert medians[-1] == np.median(normalised[-MEDIAN_WINDOW:])
        assert medians[MEDIAN_WINDOW - 1] == np.median(normalised[:MEDIAN_WINDOW])
        assert load_trend(session, repo.HistoryFilter(project_id=project.id), limit=5).rolling_median(0.5) == [None] * 5


def test_the_median_runs_over_the_projects_drift_window(tmp_path):
    from services.drift import set_drift_window
    from services.workspace import open_workspace

    workspace = open_workspace(tmp_path / "home")
    with workspace.database.write() as session:
        project = repo.create_project(session, "disc")
        _inspect(session, project, _bank(session, project), [0.2] * 12)
    criteria = repo.HistoryFilter(project_id=project.id)
    with workspace.database.read() as session:
        assert load_trend(session, criteria).rolling_median(0.5) == [None] * 12  # 20 parts by default
        assert load_trend(session, repo.HistoryFilter()).median_window == MEDIAN_WINDOW
    set_drift_window(workspace, "disc", 10)
    with workspace.database.read() as session:
        medians = load_trend(session, criteria).rolling_median(0.5)
    assert medians[:9] == [None] * 9 and None not in medians[9:]
    workspace.close()
