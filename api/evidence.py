"""The read-only evidence index the search and similar-event endpoints use.

The API process owns the index (Qdrant Edge locks its folder to one process), so the same
searcher the agent uses answers interactive searches. Every request is scoped server-side to
the caller's sites plus the shared reference site; the request body never widens it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ingestion.model import SHARED_SITE
from retrieval.search import Searcher, SearchRequest, SearchResult
from retrieval.similar import EventQuery, SimilarEventFinder, SimilarResult


class EvidenceIndex(Protocol):
    def search(self, request: SearchRequest) -> SearchResult: ...

    def similar(self, query: EventQuery, limit: int) -> SimilarResult: ...


@dataclass(frozen=True)
class IndexEvidence:
    searcher: Searcher
    finder: SimilarEventFinder

    def search(self, request: SearchRequest) -> SearchResult:
        return self.searcher.search(request)

    def similar(self, query: EventQuery, limit: int) -> SimilarResult:
        return self.finder.find(query, limit=limit)


def readable_sites(own_sites: Iterable[str]) -> tuple[str, ...]:
    """The sites a user may read: their own and the shared reference documents (ICH, FDA)."""
    return (*sorted(set(own_sites) - {SHARED_SITE}), SHARED_SITE)
