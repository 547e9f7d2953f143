"""Split deployment: API replicas with DEVIA_RUN_WORKER=false only enqueue; `devia worker`
processes (run_worker) claim and run the jobs and answer /healthz and /readyz."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli.worker_cmd import HealthServer, run_worker, worker_readiness
from api.config import ApiConfig
from api.jobs.worker import JobHandlers, JobWorker, WorkerLimits
from api.records.db import Database
from api.records.models import Investigation, Job
from api.settings import Settings
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner
from tests.deploy.test_multi_worker import create_investigations

LIMITS = WorkerLimits(concurrency=1, stale_after_s=5, max_attempts=3, poll_interval_s=0.05)


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def job_status(db_url: str, investigation_id: str) -> str:
    db = Database(db_url)
    try:
        with db.read() as session:
            job = session.query(Job).filter_by(investigation_id=investigation_id).one()
            return job.status
    finally:
        db.dispose()


def test_run_worker_setting_reaches_the_api_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVIA_RUN_WORKER", "false")
    assert ApiConfig.from_settings(Settings()).run_worker is False
    monkeypatch.delenv("DEVIA_RUN_WORKER")
    assert ApiConfig.from_settings(Settings()).run_worker is True


def test_api_only_replica_enqueues_and_a_worker_process_drafts(db_url: str, tmp_path: Path) -> None:
    [investigation_id] = create_investigations(db_url, 1)
    settings = Settings(data_dir=tmp_path, db_url=db_url, run_worker=False)
    runner = FakeDeterministicDraftRunner()
    app = create_app(settings, handlers=JobHandlers(draft=runner), probes={})
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text  # no in-process worker is expected
        assert ready.json()["job_kinds"] == ["draft"]
        time.sleep(0.5)
        assert job_status(db_url, investigation_id) == "pending"  # nobody claims it here
        assert runner.calls == []

        stop = threading.Event()
        started: list[int] = []
        db = Database(db_url)
        thread = threading.Thread(
            target=run_worker,
            args=(db, JobHandlers(draft=runner), LIMITS),
            kwargs={
                "host": "127.0.0.1",
                "port": 0,
                "stop": stop,
                "on_ready": lambda _w, health: started.append(health.port),
            },
        )
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while job_status(db_url, investigation_id) != "done":
                assert time.monotonic() < deadline, "the worker did not run the job"
                time.sleep(0.05)
            status, body = get(f"http://127.0.0.1:{started[0]}/readyz")
            assert status == 200 and body["status"] == "ready", body
            assert get(f"http://127.0.0.1:{started[0]}/healthz") == (200, {"status": "ok"})
        finally:
            stop.set()
            thread.join(30)
            db.dispose()
        assert not thread.is_alive()
        assert runner.calls == [investigation_id]
    with Database(db_url).read() as session:
        assert session.get(Investigation, investigation_id).status == "awaiting_review"  # type: ignore[union-attr]


def test_worker_readiness_reports_database_and_threads(tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'devia.db'}")
    worker = JobWorker(broken, JobHandlers(draft=FakeDeterministicDraftRunner()), LIMITS)
    health = HealthServer("127.0.0.1", 0, worker_readiness(broken, worker))
    health.start()
    try:
        status, body = get(f"http://127.0.0.1:{health.port}/readyz")
        assert status == 503
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["database"]["ok"] is False
        assert checks["job_worker"] == {"ok": False, "detail": "job worker is not running"}
        assert get(f"http://127.0.0.1:{health.port}/nope")[0] == 404
    finally:
        health.stop()
        broken.dispose()


def test_a_worker_without_handlers_refuses_to_start(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'devia.db'}")
    with pytest.raises(ValueError, match="claim nothing"):
        run_worker(db, JobHandlers(), LIMITS, host="127.0.0.1", port=0, stop=threading.Event())
    db.dispose()
