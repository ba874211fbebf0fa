"""Lots for traceability: each inspected part records its lot, and the history, CSV and reports find it."""

from __future__ import annotations

import csv
import json

from cli.parser import run_cli
from engine.synthetic import Defect
from tests.helpers import write_parts


def test_parts_record_their_lot_and_history_csv_and_reports_select_it(home, tmp_path, capsys):
    assert run_cli(["project", "create", "disc"]) == 0
    write_parts(tmp_path / "refs", range(4))
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    morning = write_parts(tmp_path / "morning", [40, 41])
    evening = write_parts(tmp_path / "evening", [50], defects=(Defect("pit", 0.3, 0.3, 0.08),))
    assert run_cli(["inspect", "disc", str(tmp_path / "morning"), "--lot", "  L-118 ", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["lot"] for r in records] == ["L-118", "L-118"]  # trimmed as stored
    assert run_cli(["inspect", "disc", str(tmp_path / "evening"), "--lot", "L-119"]) == 0
    capsys.readouterr()

    assert run_cli(["history", "disc", "--lot", "L-118"]) == 0
    out = capsys.readouterr().out
    assert out.count("lot L-118") == 2 and str(evening[0]) not in out and "2 of 2 matching" in out
    assert run_cli(["history", "disc", "--search", "l-11"]) == 0
    assert "3 of 3 matching" in capsys.readouterr().out

    table = tmp_path / "history.csv"
    assert run_cli(["history", "disc", "--csv", str(table)]) == 0
    assert "3/3" in capsys.readouterr().err  # the rows written, counted on stderr
    with table.open(newline="") as handle:
        lots = {row["source"]: row["lot"] for row in csv.DictReader(handle)}
    assert lots == {str(morning[0]): "L-118", str(morning[1]): "L-118", str(evening[0]): "L-119"}

    report = tmp_path / "lot.html"
    assert run_cli(["report", "disc", "--lot", "L-119", "--format", "html", "--out", str(report)]) == 0
    html = report.read_text()
    assert "lot <b>L-119</b>" in html and str(evening[0]) in html and str(morning[0]) not in html
    whole = tmp_path / "all.html"
    assert run_cli(["report", "disc", "--format", "html", "--out", str(whole)]) == 0
    page = " ".join(whole.read_text().split())
    assert "<h2>Per lot</h2>" in page and "<td>L-118</td><td>2</td>" in page and "<td>L-119</td><td>1</td>" in page
    assert "<th>Lot</th>" in page and "Per lot" not in html  # a report of one lot has no per-lot table
    lot_csv = tmp_path / "lot.csv"
    assert run_cli(["report", "disc", "--lot", "L-118", "--format", "csv", "--out", str(lot_csv)]) == 0
    assert len(lot_csv.read_text().splitlines()) == 3  # header and the lot's two parts
    assert "2/2" in capsys.readouterr().err

    record_id = records[0]["id"]
    single = tmp_path / "one.html"
    assert run_cli(["report", "--inspection", str(record_id), "--format", "html", "--out", str(single)]) == 0
    assert "<th>Lot</th><td colspan=\"3\">L-118</td>" in single.read_text()

    write_parts(tmp_path / "more", [5])  # new references: a part inspected again keeps its lot
    assert run_cli(["references", "add", "disc", str(tmp_path / "more")]) == 0
    assert run_cli(["reinspect", str(record_id)]) == 0
    capsys.readouterr()
    assert run_cli(["history", "disc", "--lot", "L-118"]) == 0
    assert "3 of 3 matching" in capsys.readouterr().out

    assert run_cli(["inspect", "disc", str(morning[0]), "--force", "--lot", "x" * 101]) == 2
    assert "at most 100 characters" in capsys.readouterr().err
