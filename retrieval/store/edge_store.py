"""Qdrant Edge backend: Qdrant's engine in-process, one shard in one folder (the default).

Hybrid search runs inside the engine: a dense and a sparse prefetch, both filtered, fused with
RRF. The store is thread-safe: searches share a reader/writer lock that `replace()` takes
exclusively, so a search sees the old points of a document or the new ones, never both and
never neither. One process owns the folder (`<folder>.lock`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from retrieval.index_contract import (
    DENSE_VECTOR,
    INTEGER_INDEXED,
    KEYWORD_INDEXED,
    SPARSE_VECTOR,
    Payload,
)
from retrieval.store.base import Filter, IndexPoint, ScoredPoint, SearchMode, SparseVector
from retrieval.store.errors import (
    CollectionMissingError,
    InvalidInputError,
    StoreError,
    StoreLockedError,
)
from retrieval.store.locks import FolderLock, ReadWriteLock
from retrieval.store.validation import (
    HNSW_FILTER_FIELDS,
    RRF_K,
    Match,
    NormalFilter,
    check_dense,
    check_point_id,
    check_points,
    check_sparse,
    effective_mode,
    normalize_filter,
    normalize_selector,
    payload_dict,
)

UPSERT_BATCH = 512
_EDGE_CONFIG_FILE = "edge_config.json"


def _edge_match(match: Match) -> qe.FieldCondition:
    if match.any:
        return qe.FieldCondition(match.field, match=qe.MatchAny(list(match.values)))  # type: ignore[arg-type]
    return qe.FieldCondition(match.field, match=qe.MatchValue(match.values[0]))


def edge_filter(normal: NormalFilter) -> qe.Filter | None:
    """Translate the store's filter to Edge's filter types (None when it has no condition)."""
    if normal.empty:
        return None
    must: list[Any] = [_edge_match(m) for m in normal.must]
    must.extend(
        qe.FieldCondition(field, range=qe.RangeFloat(gte=rng.gte, lte=rng.lte))
        for field, rng in normal.ranges
    )
    must_not: list[Any] = [_edge_match(m) for m in normal.must_not]
    if normal.exclude_ids:
        must_not.append(qe.HasIdCondition(set(normal.exclude_ids)))
    return qe.Filter(must=must or None, must_not=must_not or None)


def _sparse(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), list(vector.values))


def _point_id(value: object) -> str:
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


class EdgeStore:
    """`IndexStore` over a Qdrant Edge shard in `folder` (created by `ensure_collection`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = ReadWriteLock()
        self._folder_lock = FolderLock(folder)
        self._folder_lock.acquire()
        self._shard: qe.EdgeShard | None = None
        self._dim: int | None = None
        self._closed = False
        try:
            if (folder / _EDGE_CONFIG_FILE).exists():
                self._shard = self._load(folder)
                self._dim = self._shard_dim()
        except BaseException:
            self._folder_lock.release()
            raise

    @staticmethod
    def _load(folder: Path) -> qe.EdgeShard:
        try:
            return qe.EdgeShard.load(str(folder))
        except Exception as exc:  # the engine raises a bare Exception
            if re.search(r"WouldBlock|lock", str(exc), re.IGNORECASE):
                raise StoreLockedError(f"index folder {folder} is in use: {exc}") from exc
            raise

    def _shard_dim(self) -> int:
        """The dense dimension the shard was created with (Edge persists its config as JSON)."""
        config = json.loads((self.folder / _EDGE_CONFIG_FILE).read_text())
        try:
            return int(config["vectors"][DENSE_VECTOR]["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CollectionMissingError(
                f"{self.folder} holds an Edge shard without a {DENSE_VECTOR!r} vector: "
                f"not a devia index"
            ) from exc

    def _open_shard(self) -> qe.EdgeShard | None:
        """The shard, or None before the first `ensure_collection`; call under the lock."""
        if self._closed:
            raise StoreError(f"the index store of {self.folder} is closed")
        return self._shard

    def _require(self) -> qe.EdgeShard:
        """The shard, which must exist; call under the lock."""
        if self._open_shard() is None:
            raise CollectionMissingError(
                f"no index in {self.folder} yet: ingest documents first (devia ingest)"
            )
        assert self._shard is not None
        return self._shard

    # -- schema ---------------------------------------------------------------------------

    def ensure_collection(self, dense_dim: int) -> None:
        with self._lock.write():
            if self._open_shard() is None:
                config = qe.EdgeConfig(
                    vectors={
                        DENSE_VECTOR: qe.EdgeVectorParams(
                            size=dense_dim, distance=qe.Distance.Cosine
                        )
                    },
                    sparse_vectors={
                        SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)
                    },
                )
                self.folder.mkdir(parents=True, exist_ok=True)
                self._shard = qe.EdgeShard.create(str(self.folder), config)
                self._dim = dense_dim
            elif self._dim != dense_dim:
                raise CollectionMissingError(
                    f"index in {self.folder} holds {self._dim}-d vectors, not {dense_dim}-d: "
                    f"it was built with another embedding model; re-index into a new folder"
                )
            shard = self._require()
            existing = set(shard.info().payload_schema)
            for field in KEYWORD_INDEXED:
                if field not in existing:
                    params = qe.KeywordIndexParams(
                        is_tenant=field == Payload.SITE,
                        enable_hnsw=field in HNSW_FILTER_FIELDS,
                    )
                    shard.update(qe.UpdateOperation.create_field_index(field, params))
            for field in INTEGER_INDEXED:
                if field not in existing:
                    params_int = qe.IntegerIndexParams(
                        lookup=True, range=True, enable_hnsw=field in HNSW_FILTER_FIELDS
                    )
                    shard.update(qe.UpdateOperation.create_field_index(field, params_int))

    @property
    def dense_dim(self) -> int | None:
        return self._dim

    # -- writes ---------------------------------------------------------------------------

    def _edge_points(self, points: Sequence[IndexPoint]) -> list[qe.Point]:
        with self._lock.read():
            self._require()
        assert self._dim is not None
        edge_points = []
        for p in check_points(points, self._dim):
            vector: dict[str, Any] = {DENSE_VECTOR: p.dense}
            if p.sparse.indices:
                vector[SPARSE_VECTOR] = _sparse(p.sparse)
            edge_points.append(qe.Point(p.id, vector, p.payload))
        return edge_points

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        """Validated as a whole first; then written in batches, readers running between."""
        edge_points = self._edge_points(points)
        for start in range(0, len(edge_points), UPSERT_BATCH):
            with self._lock.write():
                batch = edge_points[start : start + UPSERT_BATCH]
                self._require().update(qe.UpdateOperation.upsert_points(batch))

    def replace(self, old: Filter, points: Sequence[IndexPoint]) -> None:
        """Upsert `points`, then delete the points matching `old` that are not among them,
        under the exclusive lock (searches wait, ~ms per hundred points). The new points go
        in first: if the process dies in between, the index holds both sets until the next
        replace, rather than losing the old one."""
        edge_points = self._edge_points(points)
        new_ids = [str(p.id) for p in edge_points]
        selector = edge_filter(normalize_selector(old, "replace", exclude_ids=new_ids))
        assert selector is not None
        with self._lock.write():
            shard = self._require()
            for start in range(0, len(edge_points), UPSERT_BATCH):
                batch = edge_points[start : start + UPSERT_BATCH]
                shard.update(qe.UpdateOperation.upsert_points(batch))
            shard.update(qe.UpdateOperation.delete_points_by_filter(selector))

    def delete(self, flt: Filter) -> None:
        selector = edge_filter(normalize_selector(flt, "delete"))
        assert selector is not None
        with self._lock.write():
            self._require().update(qe.UpdateOperation.delete_points_by_filter(selector))

    def flush(self) -> None:
        with self._lock.read():
            shard = self._open_shard()
            if shard is not None:
                shard.flush()

    def optimize(self) -> None:
        """Merge segments and build HNSW + payload indexes; blocks until done (seconds per
        10k points on two idle cores). The binding holds the GIL meanwhile: other Python
        threads of the process (searches included) wait until it returns."""
        with self._lock.read():
            shard = self._open_shard()
            if shard is not None:
                shard.optimize()

    # -- reads ----------------------------------------------------------------------------

    def search(
        self,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: Filter | None = None,
        limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
        prefetch_limit: int = 100,
        component_scores: bool = False,
    ) -> list[ScoredPoint]:
        if limit < 1:
            raise InvalidInputError(f"limit must be >= 1, got {limit}")
        with self._lock.read():
            self._require()
        assert self._dim is not None
        dense_query = check_dense(dense, self._dim, "query") if dense is not None else None
        sparse_query = _sparse(check_sparse(sparse, "query")) if sparse and sparse.indices else None
        mode = effective_mode(mode, dense_query is not None, sparse_query is not None)
        edge_flt = edge_filter(normalize_filter(flt))
        dense_q = None if dense_query is None else qe.Query.Nearest(dense_query, using=DENSE_VECTOR)
        sparse_q = (
            None if sparse_query is None else qe.Query.Nearest(sparse_query, using=SPARSE_VECTOR)
        )

        if mode is SearchMode.HYBRID:
            assert dense_q is not None and sparse_q is not None
            width = max(prefetch_limit, limit)
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[
                    qe.Prefetch(limit=width, query=dense_q, filter=edge_flt),
                    qe.Prefetch(limit=width, query=sparse_q, filter=edge_flt),
                ],
                query=qe.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]
                filter=edge_flt,
                with_payload=True,
            )
        else:
            request = qe.QueryRequest(
                limit=limit,
                query=dense_q if mode is SearchMode.DENSE else sparse_q,
                filter=edge_flt,
                with_payload=True,
            )
        with self._lock.read():
            shard = self._require()
            hits = shard.query(request)
            if mode is SearchMode.HYBRID and hits and component_scores:
                assert dense_q is not None and sparse_q is not None
                components = self._component_scores(shard, hits, dense_q, sparse_q)
            else:
                components = ({}, {})
        return [_scored(hit, mode, components) for hit in hits]

    @staticmethod
    def _component_scores(
        shard: qe.EdgeShard, hits: list[qe.ScoredPoint], dense_q: qe.Query, sparse_q: qe.Query
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Dense and sparse scores of the fused hits: the same two queries restricted to the
        hit ids (a tiny exact search), run as one batch."""
        ids = {hit.id for hit in hits}
        only_hits = qe.Filter(must=[qe.HasIdCondition(ids)])
        exact = qe.SearchParams(exact=True)
        batch = qe.QueryBatchRequest(
            [
                qe.QueryRequest(limit=len(ids), query=q, filter=only_hits, params=exact)
                for q in (dense_q, sparse_q)
            ]
        )
        dense_hits, sparse_hits = shard.query_batch(batch)
        return (
            {_point_id(h.id): h.score for h in dense_hits},
            {_point_id(h.id): h.score for h in sparse_hits},
        )

    def count(self, flt: Filter | None = None) -> int:
        request = qe.CountRequest(exact=True, filter=edge_filter(normalize_filter(flt)))
        with self._lock.read():
            shard = self._open_shard()
            return 0 if shard is None else shard.count(request)

    def _records(self, batch_size: int, **request: Any) -> Iterator[Any]:
        """Every stored record the scroll request selects, a batch per shard read."""
        offset: Any = None
        while True:
            scroll = qe.ScrollRequest(offset=offset, limit=batch_size, **request)
            with self._lock.read():
                shard = self._open_shard()
                if shard is None:
                    return
                records, offset = shard.scroll(scroll)
            yield from records
            if offset is None:
                return

    def scroll(self, flt: Filter | None = None, batch_size: int = 256) -> Iterator[ScoredPoint]:
        edge_flt = edge_filter(normalize_filter(flt))
        for record in self._records(batch_size, filter=edge_flt, with_payload=True):
            yield ScoredPoint(_point_id(record.id), 0.0, payload_dict(record.payload))

    def export_points(self, batch_size: int = 256) -> Iterator[IndexPoint]:
        """Every point with its vectors and payload, in batches (to copy the index elsewhere)."""
        for record in self._records(batch_size, with_payload=True, with_vector=True):
            vectors: Any = record.vector or {}
            sparse = vectors.get(SPARSE_VECTOR)
            yield IndexPoint(
                id=_point_id(record.id),
                dense=list(vectors[DENSE_VECTOR]),
                sparse=SparseVector(tuple(sparse.indices), tuple(sparse.values))
                if sparse is not None
                else SparseVector((), ()),
                payload=payload_dict(record.payload),
            )

    def retrieve(self, ids: Sequence[str]) -> list[ScoredPoint]:
        wanted = [check_point_id(i) for i in ids]
        with self._lock.read():
            shard = self._open_shard()
            if shard is None or not wanted:
                return []
            records = shard.retrieve(list(wanted), True, False)
        found = {_point_id(r.id): r for r in records}
        return [ScoredPoint(i, 0.0, payload_dict(found[i].payload)) for i in wanted if i in found]

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock.write():
            self._closed = True
            if self._shard is not None:
                self._shard.flush()
                self._shard.close()
                self._shard = None
            self._folder_lock.release()

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scored(
    hit: qe.ScoredPoint, mode: SearchMode, components: tuple[dict[str, float], dict[str, float]]
) -> ScoredPoint:
    point_id = _point_id(hit.id)
    dense_scores, sparse_scores = components
    if mode is SearchMode.DENSE:
        dense_score, sparse_score = hit.score, None
    elif mode is SearchMode.SPARSE:
        dense_score, sparse_score = None, hit.score
    else:
        dense_score, sparse_score = dense_scores.get(point_id), sparse_scores.get(point_id)
    return ScoredPoint(point_id, hit.score, payload_dict(hit.payload), dense_score, sparse_score)
