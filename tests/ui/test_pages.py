"""Server-side checks of the web UI without a browser: CSRF on every state-changing route,
sign-in, role-aware navigation, security headers, site-scoped citation sources, streamed chat."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.jobs.protocols import DraftRequest, DraftResult
from api.jobs.worker import JobHandlers
from api.settings import Settings
from tests.api.conftest import PASSWORD, Seeded, bearer, count_rows, make_config, mes_event, seed
from tests.ui.fakes import OTHER_SITE_CHUNK, CitedDraftRunner, FakeEvidence, StreamingEchoResponder


class CrossSiteCitingRunner(CitedDraftRunner):
    """Adds a statement citing another site's chunk (as a confused model might)."""

    def draft(self, request: DraftRequest) -> DraftResult:
        result = super().draft(request)
        result.content["conclusion"] = {
            "text": "Limits are the same on the other line.",
            "citations": [
                {
                    "chunk_id": OTHER_SITE_CHUNK,
                    "doc_id": "SOP-B-SECRET",
                    "quote_span": "inlet air temperature between 55 C and 65 C.",
                }
            ],
        }
        return result


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded, str]]:
    data_dir = tmp_path_factory.mktemp("ui-pages")
    db_url = f"sqlite:///{data_dir / 'devia.db'}"
    users = seed(db_url)
    app = create_app(
        Settings(data_dir=data_dir),
        config=make_config(db_url, data_dir),
        handlers=JobHandlers(draft=CrossSiteCitingRunner(), chat=StreamingEchoResponder(0.0)),
        probes={},
        evidence=FakeEvidence(),
    )
    with TestClient(app) as client:
        yield client, users, db_url


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def ui_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    client.cookies.clear()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/queue").text)


def drafted(client: TestClient, users: Seeded, event_id: str) -> str:
    response = client.post(
        "/api/v1/events", json=mes_event(event_id), headers=bearer(users.api_key)
    )
    assert response.status_code == 202, response.text
    investigation_id = str(response.json()["investigation_id"])
    ui_login(client, users.investigator)
    for _ in range(200):
        status = client.get(f"/api/v1/investigations/{investigation_id}").json()["status"]
        if status == "awaiting_review":
            return investigation_id
        time.sleep(0.05)
    raise AssertionError("not drafted")


def test_sign_in_form_needs_its_token_and_sets_a_safe_cookie(
    env: tuple[TestClient, Seeded, str],
) -> None:
    client, users, _ = env
    client.cookies.clear()
    refused = client.post(
        "/login", data={"username": users.investigator, "password": PASSWORD, "csrf_token": "x"}
    )
    assert refused.status_code == 403
    form = client.get("/login?next=https://evil.example/")
    assert "Sign in" in form.text
    response = client.post(
        "/login",
        data={
            "username": users.investigator,
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = response.headers["set-cookie"]
    assert "devia_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    client.cookies.clear()
    form = client.get("/login")
    wrong = client.post(
        "/login",
        data={
            "username": users.investigator,
            "password": "wrong password!",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text


def test_every_state_changing_route_refuses_a_missing_or_foreign_token(
    env: tuple[TestClient, Seeded, str],
) -> None:
    client, users, db_url = env
    investigation_id = drafted(client, users, "MES-CSRF-1")
    token = ui_login(client, users.approver)
    base = f"/investigations/{investigation_id}"
    version = client.get(f"/api/v1/investigations/{investigation_id}/versions").json()[-1]
    forms: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/sections/executive_summary", {"base_version": "1", "reason": "r", "json": "{}"}),
        (
            f"{base}/request-changes",
            {"version": "1", "sha256": version["sha256"], "section": "header", "comment": "c"},
        ),
        (
            f"{base}/sign",
            {
                "decision": "approve",
                "version": "1",
                "sha256": version["sha256"],
                "username": users.approver,
                "password": PASSWORD,
            },
        ),
        (f"{base}/submit", {"version": "1"}),
        (f"{base}/redraft", {"reason": "r"}),
        (f"{base}/chat", {"question": "q?"}),
        ("/logout", {}),
    ]
    audit_before = count_rows(db_url, "audit_log")
    for path, data in forms:
        for bad in ({}, {"csrf_token": "0" * 64}, {"csrf_token": token[:-1] + "0"}):
            response = client.post(path, data={**data, **bad}, follow_redirects=False)
            assert response.status_code == 403, (path, bad, response.text)
        header = client.post(path, data=data, headers={"X-CSRF-Token": "f" * 64})
        assert header.status_code == 403, path
    assert count_rows(db_url, "audit_log") == audit_before  # nothing was written
    # The right token in the htmx header is accepted.
    ok = client.post(f"{base}/chat", data={"question": "Limits?"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and "data-stream" in ok.text


def test_navigation_follows_the_role_and_pages_send_security_headers(
    env: tuple[TestClient, Seeded, str],
) -> None:
    client, users, _ = env
    ui_login(client, users.investigator)
    page = client.get("/queue")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert 'href="/search"' in page.text and 'href="/audit"' not in page.text
    assert client.get("/audit").status_code == 403
    ui_login(client, users.admin)
    page = client.get("/queue")
    assert 'href="/audit"' in page.text and 'href="/search"' not in page.text
    assert client.get("/audit?since=not-a-date").status_code == 200
    client.cookies.clear()
    anonymous = client.get("/queue", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/queue"


def test_citation_sources_come_only_from_the_investigations_site(
    env: tuple[TestClient, Seeded, str],
) -> None:
    client, users, _ = env
    investigation_id = drafted(client, users, "MES-SCOPE-1")
    page = client.get(f"/investigations/{investigation_id}").text
    numbers = re.findall(rf"/investigations/{investigation_id}/v/1/citations/(\d+)", page)
    assert len(numbers) == 4
    own = client.get(f"/investigations/{investigation_id}/v/1/citations/1").text
    assert "<mark>The inlet air temperature must stay between 55 C and 65 C" in own
    foreign = client.get(f"/investigations/{investigation_id}/v/1/citations/{numbers[-1]}").text
    assert "CANARY-B-7731" not in foreign
    assert "not found in the documents you may read" in foreign
    assert client.get(f"/investigations/{investigation_id}/v/1/citations/99").status_code == 404
    ui_login(client, users.other_site_investigator)
    other = client.get(f"/investigations/{investigation_id}/v/1/citations/1")
    assert other.status_code == 404 and "55 C" not in other.text


def test_chat_answer_streams_as_events_and_is_stored_once(
    env: tuple[TestClient, Seeded, str],
) -> None:
    client, users, db_url = env
    investigation_id = drafted(client, users, "MES-CHAT-1")
    token = ui_login(client, users.investigator)
    turn = client.post(
        f"/investigations/{investigation_id}/chat",
        data={"question": "Which limits apply?"},
        headers={"X-CSRF-Token": token},
    )
    stream_url = re.search(r'data-stream="([^"]+)"', turn.text)
    assert stream_url
    body = client.get(stream_url.group(1)).text
    events = re.findall(r"^event: (\w+)$", body, flags=re.M)
    assert events.count("delta") > 5 and events[-1] == "done"
    assert "SOP-GR-001 rev 3" in body
    replies_before = count_rows(db_url, "chat_messages")
    again = client.get(stream_url.group(1)).text
    assert re.findall(r"^event: (\w+)$", again, flags=re.M) == ["done"]
    assert count_rows(db_url, "chat_messages") == replies_before


def test_progress_reads_the_stage_from_the_agents_checkpoint(tmp_path: Path) -> None:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver

    from api.web.progress import read_progress

    path = tmp_path / "agent-checkpoints.sqlite"
    assert read_progress(path, "inv-1") is None
    conn = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {
        "timings": [
            {"node": "intake", "seconds": 0.2},
            {"node": "characterise", "seconds": 0.5},
            {"node": "gather_evidence", "seconds": 1.0},
            {"node": "draft_section", "seconds": 9.0},
        ],
        "pending": ["impact_assessment", "capa"],
        "sections": {"executive_summary": {}, "classification": {}},
    }
    saver.put(
        {"configurable": {"thread_id": "inv-1", "checkpoint_ns": ""}},
        checkpoint,
        {"source": "loop", "step": 4},
        {},
    )
    conn.close()
    progress = read_progress(path, "inv-1")
    assert progress is not None
    assert progress.stage == "draft_section" and progress.sections_done == 2
    assert progress.sections_pending == ["impact_assessment", "capa"]
    assert progress.seconds_so_far == 10.7
    assert read_progress(path, "another") is None
