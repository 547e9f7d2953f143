"""qdrant-client backend: a Qdrant server / cluster (scale-out), or qdrant-client's local mode.

Local mode (`path=` or ":memory:") speaks the same API as the server but is brute force in
Python (fine for tests and small trials, not for production). Hybrid search uses the Query
API: a dense and a sparse prefetch, both filtered, fused with RRF by the engine.

Consistency of `replace()`:
- in-process (local mode, or several threads of one process against a server): a
  reader/writer lock makes it atomic for this process's searches;
- a server seen from OTHER processes: the new points are upserted and the old ones deleted
  (by filter, excluding the new ids) in ONE `batch_update_points` call with strong write
  ordering. The server applies the two operations one after the other, not as a transaction:
  between them (milliseconds) another process's search can see both the old and the new
  chunks of the document, never neither. If the call fails half way, both sets remain until
  the next replace; nothing old is lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from retrieval.index_contract import (
    COLLECTION,
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
    CheckedPoint,
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

UPSERT_BATCH = 256
OPTIMIZE_TIMEOUT_S = 600.0


def _client_match(match: Match) -> models.FieldCondition:
    value: models.MatchAny | models.MatchValue
    if match.any:
        value = models.MatchAny(any=list(match.values))  # type: ignore[arg-type]
    else:
        value = models.MatchValue(value=match.values[0])
    return models.FieldCondition(key=match.field, match=value)


def client_filter(normal: NormalFilter) -> models.Filter | None:
    """Translate the store's filter to qdrant-client models (None when it has no condition)."""
    if normal.empty:
        return None
    must: list[Any] = [_client_match(m) for m in normal.must]
    must.extend(
        models.FieldCondition(key=field, range=models.Range(gte=rng.gte, lte=rng.lte))
        for field, rng in normal.ranges
    )
    must_not: list[Any] = [_client_match(m) for m in normal.must_not]
    if normal.exclude_ids:
        must_not.append(models.HasIdCondition(has_id=list(normal.exclude_ids)))
    return models.Filter(must=must or None, must_not=must_not or None)


def _sparse(vector: SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _point_struct(point: CheckedPoint) -> models.PointStruct:
    vector: dict[str, Any] = {DENSE_VECTOR: point.dense}
    if point.sparse.indices:
        vector[SPARSE_VECTOR] = _sparse(point.sparse)
    return models.PointStruct(id=point.id, vector=vector, payload=point.payload)


class QdrantClientStore:
    """`IndexStore` over one collection reached through qdrant-client."""

    def __init__(
        self,
        client: QdrantClient,
        collection: str = COLLECTION,
        *,
        shards: int = 1,
        replicas: int = 1,
        remote: bool = False,
        folder_lock: FolderLock | None = None,
    ) -> None:
        self._client = client
        self.collection = collection
        self._shards = shards
        self._replicas = replicas
        self._remote = remote
        self._folder_lock = folder_lock
        self._lock = ReadWriteLock()
        self._dim: int | None = None
        self._closed = False
        if client.collection_exists(collection):
            self._dim = self._collection_dim()

    @classmethod
    def server(
        cls,
        url: str,
        collection: str = COLLECTION,
        *,
        api_key: str | None = None,
        shards: int = 1,
        replicas: int = 1,
        timeout_s: int = 30,
    ) -> QdrantClientStore:
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout_s)
        return cls(client, collection, shards=shards, replicas=replicas, remote=True)

    @classmethod
    def local(cls, folder: Path, collection: str = COLLECTION) -> QdrantClientStore:
        """qdrant-client local mode persisted in `folder` (one process at a time)."""
        lock = FolderLock(folder)
        lock.acquire()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            try:
                client = QdrantClient(path=str(folder))
            except RuntimeError as exc:
                if "already accessed" in str(exc):
                    raise StoreLockedError(f"index folder {folder} is in use: {exc}") from exc
                raise
            return cls(client, collection, folder_lock=lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def in_memory(cls, collection: str = COLLECTION) -> QdrantClientStore:
        return cls(QdrantClient(":memory:"), collection)

    def _collection_dim(self) -> int:
        params = self._client.get_collection(self.collection).config.params
        vectors = params.vectors
        if not isinstance(vectors, dict) or DENSE_VECTOR not in vectors:
            raise CollectionMissingError(
                f"collection {self.collection!r} has no {DENSE_VECTOR!r} vector: not a devia index"
            )
        return int(vectors[DENSE_VECTOR].size)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the index store of collection {self.collection!r} is closed")

    def _require_dim(self) -> int:
        self._check_open()
        if self._dim is None:
            raise CollectionMissingError(
                f"collection {self.collection!r} does not exist yet: ingest documents first "
                f"(devia ingest)"
            )
        return self._dim

    @property
    def dense_dim(self) -> int | None:
        return self._dim

    # -- schema ---------------------------------------------------------------------------

    def ensure_collection(self, dense_dim: int) -> None:
        with self._lock.write():
            if self._dim is None:
                self._client.create_collection(
                    self.collection,
                    vectors_config={
                        DENSE_VECTOR: models.VectorParams(
                            size=dense_dim, distance=models.Distance.COSINE
                        )
                    },
                    sparse_vectors_config={
                        SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                    shard_number=self._shards,
                    replication_factor=self._replicas,
                )
                self._dim = dense_dim
            elif self._dim != dense_dim:
                raise CollectionMissingError(
                    f"collection {self.collection!r} holds {self._dim}-d vectors, not "
                    f"{dense_dim}-d: it was built with another embedding model"
                )
            if not self._remote:
                return  # local mode ignores payload indexes (it scans; it warns if asked)
            existing = set(self._client.get_collection(self.collection).payload_schema)
            for field in KEYWORD_INDEXED:
                if field not in existing:
                    schema: Any = models.KeywordIndexParams(
                        type=models.KeywordIndexType.KEYWORD,
                        is_tenant=field == Payload.SITE,
                        enable_hnsw=field in HNSW_FILTER_FIELDS,
                    )
                    self._client.create_payload_index(self.collection, field, schema, wait=True)
            for field in INTEGER_INDEXED:
                if field not in existing:
                    schema = models.IntegerIndexParams(
                        type=models.IntegerIndexType.INTEGER,
                        lookup=True,
                        range=True,
                        enable_hnsw=field in HNSW_FILTER_FIELDS,
                    )
                    self._client.create_payload_index(self.collection, field, schema, wait=True)

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        structs = [_point_struct(p) for p in check_points(points, self._require_dim())]
        for start in range(0, len(structs), UPSERT_BATCH):
            with self._lock.write():
                self._client.upsert(
                    self.collection, points=structs[start : start + UPSERT_BATCH], wait=True
                )

    def replace(self, old: Filter, points: Sequence[IndexPoint]) -> None:
        """Swap the points matching `old` for `points`; see the module docstring for what
        readers in other processes can observe against a server."""
        structs = [_point_struct(p) for p in check_points(points, self._require_dim())]
        selector = client_filter(
            normalize_selector(old, "replace", exclude_ids=[str(s.id) for s in structs])
        )
        assert selector is not None
        operations: list[Any] = []
        if structs:
            operations.append(models.UpsertOperation(upsert=models.PointsList(points=structs)))
        operations.append(models.DeleteOperation(delete=models.FilterSelector(filter=selector)))
        with self._lock.write():
            self._client.batch_update_points(
                self.collection,
                operations,
                wait=True,
                ordering=models.WriteOrdering.STRONG if self._remote else None,
            )

    def delete(self, flt: Filter) -> None:
        self._require_dim()
        selector = client_filter(normalize_selector(flt, "delete"))
        assert selector is not None
        with self._lock.write():
            self._client.delete(
                self.collection, points_selector=models.FilterSelector(filter=selector), wait=True
            )

    def flush(self) -> None:
        """Writes are acknowledged with `wait=True`: the server's WAL has them, and local mode
        persists each write before returning. Nothing is buffered here."""

    def optimize(self) -> None:
        """Server: wait until the collection is optimized (status green). Local mode has no
        index to build (brute force), so there is nothing to wait for."""
        if not self._remote or self._dim is None:
            return
        deadline = time.monotonic() + OPTIMIZE_TIMEOUT_S
        while self._client.get_collection(self.collection).status != models.CollectionStatus.GREEN:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"collection {self.collection!r} not optimized after {OPTIMIZE_TIMEOUT_S} s"
                )
            time.sleep(0.5)

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
        dim = self._require_dim()
        dense_query = check_dense(dense, dim, "query") if dense is not None else None
        sparse_query = _sparse(check_sparse(sparse, "query")) if sparse and sparse.indices else None
        mode = effective_mode(mode, dense_query is not None, sparse_query is not None)
        query_filter = client_filter(normalize_filter(flt))

        with self._lock.read():
            if mode is SearchMode.HYBRID:
                assert dense_query is not None and sparse_query is not None
                width = max(prefetch_limit, limit)
                response = self._client.query_points(
                    self.collection,
                    prefetch=[
                        models.Prefetch(
                            query=dense_query, using=DENSE_VECTOR, filter=query_filter, limit=width
                        ),
                        models.Prefetch(
                            query=sparse_query,
                            using=SPARSE_VECTOR,
                            filter=query_filter,
                            limit=width,
                        ),
                    ],
                    query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                    query_filter=query_filter,
                    limit=limit,
                    with_payload=True,
                )
                hits = response.points
                dense_scores, sparse_scores = (
                    self._component_scores(hits, dense_query, sparse_query)
                    if hits and component_scores
                    else ({}, {})
                )
            else:
                response = self._client.query_points(
                    self.collection,
                    query=dense_query if mode is SearchMode.DENSE else sparse_query,
                    using=DENSE_VECTOR if mode is SearchMode.DENSE else SPARSE_VECTOR,
                    query_filter=query_filter,
                    limit=limit,
                    with_payload=True,
                )
                hits = response.points
        results = []
        for hit in hits:
            point_id = str(hit.id)
            if mode is SearchMode.DENSE:
                dense_score, sparse_score = hit.score, None
            elif mode is SearchMode.SPARSE:
                dense_score, sparse_score = None, hit.score
            else:
                dense_score, sparse_score = dense_scores.get(point_id), sparse_scores.get(point_id)
            results.append(
                ScoredPoint(
                    point_id, hit.score, payload_dict(hit.payload), dense_score, sparse_score
                )
            )
        return results

    def _component_scores(
        self,
        hits: list[models.ScoredPoint],
        dense_query: list[float],
        sparse_query: models.SparseVector,
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Dense and sparse scores of the fused hits: the two queries restricted to the hit
        ids (a tiny exact search), run as one batch."""
        only_hits = models.Filter(must=[models.HasIdCondition(has_id=[h.id for h in hits])])
        # Local mode is always exact (and warns about search params).
        exact = models.SearchParams(exact=True) if self._remote else None
        requests = [
            models.QueryRequest(
                query=query, using=using, filter=only_hits, limit=len(hits), params=exact
            )
            for query, using in ((dense_query, DENSE_VECTOR), (sparse_query, SPARSE_VECTOR))
        ]
        dense_resp, sparse_resp = self._client.query_batch_points(self.collection, requests)
        return (
            {str(h.id): h.score for h in dense_resp.points},
            {str(h.id): h.score for h in sparse_resp.points},
        )

    def count(self, flt: Filter | None = None) -> int:
        self._check_open()
        if self._dim is None:
            return 0
        query_filter = client_filter(normalize_filter(flt))
        with self._lock.read():
            return self._client.count(self.collection, count_filter=query_filter, exact=True).count

    def scroll(self, flt: Filter | None = None, batch_size: int = 256) -> Iterator[ScoredPoint]:
        self._check_open()
        if self._dim is None:
            return
        query_filter = client_filter(normalize_filter(flt))
        offset: Any = None
        while True:
            with self._lock.read():
                records, offset = self._client.scroll(
                    self.collection,
                    scroll_filter=query_filter,
                    limit=batch_size,
                    offset=offset,
                    with_payload=True,
                )
            for record in records:
                yield ScoredPoint(str(record.id), 0.0, payload_dict(record.payload))
            if offset is None:
                return

    def export_points(self, batch_size: int = 256) -> Iterator[IndexPoint]:
        """Every point with its vectors and payload, in batches (to copy the index elsewhere)."""
        self._check_open()
        if self._dim is None:
            return
        offset: Any = None
        while True:
            with self._lock.read():
                records, offset = self._client.scroll(
                    self.collection,
                    limit=batch_size,
                    offset=offset,
                    with_payload=True,
                    with_vectors=True,
                )
            for record in records:
                vectors: dict[str, Any] = record.vector if isinstance(record.vector, dict) else {}
                sparse = vectors.get(SPARSE_VECTOR)
                yield IndexPoint(
                    id=str(record.id),
                    dense=[float(x) for x in vectors[DENSE_VECTOR]],
                    sparse=SparseVector((), ())
                    if sparse is None
                    else SparseVector(tuple(sparse.indices), tuple(sparse.values)),
                    payload=payload_dict(record.payload),
                )
            if offset is None:
                return

    def layout(self) -> dict[str, int | None]:
        """Shard count and replication factor as the engine reports them: a server applies
        what `ensure_collection` asked for; local mode has no shards and reports None."""
        self._require_dim()
        params = self._client.get_collection(self.collection).config.params
        return {
            "shard_number": params.shard_number,
            "replication_factor": params.replication_factor,
        }

    def retrieve(self, ids: Sequence[str]) -> list[ScoredPoint]:
        self._check_open()
        if self._dim is None or not ids:
            return []
        wanted = [check_point_id(i) for i in ids]
        with self._lock.read():
            records = self._client.retrieve(self.collection, ids=wanted, with_payload=True)
        found = {str(r.id): r for r in records}
        return [ScoredPoint(i, 0.0, payload_dict(found[i].payload)) for i in wanted if i in found]

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock.write():
            if self._closed:
                return
            self._closed = True
            self._client.close()
            if self._folder_lock is not None:
                self._folder_lock.release()

    def __enter__(self) -> QdrantClientStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
