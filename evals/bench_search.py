"""`devia bench search`: latency of a filtered hybrid query on a synthetic index.

Builds an Edge index of N synthetic chunks in a temporary folder (realistic payloads: sites,
document types, equipment, products, dates, revisions, text of GMP vocabulary; dense vectors
drawn around topic centroids, sparse vectors from the text), then measures the store's
filtered hybrid query at 10k points and at N, and, separately, the query embedding with the
real MiniLM embedder. Each figure is the median over `runs` passes of `queries` queries
(after one warm-up pass). Optionally does the same at 10k with qdrant-client local mode
(brute force in Python, for comparison).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder
from retrieval.index_contract import ChunkKind, DocType, Payload, RevisionStatus, point_id
from retrieval.search import SearchRequest, build_filter
from retrieval.sparse import document_vector, query_vector
from retrieval.store.base import Filter, IndexPoint, IndexStore, SearchMode
from retrieval.store.factory import open_store

SMALL = 10_000
BATCH = 1_000
TOPICS = 200

_WORDS = (
    "deviation batch record step granulation drying compression coating blending milling "
    "sieving tablet capsule vial filling sealing labeling packaging inspection sampling "
    "temperature humidity pressure speed weight hardness friability dissolution assay "
    "impurity moisture loss cleaning swab rinse residue sanitization sterilization "
    "autoclave filter integrity bioburden endotoxin environmental monitoring viable "
    "particle cleanroom gowning operator training procedure revision approval review "
    "calibration maintenance preventive breakdown alarm interlock excursion limit range "
    "specification out trend investigation root cause capa corrective preventive action "
    "effectiveness check risk assessment impact product quality patient safety release "
    "disposition quarantine rejected reprocessing rework yield reconciliation label "
    "mix-up line clearance documentation error missing signature late entry data "
    "integrity audit trail backup validation qualification installation operational "
    "performance change control supplier raw material excipient api lot expiry storage "
    "warehouse cold chain shipment complaint recall stability chamber pull point "
    "laboratory analyst chromatography column balance ph conductivity water system "
    "purified injection steam compressed air nitrogen hvac differential door interlock "
    "vacuum leak seal torque cap crimp foreign matter glass metal detector reject"
).split()
_SITES = ("SITE-A", "SITE-B", "SITE-C", "SITE-D", "SITE-E")
_SITE_WEIGHTS = (0.4, 0.25, 0.15, 0.12, 0.08)
_DOC_TYPES = tuple(DocType)
_DOC_TYPE_WEIGHTS = (0.25, 0.3, 0.12, 0.25, 0.05, 0.03)
_EQUIPMENT = tuple(
    f"{p}-{n}" for p in ("FBD", "TP", "GR", "BL", "FL", "AC", "PK") for n in range(100, 130)
)
_PRODUCTS = tuple(f"PRD-{n:03d}" for n in range(40))
_EPOCH = date(2015, 1, 1)


@dataclass(frozen=True)
class BenchConfig:
    points: int = 100_000
    queries: int = 200
    runs: int = 3
    dim: int = 384
    with_local: bool = False  # also time qdrant-client local mode at `small` (brute force)
    small: int = SMALL  # the first measured size
    seed: int = 7
    work_dir: Path | None = None  # temporary folder by default


@dataclass(frozen=True)
class BenchQuery:
    text: str
    dense: list[float]
    flt: Filter


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


class SyntheticCorpus:
    """Deterministic synthetic chunks: text from a Zipf-weighted GMP vocabulary, dense
    vectors around per-topic centroids (so nearest neighbours are meaningful for HNSW)."""

    def __init__(self, dim: int, seed: int) -> None:
        self.dim = dim
        self._rng = np.random.default_rng(seed)
        centroids = self._rng.normal(size=(TOPICS, dim)).astype(np.float32)
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        ranks = np.arange(1, len(_WORDS) + 1, dtype=np.float64)
        self._word_p = (1 / ranks) / (1 / ranks).sum()
        # each topic prefers its own slice of the vocabulary
        self._topic_words = self._rng.integers(0, len(_WORDS), size=(TOPICS, 12))

    def _text(self, topic: int, n_words: int, tags: Sequence[str]) -> str:
        common = self._rng.choice(len(_WORDS), size=n_words, p=self._word_p)
        own = self._rng.choice(self._topic_words[topic], size=max(3, n_words // 4))
        words = [_WORDS[i] for i in np.concatenate([common, own])]
        self._rng.shuffle(words)
        return " ".join([*words, *tags])

    def _near(self, topics: NDArray[np.int64], spread: float) -> NDArray[np.float32]:
        noise = self._rng.normal(size=(len(topics), self.dim)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vectors = self.centroids[topics] + spread * noise
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def points(self, start: int, count: int) -> list[IndexPoint]:
        rng = self._rng
        topics = rng.integers(0, TOPICS, size=count)
        dense = self._near(topics, spread=1.2)
        out = []
        for row in range(count):
            n = start + row
            doc_type = _DOC_TYPES[rng.choice(len(_DOC_TYPES), p=_DOC_TYPE_WEIGHTS)]
            site = _SITES[rng.choice(len(_SITES), p=_SITE_WEIGHTS)]
            equipment = [str(e) for e in rng.choice(_EQUIPMENT, size=rng.integers(0, 3))]
            products = [str(p) for p in rng.choice(_PRODUCTS, size=rng.integers(0, 3))]
            doc_id = f"{doc_type.value.upper()}-{n // 8:06d}"
            revision = str(1 + n % 3)
            text = self._text(int(topics[row]), int(rng.integers(40, 90)), equipment)
            payload: dict[str, object] = {
                Payload.DOC_ID: doc_id,
                Payload.DOC_TYPE: doc_type.value,
                Payload.TITLE: f"{doc_type.value} {doc_id}",
                Payload.REVISION: revision,
                Payload.STATUS: (
                    RevisionStatus.SUPERSEDED.value
                    if rng.random() < 0.15
                    else RevisionStatus.EFFECTIVE.value
                ),
                Payload.SITE: site,
                Payload.PRODUCTS: products,
                Payload.EQUIPMENT: equipment,
                Payload.CHUNK_KIND: (
                    ChunkKind.RECORD.value
                    if doc_type in (DocType.DEVIATION, DocType.CAPA)
                    else ChunkKind.TEXT.value
                ),
                Payload.CHUNK_INDEX: n % 8,
                Payload.SECTION_ID: f"{1 + n % 9}.{n % 5}",
                Payload.SECTION_PATH: [f"{1 + n % 9} Section", f"{1 + n % 9}.{n % 5} Part"],
                Payload.PAGE_START: 1 + n % 40,
                Payload.PAGE_END: 1 + n % 40,
                Payload.TEXT: text,
            }
            if doc_type in (DocType.DEVIATION, DocType.CAPA, DocType.BATCH_RECORD):
                day = _EPOCH + timedelta(days=int(rng.integers(0, 3650)))
                payload[Payload.EVENT_DATE] = day.isoformat()
                payload[Payload.EVENT_TS] = int((day - date(1970, 1, 1)).total_seconds())
            out.append(
                IndexPoint(
                    point_id(doc_id, revision, n), dense[row], document_vector(text), payload
                )
            )
        return out

    def queries(self, count: int) -> list[BenchQuery]:
        rng = self._rng
        topics = rng.integers(0, TOPICS, size=count)
        dense = self._near(topics, spread=1.0)
        out = []
        for row in range(count):
            text = self._text(int(topics[row]), int(rng.integers(4, 10)), [])
            n_sites = 1 + int(rng.random() < 0.3)
            sites = [str(s) for s in rng.choice(_SITES, size=n_sites, replace=False)]
            kwargs: dict[str, object] = {}
            if rng.random() < 0.5:
                kwargs["doc_types"] = [DocType.DEVIATION.value, DocType.CAPA.value]
            if rng.random() < 0.2:
                kwargs["equipment"] = [str(rng.choice(_EQUIPMENT))]
            request = SearchRequest(text, sites=sites, **kwargs)  # type: ignore[arg-type]
            out.append(BenchQuery(text, dense[row].tolist(), build_filter(request)))
        return out


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _timed_passes(
    run_one: Callable[[int], int], n: int, runs: int
) -> tuple[list[list[float]], float]:
    """One warm-up pass, then `runs` timed passes; returns per-pass latencies (ms) and the
    mean number of hits per query."""
    for i in range(n):
        run_one(i)
    passes = []
    hits = 0
    for _ in range(runs):
        latencies = []
        for i in range(n):
            started = time.perf_counter()
            hits += run_one(i)
            latencies.append((time.perf_counter() - started) * 1000)
        passes.append(latencies)
    return passes, hits / (n * runs)


def _median_of(passes: list[list[float]], q: float) -> float:
    return statistics.median(percentile(p, q) for p in passes)


def measure_store(
    store: IndexStore, queries: Sequence[BenchQuery], runs: int, limit: int = 10
) -> tuple[list[list[float]], float]:
    def run_one(i: int) -> int:
        q = queries[i]
        return len(
            store.search(q.dense, query_vector(q.text), q.flt, limit=limit, mode=SearchMode.HYBRID)
        )

    return _timed_passes(run_one, len(queries), runs)


def measure_embedder(embedder: Embedder, texts: Sequence[str], runs: int) -> list[list[float]]:
    def run_one(i: int) -> int:
        embedder.embed([texts[i]])
        return 1

    return _timed_passes(run_one, len(texts), runs)[0]


def _load(store: IndexStore, corpus: SyntheticCorpus, start: int, stop: int) -> float:
    """Upsert points [start, stop); returns the seconds spent in the store."""
    spent = 0.0
    for batch_start in range(start, stop, BATCH):
        batch = corpus.points(batch_start, min(BATCH, stop - batch_start))
        began = time.perf_counter()
        store.upsert(batch)
        spent += time.perf_counter() - began
    return spent


@dataclass(frozen=True)
class BenchReport:
    metrics: dict[str, float]
    notes: dict[str, object]


def run_bench(
    config: BenchConfig, embedder: Embedder, progress: Callable[[str], None] = print
) -> BenchReport:
    if config.points < config.small:
        raise ValueError(f"--points must be at least {config.small}")
    if embedder.dim != config.dim:
        raise ValueError(f"embedder dim {embedder.dim} != bench dim {config.dim}")
    work = Path(tempfile.mkdtemp(prefix="devia-bench-", dir=config.work_dir))
    metrics: dict[str, float] = {}
    load_before = os.getloadavg()[0]
    try:
        corpus = SyntheticCorpus(config.dim, config.seed)
        queries = corpus.queries(config.queries)
        small = size_label(config.small)
        sizes = [config.small] if config.points == config.small else [config.small, config.points]
        store = open_store("edge", work)
        try:
            store.ensure_collection(config.dim)
            loaded = 0
            upsert_s = 0.0
            for size in sizes:
                label = size_label(size)
                progress(f"edge: loading {size - loaded} points (to {label})")
                upsert_s += _load(store, corpus, loaded, size)
                loaded = size
                began = time.perf_counter()
                store.optimize()
                metrics[f"optimize_s@{label}"] = round(time.perf_counter() - began, 2)
                progress(f"edge: {label} optimized in {metrics[f'optimize_s@{label}']} s; querying")
                passes, mean_hits = measure_store(store, queries, config.runs)
                metrics[f"p50_ms@{label}"] = round(_median_of(passes, 50), 3)
                metrics[f"p95_ms@{label}"] = round(_median_of(passes, 95), 3)
                metrics[f"mean_hits@{label}"] = round(mean_hits, 2)
                progress(
                    f"edge @{label}: p50 {metrics[f'p50_ms@{label}']} ms, "
                    f"p95 {metrics[f'p95_ms@{label}']} ms"
                )
                edge_passes = passes
            metrics["upsert_points_per_s"] = round(loaded / upsert_s, 1)
        finally:
            store.close()

        if config.with_local:
            # In memory: local mode searches the same way on disk, but persisting commits
            # every point to SQLite, which would make loading 10k points take minutes.
            progress(f"qdrant-client local mode (in memory): loading {small} points")
            local = open_store(":memory:", work)
            try:
                local.ensure_collection(config.dim)
                same_corpus = SyntheticCorpus(config.dim, config.seed)
                same_corpus.queries(config.queries)  # same random stream as the Edge corpus
                _load(local, same_corpus, 0, config.small)
                passes, _ = measure_store(local, queries, config.runs)
                metrics[f"local_p50_ms@{small}"] = round(_median_of(passes, 50), 3)
                metrics[f"local_p95_ms@{small}"] = round(_median_of(passes, 95), 3)
            finally:
                local.close()

        progress(f"embedding {config.queries} queries one at a time with {embedder.name}")
        embed_passes = measure_embedder(embedder, [q.text for q in queries], config.runs)
        metrics["embed_p50_ms"] = round(_median_of(embed_passes, 50), 3)
        metrics["embed_p95_ms"] = round(_median_of(embed_passes, 95), 3)
        # Per query: its embedding time plus its search time at N (same pass, same query).
        with_embed = [
            [e + s for e, s in zip(ep, sp, strict=True)]
            for ep, sp in zip(embed_passes, edge_passes, strict=True)
        ]
        label = size_label(sizes[-1])
        metrics[f"p50_ms_with_embed@{label}"] = round(_median_of(with_embed, 50), 3)
        metrics[f"p95_ms_with_embed@{label}"] = round(_median_of(with_embed, 95), 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    notes: dict[str, object] = {
        "points": config.points,
        "queries": config.queries,
        "runs": config.runs,
        "query": "hybrid (dense + sparse prefetch 100, RRF) top-10, filtered: site scope "
        "(1-2 of 5 sites), not superseded, half with doc_type in (deviation, capa), "
        "a fifth with one equipment tag",
        "embedder": embedder.name,
        "backend": "qdrant-edge (in-process), optimized",
        # The machine may be shared: the 1-minute load average says how busy it was.
        "load_avg_1m": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "cpus": os.cpu_count(),
    }
    return BenchReport(metrics, notes)


def iter_rows(metrics: dict[str, float]) -> Iterator[tuple[str, str]]:
    for name, value in metrics.items():
        yield name, f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
