"""``main.py bench-history`` end to end on a small history: its table, JSON and the history it builds."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_history_builds_a_line_s_history_and_times_the_app_s_queries(tmp_path):
    out_json, keep = tmp_path / "history.json", tmp_path / "line"
    proc = subprocess.run([sys.executable, "main.py", "bench-history", "--parts", "1200", "--repeats", "1",
                           "--reports", "--keep", str(keep), "--json", str(out_json)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "bench-history: 1200 inspections of one project" in proc.stdout
    result = json.loads(out_json.read_text())
    assert result["parts"] == 1200 and result["repeats"] == 1
    assert set(result["timings_ms"]) == {
        "drift check after each part", "Lot field's suggestions", "catch-up lookup of 200 files",
        "project list entry (count, newest)", "history table: everything", "history table: NG",
        "history table: REVIEW, not reviewed", "history table: search SN000004", "history table: a page halfway down",
        "project report, HTML", "project report, CSV"}
    assert all(ms > 0 for ms in result["timings_ms"].values())
    for name in result["timings_ms"]:
        assert name in proc.stdout
    with sqlite3.connect(keep / "data" / "inspector.db") as database:  # the demo's 5 parts and 1200 copies
        verdicts = dict(database.execute("SELECT verdict, count(*) FROM inspections WHERE source_path LIKE '/line/%' "
                                         "GROUP BY verdict"))
        assert verdicts == {"NG": 24, "REVIEW": 60, "OK": 1116}  # 2 % NG, 5 % REVIEW
        assert database.execute("SELECT count(*) FROM inspections").fetchone()[0] == 1205
        assert database.execute("SELECT count(*) FROM reviews").fetchone()[0] == 12  # one REVIEW part in five
        lots = database.execute("SELECT lot, count(*) FROM inspections WHERE lot != '' GROUP BY lot").fetchall()
        assert lots == [("L-0000", 499), ("L-0001", 500), ("L-0002", 201)]
        seconds = database.execute("SELECT (julianday(max(created_at)) - julianday(min(created_at))) * 86400 "
                                   "FROM inspections WHERE source_path LIKE '/line/%'").fetchone()[0]
        assert abs(seconds - 1199 * 10) < 1  # one part every 10 s
    assert len((keep / "reports" / "project.csv").read_text().splitlines()) == 1206  # a header and every inspection
    again = subprocess.run([sys.executable, "main.py", "bench-history", "--parts", "10", "--keep", str(keep)],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "is not empty" in again.stderr
