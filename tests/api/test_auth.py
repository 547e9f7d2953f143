"""Sessions, roles, site scope, lockout, landing page and health endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.records.canonical import utc_now
from api.records.db import Database
from api.records.models import Session as LoginSession
from api.web.csrf import token_for_session
from tests.api.conftest import (
    OTHER_SITE,
    PASSWORD,
    SITE,
    AppBuilder,
    Seeded,
    bearer,
    login,
    mes_event,
    seed,
)


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture(scope="module")
def client(build_client: AppBuilder, seeded: Seeded) -> Iterator[TestClient]:
    with build_client() as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def signed_out(client: TestClient) -> None:
    client.cookies.clear()


def test_login_sets_a_hardened_cookie_and_logout_ends_it(
    client: TestClient, seeded: Seeded
) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": seeded.investigator, "password": PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert response.json()["sites"] == [SITE]
    token = client.cookies.get("devia_session")
    assert client.get("/api/v1/auth/me").json()["role"] == "investigator"
    logout = client.post(
        "/api/v1/auth/logout", headers={"X-CSRF-Token": token_for_session(token or "")}
    )
    assert logout.status_code == 204
    client.cookies.set("devia_session", token or "")
    ended = client.get("/api/v1/auth/me")
    assert ended.status_code == 401 and "ended session" in ended.json()["detail"]


def test_wrong_password_and_unknown_user_look_alike(client: TestClient, seeded: Seeded) -> None:
    wrong = client.post(
        "/api/v1/auth/login", json={"username": seeded.investigator2, "password": "nope"}
    )
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}
    login(client, seeded.investigator2)  # a success resets the failure count


def test_expired_session_is_refused(client: TestClient, seeded: Seeded, db_url: str) -> None:
    login(client, seeded.investigator)
    db = Database(db_url)
    with db.write() as session:
        session.execute(update(LoginSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    db.dispose()
    response = client.get("/api/v1/investigations")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_no_session_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/investigations")
    assert response.status_code == 401
    assert "not signed in" in response.json()["detail"]


def test_role_is_required(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.investigator)
    audit = client.get("/api/v1/audit")
    assert audit.status_code == 403 and "needs: admin, qa_approver" in audit.json()["detail"]
    client.cookies.clear()
    login(client, seeded.admin)
    manual = client.post(
        "/api/v1/investigations",
        json={
            "site": SITE,
            "title": "t",
            "description": "d",
            "occurred_at": "2026-11-20T08:07:00Z",
        },
    )
    assert manual.status_code == 403


def test_users_only_see_their_sites(client: TestClient, seeded: Seeded) -> None:
    a = client.post("/api/v1/events", json=mes_event("SCOPE-A"), headers=bearer(seeded.api_key))
    b = client.post(
        "/api/v1/events",
        json=mes_event("SCOPE-B", site=OTHER_SITE),
        headers=bearer(seeded.other_site_key),
    )
    assert a.status_code == b.status_code == 202
    login(client, seeded.investigator)
    listed = client.get("/api/v1/investigations").json()
    assert {item["site"] for item in listed["items"]} == {SITE}
    other_id = b.json()["investigation_id"]
    hidden = client.get(f"/api/v1/investigations/{other_id}")
    assert hidden.status_code == 404
    assert client.get("/api/v1/investigations", params={"site": OTHER_SITE}).json()["total"] == 0
    filtered = client.get("/api/v1/investigations", params={"status": "drafting"}).json()
    assert filtered["total"] >= 1 and all(i["status"] == "drafting" for i in filtered["items"])
    late = client.get(
        "/api/v1/investigations",
        params={"due_before": (utc_now() + timedelta(days=29)).isoformat()},
    ).json()
    assert late["total"] == 0
    bad_status = client.get("/api/v1/investigations", params={"status": "bogus"})
    assert bad_status.status_code == 422


def test_manual_investigation_needs_site_assignment(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.investigator)
    body = {
        "site": OTHER_SITE,
        "title": "Label mix-up",
        "description": "Wrong label roll found at line clearance.",
        "occurred_at": "2026-11-21T10:00:00Z",
    }
    assert client.post("/api/v1/investigations", json=body).status_code == 403
    created = client.post("/api/v1/investigations", json={**body, "site": SITE})
    assert created.status_code == 201
    assert created.json()["source"] == "manual" and created.json()["jobs"][0]["status"] == "pending"


def test_readyz_reports_missing_runner_and_healthz_is_up(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is True
    assert (
        checks["draft_runner"]["ok"] is False and "stay pending" in checks["draft_runner"]["detail"]
    )


def test_landing_page_escapes_and_counts(client: TestClient, seeded: Seeded, db_url: str) -> None:
    anonymous = client.get("/")
    assert anonymous.status_code == 200 and "devia" in anonymous.text
    assert "Sign in" in anonymous.text and "/docs" in anonymous.text
    login(client, seeded.investigator)
    page = client.get("/")
    assert "drafting" in page.text and "Investigator Person" in page.text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_landing_page_escapes_user_text(build_client: AppBuilder, db_url: str) -> None:
    from api.records import accounts
    from api.records.audit import Actor

    db = Database(db_url)
    with db.write() as session:
        accounts.create_user(
            session,
            Actor("test"),
            username="xss",
            printed_name="<script>alert(1)</script>",
            role="investigator",
            password=PASSWORD,
            sites=[SITE],
        )
    db.dispose()
    with build_client() as other:
        login(other, "xss")
        page = other.get("/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
