"""Resource limits, each tested: request body size, upload size, prompt and context length,
max tokens, per-user chat rate and per-user drafts in flight (429 with Retry-After)."""

from __future__ import annotations

from pathlib import Path

from api.cli.llm_cmd import llm_config_from_settings
from api.jobs.worker import JobHandlers
from api.limits import TokenBucket
from api.settings import Settings
from assistant.chat import ChatService
from assistant.llm import build_chat_model, user
from assistant.llm.fake_backend import FakeChatModel
from tests.agent.corpus import careful_answer, unit_context
from tests.api.conftest import mes_event
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner
from tests.security.world import SITE_A, quick_app, sign_in


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills() -> None:
    clock = Clock()
    bucket = TokenBucket(per_minute=6, burst=2, clock=clock)
    assert bucket.take("alice") == 0 and bucket.take("alice") == 0
    wait = bucket.take("alice")
    assert 9.9 < wait <= 10.0  # one token every 10 s
    assert bucket.take("bob") == 0  # per key
    clock.now = 10.0
    assert bucket.take("alice") == 0 and bucket.take("alice") > 0


def test_request_body_and_upload_size_limits(tmp_path: Path) -> None:
    with quick_app(tmp_path, max_request_body_bytes=4000, max_upload_bytes=10_000) as (c, keys):
        big_event = mes_event("MES-BIG", description="x" * 5000)
        refused = c.post(
            "/api/v1/events", json=big_event, headers={"Authorization": f"Bearer {keys['mes_key']}"}
        )
        assert refused.status_code == 413 and "over the limit" in refused.json()["detail"]
        headers = sign_in(c, "investigator")
        upload = c.post(
            "/api/v1/documents",
            params={"site": SITE_A, "filename": "big.pdf"},
            content=b"x" * 10_001,
            headers={**headers, "Content-Type": "application/octet-stream"},
        )
        assert upload.status_code == 413
        fits = c.post(
            "/api/v1/documents",
            params={"site": SITE_A, "filename": "small.txt"},
            content=b"y" * 9_000,  # over the body limit, under the upload limit
            headers={**headers, "Content-Type": "application/octet-stream"},
        )
        assert fits.status_code == 201, fits.text
        listed = c.get("/api/v1/documents", headers=headers).json()
        assert [d["filename"] for d in listed] == ["small.txt"]


def test_chat_rate_limit_per_user_with_retry_after(tmp_path: Path) -> None:
    handlers = JobHandlers(draft=FakeDeterministicDraftRunner())
    with quick_app(tmp_path, handlers, chat_burst=2, chat_per_minute=1) as (c, keys):
        posted = c.post(
            "/api/v1/events",
            json=mes_event("MES-RATE"),
            headers={"Authorization": f"Bearer {keys['mes_key']}"},
        )
        inv = posted.json()["investigation_id"]
        alice = sign_in(c, "investigator")
        url = f"/api/v1/investigations/{inv}/chat"
        for _ in range(2):
            assert c.post(url, json={"content": "limits?"}, headers=alice).status_code == 201
        third = c.post(url, json={"content": "limits?"}, headers=alice)
        assert third.status_code == 429
        assert 1 <= int(third.headers["Retry-After"]) <= 60
        assert "too many chat questions" in third.json()["detail"]
        # The web UI's chat shares the user's bucket.
        ui = c.post(f"/investigations/{inv}/chat", data={"question": "limits?"}, headers=alice)
        assert ui.status_code == 429 and "Retry-After" in ui.headers
        # Another user is not affected.
        bob = sign_in(c, "qa_approver")
        assert c.post(url, json={"content": "limits?"}, headers=bob).status_code == 201
        stored = c.get(url, headers=alice).json()
        assert len([m for m in stored if m["role"] == "user"]) == 3


def test_drafts_in_flight_per_user_with_retry_after(tmp_path: Path) -> None:
    # No worker: drafts stay in flight.
    with quick_app(tmp_path, drafts_per_user=2, run_worker=False) as (c, _keys):
        alice = sign_in(c, "investigator")
        body = {
            "site": SITE_A,
            "title": "Manual deviation",
            "description": "Impeller power high on GR-201.",
            "occurred_at": "2026-11-03T03:03:00Z",
        }
        for _ in range(2):
            assert c.post("/api/v1/investigations", json=body, headers=alice).status_code == 201
        third = c.post("/api/v1/investigations", json=body, headers=alice)
        assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
        assert "2 draft(s) in progress" in third.json()["detail"]
        other = sign_in(c, "investigator2")
        assert c.post("/api/v1/investigations", json=body, headers=other).status_code == 201
        listed = c.get("/api/v1/investigations", headers=alice).json()
        assert listed["total"] == 3


def test_prompt_length_is_bounded_and_questions_over_the_limit_refused(tmp_path: Path) -> None:
    """The chat prompt is built from at most `limit` snippets of `snippet_chars`, the question
    (API and form both cap it at 8,000 characters) and the last four turns."""
    model = FakeChatModel(careful_answer)
    context = unit_context(tmp_path, model)
    service = ChatService(model, context.searcher, context.verifier)
    question = ("What limits apply to the impeller power on GR-201 during wet massing? " * 120)[
        :8000
    ]
    history = [user("earlier question " * 500)] * 10
    list(service.ask(question, ["SITE-A"], history=history))
    request = model.requests[-1]
    total = sum(len(m["content"]) for m in request.messages)
    # 5 snippets x 600 chars + the question + 4 turns + prompt text; far below 8,192 tokens
    # only with the turns capped: 10 turns of 8,500 chars would not fit.
    assert total < 5 * 600 + 8000 + 4 * 8500 + 4000
    assert len([m for m in request.messages if m["role"] in ("user", "assistant")]) <= 5
    assert request.sampling.max_tokens == 200
    with quick_app(tmp_path) as (c, _keys):
        alice = sign_in(c, "investigator")
        too_long = c.post(
            "/api/v1/investigations/none/chat", json={"content": "x" * 8001}, headers=alice
        )
        assert too_long.status_code == 422


def test_context_and_max_tokens_come_from_settings() -> None:
    settings = Settings(llm_backend="fake", llm_context_tokens=2048, llm_max_tokens=7)
    config = llm_config_from_settings(settings)
    assert (config.context_tokens, config.max_tokens) == (2048, 7)
    model = build_chat_model(config)
    reply = model.complete([user("word " * 50)])  # the fake echoes it: 50+ tokens wanted
    assert len(reply.text.split()) == 7
