"""Questions about one investigation or across the index, answered with checked citations.

Whether there is anything to answer from is decided by retrieval, not by the model: when no
retrieved chunk is relevant enough (dense similarity or keyword coverage of the question), the
answer is "Not found in the indexed documents." and the model is not called. Otherwise the
answer streams (`ChatModel.stream`); each sentence cites a source as [S2]; afterwards the quote
for each citation is taken verbatim from the cited chunk (the sentence sharing most words with
the answer sentence) and the verifier checks that it backs the sentence. An answer none of
whose sentences verify is marked unsupported, never presented as found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.llm import ChatModel, Message, assistant, system, user
from assistant.prompts import load_prompt
from assistant.verification.models import (
    ChunkPayload,
    ChunkStatus,
    CitationRef,
    DraftStatement,
)
from assistant.verification.verifier import StatementVerifier
from retrieval.search import Searcher, SearchRequest

NOT_FOUND = "Not found in the indexed documents."
UNSUPPORTED_NOTE = (
    "\n\n[unsupported: the sources found do not back this answer; treat it as not found in "
    "the indexed documents]"
)
_MARK = re.compile(r"\[S(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
_STOP = frozenset(
    "a an the of to in on at for and or is are was were be by with what which who when where "
    "how why does did do this that these those it its from as any there their".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def coverage(question: str, text: str) -> float:
    """Share of the question's content words found in `text`."""
    wanted = content_words(question)
    return len(wanted & content_words(text)) / len(wanted) if wanted else 0.0


@dataclass(frozen=True)
class Source:
    sid: str  # S1, S2, ...
    chunk_id: str
    doc_id: str
    doc_type: str
    revision: str | None
    status: str | None
    page: int | None
    section_id: str | None
    text: str
    relevance: float


@dataclass
class ChatCitation:
    sid: str
    chunk_id: str
    doc_id: str
    revision: str | None
    page: int | None
    section_id: str | None
    quote: str
    verdict: str
    reasons: list[str]


@dataclass
class ChatAnswer:
    question: str
    text: str
    verdict: str  # answered | not_found | unsupported
    citations: list[ChatCitation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    model: dict[str, Any] | None = None


class ChatStream:
    """Text chunks as they arrive; `result` once iteration ended."""

    def __init__(self, chunks: Iterator[str], finish: Any) -> None:
        self._chunks = chunks
        self._finish = finish
        self._parts: list[str] = []
        self._result: ChatAnswer | None = None

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            self._parts.append(chunk)
            yield chunk
        self._result = self._finish("".join(self._parts))
        tail = self._result.text[len("".join(self._parts)) :]
        if tail:
            yield tail

    @property
    def result(self) -> ChatAnswer:
        if self._result is None:
            for _ in self:
                pass
        assert self._result is not None
        return self._result


class ChatService:
    def __init__(
        self,
        model: ChatModel,
        searcher: Searcher,
        verifier: StatementVerifier,
        *,
        limit: int = 5,
        min_relevance: float = 0.5,
        snippet_chars: int = 600,
        max_tokens: int = 200,
    ) -> None:
        self._model = model
        self._searcher = searcher
        self._verifier = verifier
        self._limit = limit
        self._min_relevance = min_relevance
        self._snippet_chars = snippet_chars
        self._max_tokens = max_tokens

    def sources(
        self, question: str, sites: Sequence[str], investigation: dict[str, Any] | None = None
    ) -> list[Source]:
        """Relevant chunks: the investigation's own evidence first, then the site's index."""
        candidates: list[Source] = []
        for item in (investigation or {}).get("evidence", {}).get("items", []):
            relevance = coverage(question, item["text"])
            candidates.append(
                Source(
                    "",
                    item["chunk_id"],
                    item["doc_id"],
                    item["doc_type"],
                    item.get("revision"),
                    item.get("status"),
                    item.get("page"),
                    item.get("section_id"),
                    item["text"],
                    relevance,
                )
            )
        hits = self._searcher.search(SearchRequest(question, sites=sites, limit=self._limit)).hits
        for hit in hits:
            relevance = max(hit.dense_score or 0.0, coverage(question, hit.text))
            candidates.append(
                Source(
                    "",
                    hit.chunk_id,
                    hit.doc_id,
                    hit.doc_type,
                    hit.revision,
                    hit.status,
                    hit.page_start,
                    hit.section_id,
                    hit.text,
                    relevance,
                )
            )
        seen: set[str] = set()
        chosen: list[Source] = []
        for source in sorted(candidates, key=lambda s: -s.relevance):
            if source.relevance < self._min_relevance or source.chunk_id in seen:
                continue
            if source.status == ChunkStatus.superseded.value:
                continue
            seen.add(source.chunk_id)
            chosen.append(source)
        return [
            Source(f"S{i}", *[getattr(s, f) for f in list(Source.__dataclass_fields__)[1:]])
            for i, s in enumerate(chosen[: self._limit], start=1)
        ]

    def ask(
        self,
        question: str,
        sites: Sequence[str],
        *,
        investigation: dict[str, Any] | None = None,
        history: Sequence[Message] = (),
    ) -> ChatStream:
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        sources = self.sources(question, sites, investigation)
        if not sources:
            answer = ChatAnswer(question, NOT_FOUND, "not_found", sources=[])
            return ChatStream(iter([NOT_FOUND]), lambda _text: answer)
        messages = self._messages(question, sources, investigation, history)
        stream = self._model.stream(messages, max_tokens=self._max_tokens)
        return ChatStream(iter(stream), lambda text: self._finish(question, text, sources))

    def _messages(
        self,
        question: str,
        sources: list[Source],
        investigation: dict[str, Any] | None,
        history: Sequence[Message],
    ) -> list[Message]:
        blocks = []
        for s in sources:
            text = " ".join(s.text.split())[: self._snippet_chars]
            where = ", ".join(
                x
                for x in (
                    s.doc_id,
                    f"rev {s.revision}" if s.revision else "",
                    f"section {s.section_id}" if s.section_id else "",
                )
                if x
            )
            blocks.append(f"[{s.sid}] {s.doc_type}: {where}\n<<<{text}>>>")
        context = ""
        if investigation and investigation.get("anomaly"):
            a = investigation["anomaly"]
            context = f"Investigation of event {a['event_id']}: {a['description']}\n"
        prompt = load_prompt("chat_question").render(
            context=context, sources="\n\n".join(blocks), question=question
        )
        past = [m for m in history if m["role"] in ("user", "assistant")][-4:]
        turns = [
            user(m["content"]) if m["role"] == "user" else assistant(m["content"]) for m in past
        ]
        return [system(load_prompt("chat_system").render()), *turns, user(prompt)]

    def _finish(self, question: str, text: str, sources: list[Source]) -> ChatAnswer:
        by_sid = {s.sid: s for s in sources}
        if text.strip().rstrip(".").lower() == NOT_FOUND.rstrip(".").lower():
            return ChatAnswer(
                question, text, "not_found", sources=sources, model=self._model.info.as_dict()
            )
        statements: list[DraftStatement] = []
        pairs: list[tuple[str, Source, str]] = []
        for sentence in (s.strip() for s in _SENTENCE.split(text) if s.strip()):
            cited = [by_sid[f"S{n}"] for n in _MARK.findall(sentence) if f"S{n}" in by_sid]
            claim = _MARK.sub("", sentence).strip()
            for source in cited:
                quote = best_sentence(source.text, claim)
                pairs.append((claim, source, quote))
                statements.append(
                    DraftStatement(
                        statement_id=str(len(statements)),
                        text=claim or "(empty)",
                        citations=[CitationRef(chunk_id=source.chunk_id, quote_span=quote)],
                    )
                )
        chunks = {
            s.chunk_id: ChunkPayload(
                chunk_id=s.chunk_id,
                text=s.text,
                doc_id=s.doc_id,
                revision=s.revision,
                page=s.page,
                section=s.section_id,
            )
            for s in sources
        }
        report = self._verifier.verify(statements, chunks, retrieved_ids=set(chunks))
        citations = [
            ChatCitation(
                source.sid,
                source.chunk_id,
                source.doc_id,
                source.revision,
                source.page,
                source.section_id,
                quote,
                check.verdict.value,
                check.reasons,
            )
            for (_, source, quote), check in zip(pairs, report.statements, strict=True)
        ]
        if any(c.verdict == "verified" for c in citations):
            return ChatAnswer(
                question, text, "answered", citations, sources, self._model.info.as_dict()
            )
        return ChatAnswer(
            question,
            text + UNSUPPORTED_NOTE,
            "unsupported",
            citations,
            sources,
            self._model.info.as_dict(),
        )


def best_sentence(chunk_text: str, claim: str) -> str:
    """The chunk sentence sharing most content words with the claim (verbatim)."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", chunk_text) if s.strip()]
    if not sentences:
        return chunk_text[:200]
    words = content_words(claim)
    return max(sentences, key=lambda s: len(words & content_words(s)))
