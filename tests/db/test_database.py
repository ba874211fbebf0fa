"""The history database: migrations keep data, filters, consistency check, and clear storage errors."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import inspect as sa_inspect

from db import repository as repo
from db.check import check, clean
from db.database import Database
from db.errors import DiskFullError, StorageError, describe_database_error
from db.models import Inspection, ReferenceBank
from db.store import ImageStore


def _db(tmp_path, name: str = "h.db", **kwargs) -> Database:
    database = Database(f"sqlite:///{tmp_path / name}", **kwargs)
    database.migrate()
    return database


def _inspection(session, project, store: ImageStore, score: float, verdict: str, when: datetime | None = None):
    image_key = store.put_bytes(f"image {score} {verdict} {when}".encode(), "images", ".png")
    map_key = store.put_map(np.full((4, 4), score, np.float32))
    row = Inspection(project_id=project.id, image_key=image_key, source_path=f"{score}.png", raw_score=score,
                     score=score, verdict=verdict, map_key=map_key, engine_version="t", **(
                         {"created_at": when} if when else {}))
    session.add(row)
    session.flush()
    return row


def test_upgrade_from_first_revision_keeps_rows(tmp_path):
    path = tmp_path / "old.db"
    old = Database(f"sqlite:///{path}")
    old.migrate("0001")
    assert old.current_revision() == "0001"
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO projects (name, description, backbone, settings, created_at) "
                    "VALUES ('bottle', 'glass', 'efficientnet-lite0', '{}', '2026-01-01 00:00:00')")
        raw.execute("INSERT INTO inspections (project_id, image_key, source_path, created_at, operator, raw_score, "
                    "score, verdict, thresholds, map_key, facts, engine_version, duration_ms) VALUES "
                    "(1, 'images/aa/x.png', 'x.png', '2026-01-02 00:00:00', 'ann', 0.2, 0.9, 'NG', '{}', "
                    "'maps/aa/x.npz', '{}', '0.0.1', 12.0)")
        raw.execute("INSERT INTO chat_messages (inspection_id, role, text, created_at) "
                    "VALUES (1, 'user', 'where is it?', '2026-01-02 00:00:01')")
    old.dispose()

    upgraded = Database(f"sqlite:///{path}")
    upgraded.migrate()
    assert upgraded.current_revision() == upgraded.head_revision() == "0008"
    columns = {c["name"] for c in sa_inspect(upgraded.engine).get_columns("chat_messages")}
    assert "backend" in columns
    indexes = {index["name"] for index in sa_inspect(upgraded.engine).get_indexes("inspections")}
    assert {"ix_inspections_bank_created", "ix_inspections_project_created", "ix_inspections_source_path"} <= indexes
    with upgraded.read() as session:
        project = repo.get_project(session, "bottle")
        inspection = repo.get_inspection(session, 1)
        assert (project.description, inspection.verdict, inspection.operator) == ("glass", "NG", "ann")
        assert inspection.lot == ""  # parts inspected before lots were recorded belong to none
        assert [m.text for m in inspection.messages] == ["where is it?"]


def test_sqlite_setup_pragmas(tmp_path):
    database = _db(tmp_path)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_project_names_are_unique_and_audited(tmp_path):
    database = _db(tmp_path)
    with database.write() as session:
        repo.create_project(session, "screw", actor="ann")
    with pytest.raises(ValueError, match="already exists"), database.write() as session:
        repo.create_project(session, "screw")
    # SQLite keeps any length; a database server refuses past the column's, so every backend refuses it here.
    with pytest.raises(ValueError, match="at most 200 characters; this one has 201"), database.write() as session:
        repo.create_project(session, "s" * 201)
    with database.read() as session:
        events = session.query(repo.AuditEvent).all()
        assert [(e.action, e.entity, e.actor) for e in events] == [("create", "project", "ann")]
    with database.write() as session:
        assert repo.create_project(session, "  " + "s" * 200 + " ").name == "s" * 200



def test_renaming_a_project_to_a_taken_or_empty_name_is_refused_and_changes_nothing(tmp_path):
    database = _db(tmp_path)
    with database.write() as session:
        repo.create_project(session, "screw")
        repo.create_project(session, "bolt")
    for taken, message in (("screw", "already exists"), ("  ", "needs a name")):
        with pytest.raises(ValueError, match=message), database.write() as session:
            repo.update_project(session, repo.get_project(session, "bolt"), "ann", name=taken)
    with database.write() as session:
        repo.update_project(session, repo.get_project(session, "bolt"), "ann", name=" bolt M6 ")
    with database.read() as session:
        assert [p.name for p in repo.list_projects(session)] == ["bolt M6", "screw"]

def test_history_filters(tmp_path):
    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    now = datetime.now(UTC)
    with database.write() as session:
        project = repo.create_project(session, "p")
        other = repo.create_project(session, "q")
        rows = [_inspection(session, project, store, s, v, now - timedelta(days=d))
                for s, v, d in ((0.1, "OK", 3), (0.55, "REVIEW", 2), (0.9, "NG", 1), (0.97, "NG", 0))]
        _inspection(session, other, store, 0.99, "NG")
        repo.add_review(session, rows[2], "OK", "false alarm", "ann")
        rows[1].lot = rows[3].lot = "L-2026-118"
        rows[2].lot = "L-2026-1180"
        rows[1].thresholds = rows[2].thresholds = {"bank_id": 1, "sensitivity": 0.5}
        rows[3].thresholds = {"bank_id": 2, "sensitivity": 0.6}
        pid = project.id
    with database.read() as session:
        def ids(**criteria):
            return [r.id for r in repo.history(session, repo.HistoryFilter(project_id=pid, **criteria),
                                               newest_first=False)]

        assert ids() == [r.id for r in rows]
        assert repo.project_activity(session, pid) == (4, repo.get_inspection(session, rows[3].id).created_at)
        assert ids(verdicts=["NG"]) == [rows[2].id, rows[3].id]
        assert ids(min_score=0.5, max_score=0.95) == [rows[1].id, rows[2].id]
        assert ids(reviewed=True) == [rows[2].id]
        assert ids(reviewed=False) == [rows[0].id, rows[1].id, rows[3].id]
        assert ids(since=now - timedelta(days=2, hours=1), until=now - timedelta(hours=12)) == [rows[1].id, rows[2].id]
        assert repo.history_count(session, repo.HistoryFilter(project_id=pid, verdicts=["NG", "REVIEW"])) == 3
        assert ids(text="0.55") == [rows[1].id]  # part of the file name
        assert ids(text="FALSE ALARM") == [rows[2].id]  # a review comment, any case
        assert ids(text="%") == [] and ids(text="_") == []  # LIKE wildcards are taken literally
        assert ids(text="  ") == [r.id for r in rows]
        assert ids(lot="L-2026-118") == [rows[1].id, rows[3].id]  # one lot exactly
        assert ids(text="l-2026-118") == [rows[1].id, rows[2].id, rows[3].id]  # a search finds a part of it
        # What a project report counts, and a long CSV read a page at a time: the same rows, oldest first.
        criteria = repo.HistoryFilter(project_id=pid, verdicts=["NG", "REVIEW"])
        digest = repo.history_digest(session, criteria)
        assert [(d.id, d.verdict, d.lot) for d in digest] == [(r.id, r.verdict, r.lot) for r in rows[1:]]
        assert sorted(repo.history_thresholds(session, criteria), key=str) == [  # each different one once
            {"bank_id": 1, "sensitivity": 0.5}, {"bank_id": 2, "sensitivity": 0.6}]
        paged = list(repo.export_rows(session, repo.HistoryFilter(project_id=pid), page=2))
        assert [r.id for r in paged] == [r.id for r in rows]
        assert (paged[2].review, paged[2].review_comment, paged[0].review) == ("OK", "false alarm", None)
        # The history table's next page: below the last row shown, newest first, within the filter.
        below = repo.history(session, repo.HistoryFilter(project_id=pid, verdicts=["NG", "REVIEW"]), limit=1,
                             before_id=rows[3].id)
        assert [r.id for r in below] == [rows[2].id]


def test_the_export_reads_region_counts_sizes_and_latest_reviews_as_the_fact_sheets_say(tmp_path, monkeypatch):
    from engine.facts import FactSheet
    from tests.helpers import fact_sheet_with_regions

    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    region_sets = ([], [(40, 12.5)], [(30, 7.0), (90, 21.25), (90, 33.0), (10, 4.0)], [(5, 3.0), (6, 2.0)])
    with database.write() as session:
        project, other = repo.create_project(session, "p"), repo.create_project(session, "q")
        rows = []
        for number, regions in enumerate(region_sets):
            row = _inspection(session, project if number < 3 else other, store, 0.1 * number, "NG")
            row.facts = fact_sheet_with_regions(regions, mm_per_pixel=0.05 if number == 2 else None).to_dict()
            row.thresholds = {"bank_id": number % 2 + 1, "calibration_method": "leave-one-out", "sensitivity": 0.5}
            rows.append(row)
        repo.add_review(session, rows[1], "NG", "first look", "ann")
        repo.add_review(session, rows[1], "OK", "false alarm after all", "bob")
        wanted = [rows[3].id, rows[0].id, rows[2].id, rows[1].id]
    with database.read() as session:
        exported = list(repo.export_rows(session, ids=wanted, page=3))
        assert [row.id for row in exported] == wanted  # in the order asked, over pages
        assert [row.project for row in exported] == ["q", "p", "p", "p"]
        for row in exported:
            facts = FactSheet.from_dict(repo.get_inspection(session, row.id).facts)
            largest = facts.largest_region()  # the first of the two with 90 px on the third part
            assert row.region_count == facts.region_count
            assert row.largest_px == (None if largest is None else largest.major_axis_px)
            assert row.mm_per_pixel == facts.mm_per_pixel
            # What other databases compute in Python is what SQLite's JSON functions read.
            stored = repo.get_inspection(session, row.id).facts
            assert repo.fact_figures(stored) == {name: getattr(row, name)
                                                 for name in ("region_count", "largest_px", "mm_per_pixel")}
        assert [row.largest_px for row in exported] == [2.0, None, 21.25, 12.5]
        # The thresholds come as the stored JSON text, which the CSV decodes once per distinct text.
        assert [json.loads(row.thresholds_json) for row in exported] == [
            repo.get_inspection(session, row.id).thresholds for row in exported]
        assert (exported[3].review, exported[3].review_comment) == ("OK", "false alarm after all")
        with pytest.raises(repo.NotFoundError, match="No inspection 999"):
            list(repo.export_rows(session, ids=[rows[0].id, 999]))
    figures = ("id", "project", "region_count", "largest_px", "mm_per_pixel", "review", "review_comment",
               "thresholds_json")
    monkeypatch.setattr(database.engine.dialect, "name", "postgresql")  # the way other databases take
    with database.read() as session:
        fallback = list(repo.export_rows(session, ids=wanted, page=3))
    assert [[getattr(row, name) for name in figures] for row in fallback] == [
        [getattr(row, name) for name in figures] for row in exported]


def test_recent_lots_are_the_project_s_own_newest_used_first(tmp_path):
    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    with database.write() as session:
        project = repo.create_project(session, "p")
        other = repo.create_project(session, "q")
        for owner, lot in ((project, "L-2"), (project, "L-1"), (project, ""), (other, "L-9"), (project, "L-3"),
                           (project, "L-2"), (project, "l-1"), (other, "L-2")):
            _inspection(session, owner, store, 0.1, "OK").lot = lot
        project_id, other_id = project.id, other.id
    with database.read() as session:
        assert repo.recent_lots(session, project_id) == ["l-1", "L-2", "L-3", "L-1"]  # no empty lot, each once
        assert repo.recent_lots(session, project_id, limit=2) == ["l-1", "L-2"]
        assert repo.recent_lots(session, other_id) == ["L-2", "L-9"]
        assert repo.recent_lots(session, other_id + 1) == []


def test_store_is_content_addressed_and_maps_round_trip(tmp_path):
    store = ImageStore(tmp_path)
    first = store.put_bytes(b"same", "images", ".PNG")
    assert store.put_bytes(b"same", "images", ".png") == first and first.endswith(".png")
    anomaly_map = np.random.default_rng(0).random((37, 53)).astype(np.float32)
    key = store.put_map(anomaly_map)
    np.testing.assert_allclose(store.load_map(key), anomaly_map, atol=1e-3)
    import cv2

    small = anomaly_map[:20, :30]
    expected = cv2.resize(small, (90, 60), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(store.load_map(store.put_map(small, (60, 90))), expected, atol=2e-3)
    assert not store.temp_files()


def test_check_reports_missing_and_unused_files_and_cleans(tmp_path):
    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    with database.write() as session:
        project = repo.create_project(session, "p")
        row = _inspection(session, project, store, 0.3, "OK")
        image_key = row.image_key
    stray = store.put_bytes(b"nobody uses me", "images", ".png")
    store.remove(image_key)
    report = check(database, store)
    assert [(t, k) for t, _, k in report.missing] == [("inspection", image_key)]
    assert report.unused == [stray]
    assert clean(database, store, report) == 1 and not store.exists(stray)


def test_verifying_check_names_the_rows_whose_file_content_no_longer_matches_its_checksum(tmp_path):
    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    with database.write() as session:
        project = repo.create_project(session, "p")
        damaged = _inspection(session, project, store, 0.3, "OK")
        whole = _inspection(session, project, store, 0.9, "NG")
        damaged_id, image_key, whole_key = damaged.id, damaged.image_key, whole.image_key
    path = store.path(image_key)
    path.write_bytes(path.read_bytes()[:-10] + bytes(10))  # the end of the photo lost to a disk error
    assert check(database, store).clean  # without verifying, only presence is checked
    seen: list = []
    report = check(database, store, verify=True, progress=lambda done, total: seen.append((done, total)))
    assert report.damaged == [("inspection", damaged_id, image_key)] and not report.clean
    assert report.verified == 4 and seen[-1] == (4, 4)  # two photos and two maps
    assert whole_key not in [key for _, _, key in report.damaged]


def test_a_file_name_that_is_not_utf8_is_stored_with_its_odd_bytes_escaped(tmp_path):
    database, store = _db(tmp_path), ImageStore(tmp_path / "store")
    odd = os.fsdecode(b"/mnt/line-share/part\xff\xfe.png")  # as Python lists such a file: lone surrogates
    with database.write() as session:
        project = repo.create_project(session, "p")
        row = _inspection(session, project, store, 0.3, "OK")
        row.source_path = odd
        repo.add_reference(session, project, row.image_key, os.path.basename(odd), "ann")
        inspection_id = row.id
    with database.read() as session:
        assert repo.get_inspection(session, inspection_id).source_path == "/mnt/line-share/part\\xff\\xfe.png"
        assert repo.references(session, repo.get_project(session, "p"))[0].file_name == "part\\xff\\xfe.png"


def test_locked_database_gives_clear_error_and_keeps_data(tmp_path):
    database = _db(tmp_path, busy_timeout_s=0.3)
    with database.write() as session:
        repo.create_project(session, "kept")
    blocker = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="locked"), database.write() as session:
            repo.create_project(session, "new")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with database.read() as session:
        assert [p.name for p in repo.list_projects(session)] == ["kept"]


def test_read_only_database_gives_clear_error(tmp_path):
    _db(tmp_path).dispose()
    read_only = Database(f"sqlite:///file:{tmp_path / 'h.db'}?mode=ro&uri=true")
    with pytest.raises(StorageError, match="read-only"), read_only.write() as session:
        repo.create_project(session, "x")
    with read_only.read() as session:
        assert repo.list_projects(session) == []


def test_full_disk_on_store_write_gives_clear_error_and_keeps_files(tmp_path, monkeypatch):
    store = ImageStore(tmp_path)
    kept = store.put_bytes(b"earlier", "images", ".png")

    def disk_full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("db.store.os.replace", disk_full)
    with pytest.raises(DiskFullError, match="disk is full"):
        store.put_bytes(b"new image", "images", ".png")
    assert store.path(kept).read_bytes() == b"earlier"
    full_database = describe_database_error(sqlite3.OperationalError("database or disk is full"), "h.db")
    assert isinstance(full_database, DiskFullError) and "disk is full" in str(full_database)
    assert not isinstance(describe_database_error(sqlite3.OperationalError("database is locked"), "h.db"),
                          DiskFullError)
    assert not store.temp_files()
    assert list(store.keys()) == [kept]


def test_bank_rows_match_reference_sets(tmp_path):
    database = _db(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "p")
        session.add(ReferenceBank(project_id=project.id, bank_key="banks/a", reference_keys=["b", "a"],
                                  engine_version="1", config={"requested": {"backbone": "x"}}))
    with database.read() as session:
        project = repo.get_project(session, "p")
        assert repo.matching_bank(session, project, ["a", "b"], "1", {"backbone": "x"}) is not None
        assert repo.matching_bank(session, project, ["a"], "1", {"backbone": "x"}) is None
        assert repo.matching_bank(session, project, ["a", "b"], "2", {"backbone": "x"}) is None


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.models import Base

    database = _db(tmp_path)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], differences
