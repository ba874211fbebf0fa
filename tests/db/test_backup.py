"""Backups: a consistent copy of the history and its files that opens as a data folder, copied once per file."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from db import repository as repo
from db.backup import MARKER, BackupCancelled, back_up
from db.check import check
from db.database import Database
from db.errors import DiskFullError, StorageError
from db.models import Inspection
from db.paths import DATABASE_FILE
from db.store import ImageStore


def _data_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    database = Database(f"sqlite:///{home / DATABASE_FILE}")
    database.migrate()
    with database.write() as session:
        repo.create_project(session, "disc")
    return home, database, ImageStore(home / "store")


def _inspect(database, store, name: str) -> None:
    photo = store.put_bytes(f"photo {name}".encode(), "images", ".png")
    heatmap = store.put_map(np.full((4, 4), sum(map(ord, name)) / 1000, np.float32))
    with database.write() as session:
        session.add(Inspection(project_id=repo.get_project(session, "disc").id, image_key=photo,
                               source_path=f"{name}.png", raw_score=0.1, score=0.2, verdict="OK", map_key=heatmap,
                               engine_version="t"))


def _history(folder) -> tuple[list[str], ImageStore]:
    database = Database(f"sqlite:///{folder / DATABASE_FILE}")
    with database.read() as session:
        names = sorted(row.source_path for row in session.scalars(select(Inspection)))
    database.dispose()
    return names, ImageStore(folder / "store")


def test_a_backup_opens_as_the_same_history_and_a_second_one_copies_only_what_is_new(tmp_path):
    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "first")
    _inspect(database, store, "second")
    target = tmp_path / "backup"
    report = back_up(home, database, target)
    assert report.files == 4 and report.copied == 4 and report.copied_bytes > 0
    names, copy = _history(target)
    assert names == ["first.png", "second.png"]
    assert sorted(copy.keys()) == sorted(store.keys())
    assert all(copy.path(key).read_bytes() == store.path(key).read_bytes() for key in store.keys())
    backed_up = Database(f"sqlite:///{target / DATABASE_FILE}")
    assert check(backed_up, copy).missing == [] and check(backed_up, copy).unused == []
    backed_up.dispose()
    assert (target / MARKER).is_file() and not list(target.glob(".*.tmp"))

    _inspect(database, store, "third")
    again = back_up(home, database, target)
    assert again.files == 6 and again.copied == 2  # the new photo and map only
    assert _history(target)[0] == ["first.png", "second.png", "third.png"]


def test_the_copy_is_the_history_as_it_was_while_another_program_is_writing(tmp_path):
    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "committed")
    with database.write() as session:  # an inspection being written, not committed yet
        session.add(Inspection(project_id=repo.get_project(session, "disc").id, image_key="images/x.png",
                               source_path="pending.png", raw_score=0.1, score=0.2, verdict="OK", map_key="maps/x.npz",
                               engine_version="t"))
        session.flush()
        back_up(home, database, tmp_path / "backup")
    assert _history(tmp_path / "backup")[0] == ["committed.png"]


def test_places_a_backup_cannot_go_are_refused_before_anything_is_written(tmp_path):
    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "first")
    with pytest.raises(StorageError, match="inside the data folder"):
        back_up(home, database, home / "backup")
    with pytest.raises(StorageError, match="the data folder .* is inside it"):
        back_up(home, database, tmp_path)
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "letter.txt").write_text("keep me")
    with pytest.raises(StorageError, match="holds other files and no earlier backup"):
        back_up(home, database, tmp_path / "documents")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(StorageError, match="is a file, not a folder"):
        back_up(home, database, tmp_path / "a-file")
    assert not (home / "backup").exists() and sorted(p.name for p in (tmp_path / "documents").iterdir()) == [
        "letter.txt"]
    server = SimpleNamespace(engine=SimpleNamespace(dialect=SimpleNamespace(name="postgresql"),
                                                    url=SimpleNamespace(database="history")),
                             location="postgresql://db-server/history")
    with pytest.raises(StorageError, match="database server .*postgresql://db-server/history"):
        back_up(home, server, tmp_path / "backup")


def test_a_cancelled_or_failed_backup_keeps_the_previous_one_and_an_interrupted_first_one_can_be_finished(
        tmp_path, monkeypatch):
    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "first")
    target = tmp_path / "backup"
    back_up(home, database, target)
    _inspect(database, store, "second")
    with pytest.raises(BackupCancelled):
        back_up(home, database, target, cancel=lambda: True)
    assert _history(target)[0] == ["first.png"] and not list(target.glob(".*.tmp"))

    def disk_full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("db.store.os.replace", disk_full)
        with pytest.raises(DiskFullError, match="the disk is full"):
            back_up(home, database, target)
    assert _history(target)[0] == ["first.png"] and not list(target.glob(".*.tmp"))

    fresh = tmp_path / "fresh"
    with pytest.raises(BackupCancelled):
        back_up(home, database, fresh, progress=lambda done, total: None, cancel=lambda: True)
    assert not (fresh / DATABASE_FILE).exists()
    assert back_up(home, database, fresh).files == 4  # the folder is known as a backup, so it is finished
    assert _history(fresh)[0] == ["first.png", "second.png"]


def test_a_backup_open_in_a_program_is_not_overwritten(tmp_path):
    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "first")
    target = tmp_path / "backup"
    back_up(home, database, target)
    (target / f"{DATABASE_FILE}-wal").write_bytes(b"")
    with pytest.raises(StorageError, match="open in a program"):
        back_up(home, database, target)


def test_the_command_line_backs_up_and_the_backup_opens_with_home(tmp_path, monkeypatch, capsys):
    from cli.parser import run_cli

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    assert run_cli(["project", "create", "disc"]) == 0
    capsys.readouterr()
    assert run_cli(["db", "backup", str(tmp_path / "home" / "backup")]) == 2
    assert "inside the data folder" in capsys.readouterr().err
    assert run_cli(["db", "backup", str(tmp_path / "backup")]) == 0
    assert "Backed up the history and 0 stored file(s) to" in capsys.readouterr().out
    assert run_cli(["project", "list", "--home", str(tmp_path / "backup")]) == 0
    assert "disc" in capsys.readouterr().out


def test_an_inspection_recorded_while_the_backup_starts_arrives_with_its_files(tmp_path, monkeypatch):
    import db.backup

    home, database, store = _data_folder(tmp_path)
    _inspect(database, store, "first")
    snapshot = db.backup._copy_database

    def inspected_meanwhile(source, target):
        _inspect(database, store, "meanwhile")  # its photo and map written, then its row committed
        snapshot(source, target)

    monkeypatch.setattr(db.backup, "_copy_database", inspected_meanwhile)
    back_up(home, database, tmp_path / "backup")
    names, copy = _history(tmp_path / "backup")
    backed_up = Database(f"sqlite:///{tmp_path / 'backup' / DATABASE_FILE}")
    assert names == ["first.png", "meanwhile.png"] and check(backed_up, copy).missing == []
    backed_up.dispose()
