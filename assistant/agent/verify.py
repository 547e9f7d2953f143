"""Check every drafted statement against the evidence it cites (assistant.verification).

A citation must resolve to a chunk retrieved for this investigation, of an effective revision,
and its quote must be found in the chunk text; the cited text must support the statement.
Results are written into each statement (`check`, quote offsets) and summarised per section.
"""

from __future__ import annotations

from typing import Any

from assistant.agent.evidence import EvidenceSet
from assistant.agent.report import UNSUPPORTED_MARK, iter_statements
from assistant.verification.models import (
    ChunkPayload,
    ChunkStatus,
    CitationRef,
    DraftStatement,
    VerificationReport,
)
from assistant.verification.verifier import StatementVerifier


def chunk_payloads(ev: EvidenceSet) -> dict[str, ChunkPayload]:
    statuses = {s.value for s in ChunkStatus}
    return {
        item.chunk_id: ChunkPayload(
            chunk_id=item.chunk_id,
            text=item.text,
            doc_id=item.doc_id,
            revision=item.revision,
            status=ChunkStatus(item.status) if item.status in statuses else ChunkStatus.effective,
            page=item.page,
            section=item.section_id,
        )
        for item in ev.items
    }


def verify_sections(
    sections: dict[str, dict[str, Any]], ev: EvidenceSet, verifier: StatementVerifier
) -> tuple[dict[str, dict[str, Any]], VerificationReport]:
    """Verify the statements of every section record; returns updated copies and the report."""
    updated = {name: _copy(record) for name, record in sections.items()}
    found: list[tuple[str, dict[str, Any]]] = []
    for name, record in updated.items():
        found.extend((name, st) for _, st in iter_statements({name: record.get("content") or {}}))
    drafts = [
        DraftStatement(
            statement_id=f"{name}#{i}",
            text=st["text"] or "(empty)",
            section=name,
            citations=[
                CitationRef(chunk_id=c["chunk_id"], quote_span=c["quote_span"])
                for c in st["citations"]
            ],
        )
        for i, (name, st) in enumerate(found)
    ]
    chunks = chunk_payloads(ev)
    report = verifier.verify(drafts, chunks, retrieved_ids=set(chunks))
    for (_, statement), check in zip(found, report.statements, strict=True):
        statement["check"] = {
            "verdict": check.verdict.value,
            "reasons": check.reasons,
            "support_score": round(check.support_score or 0.0, 4),
        }
        statement["flag"] = None
        for citation, citation_check in zip(statement["citations"], check.citations, strict=True):
            quote = citation_check.quote
            citation["quote_found"] = bool(quote and quote.found)
            citation["quote_start"] = quote.start if quote else None
            citation["quote_end"] = quote.end if quote else None
    for name, record in updated.items():
        statements = [st for n, st in found if n == name]
        record["failed"] = [
            f'- "{st["text"][:120]}": {"; ".join(st["check"]["reasons"])}'
            for st in statements
            if st["check"]["verdict"] != "verified"
        ]
        record["verified"] = sum(st["check"]["verdict"] == "verified" for st in statements)
        record["n_statements"] = len(statements)
    return updated, report


def needs_redraft(record: dict[str, Any], when: str) -> bool:
    """Whether a verified section record is worth another model call (`AgentContext.redraft_when`)."""
    if record.get("timed_out"):
        return False
    if record.get("error"):
        return True
    if when == "failed_reply":
        return False
    if when == "any_unverified":
        return bool(record["failed"])
    return record["verified"] == 0


def mark_unsupported(record: dict[str, Any]) -> dict[str, Any]:
    """Flag every statement of a final section record that did not verify."""
    marked = _copy(record)
    for _, statement in iter_statements({"s": marked.get("content") or {}}):
        if statement.get("check", {}).get("verdict") != "verified":
            statement["flag"] = UNSUPPORTED_MARK
    return marked


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(record)
