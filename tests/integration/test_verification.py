"""Verification with master parts: known-good photos must pass, known-defective ones must be held back."""

from __future__ import annotations

import json

import pytest

from cli.parser import run_cli
from engine.synthetic import Defect
from services.verification import judge
from tests.helpers import write_parts

PIT = Defect("pit", 0.4, 0.6, 0.08)


def test_the_rule_holds_defective_masters_back_on_review_but_wants_ok_for_good_ones():
    assert judge("OK", "OK") and not judge("OK", "REVIEW") and not judge("OK", "NG")
    assert judge("NG", "NG") and judge("NG", "REVIEW") and not judge("NG", "OK")
    assert not judge("OK", "unreadable") and not judge("NG", "unreadable")


def test_masters_judged_right_pass_a_red_rabbit_that_gets_through_fails_and_neither_touches_the_history(
        home, tmp_path, capsys):
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 2  # no such folder yet
    write_parts(tmp_path / "refs", range(4))
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    write_parts(tmp_path / "masters" / "good", [10, 11])
    write_parts(tmp_path / "masters" / "pit", [40], defects=(PIT,))
    capsys.readouterr()
    assert run_cli(["references", "verify", "disc", str(tmp_path / "masters")]) == 0
    out = capsys.readouterr().out
    assert "good/part010.png  OK" in out and "pit/part040.png   held back  NG" in out
    assert "Verification passed: 2 good and 1 defective master part(s)" in out and "FAIL" not in out

    # A "red rabbit" that is in fact a good part: the set-up passes it, so the check fails and says which.
    # The folders are named the line's way, OK and NG.
    write_parts(tmp_path / "rabbits" / "OK", [12])
    write_parts(tmp_path / "rabbits" / "NG", [13])
    (tmp_path / "rabbits" / "OK" / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    assert run_cli(["references", "verify", "disc", str(tmp_path / "rabbits"), "--json"]) == 1
    run = json.loads(capsys.readouterr().out)
    assert run["passed"] is False and run["operator"] == "tester" and run["calibration_revision"] == 1
    by_file = {r["file"]: r for r in run["results"]}
    assert by_file["NG/part013.png"]["verdict"] == "OK" and not by_file["NG/part013.png"]["passed"]
    assert by_file["OK/part012.png"]["passed"] and by_file["OK/part012.png"]["expected"] == "OK"
    assert by_file["OK/torn.png"]["verdict"] == "unreadable" and "unreadable" in by_file["OK/torn.png"]["reason"]

    assert run_cli(["project", "show", "disc", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["inspections"] == 0  # masters are not production parts
    assert shown["verification"]["passed"] is False and len(shown["verification"]["results"]) == 3
    assert run_cli(["project", "show", "disc"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "verification:" in line)
    assert "verification: FAILED" in line and "by tester (2 good, 1 defective masters)" in line
    report = tmp_path / "disc.html"
    assert run_cli(["report", "disc", "--format", "html", "--out", str(report)]) == 0
    assert "<b>Master parts</b>" in (html := report.read_text()) and "FAILED" in html and "by tester" in html
    changes = html[html.index("<h2>Set-up changes</h2>"):html.index("<h2>Inspections</h2>")]
    assert [action for action in ("verify", "build", "add", "create") if f"<td>{action}</td>" in changes] == [
        "verify", "build", "add", "create"]
    assert changes.index("<td>verify</td>") < changes.index("<td>create</td>")  # newest first
    assert run_cli(["report", "disc", "--format", "pdf", "--out", str(tmp_path / "disc.pdf")]) == 0


def test_a_folder_that_is_not_laid_out_for_masters_is_a_clear_error_and_records_nothing(home, tmp_path, capsys):
    assert run_cli(["project", "create", "disc"]) == 0
    write_parts(tmp_path / "refs", range(2))
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["references", "verify", "disc", str(tmp_path / "refs")]) == 2
    assert "No 'good' sub-folder" in capsys.readouterr().err
    assert run_cli(["references", "verify", "disc", str(tmp_path / "gone")]) == 2
    assert "No such folder" in capsys.readouterr().err
    (tmp_path / "empty" / "good").mkdir(parents=True)
    assert run_cli(["references", "verify", "disc", str(tmp_path / "empty")]) == 2
    assert "No images in" in capsys.readouterr().err
    assert run_cli(["project", "show", "disc"]) == 0
    assert "verification: never checked" in capsys.readouterr().out
    write_parts(tmp_path / "only-good" / "good", [10])
    assert run_cli(["references", "verify", "disc", str(tmp_path / "only-good")]) == 0
    assert "No defective master was checked" in capsys.readouterr().out


def test_a_cancelled_verification_records_nothing(home, tmp_path):
    from db import repository as repo
    from engine.detector import Cancelled
    from services.inspection import Inspector
    from services.verification import last_verification, verify_with_masters
    from services.workspace import open_workspace

    assert run_cli(["project", "create", "disc"]) == 0
    write_parts(tmp_path / "refs", range(2))
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    write_parts(tmp_path / "masters" / "OK", [10, 11])
    workspace = open_workspace(home, explicit=True)
    calls = []
    with pytest.raises(Cancelled):
        verify_with_masters(Inspector(workspace, device="cpu"), "disc", tmp_path / "masters",
                            progress=lambda done, total: calls.append((done, total)), cancel=lambda: bool(calls))
    assert calls == [(1, 2)]
    with workspace.database.read() as session:
        assert last_verification(session, repo.get_project(session, "disc")) is None
    workspace.close()
