"""The text behind a citation, fetched from the evidence index within the reader's scope.

The cited chunk is found by searching the index for its own quote (scoped server-side to the
investigation's site plus the shared reference site, superseded revisions included: a draft
may cite a revision that has since been replaced) and keeping the hit with the cited chunk id.
A chunk outside the scope is never returned, whatever the draft says.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.evidence import EvidenceIndex, readable_sites
from api.web.draft_view import CitationView
from retrieval.search import SearchRequest, SearchRequestError

LOOKUP_LIMIT = 20


@dataclass(frozen=True)
class SourceText:
    text: str
    doc_id: str
    revision: str | None
    title: str | None
    status: str | None
    pages: str


def find_source(
    index: EvidenceIndex | None, citation: CitationView, investigation_site: str
) -> SourceText | None:
    if index is None or not citation.chunk_id:
        return None
    query = citation.quote or citation.doc_id
    if not query.strip():
        return None
    try:
        request = SearchRequest(
            query[:2000],
            sites=readable_sites([investigation_site]),
            include_superseded=True,
            limit=LOOKUP_LIMIT,
        )
    except SearchRequestError:
        return None
    for hit in index.search(request).hits:
        if hit.chunk_id == citation.chunk_id:
            return SourceText(
                text=hit.text,
                doc_id=hit.doc_id,
                revision=hit.revision,
                title=hit.title,
                status=hit.status,
                pages=hit.pages,
            )
    return None
