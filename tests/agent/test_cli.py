"""`devia investigate` / `devia chat` wiring, with the unit context in place of the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api.cli import investigate_cmd
from assistant.llm.fake_backend import FakeChatModel
from tests.agent.corpus import careful_model, mes_payload, unit_context


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path / "data"))
    model = careful_model()

    @contextmanager
    def fake_context(settings: Any, **kwargs: Any) -> Iterator[Any]:
        yield unit_context(tmp_path / "ctx", model)

    monkeypatch.setattr(investigate_cmd, "_context", fake_context)
    return investigate_cmd.app


def test_investigate_prints_the_draft_and_writes_it(cli: typer.Typer, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(mes_payload()))
    out = tmp_path / "draft.json"
    result = CliRunner().invoke(
        cli, ["investigate", "--event", str(event), "--out", str(out), "--id", "inv-cli"]
    )
    assert result.exit_code == 0, result.output
    assert "# Investigation draft MES-EX-2026-00404" in result.output
    assert "## Sources" in result.output
    draft = json.loads(out.read_text())
    assert draft["ai_provenance"]["run_id"] == "inv-cli"
    assert (tmp_path / "data" / "agent-checkpoints.sqlite").exists()
    chat = CliRunner().invoke(
        cli,
        [
            "chat",
            "--site",
            "SITE-A",
            "--investigation",
            "inv-cli",
            "What was the impeller power peak?",
        ],
    )
    assert chat.exit_code == 0, chat.output


def test_investigate_refuses_a_bad_payload(cli: typer.Typer, tmp_path: Path) -> None:
    payload = mes_payload()
    del payload["occurred_at"]
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    result = CliRunner().invoke(cli, ["investigate", "--event", str(event)])
    assert result.exit_code == 2
    assert "occurred_at" in result.output


def test_chat_in_an_investigation_uses_its_evidence(tmp_path: Path) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from assistant.agent.runner import InvestigationRunner
    from assistant.chat import ChatService

    context = unit_context(tmp_path, careful_model())
    state = (
        InvestigationRunner(context, InMemorySaver())
        .start("inv-1", {"payload": mes_payload()}, ["SITE-A"])
        .state
    )
    model = FakeChatModel(lambda r: "The impeller power peaked at 13.76 kW [S1].")
    service = ChatService(model, context.searcher, context.verifier)
    answer = service.ask(
        "What was the impeller power peak of event MES-EX-2026-00404?",
        ["SITE-A"],
        investigation=state,
    ).result
    assert answer.verdict == "answered"
    assert answer.citations[0].chunk_id == "event:MES-EX-2026-00404"
    assert "MES-EX-2026-00404" in model.requests[0].messages[-1]["content"]
