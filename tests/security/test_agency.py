"""Excessive agency: nothing the model produces can sign, approve, change status or delete.

Walks the LangGraph graph (its nodes, what the model is asked for, what the nodes may call)
and the API's model-driven paths (the job worker and the agent bridge, where model output
enters the records), then drives a malicious draft runner through the real app.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig
from api.jobs.protocols import DraftRequest, DraftResult
from api.jobs.worker import JobHandlers
from api.settings import Settings
from assistant.agent import nodes
from assistant.agent.graph import NODE_NAMES, build_graph
from assistant.agent.sections import SECTIONS, answer_schema
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner
from tests.security.world import PASSWORD, SITE_A, SITE_B, seed_accounts

ROOT = Path(__file__).resolve().parents[2]
# Record functions that decide or destroy: only a signed-in person's request may reach them.
HUMAN_ONLY_ACTIONS = {
    "sign",
    "request_changes",
    "submit",
    "edit_section",
    "redraft",
    "create",
    "create_user",
    "set_disabled",
    "unlock",
    "create_api_key",
    "open_session",
    "close_session",
    "register",
}
# What the model-driven paths may call in the records store.
MODEL_PATH_CALLS = {
    "store_ai_draft",
    "record_draft_failure",
    "add_assistant_reply",
    "chat_messages",
    "get_version",
    "set_status",  # documents.set_status: ingestion status of an upload
}
DECISION_WORDS = ("final", "conclusion_level", "status", "approv", "sign", "decision", "delete")


def _called_names(path: Path, modules: set[str]) -> set[str]:
    """`module.function` names called in a file, for the given module aliases."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.add(node.attr)
    return found


def test_the_graph_has_no_tools_and_only_known_nodes() -> None:
    graph = build_graph()
    drawn = graph.get_graph()
    names = set(drawn.nodes) - {"__start__", "__end__"}
    assert names == set(NODE_NAMES)
    for name in names:
        runnable = graph.nodes[name].bound
        assert "ToolNode" not in type(runnable).__name__, name
    # No module of the agent binds tools to the model or imports the records store.
    for path in (ROOT / "assistant").rglob("*.py"):
        text = path.read_text()
        assert "bind_tools" not in text and "ToolNode" not in text, path
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("api"), f"{path} imports {node.module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("api") for a in node.names), path


def test_the_model_is_never_asked_for_a_decision() -> None:
    for name in SECTIONS:
        schema = json.dumps(answer_schema(name, ("E0", "E1"), 2).model_json_schema()).lower()
        properties = set(_property_names(json.loads(schema)))
        decisions = {p for p in properties if any(w in p for w in DECISION_WORDS)}
        assert not decisions, f"section {name} asks the model for {decisions}"


def _property_names(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = list(node.get("properties", {}))
        for value in node.values():
            found += _property_names(value)
        return found
    if isinstance(node, list):
        return [n for v in node for n in _property_names(v)]
    return []


def test_review_decisions_reach_the_graph_only_from_a_person() -> None:
    """The graph's review node ends a run only on a decision passed to `runner.review`; the
    API never calls it (approval is a Part 11 signature in the records store), and a model
    answer never becomes a decision: human_review reads only its resume value."""
    for path in (ROOT / "api").rglob("*.py"):
        tree = ast.parse(path.read_text())
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "review"
        ]
        assert not calls, f"{path} resumes the graph's review"
    source = ast.parse(Path(nodes.__file__).read_text())
    review = next(
        n for n in source.body if isinstance(n, ast.FunctionDef) and n.name == "human_review"
    )
    used = {n.id for n in ast.walk(review) if isinstance(n, ast.Name)}
    assert "runtime" not in used, "human_review must not consult the model"


def test_model_driven_paths_call_no_human_only_action() -> None:
    for path in (ROOT / "api" / "jobs" / "worker.py", ROOT / "api" / "agent_bridge.py"):
        called = _called_names(path, {"investigations", "documents", "accounts", "audit"})
        assert not called & HUMAN_ONLY_ACTIONS, f"{path.name} calls {called & HUMAN_ONLY_ACTIONS}"
        assert called <= MODEL_PATH_CALLS, f"{path.name} calls {called - MODEL_PATH_CALLS}"


class OverreachingDraftRunner:
    """A draft that claims decisions: approved status, signatures, final fields, deletions."""

    def __init__(self) -> None:
        self._base = FakeDeterministicDraftRunner()

    def draft(self, request: DraftRequest) -> DraftResult:
        content = dict(self._base.draft(request).content)
        content["classification"] = {**content["classification"], "criticality_final": "minor"}
        content["disposition"] = {**content["disposition"], "final": "release"}
        content["status"] = "approved"
        content["signatures"] = [{"meaning": "approval", "printed_name": "AI"}]
        content["delete"] = ["audit_log"]
        return DraftResult(content=content, provenance={"model": "overreaching"})


def test_an_overreaching_draft_is_refused_and_nothing_is_decided(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'devia.db'}"
    keys = seed_accounts(db_url)
    config = ApiConfig(
        database_url=db_url, data_dir=tmp_path, sites=(SITE_A, SITE_B), job_poll_interval_s=0.05
    )
    app = create_app(
        Settings(data_dir=tmp_path),
        config=config,
        handlers=JobHandlers(draft=OverreachingDraftRunner()),
        probes={},
    )
    from tests.api.conftest import mes_event

    with TestClient(app) as client:
        posted = client.post(
            "/api/v1/events",
            json=mes_event("MES-AGENCY-1"),
            headers={"Authorization": f"Bearer {keys['mes_key']}"},
        )
        assert posted.status_code == 202, posted.text
        inv = posted.json()["investigation_id"]
        login = client.post(
            "/api/v1/auth/login", json={"username": "qa_approver", "password": PASSWORD}
        )
        assert login.status_code == 200
        deadline = time.monotonic() + 30
        while (status := client.get(f"/api/v1/investigations/{inv}").json()["status"]) == (
            "drafting"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        detail = client.get(f"/api/v1/investigations/{inv}").json()
        assert status == "failed", detail
        assert "AI draft refused" in (detail["last_error"] or "")
        assert client.get(f"/api/v1/investigations/{inv}/versions").json() == []
        assert client.get(f"/api/v1/investigations/{inv}/signatures").json() == []
        assert client.get("/api/v1/audit/verify").json()["ok"] is True
