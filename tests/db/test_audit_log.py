"""The audit log read back: a project's own events and those of what belongs to it, by period and action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db import repository as repo
from db.audit_log import as_row, audit_events, summarise
from db.database import Database
from db.models import Inspection
from db.models import ReferenceBank as BankRow


def _two_projects(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'h.db'}")
    database.migrate()
    with database.write() as session:
        for name in ("disc", "cap"):
            project = repo.create_project(session, name, actor="ann")
            reference = repo.add_reference(session, project, f"images/{name}.png", f"{name}.png", actor="ann")
            repo.set_reference_active(session, reference, False, actor="bob")
            bank = BankRow(project_id=project.id, bank_key=f"banks/{name}.bank", reference_keys=[], engine_version="t",
                           config={}, calibration={})
            session.add(bank)
            inspection = Inspection(project_id=project.id, image_key=f"images/{name}-part.png", source_path="p.png",
                                    raw_score=0.1, score=0.2, verdict="OK", map_key="maps/m.npz", engine_version="t")
            session.add(inspection)
            session.flush()
            repo.audit(session, "bob", "refine", "thresholds", bank.id, {"after": 0.3})
            repo.add_review(session, inspection, "NG", "scratch", "carol")
    return database


def test_a_projects_log_holds_its_own_events_and_those_of_what_belongs_to_it(tmp_path):
    database = _two_projects(tmp_path)
    with database.read() as session:
        disc = repo.get_project(session, "disc")
        everything = audit_events(session)
        mine = audit_events(session, disc.id)
        rows = [as_row(event) for event in mine]
    assert len(everything) == 2 * len(mine)
    assert [(r["action"], r["entity"], r["operator"]) for r in rows] == [
        ("review", "inspection", "carol"), ("refine", "thresholds", "bob"), ("disable", "reference", "bob"),
        ("add", "reference", "ann"), ("create", "project", "ann")]
    assert rows[-1]["detail"]["name"] == "disc"
    # SQLite gives its times back without a zone, a server in its own: the row says UTC either way.
    assert all(datetime.fromisoformat(r["time"]).utcoffset() == timedelta(0) for r in rows)


def test_the_log_filters_by_action_and_period_and_keeps_the_newest(tmp_path):
    database = _two_projects(tmp_path)
    now = datetime.now(UTC)
    with database.read() as session:
        disc = repo.get_project(session, "disc").id
        assert [e.action for e in audit_events(session, disc, actions=["refine", "review"])] == ["review", "refine"]
        assert audit_events(session, disc, since=now + timedelta(minutes=1)) == []
        assert audit_events(session, disc, until=now - timedelta(minutes=1)) == []
        assert len(audit_events(session, disc, since=now - timedelta(minutes=1), until=now + timedelta(minutes=1))) == 5
        assert [e.action for e in audit_events(session, limit=2)] == ["review", "refine"]
        assert audit_events(session, disc, limit=1, newest_first=False)[0].action == "create"


def test_a_long_detail_is_cut_on_one_line():
    assert summarise({"a": 1}) == '{"a": 1}'
    assert summarise({"results": [1, 2, 3], "summary": "Verification passed."}) == "Verification passed."
    long = summarise({"text": "x" * 500}, width=40)
    assert len(long) == 40 and long.endswith("…") and "\n" not in long


def test_the_command_line_lists_a_projects_events(tmp_path, monkeypatch, capsys):
    from cli.parser import run_cli

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IAD_INSPECTOR_OPERATOR", "ann")
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["project", "create", "cap"]) == 0
    assert run_cli(["project", "rename", "cap", "lid"]) == 0
    capsys.readouterr()
    assert run_cli(["db", "audit", "--project", "disc"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("time (UTC)") and len(out) == 2
    assert "ann" in out[1] and "create" in out[1] and '"name": "disc"' in out[1]
    assert run_cli(["db", "audit", "--action", "update", "--json"]) == 0
    assert '"lid"' in capsys.readouterr().out
    assert run_cli(["db", "audit", "--project", "gone"]) == 2


def test_an_operator_name_longer_than_its_column_is_cut_to_it(tmp_path, monkeypatch):
    from db.models import MAX_OPERATOR_LENGTH
    from services.workspace import open_workspace

    monkeypatch.setenv("IAD_INSPECTOR_OPERATOR", " " + "n" * 300)
    workspace = open_workspace(tmp_path / "home", explicit=True)
    try:
        assert workspace.operator == "n" * MAX_OPERATOR_LENGTH
    finally:
        workspace.close()
