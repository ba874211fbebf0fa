"""``main.py bench-history``: how the history's queries hold up as a line's history grows.

A line that makes a part every 10 s fills 200 000 inspections in about three weeks. The benchmark
builds such a history in a data folder of its own: the demo project (its bank built by the real
engine) inspects its five synthetic parts, and those rows are copied in SQL, one part every 10 s
up to now, each with its own file name (``/line/cam1/SN00000001.png`` ...), lots of 500 parts,
2 % NG, 5 % REVIEW and one in five REVIEW parts reviewed. It then times each query the app makes
on a long history, the best of a few runs: the drift check run after each part, the Lot field's
suggestions, a watch's catch-up lookup, the project list's entry, and the reads of the history
table (``services.history_rows``), which the window makes off its GUI thread. ``--reports`` adds
the project report in HTML and the history's CSV, which take tens of seconds at 200 000 parts.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from db import repository as repo
from db.paths import DATABASE_FILE, folder_database_url
from services.drift import project_drift
from services.history_rows import read_history
from services.workspace import Workspace, open_workspace

PART_EVERY_S = 10
LOT_SIZE = 500
PAGE_SIZE = 100  # the history table's page
CATCH_UP_FILES = 200  # a watch's catch-up looks up the files of a folder, half of them inspected before
COPY_ROWS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO inspections (project_id, image_key, source_path, created_at, operator, raw_score, score, verdict,
                         thresholds, map_key, facts, bank_id, engine_version, duration_ms, lot)
SELECT s.project_id, s.image_key, printf('/line/cam1/SN%08d.png', n.i),
       strftime('%Y-%m-%d %H:%M:%f000', :start, '+' || (n.i * :every) || ' seconds'),
       s.operator, s.raw_score, s.score, CASE WHEN n.i % 20 = 5 THEN 'REVIEW' ELSE s.verdict END,
       s.thresholds, s.map_key, s.facts, s.bank_id, s.engine_version, s.duration_ms, printf('L-%04d', n.i / :lot)
FROM n JOIN inspections s ON s.id = CASE WHEN n.i % 50 = 0 THEN :defective WHEN n.i % 2 = 0 THEN :good_a
                                         ELSE :good_b END
ORDER BY n.i
"""
REVIEW_SOME = """
INSERT INTO reviews (inspection_id, verdict, comment, operator, created_at)
SELECT id, 'OK', 'false alarm', 'bench', created_at FROM inspections
WHERE verdict = 'REVIEW' AND source_path LIKE '/line/%' AND CAST(substr(source_path, 14, 8) AS INTEGER) % 100 = 5
"""


@dataclass
class HistoryBenchOptions:
    """What ``bench-history`` builds and times."""

    parts: int = 200_000
    repeats: int = 3
    reports: bool = False
    keep: Path | None = None  # build the history here and leave it; a temporary folder otherwise
    device: str = "auto"


def run_history_bench(options: HistoryBenchOptions, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the history and time its queries; the result as a JSON-ready dict."""
    if options.keep is not None:
        return _run_in(options.keep, options, progress)
    with tempfile.TemporaryDirectory(prefix="iad-bench-history-") as folder:
        return _run_in(Path(folder), options, progress)


def _run_in(folder: Path, options: HistoryBenchOptions, progress: Callable[[str], None]) -> dict[str, Any]:
    from services.demo import create_demo_project
    from services.inspection import Inspector

    home = folder / "data"
    workspace = open_workspace(home, folder_database_url(home), operator="bench", explicit=True)
    try:
        started = time.perf_counter()
        inspector = Inspector(workspace, device=options.device)
        project, parts = create_demo_project(workspace, inspector)
        records = [inspector.inspect_file(project, path) for path in parts]
        good = [r.id for r in records if r.verdict == "OK"]
        defective = [r.id for r in records if r.verdict == "NG"]
        if len(good) < 2 or not defective:
            raise RuntimeError(f"the demo parts gave {len(good)} OK and {len(defective)} NG; 2 and 1 are needed")
        progress(f"copying {options.parts} inspections…")
        _copy_rows(workspace, options.parts, good[0], good[1], defective[0])
        built_s = time.perf_counter() - started
        timings = _time_queries(workspace, project, options, folder / "reports", progress)
        return {"parts": options.parts, "database_mb": round((home / DATABASE_FILE).stat().st_size / 2 ** 20, 1),
                "build_s": round(built_s, 1), "repeats": options.repeats, "timings_ms": timings}
    finally:
        workspace.close()


def _copy_rows(workspace: Workspace, count: int, good_a: int, good_b: int, defective: int) -> None:
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=count * PART_EVERY_S)
    with workspace.database.write() as session:
        session.execute(text(COPY_ROWS), {"count": count, "start": start.strftime("%Y-%m-%d %H:%M:%S"),
                                          "every": PART_EVERY_S, "lot": LOT_SIZE, "good_a": good_a,
                                          "good_b": good_b, "defective": defective})
        session.execute(text(REVIEW_SOME))
    with workspace.database.engine.connect() as connection:  # as the app's database stands between bursts
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _time_queries(workspace: Workspace, project_name: str, options: HistoryBenchOptions, reports: Path,
                  progress: Callable[[str], None]) -> dict[str, float]:
    with workspace.database.read() as session:
        project = repo.get_project(session, project_name)
        project_id = project.id
        middle = repo.history(session, repo.HistoryFilter(project_id=project_id), offset=options.parts // 2, limit=1)
    inspected = [f"/line/cam1/SN{i:08d}.png" for i in range(1, options.parts + 1, max(1, options.parts // 100))]
    files = (inspected + [f"/line/cam2/new{i:05d}.png" for i in range(CATCH_UP_FILES)])[:CATCH_UP_FILES]
    everything = repo.HistoryFilter(project_id=project_id)
    serial = f"SN{options.parts // 3:08d}"[:-2]  # one hundred parts' file names hold it

    def in_session(query: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with workspace.database.read() as session:
                return query(session)
        return run

    def table(criteria: repo.HistoryFilter, after_id: int | None = None) -> Callable[[], object]:
        return lambda: read_history(workspace, criteria, {}, PAGE_SIZE, after_id)

    queries: dict[str, Callable[[], object]] = {
        "drift check after each part": in_session(lambda s: project_drift(s, repo.get_project(s, project_name))),
        "Lot field's suggestions": in_session(lambda s: repo.recent_lots(s, project_id)),
        f"catch-up lookup of {CATCH_UP_FILES} files": in_session(lambda s: repo.last_inspections(s, files)),
        "project list entry (count, newest)": in_session(lambda s: repo.project_activity(s, project_id)),
        "history table: everything": table(everything),
        "history table: NG": table(repo.HistoryFilter(project_id=project_id, verdicts=["NG"])),
        "history table: REVIEW, not reviewed": table(
            repo.HistoryFilter(project_id=project_id, verdicts=["REVIEW"], reviewed=False)),
        f"history table: search {serial}": table(repo.HistoryFilter(project_id=project_id, text=serial)),
        "history table: a page halfway down": table(everything, middle[0].id if middle else None),
    }
    if options.reports:
        from services.report_writer import write_report

        reports.mkdir(parents=True, exist_ok=True)
        queries["project report, HTML"] = lambda: write_report(workspace, reports / "project.html", "html",
                                                               project=project_name)
        queries["project report, CSV"] = lambda: write_report(workspace, reports / "project.csv", "csv",
                                                              project=project_name)
    timings = {}
    for name, query in queries.items():
        progress(f"timing {name}…")
        timings[name] = round(min(_seconds(query) for _ in range(options.repeats)) * 1000, 1)
    return timings


def _seconds(query: Callable[[], object]) -> float:
    started = time.perf_counter()
    query()
    return time.perf_counter() - started


def format_history_table(result: dict[str, Any]) -> str:
    """The benchmark's table: each query's best time."""
    lines = [f"bench-history: {result['parts']} inspections of one project, one every {PART_EVERY_S} s "
             f"({result['database_mb']} MB database, built in {result['build_s']} s); best of {result['repeats']}",
             "", f"{'query':44s} {'ms':>10s}"]
    lines += [f"{name:44s} {ms:10.1f}" for name, ms in result["timings_ms"].items()]
    return "\n".join(lines)
