"""Cookies, CSRF on the JSON API, passwords never logged or stored, secrets from the environment."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.jobs.worker import JobHandlers
from api.settings import Settings
from api.web import csrf
from tests.api.conftest import mes_event
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner
from tests.security.world import SESSION_COOKIE, SITE_A, quick_app, sign_in

ROOT = Path(__file__).resolve().parents[2]
KNOWN_PASSWORD = "Tr0ub4dor&3-never-log-me"


def _cookie_attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookies_are_http_only_same_site_and_secure_when_configured(
    tmp_path: Path, secure: bool
) -> None:
    with quick_app(tmp_path, cookie_secure=secure) as (c, _keys):
        api = c.post(
            "/api/v1/auth/login",
            json={"username": "investigator", "password": "correct horse battery"},
        )
        cookie = api.headers["set-cookie"]
        attributes = _cookie_attributes(cookie)
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "samesite=lax" in cookie.lower()
        assert ("secure" in attributes) is secure
        c.cookies.clear()
        form = c.get("/login")
        login_cookie = form.headers["set-cookie"]
        assert "httponly" in login_cookie.lower() and "samesite=strict" in login_cookie.lower()
        token = login_cookie.split(";")[0].split("=", 1)[1]
        c.cookies.clear()
        ui = c.post(
            "/login",
            data={
                "username": "investigator",
                "password": "correct horse battery",
                "csrf_token": token,
            },
            follow_redirects=False,
            # Sent by hand: the test client does not send a Secure cookie over http.
            headers={"Cookie": f"{csrf.LOGIN_COOKIE}={token}"},
        )
        assert ui.status_code == 303
        session = next(
            v
            for k, v in ui.headers.multi_items()
            if k == "set-cookie" and v.startswith(SESSION_COOKIE)
        )
        assert "httponly" in session.lower() and "samesite=lax" in session.lower()
        assert ("secure" in _cookie_attributes(session)) is secure


def test_cookie_authenticated_non_json_writes_need_the_csrf_token(tmp_path: Path) -> None:
    handlers = JobHandlers(draft=FakeDeterministicDraftRunner())
    with quick_app(tmp_path, handlers) as (c, keys):
        page = sign_in(c, "investigator")
        cookie_only = {"Cookie": page["Cookie"]}
        raw = {"site": SITE_A, "filename": "forged.txt"}
        # What a cross-site form or no-cors fetch can send: refused, nothing stored.
        for content_type in (
            "application/octet-stream",
            "text/plain",
            "multipart/form-data; boundary=x",
            None,
        ):
            headers = dict(cookie_only)
            if content_type:
                headers["Content-Type"] = content_type
            forged = c.post("/api/v1/documents", params=raw, content=b"forged", headers=headers)
            assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"], (
                content_type
            )
        wrong = c.post(
            "/api/v1/documents",
            params=raw,
            content=b"forged",
            headers={**cookie_only, "X-CSRF-Token": csrf.token_for_session("another-session")},
        )
        assert wrong.status_code == 403
        assert c.get("/api/v1/documents", headers=cookie_only).json() == []
        logout = c.post("/api/v1/auth/logout", headers=cookie_only)
        assert logout.status_code == 403
        # The page's own upload (with the token) works.
        ok = c.post(
            "/api/v1/documents",
            params=raw,
            content=b"real",
            headers={**page, "Content-Type": "application/octet-stream"},
        )
        assert ok.status_code == 201, ok.text
        # JSON needs a CORS preflight a cross-site page cannot pass: no token needed.
        posted = c.post(
            "/api/v1/events",
            json=mes_event("MES-CSRF"),
            headers={"Authorization": f"Bearer {keys['mes_key']}"},
        )
        assert posted.status_code == 202  # bearer key: exempt
        inv = posted.json()["investigation_id"]
        chat = c.post(
            f"/api/v1/investigations/{inv}/chat", json={"content": "limits?"}, headers=cookie_only
        )
        assert chat.status_code == 201
        as_text = c.post(
            f"/api/v1/investigations/{inv}/chat",
            content=b'{"content": "forged"}',
            headers={**cookie_only, "Content-Type": "text/plain"},
        )
        assert as_text.status_code == 403


def test_passwords_are_never_logged_or_stored(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.cli.main import app as cli

    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "cli"
    monkeypatch.setenv("DEVIA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DEVIA_SITES", SITE_A)
    created = CliRunner().invoke(
        cli,
        [
            "users",
            "add",
            "quinn",
            "--role",
            "qa_approver",
            "--site",
            SITE_A,
            "--password",
            KNOWN_PASSWORD,
        ],
    )
    assert created.exit_code == 0, created.output
    assert KNOWN_PASSWORD not in created.output
    handlers = JobHandlers(draft=FakeDeterministicDraftRunner())
    with quick_app(tmp_path, handlers) as (c, keys):
        from api.records import accounts
        from api.records.audit import Actor
        from api.records.db import Database

        db = Database(c.app.state.devia.config.database_url)  # type: ignore[attr-defined]
        with db.write() as session:
            accounts.create_user(
                session, Actor("test"), username="rita", printed_name="Rita", role="qa_approver",
                password=KNOWN_PASSWORD, sites=[SITE_A],
            )  # fmt: skip
        db.dispose()
        for password in (KNOWN_PASSWORD + "x", KNOWN_PASSWORD):
            c.post("/api/v1/auth/login", json={"username": "rita", "password": password})
        c.cookies.clear()
        c.get("/login")
        c.post(
            "/login",
            data={
                "username": "rita",
                "password": KNOWN_PASSWORD + "y",
                "csrf_token": c.cookies[csrf.LOGIN_COOKIE],
            },
        )
        c.cookies.clear()
        posted = c.post(
            "/api/v1/events",
            json=mes_event("MES-PW"),
            headers={"Authorization": f"Bearer {keys['mes_key']}"},
        )
        inv = posted.json()["investigation_id"]
        rita = sign_in_as(c, "rita", KNOWN_PASSWORD)
        for password in (KNOWN_PASSWORD + "z", KNOWN_PASSWORD):
            c.post(
                f"/api/v1/investigations/{inv}/approve",
                json={"version": 1, "sha256": "0" * 64, "username": "rita", "password": password},
                headers=rita,
            )
        stored = (Path(c.app.state.devia.config.data_dir) / "devia.db").read_bytes()  # type: ignore[attr-defined]
    out, err = capfd.readouterr()
    for where, text in (("logs", caplog.text), ("stdout", out), ("stderr", err)):
        assert KNOWN_PASSWORD not in text, f"the password appears in the {where}"
    assert KNOWN_PASSWORD.encode() not in stored
    assert KNOWN_PASSWORD.encode() not in (data_dir / "devia.db").read_bytes()
    assert caplog.records, "nothing was logged: the check would be vacuous"


def sign_in_as(c: object, username: str, password: str) -> dict[str, str]:
    from fastapi.testclient import TestClient

    assert isinstance(c, TestClient)
    response = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    c.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": csrf.token_for_session(token)}


def test_secrets_come_from_the_environment_and_are_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVIA_LLM_API_KEY", "sk-from-env-123")
    monkeypatch.setenv("DEVIA_INDEX_API_KEY", "qdrant-from-env-456")
    settings = Settings()
    assert settings.llm_api_key.get_secret_value() == "sk-from-env-123"
    assert settings.index_api_key is not None
    assert settings.index_api_key.get_secret_value() == "qdrant-from-env-456"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "sk-from-env-123" not in shown and "qdrant-from-env-456" not in shown


def test_no_credentials_are_hard_coded_in_the_application() -> None:
    pattern = re.compile(
        r"""(?i)(?:password|passwd|secret|api_key|token)\s*[:=]\s*["'][^"'\s]{8,}["']"""
    )
    allowed = {"devia-dummy-password-for-timing"}  # hashed at import to equalise login timing
    found = []
    for package in ("api", "assistant", "retrieval", "ingestion"):
        for path in (ROOT / package).rglob("*.py"):
            for match in pattern.finditer(path.read_text()):
                if not any(a in match.group(0) for a in allowed):
                    found.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not found, found
