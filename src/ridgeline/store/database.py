"""One :class:`Database` per process and URI: the engine, tuned per dialect, with read and write transactions.

SQLite is tuned for many writers across processes: WAL journal, a long busy timeout, and write transactions
that start with ``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock. Inside one process a
lock lets one writer at a time reach SQLite instead of spinning on its busy handler.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ridgeline.domain.errors import InvalidArgument

_WRITE = "ridgeline_write"
SQLITE_BUSY_TIMEOUT_S = 60


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}",
            "foreign_keys=ON",
            "case_sensitive_like=ON",
            "cache_size=-65536",
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The engine and its transaction helpers; nothing is created until a Database is built."""

    def __init__(self, uri: str) -> None:
        url = make_url(uri)
        if url.get_backend_name() == "postgres":
            # The common short form (Heroku, many PaaS) of postgresql://.
            url = url.set(drivername="postgresql+psycopg")
        self.uri = uri
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = create_engine(
                url,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                poolclass=NullPool if url.database in (None, "", ":memory:") else None,
            )
            _tune_sqlite(self.engine)
        elif self.dialect == "postgresql":
            if url.get_driver_name() not in ("psycopg", "psycopg2"):
                url = url.set(drivername="postgresql+psycopg")
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        else:
            raise InvalidArgument(
                f"unsupported backend URI scheme {url.drivername!r}: use sqlite:///PATH or "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB",
                field="backend_uri",
            )
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any exception."""
        if self._write_lock is None:
            with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        with (
            self._write_lock,
            self.engine.connect().execution_options(**{_WRITE: True}) as connection,
            connection.begin(),
        ):
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
