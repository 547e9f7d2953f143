"""POST /api/v1/events: acceptance, idempotent replays and precise 4xx on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import (
    OTHER_SITE,
    AppBuilder,
    Seeded,
    bearer,
    count_rows,
    mes_event,
    seed,
)


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture(scope="module")
def client(build_client: AppBuilder, seeded: Seeded) -> Iterator[TestClient]:
    with build_client(max_request_body_bytes=64 * 1024) as test_client:
        yield test_client


def written(db_url: str) -> tuple[int, int, int]:
    return (
        count_rows(db_url, "investigations"),
        count_rows(db_url, "jobs"),
        count_rows(db_url, "audit_log"),
    )


def test_event_opens_investigation_and_queues_draft(client: TestClient, seeded: Seeded) -> None:
    response = client.post("/api/v1/events", json=mes_event("EV-1"), headers=bearer(seeded.api_key))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "drafting" and body["event_id"] == "EV-1"
    assert isinstance(body["job_id"], int)
    # Replay: same key (event id), same body -> the same response, nothing new.
    again = client.post("/api/v1/events", json=mes_event("EV-1"), headers=bearer(seeded.api_key))
    assert again.status_code == 202
    assert again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"


def test_due_date_is_opened_plus_30_days(client: TestClient, seeded: Seeded, db_url: str) -> None:
    from datetime import timedelta

    from api.records.db import Database
    from api.records.models import Investigation

    body = client.post(
        "/api/v1/events", json=mes_event("EV-DUE"), headers=bearer(seeded.api_key)
    ).json()
    db = Database(db_url)
    with db.read() as session:
        investigation = session.get(Investigation, body["investigation_id"])
        assert investigation is not None
        assert investigation.due_at - investigation.opened_at == timedelta(days=30)
        assert investigation.payload["parameter"]["observed_peak"] == 71.4
    db.dispose()


def test_same_key_different_body_is_refused(
    client: TestClient, seeded: Seeded, db_url: str
) -> None:
    headers = {**bearer(seeded.api_key), "Idempotency-Key": "retry-7"}
    first = client.post("/api/v1/events", json=mes_event("EV-2"), headers=headers)
    assert first.status_code == 202
    before = written(db_url)
    changed = mes_event("EV-2", description="something else")
    second = client.post("/api/v1/events", json=changed, headers=headers)
    assert second.status_code == 409
    assert "different request body" in second.json()["detail"]
    assert written(db_url) == before


def test_same_event_under_another_key_is_refused(client: TestClient, seeded: Seeded) -> None:
    client.post("/api/v1/events", json=mes_event("EV-3"), headers=bearer(seeded.api_key))
    response = client.post(
        "/api/v1/events",
        json=mes_event("EV-3"),
        headers={**bearer(seeded.api_key), "Idempotency-Key": "another"},
    )
    assert response.status_code == 409
    assert "already opened investigation" in response.json()["detail"]


BAD_BODIES: list[tuple[str, bytes, int, str]] = [
    ("malformed json", b'{"event_id": "X", ', 422, "JSON"),
    ("wrong type", json.dumps(mes_event("EV-T", equipment="GR-201")).encode(), 422, "equipment"),
    (
        "missing field",
        json.dumps({k: v for k, v in mes_event("EV-M").items() if k != "batch_id"}).encode(),
        422,
        "batch_id",
    ),
    (
        "limits reversed",
        json.dumps(
            mes_event(
                "EV-L",
                parameter={
                    "name": "T",
                    "unit": "C",
                    "limit_low": 70,
                    "limit_high": 60,
                    "observed_peak": 1,
                    "duration_s": 1,
                },
            )
        ).encode(),
        422,
        "limit_low must not exceed limit_high",
    ),
    (
        "naive timestamp",
        json.dumps(mes_event("EV-N", occurred_at="2026-11-20T08:07:00")).encode(),
        422,
        "occurred_at",
    ),
    ("unknown site", json.dumps(mes_event("EV-U", site="SITE-Z")).encode(), 422, "unknown site"),
    (
        "site outside key scope",
        json.dumps(mes_event("EV-S", site=OTHER_SITE)).encode(),
        403,
        "may only post events for site",
    ),
    (
        "oversized",
        json.dumps(mes_event("EV-O", description="x" * 70_000)).encode(),
        413,
        "over the limit",
    ),
]


@pytest.mark.parametrize(
    ("label", "body", "status", "message"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_input_is_refused_and_nothing_written(
    client: TestClient,
    seeded: Seeded,
    db_url: str,
    label: str,
    body: bytes,
    status: int,
    message: str,
) -> None:
    before = written(db_url)
    response = client.post(
        "/api/v1/events",
        content=body,
        headers={**bearer(seeded.api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == status, (label, response.text)
    assert message in response.text
    assert written(db_url) == before


def test_oversized_body_without_content_length_is_cut_off(
    client: TestClient, seeded: Seeded, db_url: str
) -> None:
    before = written(db_url)

    def chunks() -> Iterator[bytes]:
        yield b'{"description": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/events",
        content=chunks(),
        headers={**bearer(seeded.api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert written(db_url) == before


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing API key"),
        ({"Authorization": "Bearer dvk_not-a-real-key"}, "invalid or revoked API key"),
        ({"Authorization": "Basic abc"}, "missing API key"),
    ],
)
def test_invalid_api_key_is_refused(
    client: TestClient, db_url: str, headers: dict[str, str], message: str
) -> None:
    before = written(db_url)
    response = client.post("/api/v1/events", json=mes_event("EV-K"), headers=headers)
    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert written(db_url) == before


def test_session_cookie_cannot_post_events(client: TestClient, seeded: Seeded) -> None:
    from tests.api.conftest import login

    login(client, seeded.investigator)
    response = client.post("/api/v1/events", json=mes_event("EV-C"))
    assert response.status_code == 401
    client.cookies.clear()
