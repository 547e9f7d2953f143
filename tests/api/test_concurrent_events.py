"""50 concurrent MES triggers (25 distinct keys, each sent twice) against a real uvicorn on
loopback: exactly 25 investigations and 25 jobs, identical answers for duplicates, and an
audit chain that still verifies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import Seeded, bearer, count_rows, make_config, mes_event, seed


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(db_url: str, data_dir, seeded: Seeded) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = create_app(Settings(data_dir=data_dir), config=make_config(db_url, data_dir), probes={})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_fifty_concurrent_triggers_with_duplicates(
    base_url: str, seeded: Seeded, db_url: str
) -> None:
    before_investigations = count_rows(db_url, "investigations")
    before_jobs = count_rows(db_url, "jobs")
    requests = [(f"CONC-{n % 25}", n) for n in range(50)]

    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as client:

        def send(item: tuple[str, int]) -> tuple[str, int, dict[str, object]]:
            event_id, _ = item
            response = client.post(
                "/api/v1/events",
                json=mes_event(event_id),
                headers={**bearer(seeded.api_key), "Idempotency-Key": f"key-{event_id}"},
            )
            return event_id, response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(send, requests))

    assert all(status == 202 for _, status, _ in results), results
    by_event: dict[str, set[str]] = {}
    for event_id, _, body in results:
        by_event.setdefault(event_id, set()).add(str(body["investigation_id"]))
    assert len(by_event) == 25 and all(len(ids) == 1 for ids in by_event.values())
    assert count_rows(db_url, "investigations") - before_investigations == 25
    assert count_rows(db_url, "jobs") - before_jobs == 25

    with httpx.Client(base_url=base_url) as client:
        from tests.api.conftest import PASSWORD

        client.post("/api/v1/auth/login", json={"username": seeded.admin, "password": PASSWORD})
        verification = client.get("/api/v1/audit/verify").json()
    assert verification["ok"] is True, verification
