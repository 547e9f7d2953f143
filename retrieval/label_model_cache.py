"""Failure-mode models per site scope, trained from the index on first use and kept while the
scope's labelled records stay the same.

The training set is every labelled historical event the scope may see (the site scope is the
tenant boundary: a model never learns from another tenant's records). A model is rebuilt when
the number of event points in the scope changes (records ingested or deleted); training is
deterministic (fixed seed, sorted records), so a rebuild over the same records gives the same
model. Building costs one embedding per distinct training text and a few seconds of fitting;
the cache keeps the vectors it computed, so a rebuild after an ingestion embeds only the texts
it has not seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder
from retrieval.event_text import record_event_texts
from retrieval.index_contract import Payload
from retrieval.label_model import FailureModeModel, TrainingExample
from retrieval.store.base import Filter, IndexStore, ScoredPoint

EMBED_BATCH = 256


@dataclass(frozen=True)
class ScopeModel:
    model: FailureModeModel | None  # None: too few labels in the scope (neighbour vote instead)
    points: int  # event points in the scope when it was built
    labelled_records: int
    build_s: float


class LabelModelCache:
    """Thread-safe; one per store."""

    def __init__(self, store: IndexStore, embedder: Embedder, doc_types: Sequence[str]) -> None:
        self._store = store
        self._embedder = embedder
        self._doc_types = tuple(doc_types)
        self._models: dict[tuple[str, ...], ScopeModel] = {}
        self._vectors: dict[str, NDArray[np.float32]] = {}  # training text -> its embedding
        self._lock = threading.Lock()

    def get(self, sites: Sequence[str]) -> ScopeModel:
        """The model of a site scope, (re)built when the scope's event points changed."""
        scope = tuple(sorted(set(sites)))
        flt = self._filter(scope)
        points = self._store.count(flt)
        with self._lock:
            current = self._models.get(scope)
            if current is None or current.points != points:
                current = self._build(flt, points)
                self._models[scope] = current
            return current

    def _filter(self, scope: tuple[str, ...]) -> Filter:
        must: dict[str, Any] = {Payload.SITE: list(scope)}
        if self._doc_types:
            must[Payload.DOC_TYPE] = list(self._doc_types)
        return Filter(must=must)

    def _build(self, flt: Filter, points: int) -> ScopeModel:
        started = time.perf_counter()
        records = labelled_records(self._store.scroll(flt))
        texts = sorted({t for _, texts, _ in records for t in texts})
        vectors = self._vectors
        missing = [t for t in texts if t not in vectors]
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            for text, vector in zip(batch, self._embedder.embed(batch), strict=True):
                vectors[text] = vector
        examples = [
            TrainingExample(text, vectors[text], label)
            for _, texts_of_record, label in records
            for text in texts_of_record
        ]
        model = FailureModeModel.fit(examples, records=len(records)) if examples else None
        return ScopeModel(model, points, len(records), time.perf_counter() - started)


def labelled_records(
    points: Iterable[ScoredPoint],
) -> list[tuple[tuple[str, str], list[str], str]]:
    """((site, doc id), training texts, label) per labelled record, sorted by key: the first
    chunk of a record carries its texts (every chunk carries the same record fields)."""
    found: dict[tuple[str, str], tuple[list[str], str]] = {}
    for point in points:
        payload: Mapping[str, Any] = point.payload
        label = payload.get(Payload.FAILURE_MODE)
        if not isinstance(label, str) or not label.strip():
            continue
        key = (str(payload.get(Payload.SITE, "")), str(payload.get(Payload.DOC_ID, point.id)))
        if key in found:
            continue
        texts = record_event_texts(payload)
        if texts:
            found[key] = (texts, label.strip())
    return [(key, *found[key]) for key in sorted(found)]
