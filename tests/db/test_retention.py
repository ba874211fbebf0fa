"""Freeing disk space: old passed parts lose their stored image, every record stays, shared files stay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from db import repository as repo
from db.check import check
from db.database import Database
from db.models import AuditEvent, Inspection
from db.retention import plan_removal, remove_images
from db.store import ImageStore

OLD = datetime.now(UTC) - timedelta(days=40)
CUT_OFF = datetime.now(UTC) - timedelta(days=30)


def _setup(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'h.db'}")
    database.migrate()
    return database, ImageStore(tmp_path / "store")


def _inspection(session, project, store, name: str, verdict: str, when: datetime = OLD, review: str | None = None,
                content: str | None = None) -> int:
    image_key = store.put_bytes(f"image {content or name}".encode(), "images", ".png")
    row = Inspection(project_id=project.id, image_key=image_key, source_path=f"{name}.png", raw_score=0.1, score=0.2,
                     verdict=verdict, map_key=store.put_map(np.zeros((4, 4), np.float32)), engine_version="t",
                     created_at=when)
    session.add(row)
    session.flush()
    if review:
        repo.add_review(session, row, review, "", "ann")
    return row.id


def _populated(tmp_path):
    database, store = _setup(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        other = repo.create_project(session, "cap")
        ids = {
            "passed": _inspection(session, project, store, "passed", "OK"),
            "passed_too": _inspection(session, project, store, "passed_too", "OK"),
            "passed_reviewed_ok": _inspection(session, project, store, "passed_reviewed_ok", "OK", review="OK"),
            "passed_reviewed_ng": _inspection(session, project, store, "passed_reviewed_ng", "OK", review="NG"),
            "rejected": _inspection(session, project, store, "rejected", "NG"),
            "held": _inspection(session, project, store, "held", "REVIEW"),
            "false_reject": _inspection(session, project, store, "false_reject", "NG", review="OK"),
            "recent": _inspection(session, project, store, "recent", "OK", when=datetime.now(UTC)),
            "same_as_recent": _inspection(session, project, store, "same_as_recent", "OK", content="recent"),
            "also_a_reference": _inspection(session, project, store, "also_a_reference", "OK"),
            "other_project": _inspection(session, other, store, "other_project", "OK"),
        }
        reference_key = store.put_bytes(b"image also_a_reference", "images", ".png")
        repo.add_reference(session, project, reference_key, "also_a_reference.png")
    return database, store, ids


def _image_paths(database, store) -> dict[int, object]:
    with database.read() as session:
        return {row.id: store.path(row.image_key) for row in session.scalars(select(Inspection))}


def _removed(database) -> set[int]:
    with database.read() as session:
        return set(session.scalars(select(Inspection.id).where(Inspection.image_removed_at.is_not(None))))


def test_old_passed_parts_lose_their_image_but_keep_their_record(tmp_path):
    database, store, ids = _populated(tmp_path)
    paths = _image_paths(database, store)
    size = paths[ids["passed"]].stat().st_size + paths[ids["passed_too"]].stat().st_size

    plan = plan_removal(database, store, CUT_OFF, project="disc")
    chosen = {ids[name] for name in ("passed", "passed_too", "same_as_recent", "also_a_reference")}
    assert set(plan.inspection_ids) == chosen
    assert plan.kept_samples == 1  # passed_reviewed_ok: a refinement scores it
    assert len(plan.file_keys) == 2 and plan.bytes_freed == size  # the shared files are not counted
    assert all(path.is_file() for path in paths.values())  # planning changes nothing

    result = remove_images(database, store, plan, actor="ann")
    assert (result.inspections, result.files_removed, result.bytes_freed, result.failed) == (4, 2, size, [])
    assert _removed(database) == chosen
    assert not paths[ids["passed"]].exists() and not paths[ids["passed_too"]].exists()
    for kept in ("recent", "same_as_recent", "also_a_reference", "rejected", "held", "false_reject",
                 "passed_reviewed_ok", "passed_reviewed_ng", "other_project"):
        assert paths[ids[kept]].is_file(), kept
    with database.read() as session:
        row = repo.get_inspection(session, ids["passed"])
        assert (row.verdict, row.score, row.source_path) == ("OK", 0.2, "passed.png")
        assert store.exists(row.map_key)
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "remove-image")))
        assert sorted(e.entity_id for e in events) == sorted(chosen) and {e.actor for e in events} == {"ann"}
    assert check(database, store).clean  # a removed image is neither missing nor an unused file
    assert plan_removal(database, store, CUT_OFF, project="disc").inspection_ids == []


def test_flagged_parts_only_when_asked_and_all_projects_by_default(tmp_path):
    database, store, ids = _populated(tmp_path)
    names = set(ids) - {"recent"}
    plan = plan_removal(database, store, CUT_OFF, include_flagged=True)
    assert set(plan.inspection_ids) == {ids[name] for name in names}
    remove_images(database, store, plan)
    paths = _image_paths(database, store)
    assert not paths[ids["rejected"]].exists() and not paths[ids["other_project"]].exists()
    assert paths[ids["recent"]].is_file() and paths[ids["also_a_reference"]].is_file()


def test_a_review_or_a_new_copy_after_the_plan_keeps_the_image(tmp_path):
    database, store, ids = _populated(tmp_path)
    plan = plan_removal(database, store, CUT_OFF, project="disc")
    with database.write() as session:
        repo.add_review(session, repo.get_inspection(session, ids["passed"]), "NG", "scratch after all", "bob")
    time.sleep(0.05)
    store.put_bytes(b"image passed_too", "images", ".png")  # the same photo, inspected again right now
    result = remove_images(database, store, plan)
    assert ids["passed"] not in _removed(database) and result.inspections == 3
    paths = _image_paths(database, store)
    assert paths[ids["passed"]].is_file() and paths[ids["passed_too"]].is_file()
    assert result.files_removed == 0


def test_the_reviewed_photos_a_refinement_scores_keep_their_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(repo, "MAX_REVIEWED_SAMPLES", 2)
    database, store = _setup(tmp_path)
    with database.write() as session:
        project = repo.create_project(session, "disc")
        ids = [_inspection(session, project, store, f"reviewed_{n}", "OK", when=OLD + timedelta(hours=n), review="OK")
               for n in range(3)]
        late = _inspection(session, project, store, "reviewed_later", "OK")
    plan = plan_removal(database, store, CUT_OFF)
    assert plan.inspection_ids == [ids[0], late] and plan.kept_samples == 2  # the two newest reviewed
    with database.write() as session:  # reviewed after the plan: it becomes one of the two newest samples
        repo.add_review(session, repo.get_inspection(session, late), "OK", "", "bob")
    assert remove_images(database, store, plan).inspections == 1
    assert _removed(database) == {ids[0]}
    assert plan_removal(database, store, CUT_OFF, include_flagged=True).kept_samples == 0


def test_on_a_disk_too_full_to_record_the_marks_the_photos_go_first_to_make_room(tmp_path, monkeypatch):
    import db.retention as retention
    from db.errors import DiskFullError

    database, store, ids = _populated(tmp_path)
    paths = _image_paths(database, store)
    real_mark = retention._mark_removed
    attempts = []

    def full_once(*args, **kwargs):
        attempts.append(all(path.exists() for path in paths.values()))
        if len(attempts) == 1:
            raise DiskFullError("Cannot write the inspection history: the disk is full; free some space.")
        return real_mark(*args, **kwargs)

    monkeypatch.setattr(retention, "_mark_removed", full_once)
    result = remove_images(database, store, plan_removal(database, store, CUT_OFF, project="disc"))
    assert attempts == [True, False]  # the second try came after the photos were deleted
    assert (result.inspections, result.files_removed) == (4, 2)
    assert not paths[ids["passed"]].exists() and paths[ids["recent"]].is_file()
    assert check(database, store).clean


def test_a_disk_still_too_full_says_what_was_deleted_and_a_second_run_marks_it(tmp_path, monkeypatch):
    import pytest

    import db.retention as retention
    from db.errors import DiskFullError

    database, store, ids = _populated(tmp_path)
    paths = _image_paths(database, store)
    real_mark = retention._mark_removed

    def full(*args, **kwargs):
        raise DiskFullError("Cannot write the inspection history: the disk is full; free some space.")

    monkeypatch.setattr(retention, "_mark_removed", full)
    with pytest.raises(DiskFullError, match="2 stored photo.s. were deleted to make room"):
        remove_images(database, store, plan_removal(database, store, CUT_OFF, project="disc"))
    assert _removed(database) == set() and not paths[ids["passed"]].exists()
    assert {row_id for _, row_id, _ in check(database, store).missing} == {ids["passed"], ids["passed_too"]}

    monkeypatch.setattr(retention, "_mark_removed", real_mark)
    result = remove_images(database, store, plan_removal(database, store, CUT_OFF, project="disc"))
    assert result.inspections == 4 and check(database, store).clean
