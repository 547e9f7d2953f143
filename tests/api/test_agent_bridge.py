"""The production job seams: an MES event is drafted by the LangGraph agent and stored.

Runs the real API (records store, job worker) with the real agent graph; only the model
(scripted) and the embedder (hashing) are fakes, so this stays fast.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.agent_bridge import (
    AgentDraftRunner,
    EvidenceChatResponder,
    IndexDocumentIngestor,
    manual_event,
)
from api.jobs.protocols import ChatRequest, ChatTurn, IngestRequest
from api.jobs.worker import JobHandlers
from api.records.report_rules import REPORT_SECTIONS
from api.routers.ui_chat import StreamingChatResponder
from api.schemas.investigations import ManualInvestigationIn
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


def test_a_manual_investigation_as_stored_becomes_the_agents_free_text_event() -> None:
    from assistant.agent.anomaly import normalise_event

    stored = ManualInvestigationIn(
        site="SITE-A",
        title="Granulator torque alarm",
        description="Impeller torque rose above 45 Nm during wet massing of batch B24-0311.",
        occurred_at=datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
        line="L2",
        equipment=["GR-201"],
        product_code="PRD-0042",
    ).model_dump(mode="json")
    anomaly = normalise_event(manual_event(stored, "SITE-A", "inv-42"))
    assert anomaly.source_system == "manual"
    assert (anomaly.site, anomaly.event_id) == ("SITE-A", "inv-42")
    assert "Granulator torque alarm" in anomaly.description
    assert "45 Nm" in anomaly.description and "line L2" in anomaly.description
    assert anomaly.equipment == ["GR-201"] and anomaly.product_code == "PRD-0042"
    assert anomaly.batch_id is None  # an empty form field is no batch


def test_a_manual_investigation_is_drafted_by_the_agent(
    build_client: AppBuilder, db_url: str, tmp_path: Path
) -> None:
    users = seed(db_url, "-manual")
    context = unit_context(tmp_path, careful_model())
    with open_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        handlers = JobHandlers(draft=AgentDraftRunner(InvestigationRunner(context, saver)))
        with build_client(handlers=handlers) as client:
            login(client, users.investigator)
            response = client.post(
                "/api/v1/investigations",
                json={
                    "site": "SITE-A",
                    "title": "Granulator torque alarm",
                    "description": "Impeller torque rose above limit during wet massing.",
                    "occurred_at": "2026-11-20T08:30:00Z",
                    "equipment": ["GR-201"],
                },
            )
            assert response.status_code == 201, response.text
            investigation_id = response.json()["id"]
            assert wait_status(db_url, investigation_id, "awaiting_review") is None
