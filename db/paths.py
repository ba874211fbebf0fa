"""Where the data lives: one data folder holds the database and the image store.

``IAD_INSPECTOR_HOME`` moves the whole folder (tests and checks use a temp dir); otherwise the
folder given in the settings, else the platform's user data dir.  The database URL defaults to
SQLite in that folder and can point elsewhere (e.g. PostgreSQL for a plant's stations).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

HOME_VARIABLE = "IAD_INSPECTOR_HOME"
DATABASE_VARIABLE = "IAD_INSPECTOR_DATABASE_URL"
DATABASE_FILE = "inspector.db"


def data_home(setting: str | Path | None = None) -> Path:
    """The data folder: the environment variable wins, then the setting, then the platform default."""
    chosen = os.environ.get(HOME_VARIABLE) or setting or user_data_dir("IAD Inspector", appauthor=False)
    return Path(chosen).expanduser()


def database_url(home: Path, setting: str | None = None) -> str:
    """The database URL: the environment variable, then the setting, then SQLite in ``home``."""
    return os.environ.get(DATABASE_VARIABLE) or setting or f"sqlite:///{(home / DATABASE_FILE).as_posix()}"
