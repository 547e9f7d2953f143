"""The production implementations of the API's job seams (api/jobs/protocols.py).

The API process owns the index (Qdrant Edge locks its folder to one process), the embedder and
the model; the drafting agent, document ingestion and chat answers all run on them here. The
adapters only translate between the API's request types and the assistant / ingestion APIs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from api.evidence import EvidenceIndex, IndexEvidence, readable_sites
from api.jobs.protocols import (
    ChatRequest,
    DraftRequest,
    DraftResult,
    IngestRequest,
)
from api.jobs.worker import JobHandlers
from api.records.report_rules import REPORT_SECTIONS
from api.settings import Settings
from assistant.agent.runner import InvestigationRunner
from assistant.chat import ChatService
from assistant.llm.generation import interrupt_all
from ingestion.pipeline import IngestOptions, ingest_paths
from ingestion.report import FileStatus
from retrieval.embedding import Embedder
from retrieval.index_contract import DocType
from retrieval.store.base import IndexStore


def manual_event(payload: dict[str, Any], site: str, investigation_id: str) -> dict[str, Any]:
    """A person's investigation (`POST /api/v1/investigations`, `ManualInvestigationIn` as
    stored) as the agent's free-text event (`assistant.agent.anomaly.normalise_event`)."""
    title = str(payload.get("title") or "").strip()
    description = str(payload.get("description") or "").strip()
    where = ", ".join(
        f"{label} {value}"
        for label, value in (("area", payload.get("area")), ("line", payload.get("line")))
        if value
    )
    when = payload.get("occurred_at")
    text = ". ".join(
        part
        for part in (
            title,
            description,
            f"Occurred at {when}" if when else "",
            f"Location: {where}" if where else "",
        )
        if part
    )
    return {
        "text": text,
        "site": site,
        "event_id": investigation_id,
        "equipment": list(payload.get("equipment") or []),
        "product_code": payload.get("product_code") or None,
        "batch_id": payload.get("batch_id") or None,
    }


class AgentDraftRunner:
    """Drafts a report with the LangGraph agent, up to its human-review point."""

    def __init__(self, runner: InvestigationRunner) -> None:
        self._runner = runner

    def draft(self, request: DraftRequest) -> DraftResult:
        event = (
            {"payload": request.payload}
            if request.source == "MES"
            else manual_event(request.payload, request.site, request.investigation_id)
        )
        outcome = self._runner.start(request.investigation_id, event, [request.site])
        if outcome.report is None:
            raise RuntimeError(
                f"the agent stopped without a draft (status {outcome.status}); see the job log"
            )
        content = {k: v for k, v in outcome.report.items() if k in REPORT_SECTIONS}
        provenance = dict(outcome.report.get("ai_provenance") or {})
        return DraftResult(content=content, provenance=provenance)


class IndexDocumentIngestor:
    """Indexes one uploaded file with the same pipeline as `devia ingest`."""

    def __init__(
        self, store: IndexStore, embedder: Embedder, options: IngestOptions, lock: threading.Lock
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._options = options
        self._lock = lock

    def ingest(self, request: IngestRequest) -> str:
        options = replace(
            self._options,
            site=request.site,
            force_site=True,
            doc_type=DocType(request.doc_type) if request.doc_type else None,
        )
        with self._lock:
            report = ingest_paths(
                [request.path], store=self._store, embedder=self._embedder, options=options
            )
        outcome = report.files[0] if report.files else None
        if outcome is None:
            raise RuntimeError(f"{request.path.name}: nothing to ingest")
        if outcome.status is FileStatus.FAILED:
            raise RuntimeError(f"{request.path.name}: {outcome.reason}")
        return f"{request.path.name}: {outcome.status.value} {outcome.reason or ''}".strip()


class EvidenceChatResponder:
    """Answers a reviewer's question from the site's indexed documents, with checked quotes."""

    def __init__(self, service: ChatService) -> None:
        self._service = service

    def answer(self, request: ChatRequest) -> str:
        return "".join(self.stream(request))

    def stream(self, request: ChatRequest) -> Iterator[str]:
        """The answer's text as the model writes it, then one line per checked citation."""
        question = request.history[-1].content
        history: list[Any] = [
            {"role": turn.role, "content": turn.content} for turn in request.history[:-1]
        ]
        stream = self._service.ask(
            question, readable_sites([request.site]), investigation=request.draft, history=history
        )
        yield from stream
        for citation in stream.result.citations:
            where = f"{citation.doc_id} rev {citation.revision or '-'}"
            if citation.section_id:
                where += f" §{citation.section_id}"
            if citation.page:
                where += f" p.{citation.page}"
            yield f'\n[{citation.sid}] {where} ({citation.verdict}): "{citation.quote}"'


@dataclass(frozen=True)
class ProductionServices:
    handlers: JobHandlers
    evidence: EvidenceIndex


@contextmanager
def production_services(settings: Settings) -> Iterator[ProductionServices]:
    """Open the index, the embedder and the model once; build the three job handlers and the
    evidence index the search endpoints read."""
    from api.backends import checkpoint_target, open_embedder, open_index
    from api.cli.llm_cmd import llm_config_from_settings
    from assistant.agent.checkpoint import open_checkpointer
    from assistant.agent.context import build_agent_context, default_scorer
    from assistant.llm.config import build_chat_model
    from retrieval.vector_cache import VectorCache

    embedder = open_embedder(settings)
    with ExitStack() as stack:
        store = open_index(settings)  # a Qdrant server: with its shards, replicas, API key
        stack.callback(store.close)
        store.ensure_collection(embedder.dim)
        context = build_agent_context(
            store=store,
            embedder=embedder,
            chat_model=build_chat_model(llm_config_from_settings(settings)),
            plot_dir=settings.data_dir / "plots",
            scorer=default_scorer(embedder),
            vector_cache=VectorCache.in_data_dir(settings.data_dir),
        )
        saver = stack.enter_context(open_checkpointer(checkpoint_target(settings)))
        options = IngestOptions(
            documents_dir=settings.data_dir / "documents",
            state_path=settings.index_dir / "ingest-state.sqlite",
            max_file_bytes=settings.max_upload_bytes,
        )
        handlers = JobHandlers(
            draft=AgentDraftRunner(InvestigationRunner(context, saver)),
            chat=EvidenceChatResponder(
                ChatService(context.chat_model, context.searcher, context.verifier)
            ),
            ingest=IndexDocumentIngestor(store, embedder, options, threading.Lock()),
            interrupt=interrupt_all,
        )
        yield ProductionServices(handlers, IndexEvidence(context.searcher, context.similar))
