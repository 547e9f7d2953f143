"""The ingestion registry: which source files (by content hash) were fully ingested.

A file is recorded only after all its points are in the index, so the registry is the commit
marker of a run: a run killed halfway leaves its last file unrecorded and the next run does it
again (deterministic point ids make that idempotent). The index stays the source of truth:
a recorded file is skipped only while the index still holds points with its hash.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.sqlite_wal import enable_wal

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ingested_files (
    sha256 TEXT PRIMARY KEY,
    source_path TEXT NOT NULL,
    points INTEGER NOT NULL,
    documents TEXT NOT NULL,
    completed_at TEXT NOT NULL
)
"""


class IngestRegistry:
    def __init__(self, path: Path | None) -> None:
        """`path`: a SQLite file (created with its folder); None keeps it in memory."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=BUSY_TIMEOUT_S)
        if path is None:
            self._db.execute("PRAGMA journal_mode=MEMORY")
        else:
            enable_wal(self._db, BUSY_TIMEOUT_S)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def is_complete(self, sha256: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM ingested_files WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return row is not None

    def mark_complete(
        self, sha256: str, source_path: str, points: int, documents: Sequence[str]
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO ingested_files VALUES (?, ?, ?, ?, ?)",
                (
                    sha256,
                    source_path,
                    points,
                    json.dumps(list(documents)[:1000]),
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                ),
            )

    def forget(self, sha256: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM ingested_files WHERE sha256 = ?", (sha256,))

    def close(self) -> None:
        self._db.close()
