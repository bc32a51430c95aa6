"""Schema migrations (Alembic), run on server start, by ``ridgeline db upgrade`` and by the embedded SDK.

Start-up stays fast: the common case, a database already at the head revision, is recognised with one query
and without importing Alembic.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import InterfaceError, OperationalError

from ridgeline.domain.errors import Unavailable
from ridgeline.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Bumped with every new migration; a test checks it matches Alembic's head.
HEAD_REVISION = "0009"
_PG_LOCK_KEY = 5170_0001


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _alembic_upgrade(connection: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, target)


@contextmanager
def _migration_lock(database: Database) -> Iterator[Connection]:
    """A connection that alone may migrate: a file lock on SQLite, an advisory lock on PostgreSQL."""
    if database.is_sqlite:
        path = database.engine.url.database
        fd = os.open(f"{path}.migrate-lock", os.O_CREAT | os.O_RDWR, 0o600) if path and path != ":memory:" else None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            with database.write() as connection:
                yield connection
        finally:
            if fd is not None:
                os.close(fd)
        return
    with database.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        # The lock belongs to the session and outlives this transaction; the migration gets its own.
        connection.commit()
        try:
            with connection.begin():
                yield connection
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()


def _new_sqlite_file(database: Database) -> bool:
    if not database.is_sqlite:
        return False
    path = database.engine.url.database
    return not path or path == ":memory:" or not os.path.exists(path) or os.path.getsize(path) == 0


def upgrade(database: Database, target: str = "head") -> bool:
    """Bring the schema to ``target``; returns True when a migration ran.

    Concurrent starters (several SDK processes on one folder, several server replicas) take turns, and each
    checks the revision again once it holds the lock.
    """
    try:
        if target == "head" and not _new_sqlite_file(database):
            # Fast path: an up-to-date database needs no lock and no write. (A brand-new SQLite file goes
            # straight to the lock: a first read could collide with another process switching it to WAL.)
            with database.read() as connection:
                if current_revision(connection) == HEAD_REVISION:
                    return False
        with _migration_lock(database) as connection:
            if target == "head" and current_revision(connection) == HEAD_REVISION:
                return False
            _alembic_upgrade(connection, target)
        return True
    except (OperationalError, InterfaceError) as exc:
        shown = database.engine.url.render_as_string(hide_password=True)
        raise Unavailable(f"cannot open the metadata database {shown}: {exc.orig or exc}") from exc
