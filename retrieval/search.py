"""Hybrid search over the index: the one way the assistant, the API and the CLI query it.

A `SearchRequest` carries the query text, the caller's site scope and optional filters; the
`Searcher` embeds the text (dense with the given `Embedder`, sparse with
`retrieval.sparse.query_vector`), runs one filtered query in the engine and returns
`SearchHit`s with their citation fields and scores.

The site scope is the tenant boundary: it is a required field of the request, set by the
caller from the authenticated user's permissions, always sent to the engine as a filter, and
never read from the query text.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from retrieval.embedding import Embedder
from retrieval.index_contract import DocType, Payload, RevisionStatus
from retrieval.sparse import query_vector
from retrieval.store.base import Filter, IndexStore, Range, ScoredPoint, SearchMode

MAX_QUERY_CHARS = 20_000
MAX_LIMIT = 100
GROUP_CANDIDATES_PER_HIT = 5  # with grouping, fetch this many chunks per wanted document


class SearchRequestError(ValueError):
    """A search request that cannot be run as asked (empty text, no site scope, ...)."""


def _strings(values: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise SearchRequestError(f"{what} must be a list of strings, not one string")
    cleaned = tuple(v.strip() for v in values)
    if any(not v for v in cleaned):
        raise SearchRequestError(f"{what} contains an empty value")
    return cleaned


@dataclass(frozen=True)
class SearchRequest:
    """What to search for, where the caller may look, and how to narrow it.

    `sites` is required: the sites the caller may see (tenant scope). `date_from`/`date_to`
    (inclusive) filter on the event date of records (deviations, CAPAs, batch-record steps):
    documents without an event date, such as SOPs, are left out when a date bound is given.
    Superseded revisions are left out unless `include_superseded`. `component_scores` adds
    each hybrid hit's dense and sparse scores at the price of a second engine query.
    """

    text: str
    sites: Sequence[str]
    doc_types: Sequence[DocType | str] = ()
    products: Sequence[str] = ()
    equipment: Sequence[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    include_superseded: bool = False
    limit: int = 10
    mode: SearchMode = SearchMode.HYBRID
    group_by_document: bool = False
    component_scores: bool = False  # hybrid: also the dense and sparse score of each hit

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise SearchRequestError("query text is empty")
        if len(self.text) > MAX_QUERY_CHARS:
            raise SearchRequestError(
                f"query text has {len(self.text)} characters; the limit is {MAX_QUERY_CHARS}"
            )
        sites = _strings(self.sites, "sites")
        if not sites:
            raise SearchRequestError("a site scope is required: the sites the caller may see")
        object.__setattr__(self, "sites", sites)
        try:
            doc_types = tuple(DocType(t) for t in self.doc_types)
        except ValueError as exc:
            allowed = ", ".join(t.value for t in DocType)
            raise SearchRequestError(f"{exc}; document types are: {allowed}") from exc
        object.__setattr__(self, "doc_types", doc_types)
        object.__setattr__(self, "products", _strings(self.products, "products"))
        object.__setattr__(self, "equipment", _strings(self.equipment, "equipment"))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SearchRequestError(f"date range is empty: {self.date_from} > {self.date_to}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchRequestError(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        object.__setattr__(self, "mode", SearchMode(self.mode))


@dataclass(frozen=True)
class SearchHit:
    """One chunk found, with what a citation needs. With `group_by_document`, the best chunk
    of its document revision, and `chunks_in_document` the number of its chunks among the
    candidates."""

    chunk_id: str
    doc_id: str
    doc_type: str
    revision: str | None
    title: str | None
    site: str
    status: str | None
    page_start: int | None
    page_end: int | None
    section_path: tuple[str, ...]
    section_id: str | None
    chunk_kind: str | None
    text: str
    event_date: str | None
    score: float  # fused RRF score in hybrid mode, else the mode's own score
    dense_score: float | None  # hybrid: only with `component_scores`
    sparse_score: float | None
    record: Mapping[str, Any] | None = None
    chunks_in_document: int = 1

    @property
    def pages(self) -> str:
        if self.page_start is None:
            return ""
        if self.page_end is None or self.page_end == self.page_start:
            return str(self.page_start)
        return f"{self.page_start}-{self.page_end}"


@dataclass(frozen=True)
class SearchResult:
    request: SearchRequest
    hits: list[SearchHit]
    embed_ms: float
    search_ms: float
    candidates: int = field(default=0)  # chunks the engine returned before grouping


def _day_start_ts(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def build_filter(request: SearchRequest) -> Filter:
    """The engine-side filter of a request; the site scope is always part of it."""
    must: dict[str, Any] = {Payload.SITE: list(request.sites)}
    if request.doc_types:
        must[Payload.DOC_TYPE] = [str(t) for t in request.doc_types]
    if request.products:
        must[Payload.PRODUCTS] = list(request.products)
    if request.equipment:
        must[Payload.EQUIPMENT] = list(request.equipment)
    must_not: dict[str, Any] = {}
    if not request.include_superseded:
        # must_not rather than must: records that carry no status are current by nature
        must_not[Payload.STATUS] = RevisionStatus.SUPERSEDED.value
    ranges: dict[str, Range] = {}
    if request.date_from or request.date_to:
        ranges[Payload.EVENT_TS] = Range(
            gte=_day_start_ts(request.date_from) if request.date_from else None,
            lte=(
                _day_start_ts(request.date_to + timedelta(days=1)) - 1 if request.date_to else None
            ),
        )
    return Filter(must=must, must_not=must_not, ranges=ranges)


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def to_hit(point: ScoredPoint, chunks_in_document: int = 1) -> SearchHit:
    p = point.payload
    section_path = p.get(Payload.SECTION_PATH) or ()
    record = p.get(Payload.RECORD)
    return SearchHit(
        chunk_id=point.id,
        doc_id=str(p.get(Payload.DOC_ID, "")),
        doc_type=str(p.get(Payload.DOC_TYPE, "")),
        revision=_optional_str(p.get(Payload.REVISION)),
        title=_optional_str(p.get(Payload.TITLE)),
        site=str(p.get(Payload.SITE, "")),
        status=_optional_str(p.get(Payload.STATUS)),
        page_start=_optional_int(p.get(Payload.PAGE_START)),
        page_end=_optional_int(p.get(Payload.PAGE_END)),
        section_path=tuple(str(s) for s in section_path),
        section_id=_optional_str(p.get(Payload.SECTION_ID)),
        chunk_kind=_optional_str(p.get(Payload.CHUNK_KIND)),
        text=str(p.get(Payload.TEXT, "")),
        event_date=_optional_str(p.get(Payload.EVENT_DATE)),
        score=point.score,
        dense_score=point.dense_score,
        sparse_score=point.sparse_score,
        record=record if isinstance(record, Mapping) else None,
        chunks_in_document=chunks_in_document,
    )


def group_by_document(points: Sequence[ScoredPoint], limit: int) -> list[SearchHit]:
    """Best chunk per document revision (points arrive best first), with its chunk count."""
    best: dict[tuple[str, str, str], ScoredPoint] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for point in points:
        p = point.payload
        key = (str(p.get(Payload.SITE)), str(p.get(Payload.DOC_ID)), str(p.get(Payload.REVISION)))
        counts[key] = counts.get(key, 0) + 1
        best.setdefault(key, point)
    return [to_hit(point, counts[key]) for key, point in list(best.items())[:limit]]


class Searcher:
    """Runs `SearchRequest`s against one store with one embedder (both thread-safe).
    Without an embedder only SPARSE (keyword) requests can run."""

    def __init__(
        self, store: IndexStore, embedder: Embedder | None, *, prefetch_limit: int = 100
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._prefetch_limit = prefetch_limit

    def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        dense = None
        if request.mode is not SearchMode.SPARSE:
            if self._embedder is None:
                raise SearchRequestError(f"{request.mode} search needs an embedding model")
            dense = self._embedder.embed([request.text])[0].tolist()
        sparse = None if request.mode is SearchMode.DENSE else query_vector(request.text)
        embedded = time.perf_counter()
        wanted = request.limit
        if request.group_by_document:
            wanted = min(request.limit * GROUP_CANDIDATES_PER_HIT, self._prefetch_limit)
        points = self._store.search(
            dense,
            sparse,
            build_filter(request),
            limit=max(wanted, request.limit),
            mode=request.mode,
            prefetch_limit=self._prefetch_limit,
            component_scores=request.component_scores,
        )
        if request.group_by_document:
            hits = group_by_document(points, request.limit)
        else:
            hits = [to_hit(p) for p in points]
        finished = time.perf_counter()
        return SearchResult(
            request=request,
            hits=hits,
            embed_ms=(embedded - started) * 1000,
            search_ms=(finished - embedded) * 1000,
            candidates=len(points),
        )
