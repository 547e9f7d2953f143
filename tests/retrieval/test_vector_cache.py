"""The on-disk vector cache: vectors survive a new instance (a new process), never cross from
one embedding model to another, and a broken or half-written file never fails a caller."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from retrieval.embedding import HashingEmbedder
from retrieval.vector_cache import CACHE_FILE, PROBE_TEXT, VectorCache, embedder_key

TEXTS = [f"the fill pump seal was leaking on line {n}" for n in range(40)]


class _FlippedEmbedder(HashingEmbedder):
    """Same name and dimension as HashingEmbedder(dim), other vectors: another model."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return -super().embed(texts)


class _RenamedEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.name = f"other-model-{dim}"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / CACHE_FILE


def _filled(path: Path, embedder: HashingEmbedder) -> NDArray[np.float32]:
    vectors = embedder.embed(TEXTS)
    VectorCache(path).save(embedder, TEXTS, vectors)
    return vectors


def test_a_new_instance_reads_the_stored_vectors(path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    vectors = _filled(path, embedder)
    found = VectorCache(path).load(embedder, [*TEXTS[:10], "never stored"])
    assert sorted(found) == sorted(TEXTS[:10])
    for n, text in enumerate(TEXTS[:10]):
        np.testing.assert_array_equal(found[text], vectors[n])


def test_another_embedder_never_reads_them(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _filled(path, HashingEmbedder(dim=32))
    assert embedder_key(_RenamedEmbedder(32)) != embedder_key(HashingEmbedder(dim=32))
    assert VectorCache(path).load(_RenamedEmbedder(32), TEXTS) == {}
    assert VectorCache(path).load(HashingEmbedder(dim=16), TEXTS) == {}
    # Same name and dimension, other vectors: the probe sentence tells them apart.
    with caplog.at_level(logging.WARNING):
        assert VectorCache(path).load(_FlippedEmbedder(32), TEXTS) == {}
    assert "other vectors" in caplog.text
    assert VectorCache(path).load(HashingEmbedder(dim=32), TEXTS) == {}  # dropped, not mixed


def test_a_corrupt_file_is_rebuilt(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    embedder = HashingEmbedder(dim=32)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all " * 100)
    cache = VectorCache(path)
    with caplog.at_level(logging.WARNING):
        assert cache.load(embedder, TEXTS) == {}
    assert "unreadable" in caplog.text
    cache.save(embedder, TEXTS, embedder.embed(TEXTS))
    assert len(VectorCache(path).load(embedder, TEXTS)) == len(TEXTS)


def test_a_file_of_another_schema_version_is_rebuilt(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = HashingEmbedder(dim=32)
    _filled(path, embedder)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with caplog.at_level(logging.WARNING):
        assert VectorCache(path).load(embedder, TEXTS) == {}
    assert "schema version 99" in caplog.text
    _filled(path, embedder)
    assert len(VectorCache(path).load(embedder, TEXTS)) == len(TEXTS)


def test_a_truncated_file_never_fails_a_caller(path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    _filled(path, embedder)
    many = [f"text {n}" for n in range(3000)]
    VectorCache(path).save(embedder, many, embedder.embed(many))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    found = VectorCache(path).load(embedder, many)  # whatever is still readable, no error
    assert set(found) <= set(many)
    cache = VectorCache(path)
    cache.save(embedder, TEXTS, embedder.embed(TEXTS))
    assert len(VectorCache(path).load(embedder, TEXTS)) == len(TEXTS)


def test_a_crash_mid_write_leaves_none_of_the_batch(path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    _filled(path, embedder)
    # A child process dies (no cleanup at all) after writing 300 of 1000 rows of one save.
    script = f"""
import os, sys
from pathlib import Path
from retrieval.embedding import HashingEmbedder
from retrieval.vector_cache import VectorCache

class Dying(list):
    def __iter__(self):
        for n, text in enumerate(list.__iter__(self)):
            if n == 300:
                os._exit(3)
            yield text

plain = [f"batch text {{n}}" for n in range(1000)]
embedder = HashingEmbedder(dim=32)
VectorCache(Path({str(path)!r})).save(embedder, Dying(plain), embedder.embed(plain))
"""
    child = subprocess.run([sys.executable, "-c", script], cwd=Path.cwd(), check=False)
    assert child.returncode == 3
    hot_journal = path.with_name(path.name + "-journal")
    assert hot_journal.stat().st_size > 0  # it died inside the transaction
    batch = [f"batch text {n}" for n in range(1000)]
    assert VectorCache(path).load(embedder, batch) == {}
    assert len(VectorCache(path).load(embedder, TEXTS)) == len(TEXTS)  # earlier rows intact
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_unwritable_place_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    embedder = HashingEmbedder(dim=32)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = VectorCache(blocker / "cache.sqlite")
    with caplog.at_level(logging.WARNING):
        cache.save(embedder, TEXTS, embedder.embed(TEXTS))
        assert cache.load(embedder, TEXTS) == {}
    assert "going on without it" in caplog.text


def test_save_refuses_vectors_of_the_wrong_shape(path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    with pytest.raises(ValueError, match="array"):
        VectorCache(path).save(embedder, TEXTS, HashingEmbedder(dim=16).embed(TEXTS))


def test_the_probe_is_embedded_once_per_instance(path: Path) -> None:
    calls: list[list[str]] = []

    class Counting(HashingEmbedder):
        def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
            calls.append(list(texts))
            return super().embed(texts)

    embedder = Counting(dim=32)
    cache = VectorCache(path)
    cache.save(embedder, TEXTS, HashingEmbedder(dim=32).embed(TEXTS))
    cache.load(embedder, TEXTS)
    cache.load(embedder, TEXTS[:3])
    assert calls == [[PROBE_TEXT]]
