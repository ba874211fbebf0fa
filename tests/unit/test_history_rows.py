"""The history's rows as its table reads them: the first page from the trend, the next below it."""

from __future__ import annotations

from db import repository as repo
from db.models import Inspection
from services.history_rows import read_history
from services.trend import TREND_LIMIT
from services.workspace import open_workspace

PAGE_SIZE = 100


def test_the_first_page_read_from_the_trend_is_the_history_s_newest_page_and_its_count(tmp_path):
    workspace = open_workspace(tmp_path / "home")
    with workspace.database.write() as session:
        project = repo.create_project(session, "disc")
        for index in range(TREND_LIMIT + 20):  # more than the trend holds: the count is read on its own
            session.add(Inspection(project_id=project.id, image_key=f"images/{index}.png", raw_score=0.1, score=0.2,
                                   verdict="NG" if index % 7 == 0 else "OK", map_key="maps/x.npz", engine_version="t",
                                   source_path=f"/line/SN{index:05d}.png"))
        project_id = project.id
    for criteria in (repo.HistoryFilter(project_id=project_id), repo.HistoryFilter(project_id=project_id, text="SN000"),
                     repo.HistoryFilter(project_id=project_id, verdicts=["NG"]),
                     repo.HistoryFilter(project_id=project_id, text="no such part")):
        answer = read_history(workspace, criteria, {}, PAGE_SIZE)
        with workspace.database.read() as session:
            expected = [r.id for r in repo.history(session, criteria, limit=PAGE_SIZE)]
            assert answer.total == repo.history_count(session, criteria)
        assert [row.id for row in answer.rows] == expected and answer.after_id is None
        if expected:
            below = read_history(workspace, criteria, {}, PAGE_SIZE, after_id=expected[-1])
            with workspace.database.read() as session:
                assert [row.id for row in below.rows] == [r.id for r in repo.history(session, criteria,
                                                                                      offset=PAGE_SIZE)][:PAGE_SIZE]
    workspace.close()
