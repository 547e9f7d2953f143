"""Embeddings of texts kept on disk between processes: one SQLite file, no pickle.

A vector is stored under (embedder key, sha256 of the text); the text itself is not stored.
The embedder key is the embedder's name, dimension and precision (bf16 and fp32 vectors of one
model differ slightly). Two models may share a name (a local folder's name), so the first use
of an embedder by a cache also embeds a fixed probe sentence and compares it with the probe
stored under that key: a different vector means a different model, and every vector stored
under the key is dropped before anything is read.

Writes are SQLite transactions: a crash leaves either the whole batch or none of it. A file
that is not a readable cache (corrupt, truncated, another schema) is deleted with a warning
and built again; any other failure (disk full, read-only folder, a lock held too long) logs a
warning and the caller goes on with the vectors it has, so the cache never fails a query.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # PRAGMA user_version of the file; 0: a new file
CACHE_FILE = Path("cache") / "text-vectors.sqlite"  # under the data dir
PROBE_TEXT = "Probe sentence: the inlet air temperature exceeded its limit during drying."
PROBE_TOLERANCE = 1e-4  # largest element difference of two embeddings of the probe, one model
_SQL_PARAMS = 500  # texts per SELECT ... IN (...)
_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_DTYPE = np.dtype("<f4")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS models (model TEXT PRIMARY KEY, probe BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL, text_sha256 TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, text_sha256)
);  -- a rowid table: a 1.5 KB vector overflows a WITHOUT ROWID page (2x the file)
PRAGMA user_version = {SCHEMA_VERSION};
"""


class _NotACache(Exception):
    """The file is a SQLite database, but not one of this schema version."""


_CACHE_ERRORS = (sqlite3.Error, OSError, _NotACache)


def embedder_key(embedder: Embedder) -> str:
    precision = getattr(embedder, "precision", "")
    return f"{embedder.name}|dim={embedder.dim}|{precision}"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Thread-safe; several processes may share one file (SQLite locking)."""

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._checked: set[str] = set()  # embedder keys whose probe matched in this process
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> VectorCache:
        return cls(data_dir / CACHE_FILE)

    def load(self, embedder: Embedder, texts: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        """The stored vectors of those texts that have one (the others are left out)."""
        if not texts:
            return {}
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._load(embedder, texts)
                except _CACHE_ERRORS as exc:  # a cache read never fails a query
                    if not self._recover(exc, "read", attempt):
                        return {}
        return {}

    def save(self, embedder: Embedder, texts: Sequence[str], vectors: NDArray[np.float32]) -> None:
        """Store one vector per text, all of them or none."""
        rows = np.asarray(vectors, dtype=_DTYPE)
        if rows.shape != (len(texts), embedder.dim):
            raise ValueError(f"{len(texts)} texts need a ({len(texts)}, {embedder.dim}) array")
        if not texts:
            return
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._save(embedder, texts, rows)
                    return
                except _CACHE_ERRORS as exc:  # a cache write never fails a query
                    if not self._recover(exc, "write", attempt):
                        return

    def _load(self, embedder: Embedder, texts: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        by_hash: dict[str, list[str]] = {}
        for text in texts:
            by_hash.setdefault(text_sha256(text), []).append(text)
        hashes = list(by_hash)
        found: dict[str, NDArray[np.float32]] = {}
        with self._connect() as conn:
            key = self._checked_key(conn, embedder)
            for start in range(0, len(hashes), _SQL_PARAMS):
                batch = hashes[start : start + _SQL_PARAMS]
                marks = ",".join("?" * len(batch))
                cursor = conn.execute(
                    "SELECT text_sha256, vector FROM vectors "
                    f"WHERE model = ? AND text_sha256 IN ({marks})",
                    [key, *batch],
                )
                for digest, blob in cursor:
                    vector = _vector(blob, embedder.dim)
                    if vector is not None:
                        for text in by_hash[digest]:
                            found[text] = vector
        return found

    def _save(self, embedder: Embedder, texts: Sequence[str], rows: NDArray[np.float32]) -> None:
        with self._connect() as conn:
            key = self._checked_key(conn, embedder)
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO vectors (model, text_sha256, vector) VALUES (?, ?, ?)",
                    (
                        (key, text_sha256(t), row.tobytes())
                        for t, row in zip(texts, rows, strict=True)
                    ),
                )

    def _checked_key(self, conn: sqlite3.Connection, embedder: Embedder) -> str:
        """The embedder's key, once its probe vector matches the stored one (vectors stored by
        another model under the same key are dropped first)."""
        key = embedder_key(embedder)
        if key in self._checked:
            return key
        probe = np.asarray(embedder.embed([PROBE_TEXT])[0], dtype=_DTYPE)
        row = conn.execute("SELECT probe FROM models WHERE model = ?", (key,)).fetchone()
        stored = _vector(row[0], embedder.dim) if row else None
        if stored is None or float(np.max(np.abs(stored - probe))) > PROBE_TOLERANCE:
            if row is not None:
                log.warning(
                    "vector cache %s: embedder %s gives other vectors than the one that "
                    "filled it; its vectors are dropped",
                    self.path,
                    key,
                )
            with conn:
                conn.execute("DELETE FROM vectors WHERE model = ?", (key,))
                conn.execute(
                    "INSERT OR REPLACE INTO models (model, probe) VALUES (?, ?)",
                    (key, probe.tobytes()),
                )
        self._checked.add(key)
        return key

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=self._timeout_s)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                with conn:
                    conn.executescript(_SCHEMA)
            elif version != SCHEMA_VERSION:
                raise _NotACache(f"schema version {version}, not {SCHEMA_VERSION}")
            yield conn

    def _recover(self, exc: BaseException, what: str, attempt: int) -> bool:
        """Whether to try again: after deleting a file that is not a readable cache."""
        corrupt = isinstance(exc, _NotACache) or (
            isinstance(exc, sqlite3.DatabaseError)
            and getattr(exc, "sqlite_errorcode", None) in _CORRUPT_CODES
        )
        if corrupt and attempt == 1:
            log.warning("vector cache %s is unreadable (%s); it is built again", self.path, exc)
            self._delete()
            return True
        log.warning("vector cache %s: %s failed (%s); going on without it", self.path, what, exc)
        return False

    def _delete(self) -> None:
        self._checked.clear()
        for suffix in ("", "-journal", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)


def _vector(blob: object, dim: int) -> NDArray[np.float32] | None:
    """A stored vector, or None when the blob is not one of `dim` finite floats."""
    if not isinstance(blob, bytes) or len(blob) != dim * _DTYPE.itemsize:
        return None
    vector = np.frombuffer(blob, dtype=_DTYPE).astype(np.float32)
    return vector if bool(np.all(np.isfinite(vector))) else None
