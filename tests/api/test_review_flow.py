"""From MES trigger to signed PDF: AI draft (test fake runner), attributed human edits,
review, Part 11 signatures bound to the version hash, and the rules around them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pymupdf
import pytest
from fastapi.testclient import TestClient

from api.jobs.worker import JobHandlers
from tests.api.conftest import PASSWORD, AppBuilder, Seeded, bearer, login, mes_event, seed
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture(scope="module")
def runner() -> FakeDeterministicDraftRunner:
    return FakeDeterministicDraftRunner()


@pytest.fixture(scope="module")
def client(
    build_client: AppBuilder, seeded: Seeded, runner: FakeDeterministicDraftRunner
) -> Iterator[TestClient]:
    with build_client(handlers=JobHandlers(draft=runner)) as test_client:
        yield test_client


def wait_for_status(client: TestClient, investigation_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/investigations/{investigation_id}").json()
        if body["status"] == status:
            return body
        time.sleep(0.05)
    raise AssertionError(f"investigation never reached {status}: {body}")


def as_user(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    login(client, username)
    return client


def open_drafted(client: TestClient, seeded: Seeded, event_id: str) -> str:
    client.cookies.clear()
    response = client.post(
        "/api/v1/events", json=mes_event(event_id), headers=bearer(seeded.api_key)
    )
    assert response.status_code == 202
    investigation_id = response.json()["investigation_id"]
    as_user(client, seeded.investigator)
    wait_for_status(client, investigation_id, "awaiting_review")
    return investigation_id


def current(client: TestClient, investigation_id: str) -> dict[str, Any]:
    detail = client.get(f"/api/v1/investigations/{investigation_id}").json()
    return client.get(
        f"/api/v1/investigations/{investigation_id}/versions/{detail['current_version']}"
    ).json()


def edit(
    client: TestClient, investigation_id: str, section: str, value: Any, reason: str = "checked"
) -> Any:
    base = current(client, investigation_id)["version"]
    return client.put(
        f"/api/v1/investigations/{investigation_id}/sections/{section}",
        json={"base_version": base, "value": value, "reason": reason},
    )


def fill_decisions(client: TestClient, investigation_id: str) -> None:
    content = current(client, investigation_id)["content"]
    classification = {**content["classification"], "criticality_final": "major"}
    rca = {**content["root_cause_analysis"], "conclusion_level": "most_probable"}
    disposition = {**content["disposition"], "final": "additional_testing", "rationale": "QC"}
    for section, value in (
        ("classification", classification),
        ("root_cause_analysis", rca),
        ("disposition", disposition),
    ):
        assert edit(client, investigation_id, section, value, "human decision").status_code == 200


def sign(
    client: TestClient, investigation_id: str, signer: str, action: str = "approve", **changes: Any
) -> Any:
    version = current(client, investigation_id)
    body = {
        "version": version["version"],
        "sha256": version["sha256"],
        "username": signer,
        "password": PASSWORD,
        "comment": "reviewed against SOP",
    }
    body.update(changes)
    return client.post(f"/api/v1/investigations/{investigation_id}/{action}", json=body)


def test_full_review_flow(client: TestClient, seeded: Seeded) -> None:
    investigation_id = open_drafted(client, seeded, "FLOW-1")
    v1 = current(client, investigation_id)
    assert v1["origin"] == "ai" and v1["author"] == "system"
    assert v1["provenance"]["runner"] == "tests.fake"
    assert v1["content"]["event_description"]["expected_vs_actual"][0]["observed"] == 71.4

    # An edit needs a reason and creates a new, attributed human version.
    no_reason = client.put(
        f"/api/v1/investigations/{investigation_id}/sections/executive_summary",
        json={"base_version": 1, "value": {"text": "x"}, "reason": ""},
    )
    assert no_reason.status_code == 422
    changed = edit(
        client,
        investigation_id,
        "executive_summary",
        {"text": "Revised.", "citations": []},
        "clarity",
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.json()["author"] == seeded.investigator
    stale = client.put(
        f"/api/v1/investigations/{investigation_id}/sections/conclusion",
        json={"base_version": 1, "value": {"text": "late"}, "reason": "late edit"},
    )
    assert stale.status_code == 409 and "superseded" in stale.json()["detail"]
    edits = client.get(f"/api/v1/investigations/{investigation_id}/edits").json()
    assert edits[0]["reason"] == "clarity" and edits[0]["author"] == seeded.investigator
    assert edits[0]["new_value"] == {"text": "Revised.", "citations": []}
    diff = client.get(f"/api/v1/investigations/{investigation_id}/diff?from=1&to=2").json()
    assert [s["section"] for s in diff["sections"]] == ["executive_summary"]
    assert any(line.startswith('+  "text": "Revised."') for line in diff["sections"][0]["diff"])

    # Reviewer asks for changes on the current version; the investigator resubmits.
    as_user(client, seeded.approver)
    version = current(client, investigation_id)
    review = client.post(
        f"/api/v1/investigations/{investigation_id}/request-changes",
        json={
            "version": version["version"],
            "sha256": version["sha256"],
            "comments": {"disposition": "set the final disposition"},
        },
    )
    assert review.status_code == 201, review.text
    as_user(client, seeded.investigator)
    fill_decisions(client, investigation_id)
    submitted = client.post(
        f"/api/v1/investigations/{investigation_id}/submit",
        json={"version": current(client, investigation_id)["version"], "note": "done"},
    )
    assert submitted.status_code == 200 and submitted.json()["status"] == "awaiting_review"

    # Approval: a Part 11 signature bound to the exact version hash.
    as_user(client, seeded.approver)
    signed = sign(client, investigation_id, seeded.approver)
    assert signed.status_code == 201, signed.text
    signature = signed.json()
    final = current(client, investigation_id)
    assert signature["version_sha256"] == final["sha256"]
    assert signature["meaning"] == "approved"
    assert signature["printed_name"] == "Approver Person"
    detail = client.get(f"/api/v1/investigations/{investigation_id}").json()
    assert detail["status"] == "approved"

    pdf = client.get(f"/api/v1/investigations/{investigation_id}/export.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.get_text() for page in pymupdf.open(stream=pdf.content, filetype="pdf"))
    assert "Approver Person" in text and "approved" in text
    assert signature["signed_at"][:10] in text and final["sha256"] in text.replace("\n", "")

    # Nothing more can be signed or edited once approved.
    assert sign(client, investigation_id, seeded.approver).status_code == 409


def test_signing_rules(client: TestClient, seeded: Seeded, db_url: str) -> None:
    investigation_id = open_drafted(client, seeded, "FLOW-2")
    as_user(client, seeded.approver2)
    missing = sign(client, investigation_id, seeded.approver2)
    assert missing.status_code == 422 and "criticality_final" in missing.json()["detail"]

    # A QA approver who edits the draft becomes an author and may not approve it.
    fill_decisions(client, investigation_id)
    own = sign(client, investigation_id, seeded.approver2)
    assert own.status_code == 403 and "another person must approve" in own.json()["detail"]

    as_user(client, seeded.approver)
    superseded = sign(client, investigation_id, seeded.approver, version=1)
    assert superseded.status_code == 409 and "superseded" in superseded.json()["detail"]
    wrong_hash = sign(client, investigation_id, seeded.approver, sha256="0" * 64)
    assert wrong_hash.status_code == 409
    other_name = sign(client, investigation_id, seeded.approver, username=seeded.approver2)
    assert other_name.status_code == 403
    not_approver = as_user(client, seeded.investigator2)
    assert sign(not_approver, investigation_id, seeded.investigator2).status_code == 403

    as_user(client, seeded.approver)
    reject_no_reason = sign(client, investigation_id, seeded.approver, "reject", comment="")
    assert reject_no_reason.status_code == 422
    rejected = sign(client, investigation_id, seeded.approver, "reject", comment="evidence weak")
    assert rejected.status_code == 201 and rejected.json()["meaning"] == "rejected"
    from tests.api.conftest import count_rows

    assert count_rows(db_url, "signatures") >= 1


def test_wrong_signature_passwords_lock_the_account(client: TestClient, seeded: Seeded) -> None:
    investigation_id = open_drafted(client, seeded, "FLOW-3")
    fill_decisions(client, investigation_id)
    as_user(client, seeded.approver2)
    first = sign(client, investigation_id, seeded.approver2, password="wrong password 1")
    assert first.status_code == 401 and "2 attempt(s) left" in first.json()["detail"]
    assert sign(client, investigation_id, seeded.approver2, password="wrong 2").status_code == 401
    third = sign(client, investigation_id, seeded.approver2, password="wrong 3")
    assert third.status_code == 401 and "locked" in third.json()["detail"]
    # The session of a locked account no longer works, and no signature was written.
    after = client.get(f"/api/v1/investigations/{investigation_id}")
    assert after.status_code == 423 and "locked" in after.json()["detail"]
    client.cookies.clear()
    relogin = client.post(
        "/api/v1/auth/login", json={"username": seeded.approver2, "password": PASSWORD}
    )
    assert relogin.status_code == 423
    as_user(client, seeded.investigator)
    sigs = client.get(f"/api/v1/investigations/{investigation_id}/signatures").json()
    assert sigs == []


def test_audit_chain_verifies_and_detects_tampering(
    client: TestClient, seeded: Seeded, db_url: str
) -> None:
    as_user(client, seeded.admin)
    ok = client.get("/api/v1/audit/verify").json()
    assert ok["ok"] is True and ok["entries_checked"] > 20
    page = client.get("/api/v1/audit", params={"entity": "signature"}).json()
    assert {e["action"] for e in page["items"]} >= {"approved", "rejected"}
    assert all(e["actor"].startswith("user:") for e in page["items"])
    csv_export = client.get("/api/v1/audit", params={"format": "csv", "entity": "section"})
    assert csv_export.status_code == 200 and csv_export.text.startswith("seq,at,actor")
    assert "human decision" in csv_export.text

    # Someone with database access bypasses the append-only trigger and rewrites a reason.
    from sqlalchemy import text

    from api.records.db import Database

    db = Database(db_url)
    target = page["items"][0]["seq"]
    with db.engine.begin() as connection:
        if db.dialect == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        connection.execute(
            text("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = :seq"), {"seq": target}
        )
    db.dispose()
    broken = client.get("/api/v1/audit/verify").json()
    assert broken["ok"] is False
    assert broken["first_broken_seq"] == target
    assert "does not match its stored hash" in broken["problem"]
