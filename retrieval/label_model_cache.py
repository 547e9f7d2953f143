"""Failure-mode models per site scope, trained from the index on first use and kept while the
scope's labelled records stay the same.

The training set is every labelled historical event the scope may see (the site scope is the
tenant boundary: a model never learns from another tenant's records). Training is
deterministic (fixed seed, sorted records), so a rebuild over the same records gives the same
model.

Staleness: every `get` counts the scope's event points (cheap); a changed count, or
`recheck_s` seconds since the last look, reads the scope's labelled records and compares
their fingerprint (sha256 over each record's key, label and training texts) with the model's.
A model is rebuilt only when the fingerprint changed, so a record relabelled in place is
noticed (within `recheck_s` in a long-running process; at once in a new one) and an ingestion
that adds no labelled record retrains nothing.

Building costs one embedding per distinct training text and a few seconds of fitting. The
vectors are kept in memory and, given a `VectorCache`, on disk: a new process (the CLI, an API
restart) embeds only the training texts no earlier process has embedded with the same model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder
from retrieval.event_text import record_event_texts
from retrieval.index_contract import Payload
from retrieval.label_model import FailureModeModel, TrainingExample
from retrieval.store.base import Filter, IndexStore, ScoredPoint
from retrieval.vector_cache import VectorCache

EMBED_BATCH = 256
# Longest a long-running process serves a model without re-reading the scope's labels: a
# re-read of 3,897 records (the recalls index, Qdrant Edge) took about 1 s on a loaded 2-core
# machine, paid by the query that triggers it.
RECHECK_S = 60.0

LabelledRecord = tuple[tuple[str, str], list[str], str]  # ((site, doc id), texts, label)


@dataclass(frozen=True)
class ScopeModel:
    model: FailureModeModel | None  # None: too few labels in the scope (neighbour vote instead)
    points: int  # event points in the scope when it was last checked
    labelled_records: int
    build_s: float
    fingerprint: str = ""  # records_fingerprint of the records it learnt from
    embedded_texts: int = 0  # training texts this build embedded (not in memory nor on disk)


class LabelModelCache:
    """Thread-safe; one per store. `vector_cache`: keep training-text vectors on disk;
    `clock`: monotonic seconds (tests pass their own)."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        doc_types: Sequence[str],
        vector_cache: VectorCache | None = None,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._doc_types = tuple(doc_types)
        self._vector_cache = vector_cache
        self._recheck_s = recheck_s
        self._clock = clock
        self._models: dict[tuple[str, ...], ScopeModel] = {}
        self._checked_at: dict[tuple[str, ...], float] = {}
        self._vectors: dict[str, NDArray[np.float32]] = {}  # training text -> its embedding
        self._lock = threading.Lock()

    def get(self, sites: Sequence[str]) -> ScopeModel:
        """The model of a site scope, (re)built when the scope's labelled records changed."""
        scope = tuple(sorted(set(sites)))
        flt = self._filter(scope)
        points = self._store.count(flt)
        with self._lock:
            current = self._models.get(scope)
            now = self._clock()
            if (
                current is not None
                and current.points == points
                and now - self._checked_at[scope] < self._recheck_s
            ):
                return current
            started = time.perf_counter()
            records = labelled_records(self._store.scroll(flt))
            fingerprint = records_fingerprint(records)
            if current is None or current.fingerprint != fingerprint:
                current = self._build(records, points, fingerprint, started)
            elif current.points != points:
                current = dataclasses.replace(current, points=points)
            self._models[scope] = current
            self._checked_at[scope] = now
            return current

    def _filter(self, scope: tuple[str, ...]) -> Filter:
        must: dict[str, Any] = {Payload.SITE: list(scope)}
        if self._doc_types:
            must[Payload.DOC_TYPE] = list(self._doc_types)
        return Filter(must=must)

    def _build(
        self, records: list[LabelledRecord], points: int, fingerprint: str, started: float
    ) -> ScopeModel:
        texts = sorted({t for _, texts, _ in records for t in texts})
        embedded = self._embed_missing(texts)
        vectors = self._vectors
        examples = [
            TrainingExample(text, vectors[text], label)
            for _, texts_of_record, label in records
            for text in texts_of_record
        ]
        model = FailureModeModel.fit(examples, records=len(records)) if examples else None
        build_s = time.perf_counter() - started
        return ScopeModel(model, points, len(records), build_s, fingerprint, embedded)

    def _embed_missing(self, texts: Sequence[str]) -> int:
        """Fill the vectors of `texts`: from memory, the vector cache, else the embedder (each
        batch stored on disk as soon as it is embedded). Returns how many were embedded."""
        vectors = self._vectors
        missing = [t for t in texts if t not in vectors]
        if missing and self._vector_cache is not None:
            vectors.update(self._vector_cache.load(self._embedder, missing))
            missing = [t for t in missing if t not in vectors]
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            embedded = self._embedder.embed(batch)
            if self._vector_cache is not None:
                self._vector_cache.save(self._embedder, batch, embedded)
            for text, vector in zip(batch, embedded, strict=True):
                vectors[text] = vector
        return len(missing)


def records_fingerprint(records: Sequence[LabelledRecord]) -> str:
    """sha256 over the (sorted) records' keys, labels and training texts."""
    return hashlib.sha256(json.dumps(records, ensure_ascii=False).encode("utf-8")).hexdigest()


def labelled_records(points: Iterable[ScoredPoint]) -> list[LabelledRecord]:
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
