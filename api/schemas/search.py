"""Response bodies of the search and similar-event endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from retrieval.failure_modes import FailureModeSuggestion
from retrieval.search import SearchHit, SearchResult
from retrieval.similar import SimilarEvent, SimilarResult


class SearchHitOut(BaseModel):
    chunk_id: str
    doc_id: str
    doc_type: str
    revision: str | None
    title: str | None
    site: str
    status: str | None
    page_start: int | None
    page_end: int | None
    section_path: list[str]
    section_id: str | None
    text: str
    event_date: str | None
    score: float
    chunks_in_document: int

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(
            chunk_id=hit.chunk_id,
            doc_id=hit.doc_id,
            doc_type=hit.doc_type,
            revision=hit.revision,
            title=hit.title,
            site=hit.site,
            status=hit.status,
            page_start=hit.page_start,
            page_end=hit.page_end,
            section_path=list(hit.section_path),
            section_id=hit.section_id,
            text=hit.text,
            event_date=hit.event_date,
            score=hit.score,
            chunks_in_document=hit.chunks_in_document,
        )


class SearchOut(BaseModel):
    query: str
    sites: list[str]
    hits: list[SearchHitOut]
    embed_ms: float
    search_ms: float

    @classmethod
    def of(cls, result: SearchResult) -> SearchOut:
        return cls(
            query=result.request.text,
            sites=list(result.request.sites),
            hits=[SearchHitOut.of(hit) for hit in result.hits],
            embed_ms=round(result.embed_ms, 2),
            search_ms=round(result.search_ms, 2),
        )


class SimilarEventOut(BaseModel):
    doc_id: str
    doc_type: str
    site: str
    title: str | None
    event_date: str | None
    failure_mode: str | None
    equipment: list[str]
    products: list[str]
    capa_ids: list[str]
    text: str
    chunk_id: str
    shared_factors: list[str]
    score: float
    scores: dict[str, float | None]

    @classmethod
    def of(cls, event: SimilarEvent) -> SimilarEventOut:
        return cls(
            doc_id=event.doc_id,
            doc_type=event.doc_type,
            site=event.site,
            title=event.title,
            event_date=event.event_date,
            failure_mode=event.failure_mode,
            equipment=list(event.equipment),
            products=list(event.products),
            capa_ids=list(event.capa_ids),
            text=event.text,
            chunk_id=event.chunk_id,
            shared_factors=list(event.shared_factors),
            score=event.scores.final,
            scores=dict(vars(event.scores)),
        )


class FailureModeOut(BaseModel):
    failure_mode: str
    score: float
    neighbours: int

    @classmethod
    def of(cls, suggestion: FailureModeSuggestion) -> FailureModeOut:
        return cls(
            failure_mode=suggestion.failure_mode,
            score=suggestion.score,
            neighbours=suggestion.neighbours,
        )


class SimilarOut(BaseModel):
    query: str
    sites: list[str]
    events: list[SimilarEventOut]
    failure_modes: list[FailureModeOut]
    timings_ms: dict[str, float]

    @classmethod
    def of(cls, result: SimilarResult) -> SimilarOut:
        return cls(
            query=result.query.text,
            sites=list(result.query.sites),
            events=[SimilarEventOut.of(event) for event in result.events],
            failure_modes=[FailureModeOut.of(s) for s in result.failure_modes],
            timings_ms=dict(result.timings_ms),
        )
