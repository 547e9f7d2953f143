"""The production job seams: an MES event is drafted by the LangGraph agent and stored.

Runs the real API (records store, job worker) with the real agent graph; only the model
(scripted) and the embedder (hashing) are fakes, so this stays fast.
"""

from __future__ import annotations

from pathlib import Path

from api.agent_bridge import AgentDraftRunner, EvidenceChatResponder
from api.jobs.protocols import ChatRequest, ChatTurn
from api.jobs.worker import JobHandlers
from api.records.report_rules import REPORT_SECTIONS
from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.runner import InvestigationRunner
from assistant.chat import ChatService
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
    answer = responder.answer(request)
    assert "[S1]" in answer
    assert '"' in answer.splitlines()[-1]  # each citation line carries its verbatim quote
