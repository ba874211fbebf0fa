"""Where the data lives: one data folder holds the database and the image store.

A folder given for one run (the CLI's ``--home``) comes first; then ``IAD_INSPECTOR_HOME``, which
moves the whole folder (tests and checks use a temp dir); then the folder given in the app's
settings, else the platform's user data dir.  The database URL defaults to
SQLite in that folder and can point elsewhere (e.g. PostgreSQL for a plant's stations).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

HOME_VARIABLE = "IAD_INSPECTOR_HOME"
DATABASE_VARIABLE = "IAD_INSPECTOR_DATABASE_URL"
DATABASE_FILE = "inspector.db"


def data_home(setting: str | Path | None = None, explicit: bool = False) -> Path:
    """The data folder: the environment variable wins, then the setting, then the platform default.

    ``explicit``: the folder was chosen for this run (a command-line flag, a temporary folder) and
    wins over the environment variable too.
    """
    if explicit and setting:
        return Path(setting).expanduser()
    chosen = os.environ.get(HOME_VARIABLE) or setting or user_data_dir("IAD Inspector", appauthor=False)
    return Path(chosen).expanduser()


def database_url(home: Path, setting: str | None = None, explicit: bool = False) -> str:
    """The database URL: the environment variable, then the setting, then SQLite in ``home``.

    ``explicit`` as for ``data_home``: a URL chosen for this run wins over the environment variable.
    """
    if explicit and setting:
        return setting
    return os.environ.get(DATABASE_VARIABLE) or setting or folder_database_url(home)


def folder_database_url(home: Path) -> str:
    """The URL of the SQLite database inside the data folder ``home``."""
    return f"sqlite:///{(home / DATABASE_FILE).as_posix()}"
