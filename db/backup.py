"""Back up a data folder: a consistent copy of the history database and of the files it points to.

The copy is itself a data folder: ``--home DEST`` (or the app's data-folder setting) opens it,
so restoring is opening it, or copying it back with the app closed.

* The database is copied first, with SQLite's online backup: page by page inside one read
  transaction, so the app may go on inspecting meanwhile and the copy is the history as it was
  at one moment.  It is written to a temporary file that replaces the backup's database only
  once everything else is copied: an interrupted or failed backup leaves the previous one whole.
* Then the store (photos, maps, banks) and the imported CLIP checkpoints.  Their names carry
  their content's hash, so a file already in the backup with the same size is not copied again:
  a second backup copies only what is new.  Files removed from the data folder since (freeing
  disk space) stay in the backup; ``db check`` on it lists them as unused.

Only a data folder's own SQLite database can be copied this way; a database server (a
``--database-url``) is backed up with its own tools.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from db.database import Database
from db.errors import StorageError, describe_os_error
from db.paths import DATABASE_FILE
from db.store import file_blocks, write_atomic

MARKER = "iad-backup.json"
COPIED_FOLDERS = ("store", "models")
PAGES_PER_STEP = 1024
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


class BackupCancelled(StorageError):
    """The backup was cancelled; the previous backup in the folder is as it was."""

    def __init__(self) -> None:
        super().__init__("Backup cancelled; the backup folder keeps its previous copy.")


@dataclass(frozen=True)
class BackupReport:
    """What a backup copied."""

    destination: str
    source: str
    created: str
    files: int
    copied: int
    copied_bytes: int
    seconds: float

    def summary(self) -> str:
        """One line for the technician."""
        return (f"Backed up the history and {self.files} stored file(s) to {self.destination}: "
                f"{self.copied} new file(s), {self.copied_bytes / 1e6:.1f} MB copied in {self.seconds:.1f} s. "
                "Open that folder as the data folder to use it.")


def back_up(home: Path, database: Database, destination: str | Path, progress: ProgressCallback | None = None,
            cancel: CancelCheck | None = None) -> BackupReport:
    """Copy the data folder ``home`` and its history ``database`` to ``destination``.

    Raises ``StorageError`` with a clear message for a database server, a destination inside the
    data folder, a folder that holds other things, one whose database is open, or a failed write
    (disk full); ``BackupCancelled`` when ``cancel`` says so.  Either way the previous backup
    there keeps its database.
    """
    start = time.perf_counter()
    if database.engine.dialect.name != "sqlite" or not database.engine.url.database:
        raise StorageError(f"The history is kept by a database server ({database.location}): back it up with that "
                           "server's own tools. This backup copies data folders with their own database file.")
    home, target = home.resolve(), Path(destination).expanduser().resolve()
    _check_destination(home, target)
    snapshot = target / f".{DATABASE_FILE}.tmp"
    try:
        target.mkdir(parents=True, exist_ok=True)
        if not (target / MARKER).is_file():  # an interrupted first backup is still one, to be completed
            write_atomic(target / MARKER, [json.dumps({"source": str(home), "completed": False}).encode("utf-8")])
        _copy_database(Path(database.engine.url.database), snapshot)
        # Listed after the snapshot: files are written before the rows that name them, so every file
        # the copied rows name is on disk by now.
        files = [path for folder in COPIED_FOLDERS if (home / folder).is_dir()
                 for path in sorted((home / folder).rglob("*")) if path.is_file() and not path.name.startswith(".")]
        copied, copied_bytes = 0, 0
        for index, path in enumerate(files):
            if cancel is not None and cancel():
                raise BackupCancelled()
            copy = target / path.relative_to(home)
            size = path.stat().st_size
            if not (copy.is_file() and copy.stat().st_size == size):
                write_atomic(copy, file_blocks(path))
                copied, copied_bytes = copied + 1, copied_bytes + size
            if progress is not None:
                progress(index + 1, len(files))
        report = BackupReport(str(target), str(home), datetime.now(UTC).isoformat(timespec="seconds"), len(files),
                              copied, copied_bytes, round(time.perf_counter() - start, 2))
        write_atomic(target / MARKER, [json.dumps({**asdict(report), "completed": True}, indent=2).encode("utf-8")])
        os.replace(snapshot, target / DATABASE_FILE)
    except OSError as exc:
        raise describe_os_error(exc, str(target)) from exc
    finally:
        snapshot.unlink(missing_ok=True)
    return report


def _check_destination(home: Path, target: Path) -> None:
    if target == home or home in target.parents:
        raise StorageError(f"Cannot back up into {target}: it is inside the data folder {home}. Choose a folder "
                           "elsewhere, ideally on another disk.")
    if target in home.parents:
        raise StorageError(f"Cannot back up into {target}: the data folder {home} is inside it.")
    if target.is_file():
        raise StorageError(f"Cannot back up into {target}: it is a file, not a folder.")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise StorageError(f"Cannot back up into {target}: it holds other files and no earlier backup. "
                           "Choose an empty folder or an earlier backup.")
    for suffix in ("-wal", "-shm"):
        if (target / f"{DATABASE_FILE}{suffix}").exists():
            raise StorageError(f"Cannot back up into {target}: its database is open in a program (or was not "
                               "closed cleanly). Close the app that has the backup open, then try again.")


def _copy_database(source: Path, snapshot: Path) -> None:
    """SQLite's online backup of ``source`` into ``snapshot`` (a consistent copy while others write)."""
    snapshot.unlink(missing_ok=True)
    try:
        location = source.resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(location, uri=True, timeout=30)) as reader, \
                contextlib.closing(sqlite3.connect(snapshot)) as writer:
            reader.backup(writer, pages=PAGES_PER_STEP)
            writer.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        text = str(exc).lower()
        reason = "the disk is full" if "full" in text else "the history database is locked" if "locked" in text \
            else str(exc)
        raise StorageError(f"Cannot back up the history database {source}: {reason}. Nothing was changed.") from exc
