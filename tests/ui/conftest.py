"""UI test fixtures: the real app served by uvicorn on a loopback port (SQLite records in tmp,
fake drafting and chat for speed), seeded users, and helpers to open drafted investigations."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.jobs.worker import JobHandlers
from api.settings import Settings
from tests.api.conftest import PASSWORD, SITE, Seeded, bearer, make_config, mes_event, seed
from tests.ui.fakes import CitedDraftRunner, FakeEvidence, StreamingEchoResponder

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "ui"
__all__ = ["ARTIFACTS", "PASSWORD", "SITE", "LiveServer"]


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with its cheapest parameters in tests only (production keeps the defaults)."""
    from argon2 import PasswordHasher, profiles

    from api.auth import secrets as auth_secrets

    original = auth_secrets._HASHER
    auth_secrets._HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    auth_secrets._HASHER = original


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    users: Seeded
    db_url: str
    chat: StreamingEchoResponder
    evidence: FakeEvidence

    def open_event(self, event_id: str, **changes: Any) -> str:
        """Post an MES event with the real API and wait until its draft is ready for review."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            response = client.post(
                "/api/v1/events",
                json=mes_event(event_id, **changes),
                headers=bearer(self.users.api_key),
            )
            assert response.status_code == 202, response.text
            investigation_id = str(response.json()["investigation_id"])
            login = client.post(
                "/api/v1/auth/login",
                json={"username": self.users.investigator, "password": PASSWORD},
            )
            assert login.status_code == 200, login.text
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                status = client.get(f"/api/v1/investigations/{investigation_id}").json()["status"]
                if status == "awaiting_review":
                    return investigation_id
                assert status == "drafting", status
                time.sleep(0.05)
        raise AssertionError(f"investigation {investigation_id} was not drafted in time")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("ui-data")
    db_url = f"sqlite:///{data_dir / 'devia.db'}"
    users = seed(db_url)
    chat = StreamingEchoResponder()
    evidence = FakeEvidence()
    app = create_app(
        Settings(data_dir=data_dir),
        config=make_config(db_url, data_dir),
        handlers=JobHandlers(draft=CitedDraftRunner(), chat=chat),
        probes={},
        evidence=evidence,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", users, db_url, chat, evidence)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
