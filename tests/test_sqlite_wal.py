"""Switching a new SQLite file to WAL while other connections open it.

SQLite answers "database is locked" to a racing `PRAGMA journal_mode=WAL` without calling the
busy handler (two connections that both hold a shared lock and both want the exclusive one:
one is refused at once to avoid a deadlock), so `enable_wal` retries it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from assistant.sqlite_wal import enable_wal

ROUNDS = 200
OPENERS = 4


def test_connections_opening_a_new_file_together_all_get_wal(tmp_path: Path) -> None:
    # Without the retry, 2 of 3 runs of 60 rounds failed on a 2-core machine.
    failures: list[BaseException] = []
    modes: list[str] = []
    for round_no in range(ROUNDS):
        path = tmp_path / f"round-{round_no}.sqlite"
        start = threading.Barrier(OPENERS)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            try:
                start.wait()
                conn = sqlite3.connect(path, timeout=5)
                try:
                    modes.append(enable_wal(conn, timeout_s=5))
                finally:
                    conn.close()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(OPENERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]
    assert modes == ["wal"] * (ROUNDS * OPENERS)


class _RefusedFirst:
    """A real connection whose first `refusals` WAL switches are answered "database is locked"."""

    def __init__(self, conn: sqlite3.Connection, refusals: int) -> None:
        self.conn = conn
        self.refusals = refusals

    def cursor(self) -> Any:
        outer = self

        class Cursor:
            def __init__(self) -> None:
                self.inner = outer.conn.cursor()

            def execute(self, sql: str) -> sqlite3.Cursor:
                if outer.refusals > 0:
                    outer.refusals -= 1
                    raise sqlite3.OperationalError("database is locked")
                return self.inner.execute(sql)

            def close(self) -> None:
                self.inner.close()

        return Cursor()


def test_a_refused_switch_is_retried(tmp_path: Path) -> None:
    conn = _RefusedFirst(sqlite3.connect(tmp_path / "x.sqlite"), refusals=3)
    assert enable_wal(conn, timeout_s=5) == "wal" and conn.refusals == 0


def test_a_switch_refused_past_the_timeout_is_reported(tmp_path: Path) -> None:
    conn = _RefusedFirst(sqlite3.connect(tmp_path / "x.sqlite"), refusals=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(conn, timeout_s=0.3)


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite")
    conn.close()
    with pytest.raises(sqlite3.ProgrammingError):
        enable_wal(conn, timeout_s=5)


def test_an_in_memory_database_keeps_its_memory_journal() -> None:
    assert enable_wal(sqlite3.connect(":memory:"), timeout_s=1) == "memory"
