"""The production job seams: an MES event is drafted by the LangGraph agent and stored.

Runs the real API (records store, job worker) with the real agent graph; only the model
(scripted) and the embedder (hashing) are fakes, so this stays fast.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.agent_bridge import AgentDraftRunner, EvidenceChatResponder, IndexDocumentIngestor
from api.jobs.protocols import ChatRequest, ChatTurn, IngestRequest
from api.jobs.worker import JobHandlers
from api.records.report_rules import REPORT_SECTIONS
from api.routers.ui_chat import StreamingChatResponder
from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.runner import InvestigationRunner
from assistant.chat import ChatService
from ingestion.pipeline import IngestOptions
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload
from retrieval.store.base import Filter
from retrieval.store.factory import open_store
from tests.agent.corpus import careful_model, mes_payload, unit_context
from tests.api.conftest import AppBuilder, bearer, login, seed
from tests.api.test_jobs import wait_status


def test_mes_event_is_drafted_by_the_agent_and_stored(
    build_client: AppBuilder, db_url: str, tmp_path: Path
) -> None:
    seeded = seed(db_url, "-bridge")
    context = unit_context(tmp_path, careful_model())
    with open_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        runner = AgentDraftRunner(InvestigationRunner(context, saver))
        with build_client(handlers=JobHandlers(draft=runner)) as client:
            accepted = client.post(
                "/api/v1/events", json=mes_payload(), headers=bearer(seeded.api_key)
            )
            assert accepted.status_code == 202, accepted.text
            investigation_id = accepted.json()["investigation_id"]
            assert wait_status(db_url, investigation_id, "awaiting_review") is None

            login(client, seeded.investigator)
            versions = client.get(f"/api/v1/investigations/{investigation_id}/versions").json()
            assert [(v["version"], v["origin"], v["author"]) for v in versions] == [
                (1, "ai", "system")
            ]
            draft = client.get(f"/api/v1/investigations/{investigation_id}/versions/1").json()
    content = draft["content"]
    assert set(content) <= set(REPORT_SECTIONS)
    assert content["header"]["report_id"] == mes_payload()["event_id"]
    assert content["header"]["batches"][0]["batch_id"] == mes_payload()["batch_id"]
    # The model never decides: human-only fields are empty in what the agent stored.
    assert not content["classification"].get("criticality_final")
    assert not content["root_cause_analysis"].get("conclusion_level")
    assert draft["provenance"]["model"]["backend"] == "fake"


def test_chat_responder_answers_with_checked_quotes(tmp_path: Path) -> None:
    context = unit_context(tmp_path, careful_model())
    responder = EvidenceChatResponder(
        ChatService(context.chat_model, context.searcher, context.verifier)
    )
    request = ChatRequest(
        investigation_id="inv-1",
        site="SITE-A",
        draft=None,
        history=[ChatTurn("user", "What are the impeller power limits during wet massing?")],
    )
    assert isinstance(responder, StreamingChatResponder)  # the web UI streams it
    chunks = list(responder.stream(request))
    assert len(chunks) > 2  # the model's text arrives in pieces, then the citation lines
    answer = "".join(chunks)
    assert answer == responder.answer(request)
    assert "[S1]" in answer
    assert chunks[-1].startswith("\n[S")
    assert '"' in answer.splitlines()[-1]  # each citation line carries its verbatim quote


def test_document_ingestor_indexes_an_upload_and_refuses_a_corrupt_one(tmp_path: Path) -> None:
    store = open_store(":memory:", tmp_path)
    embedder = HashingEmbedder()
    ingestor = IndexDocumentIngestor(
        store, embedder, IngestOptions(documents_dir=tmp_path / "docs"), threading.Lock()
    )
    note = tmp_path / "line-clearance.md"
    note.write_text("# Line clearance\n\nRemove all labels of the previous batch before start.\n")
    summary = ingestor.ingest(IngestRequest("d1", "SITE-A", note, None))
    assert summary.startswith("line-clearance.md: ingested")
    assert store.count(Filter(must={Payload.SITE: "SITE-A"})) > 0

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not a pdf body")
    before = store.count()
    with pytest.raises(RuntimeError, match=r"broken\.pdf"):
        ingestor.ingest(IngestRequest("d2", "SITE-A", broken, None))
    assert store.count() == before
