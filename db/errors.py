"""Storage errors a user can cause, with messages fit for the GUI and the CLI."""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError


class StorageError(Exception):
    """The history or image store could not be read or written; existing data is untouched."""


class DiskFullError(StorageError):
    """A StorageError because the disk is full (freeing space can get round it: ``db.retention``)."""


def describe_database_error(exc: Exception, location: str, action: str = "write") -> StorageError:
    """A clear StorageError for a database failure (locked, read-only, full, unreachable, damaged);
    ``action`` is what was being done: "open", "read" or "write"."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "malformed" in text or "not a database" in text:
        reason = (f"the database file is damaged ({getattr(exc, 'orig', exc)}); restore the newest backup "
                  "('db backup' makes one) or open another data folder")
    elif "locked" in text or "busy" in text:
        reason = "the database is locked by another program; try again when it has finished"
    elif "readonly" in text or "read-only" in text:
        reason = "the database is read-only; check the folder's permissions"
    elif "disk is full" in text or "disk full" in text:
        reason = "the disk is full; free some space"
    elif "unable to open" in text:
        reason = "the database file cannot be opened; check that the folder exists and is writable"
    else:
        reason = str(getattr(exc, "orig", exc))
    kind = DiskFullError if reason.startswith("the disk is full") else StorageError
    return kind(f"Cannot {action} the inspection history at {location}: {reason}. Nothing was changed.")


def describe_os_error(exc: OSError, path: str) -> StorageError:
    """A clear StorageError for a failed file write."""
    if exc.errno == errno.ENOSPC:
        return DiskFullError(f"Cannot write {path}: the disk is full; free some space. Nothing was changed.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "no permission to write there"
    else:
        reason = exc.strerror or str(exc)
    return StorageError(f"Cannot write {path}: {reason}. Nothing was changed.")


# Every driver error (locked, read-only, disk full, unreachable) arrives as a DBAPIError subclass.
DATABASE_ERRORS = DBAPIError
