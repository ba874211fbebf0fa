"""The open data folder: database (migrated at start-up) plus image store, and who is working."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from db.database import Database
from db.errors import StorageError, describe_os_error
from db.models import MAX_OPERATOR_LENGTH
from db.paths import data_home, database_url
from db.store import ImageStore

OPERATOR_VARIABLE = "IAD_INSPECTOR_OPERATOR"


def default_operator() -> str:
    """The operator name: the environment variable, else the login name."""
    try:
        return os.environ.get(OPERATOR_VARIABLE) or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@dataclass
class Workspace:
    """Database, store and operator of one data folder."""

    home: Path
    database: Database
    store: ImageStore
    operator: str

    def close(self) -> None:
        """Release database connections."""
        self.database.dispose()


def open_workspace(home: str | Path | None = None, url: str | None = None, operator: str | None = None,
                   explicit: bool = False) -> Workspace:
    """Open (and create or migrate) the data folder; raises StorageError with a clear message.

    ``explicit``: ``home`` and ``url`` were chosen for this run (command-line flags, a temporary
    folder) and win over ``IAD_INSPECTOR_HOME`` and ``IAD_INSPECTOR_DATABASE_URL``; the app's
    settings do not (``db.paths``).
    """
    folder = data_home(home, explicit)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise describe_os_error(exc, str(folder)) from exc
    database = Database(database_url(folder, url, explicit))
    try:
        database.migrate()
    except StorageError:
        database.dispose()
        raise
    # Cut to the history's column, which a database server enforces (an environment variable has no limit).
    operator_name = (operator or default_operator()).strip()[:MAX_OPERATOR_LENGTH]
    return Workspace(folder, database, ImageStore(folder / "store"), operator_name)
