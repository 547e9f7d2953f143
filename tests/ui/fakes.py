"""TEST FAKES for the UI tests: a cited draft, a tiny evidence index, a streaming chat responder.

The draft is the deterministic test draft of tests/api with agent-shaped cited statements
added (citations into the in-memory corpus below, one statement the verifier rejected, similar
records), so the pages render what the real agent stores. Never used by the app itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from api.jobs.protocols import ChatRequest, DraftRequest, DraftResult
from retrieval.search import SearchHit, SearchRequest, SearchResult
from retrieval.similar import EventQuery, SimilarResult
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner

SOP_CHUNK = "sop-gr-001-r3-c7"
SOP_TEXT = (
    "6.3 Drying. Start the fluid bed dryer with the inlet air temperature set to 60 C. "
    "The inlet air temperature must stay between 55 C and 65 C during drying. "
    "Record any excursion in the batch record and inform QA."
)
SOP_QUOTE = "The inlet air temperature must stay between 55 C and 65 C during drying."
OTHER_SITE_CHUNK = "sop-b-secret-c1"
CORPUS: dict[str, dict[str, Any]] = {
    SOP_CHUNK: {
        "doc_id": "SOP-GR-001",
        "doc_type": "SOP",
        "revision": "3",
        "title": "Operation of fluid bed granulator GR-201",
        "site": "SITE-A",
        "page": 4,
        "section_id": "6.3",
        "text": SOP_TEXT,
    },
    OTHER_SITE_CHUNK: {
        "doc_id": "SOP-B-SECRET",
        "doc_type": "SOP",
        "revision": "1",
        "title": "Other client's procedure",
        "site": "SITE-B",
        "page": 1,
        "section_id": "1",
        "text": "CANARY-B-7731 inlet air temperature between 55 C and 65 C.",
    },
}


def _citation(chunk_id: str, quote: str) -> dict[str, Any]:
    doc = CORPUS[chunk_id]
    start = doc["text"].find(quote)
    return {
        "chunk_id": chunk_id,
        "doc_id": doc["doc_id"],
        "doc_version": doc["revision"],
        "doc_type": doc["doc_type"],
        "section_or_step": doc["section_id"],
        "page": doc["page"],
        "quote_span": quote,
        "quote_start": start if start >= 0 else None,
        "quote_end": start + len(quote) if start >= 0 else None,
        "quote_found": start >= 0,
    }


class CitedDraftRunner:
    """The deterministic test draft with verified and unsupported cited statements."""

    def __init__(self) -> None:
        self._base = FakeDeterministicDraftRunner()

    def draft(self, request: DraftRequest) -> DraftResult:
        result = self._base.draft(request)
        content = result.content
        description = str(request.payload.get("description", ""))
        content["event_description"]["statements"] = [
            {
                "text": "The inlet air temperature limits for drying are 55 C to 65 C.",
                "citations": [_citation(SOP_CHUNK, SOP_QUOTE)],
                "check": {"verdict": "verified", "reasons": [], "support_score": 0.93},
            },
            {
                "text": f"Operators reported: {description}",
                "citations": [_citation(SOP_CHUNK, "Record any excursion in the batch record")],
                "check": {"verdict": "verified", "reasons": [], "support_score": 0.71},
            },
            {
                "text": "The dryer filter was blocked for two hours.",
                "citations": [_citation(SOP_CHUNK, "inform QA")],
                "check": {
                    "verdict": "unsupported",
                    "reasons": ["the quote does not mention the filter"],
                    "support_score": 0.12,
                },
                "flag": "unsupported: needs investigator input",
            },
        ]
        content["history_and_recurrence"] = {
            "similar_records": [
                {
                    "record_id": "DEV-2025-0101",
                    "type": "deviation",
                    "similarity": 0.82,
                    "occurred_at": "2025-03-02",
                    "title": "Inlet air over-temperature on GR-201",
                    "shared_factors": ["same equipment GR-201", "same parameter"],
                    "failure_mode": "heater controller drift",
                    "capa_ids": ["CAPA-2025-0040"],
                    "capa_effective": "no",
                }
            ],
            "recurrence_determination": "related_different_cause",
            "recurrence_counts": {"similar_found": 1, "same_equipment": 1},
            "statements": [],
        }
        return DraftResult(content=content, provenance=result.provenance)


def _hit(chunk_id: str, score: float) -> SearchHit:
    doc = CORPUS[chunk_id]
    return SearchHit(
        chunk_id=chunk_id,
        doc_id=doc["doc_id"],
        doc_type=doc["doc_type"],
        revision=doc["revision"],
        title=doc["title"],
        site=doc["site"],
        status="effective",
        page_start=doc["page"],
        page_end=doc["page"],
        section_path=(doc["section_id"],),
        section_id=doc["section_id"],
        chunk_kind="text",
        text=doc["text"],
        event_date=None,
        score=score,
        dense_score=None,
        sparse_score=None,
    )


class FakeEvidence:
    """Word-overlap search over CORPUS, honouring the request's site scope like the real index."""

    def __init__(self) -> None:
        self.requests: list[SearchRequest] = []

    def search(self, request: SearchRequest) -> SearchResult:
        self.requests.append(request)
        words = set(request.text.lower().split())
        hits = []
        for chunk_id, doc in CORPUS.items():
            if doc["site"] not in request.sites:
                continue
            overlap = len(words & set(doc["text"].lower().split()))
            if overlap:
                hits.append(_hit(chunk_id, overlap / max(1, len(words))))
        hits.sort(key=lambda h: -h.score)
        return SearchResult(request, hits[: request.limit], embed_ms=0.1, search_ms=0.1)

    def similar(self, query: EventQuery, limit: int) -> SimilarResult:
        # The UI tests' drafts carry their own similar records; no history in this index.
        return SimilarResult(query=query, events=[], failure_modes=[], candidates=0)


class StreamingEchoResponder:
    """Streams a cited answer word by word (with pauses, so streaming is observable); the
    question is echoed so the tests can check it is shown as text."""

    def __init__(self, pause_s: float = 0.12) -> None:
        self.pause_s = pause_s
        self.questions: list[str] = []

    def _text(self, request: ChatRequest) -> str:
        question = request.history[-1].content
        self.questions.append(question)
        return (
            f"You asked: {question}. The inlet air temperature must stay between 55 C and "
            f"65 C during drying [S1].\n"
            f'[S1] SOP-GR-001 rev 3 §6.3 p.4 (verified): "{SOP_QUOTE}"'
        )

    def stream(self, request: ChatRequest) -> Iterator[str]:
        words: Sequence[str] = self._text(request).split(" ")
        for i, word in enumerate(words):
            time.sleep(self.pause_s if i < 8 else 0.0)
            yield word if i == 0 else " " + word

    def answer(self, request: ChatRequest) -> str:
        return self._text(request)
