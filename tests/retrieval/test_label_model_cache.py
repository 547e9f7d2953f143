"""The per-scope failure-mode model cache over an on-disk vector cache: a new process embeds
no training text another one embedded with the same model, and a relabel in place rebuilds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from retrieval.embedding import HashingEmbedder
from retrieval.label_model_cache import LabelModelCache, ScopeModel
from retrieval.similar import EVENT_DOC_TYPES
from retrieval.store.base import IndexStore
from retrieval.store.factory import open_store
from retrieval.vector_cache import CACHE_FILE, PROBE_TEXT, VectorCache
from tests.retrieval.test_label_model import SITE, _points, _records

QUERY = "The fill pump seal dripped onto the line"


class _Counting(HashingEmbedder):
    """A real hashing embedder that records every text it embeds."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(dim=128)
        if name:
            self.name = name
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.texts.extend(texts)
        return super().embed(texts)

    @property
    def training_texts(self) -> list[str]:
        return [t for t in self.texts if t != PROBE_TEXT]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IndexStore]:
    index = open_store(":memory:", tmp_path)
    index.ensure_collection(128)
    index.upsert(_points(_records(12), HashingEmbedder(dim=128)))
    yield index
    index.close()


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / CACHE_FILE


def _cache(
    store: IndexStore, embedder: _Counting, path: Path | None, **kwargs: Any
) -> LabelModelCache:
    vectors = VectorCache(path) if path is not None else None
    return LabelModelCache(store, embedder, EVENT_DOC_TYPES, vector_cache=vectors, **kwargs)


def _probabilities(scope: ScopeModel) -> dict[str, float]:
    assert scope.model is not None
    return scope.model.probabilities(QUERY, HashingEmbedder(dim=128).embed([QUERY])[0].tolist())


def test_a_second_process_embeds_no_training_text(store: IndexStore, cache_path: Path) -> None:
    first_embedder = _Counting()
    first = _cache(store, first_embedder, cache_path).get([SITE])
    assert first.model is not None and first.labelled_records == 36
    assert first.embedded_texts == len(first_embedder.training_texts) >= 36
    again = _Counting()  # a new process: a new cache object, a new embedder
    second = _cache(store, again, cache_path).get([SITE])
    assert again.texts == [PROBE_TEXT]  # the model check; not one training text
    assert second.embedded_texts == 0 and second.fingerprint == first.fingerprint
    assert _probabilities(second) == pytest.approx(_probabilities(first))


def test_without_a_vector_cache_every_process_embeds_again(store: IndexStore) -> None:
    _cache(store, _Counting(), None).get([SITE])
    again = _Counting()
    assert _cache(store, again, None).get([SITE]).embedded_texts > 0
    assert len(again.training_texts) >= 36


def test_another_embedder_does_not_reuse_the_vectors(store: IndexStore, cache_path: Path) -> None:
    first = _Counting()
    _cache(store, first, cache_path).get([SITE])
    other = _Counting(name="another-model-128")
    scope = _cache(store, other, cache_path).get([SITE])
    assert sorted(other.training_texts) == sorted(first.training_texts)
    assert scope.embedded_texts == len(first.training_texts)


def test_a_relabel_in_place_rebuilds_the_model(store: IndexStore, cache_path: Path) -> None:
    clock = _Clock()
    embedder = _Counting()
    cache = _cache(store, embedder, cache_path, recheck_s=30.0, clock=clock)
    before = cache.get([SITE])
    assert before.model is not None and "TEMP_EXCURSION" in before.model.classes
    records = _records(12)
    for record in records:
        if record["mode"] == "TEMP_EXCURSION":
            record["mode"] = "OVERHEATING"  # a person reclassified them: same points, new label
    points_before = store.count()
    store.upsert(_points(records, HashingEmbedder(dim=128)))
    assert store.count() == points_before
    clock.now += 10
    assert cache.get([SITE]) is before  # within recheck_s only the count is compared
    clock.now += 25
    embedder.texts.clear()
    after = cache.get([SITE])
    assert after.model is not None and after.fingerprint != before.fingerprint
    assert "OVERHEATING" in after.model.classes and "TEMP_EXCURSION" not in after.model.classes
    assert after.embedded_texts == 0 and embedder.texts == []  # same texts: vectors reused
    fresh = _cache(store, _Counting(), cache_path).get([SITE])  # a new process sees it at once
    assert fresh.fingerprint == after.fingerprint


def test_unchanged_labels_keep_the_model(store: IndexStore, cache_path: Path) -> None:
    clock = _Clock()
    cache = _cache(store, _Counting(), cache_path, recheck_s=30.0, clock=clock)
    before = cache.get([SITE])
    clock.now += 60  # re-read: the same records
    assert cache.get([SITE]).model is before.model
    extra = _records(14)[-2:]  # two more records, unlabelled: the count changes, labels not
    store.upsert(_points(extra, HashingEmbedder(dim=128), labelled=False))
    kept = cache.get([SITE])
    assert kept.model is before.model and kept.points == before.points + 2


def test_a_corrupt_vector_cache_is_rebuilt(store: IndexStore, cache_path: Path) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(b"\x00garbage" * 512)
    embedder = _Counting()
    scope = _cache(store, embedder, cache_path).get([SITE])
    assert scope.model is not None and scope.embedded_texts >= 36
    again = _Counting()
    assert _cache(store, again, cache_path).get([SITE]).embedded_texts == 0
    assert again.texts == [PROBE_TEXT]
