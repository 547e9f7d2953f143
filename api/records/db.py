"""Engine and transactions of the records store (SQLite default, PostgreSQL via psycopg 3).

SQLite: WAL journal, busy timeout, foreign keys on, and write transactions opened with
BEGIN IMMEDIATE so writers queue on the database lock instead of failing mid-transaction
(the hash-chained audit trail needs its appends serialised). PostgreSQL serialises audit
appends with a transaction-scoped advisory lock (see `audit.append`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.sqlite_wal import enable_wal

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_MODE = "devia_begin"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        enable_wal(dbapi_connection, SQLITE_BUSY_TIMEOUT_MS / 1000)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine; hands out read and write transactions as ORM sessions."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        write_bind = (
            self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
            if self.dialect == "sqlite"
            else self.engine
        )
        self._local_writer = threading.RLock() if self.dialect == "sqlite" else None
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_bind, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back entirely on error."""
        if self._local_writer is None:
            with self._write() as session, session.begin():
                yield session
            return
        # SQLite has one writer at a time: queue this process's writers on a lock instead of
        # on SQLite's busy handler, which sleeps in steps of up to 100 ms.
        with self._local_writer, self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
