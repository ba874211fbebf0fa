"""Opening the history database: engine set-up, migrations at start-up, sessions with clear errors.

SQLite gets WAL (readers never block the writer), ``foreign_keys=ON`` and a busy timeout, so a
second station process or the GUI's history view can work while a batch writes.  Write
sessions start with ``BEGIN IMMEDIATE`` on SQLite: a deferred transaction that reads and then
writes can fail at once with "database is locked" when another process writes, whereas an
immediate one waits its turn.  All of this is in ``_configure_sqlite``; nothing else here is
SQLite-specific, so a PostgreSQL URL works unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DATABASE_ERRORS, StorageError, describe_database_error

BUSY_TIMEOUT_S = 30
MIGRATIONS = Path(__file__).with_name("migrations")


class Database:
    """An engine plus session factories; ``migrate`` brings the schema to the newest revision."""

    def __init__(self, url: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, **({"connect_args": {"timeout": busy_timeout_s}}
                                                    if url.startswith("sqlite") else {}))
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, busy_timeout_s)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(begin_mode="IMMEDIATE"), expire_on_commit=False)

    @property
    def location(self) -> str:
        """The database as shown to people (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def alembic_config(self) -> Config:
        """Alembic configuration pointing at this package's migrations."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def current_revision(self) -> str | None:
        """The schema revision of the database (None when empty)."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision this program knows."""
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema (a no-op when it is current); raises StorageError on failure."""
        try:
            if revision == "head" and self.current_revision() == self.head_revision():
                return
            with self.engine.begin() as connection:
                config = self.alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except DATABASE_ERRORS as exc:
            raise describe_database_error(exc, self.location, "open") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries."""
        try:
            with self._reader() as session:
                yield session
        except DATABASE_ERRORS as exc:
            raise describe_database_error(exc, self.location, "read") from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        try:
            with self._writer() as session, session.begin():
                yield session
        except DATABASE_ERRORS as exc:
            raise describe_database_error(exc, self.location) from exc

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 (DB-API objects)
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except Exception:  # noqa: BLE001 (a read-only file keeps its journal mode; reading still works)
            pass
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        mode = connection.get_execution_options().get("begin_mode", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


__all__ = ["Database", "StorageError"]
