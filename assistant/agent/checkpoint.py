"""Durable graph state: LangGraph's SqliteSaver on a file under the data dir (PostgresSaver for
a PostgreSQL URL).

SQLite is opened in WAL mode with a busy timeout, and the schema is created once up front, so
several processes (API workers, the CLI) can write checkpoints of different investigations to
one file without "database is locked" errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from assistant.sqlite_wal import enable_wal

BUSY_TIMEOUT_S = 30.0
CHECKPOINT_FILE = "agent-checkpoints.sqlite"


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / CHECKPOINT_FILE


def sqlite_connection(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    enable_wal(conn, BUSY_TIMEOUT_S)
    return conn


@contextmanager
def open_checkpointer(target: Path | str) -> Iterator[BaseCheckpointSaver[Any]]:
    """A checkpointer for a SQLite file path, or a postgresql:// URL."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(target) as postgres:
            postgres.setup()
            yield postgres
        return
    conn = sqlite_connection(Path(target))
    try:
        saver = SqliteSaver(conn)
        saver.setup()  # schema first, under the busy timeout, not inside a later write
        yield saver
    finally:
        conn.close()
