"""Seams the job worker calls; the lead wires the real implementations (the agent, ingestion).

Each is optional: a job kind without an implementation stays pending, and /readyz says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class DraftRequest:
    investigation_id: str
    site: str
    source: str  # "MES" or "manual"
    payload: dict[str, Any]


@dataclass(frozen=True)
class DraftResult:
    """Report sections (see api.records.report_rules.REPORT_SECTIONS) and how they were made."""

    content: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)


class DraftRunner(Protocol):
    """Drafts one investigation report. Raise any exception to record a failed draft."""

    def draft(self, request: DraftRequest) -> DraftResult: ...


@dataclass(frozen=True)
class ChatTurn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class ChatRequest:
    investigation_id: str
    site: str
    draft: dict[str, Any] | None  # current draft content, if any
    history: Sequence[ChatTurn]  # oldest first; the last turn is the question


class ChatResponder(Protocol):
    """Answers a reviewer's question about one investigation (text of the reply)."""

    def answer(self, request: ChatRequest) -> str: ...


@dataclass(frozen=True)
class IngestRequest:
    document_id: str
    site: str
    path: Path
    doc_type: str | None


class DocumentIngestor(Protocol):
    """Indexes one stored upload; returns a short human-readable summary."""

    def ingest(self, request: IngestRequest) -> str: ...
