"""Durable drafting jobs: resume after restart, stale claims, failures, exclusive claiming."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.jobs.protocols import ChatRequest, DraftRequest, DraftResult
from api.jobs.worker import JobHandlers, JobWorker, WorkerLimits
from api.records.canonical import utc_now
from api.records.db import Database
from api.records.models import Investigation, Job
from tests.api.conftest import AppBuilder, Seeded, bearer, login, mes_event, seed
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


def post(client: TestClient, seeded: Seeded, event_id: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/events", json=mes_event(event_id), headers=bearer(seeded.api_key)
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def status_of(db_url: str, investigation_id: str) -> tuple[str, str | None]:
    db = Database(db_url)
    with db.read() as session:
        row = session.get(Investigation, investigation_id)
        assert row is not None
        result = (row.status, row.last_error)
    db.dispose()
    return result


def wait_status(db_url: str, investigation_id: str, status: str) -> str | None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current, error = status_of(db_url, investigation_id)
        if current == status:
            return error
        time.sleep(0.05)
    raise AssertionError(f"{investigation_id} stayed {current}")


def test_pending_jobs_resume_after_restart(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client() as without_runner:
        accepted = post(without_runner, seeded, "RESUME-1")
        time.sleep(0.3)
    assert status_of(db_url, accepted["investigation_id"])[0] == "drafting"
    runner = FakeDeterministicDraftRunner()
    with build_client(handlers=JobHandlers(draft=runner)) as restarted:
        wait_status(db_url, accepted["investigation_id"], "awaiting_review")
        login(restarted, seeded.investigator)
        detail = restarted.get(f"/api/v1/investigations/{accepted['investigation_id']}").json()
    assert detail["jobs"][0]["status"] == "done" and detail["jobs"][0]["attempts"] == 1
    assert accepted["investigation_id"] in runner.calls


def test_stale_running_job_is_taken_over(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client() as client:
        accepted = post(client, seeded, "STALE-1")
    db = Database(db_url)
    with db.write() as session:
        session.execute(
            update(Job)
            .where(Job.id == accepted["job_id"])
            .values(
                status="running",
                claimed_by="dead-host:1:abc",
                attempts=1,
                heartbeat_at=utc_now() - timedelta(minutes=10),
            )
        )
    runner = FakeDeterministicDraftRunner()
    with build_client(handlers=JobHandlers(draft=runner), job_stale_after_s=60):
        wait_status(db_url, accepted["investigation_id"], "awaiting_review")
    with db.read() as session:
        job = session.get(Job, accepted["job_id"])
        assert job is not None and job.attempts == 2 and job.status == "done"
        assert job.claimed_by != "dead-host:1:abc"
    db.dispose()


def test_job_exhausting_its_attempts_fails_the_investigation(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client() as client:
        accepted = post(client, seeded, "STALE-2")
    db = Database(db_url)
    with db.write() as session:
        session.execute(
            update(Job)
            .where(Job.id == accepted["job_id"])
            .values(
                status="running",
                claimed_by="dead",
                attempts=3,
                heartbeat_at=utc_now() - timedelta(hours=1),
            )
        )
    db.dispose()
    with build_client(
        handlers=JobHandlers(draft=FakeDeterministicDraftRunner()), job_stale_after_s=60
    ):
        error = wait_status(db_url, accepted["investigation_id"], "failed")
    assert error is not None and "worker stopped responding" in error


class ExplodingRunner:
    def draft(self, request: DraftRequest) -> DraftResult:
        raise RuntimeError("model server unreachable")


class OverreachingRunner:
    def draft(self, request: DraftRequest) -> DraftResult:
        return DraftResult({"disposition": {"final": "release"}}, {})


def test_runner_failure_is_recorded_and_redraft_recovers(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client(handlers=JobHandlers(draft=ExplodingRunner())) as client:
        accepted = post(client, seeded, "FAIL-1")
        error = wait_status(db_url, accepted["investigation_id"], "failed")
    assert error is not None and "model server unreachable" in error
    with build_client(handlers=JobHandlers(draft=FakeDeterministicDraftRunner())) as client:
        login(client, seeded.investigator)
        again = client.post(
            f"/api/v1/investigations/{accepted['investigation_id']}/redraft",
            json={"reason": "model server back"},
        )
        assert again.status_code == 202
        wait_status(db_url, accepted["investigation_id"], "awaiting_review")
        jobs = client.get(f"/api/v1/investigations/{accepted['investigation_id']}").json()["jobs"]
    assert [j["status"] for j in jobs] == ["failed", "done"]
    assert "model server unreachable" in (jobs[0]["error"] or "")


def test_ai_may_not_fill_human_decisions(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client(handlers=JobHandlers(draft=OverreachingRunner())) as client:
        accepted = post(client, seeded, "HUMAN-ONLY-1")
        error = wait_status(db_url, accepted["investigation_id"], "failed")
    assert error is not None and "disposition.final is a human-only decision" in error


class CountingRunner(FakeDeterministicDraftRunner):
    def draft(self, request: DraftRequest) -> DraftResult:
        time.sleep(0.01)
        return super().draft(request)


def test_concurrent_workers_claim_each_job_once(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client() as client:
        ids = [post(client, seeded, f"CLAIM-{n}")["investigation_id"] for n in range(12)]
    runner = CountingRunner()
    db = Database(db_url)
    workers = [
        JobWorker(db, JobHandlers(draft=runner), WorkerLimits(stale_after_s=60)) for _ in range(3)
    ]

    def drain(worker: JobWorker) -> None:
        while worker.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(runner.calls)
    assert all(counts[i] == 1 for i in ids), counts
    with db.read() as session:
        statuses = (
            session.execute(select(Investigation.status).where(Investigation.id.in_(ids)))
            .scalars()
            .all()
        )
    db.dispose()
    assert set(statuses) == {"awaiting_review"}


class EchoResponder:
    def answer(self, request: ChatRequest) -> str:
        sections = ", ".join(sorted(request.draft or {}))
        return (
            f"{len(request.history)} turn(s); you asked: {request.history[-1].content}; {sections}"
        )


def test_chat_messages_are_stored_and_answered_through_the_seam(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    with build_client() as client:  # no responder: the question is stored, nothing answers
        accepted = post(client, seeded, "CHAT-1")
        login(client, seeded.investigator)
        path = f"/api/v1/investigations/{accepted['investigation_id']}/chat"
        stored = client.post(path, json={"content": "Which SOP step applies?"})
        assert stored.status_code == 201 and stored.json()["answer_job_id"] is None
        assert client.post(path, json={"content": ""}).status_code == 422
    handlers = JobHandlers(draft=FakeDeterministicDraftRunner(), chat=EchoResponder())
    with build_client(handlers=handlers) as client:
        wait_status(db_url, accepted["investigation_id"], "awaiting_review")
        login(client, seeded.investigator)
        asked = client.post(path, json={"content": "Is batch B26-0815 affected?"})
        assert asked.status_code == 201 and asked.json()["answer_job_id"] is not None
        deadline = time.monotonic() + 20
        while len(messages := client.get(path).json()) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    reply = messages[-1]
    assert reply["role"] == "assistant" and reply["author"] == "system"
    assert reply["reply_to"] == asked.json()["id"]
    assert "2 turn(s); you asked: Is batch B26-0815 affected?" in reply["content"]
    assert "event_description" in reply["content"]


class InterruptibleRunner:
    """Blocks inside `draft` like a long model call until the worker interrupts it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.interrupted = threading.Event()

    def draft(self, request: DraftRequest) -> DraftResult:
        self.started.set()
        if not self.interrupted.wait(20):
            raise AssertionError("the worker never interrupted the draft")
        from assistant.llm.errors import LlmCancelledError

        raise LlmCancelledError("completion interrupted: the process is shutting down")


def test_shutdown_interrupts_a_running_draft_and_hands_the_job_back(
    build_client: AppBuilder, seeded: Seeded, db_url: str
) -> None:
    runner = InterruptibleRunner()
    handlers = JobHandlers(draft=runner, interrupt=runner.interrupted.set)
    with build_client(handlers=handlers) as client:
        accepted = post(client, seeded, "SHUTDOWN-1")
        assert runner.started.wait(20)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # shutdown did not wait for the draft to finish
    assert status_of(db_url, accepted["investigation_id"]) == ("drafting", None)
    db = Database(db_url)
    with db.read() as session:
        job = session.scalars(
            select(Job).where(Job.investigation_id == accepted["investigation_id"])
        ).one()
        assert (job.status, job.attempts, job.claimed_by, job.error) == ("pending", 0, None, None)
    db.dispose()
    # The next process drafts it as if nothing happened.
    with build_client(handlers=JobHandlers(draft=FakeDeterministicDraftRunner())):
        wait_status(db_url, accepted["investigation_id"], "awaiting_review")
