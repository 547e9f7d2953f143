"""CSRF protection for the cookie-authenticated web UI (synchroniser token).

Signed in: the token is derived from the session token (sha256 with a purpose prefix), so it is
per session, needs no storage, is unguessable without the HTTP-only session cookie, and does not
reveal the cookie. Every state-changing UI request must carry it, in the form field
`csrf_token` or the `X-CSRF-Token` header (htmx requests), and it is compared in constant time.

Signed out (the login form), a random value is set in a short-lived cookie and echoed in the
form (double submit), so a cross-site page cannot log a victim into the attacker's account.

Bearer-key clients (MES) never use these routes; the JSON API does not depend on this module.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from api.auth.deps import SESSION_COOKIE
from api.records.errors import Forbidden

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_COOKIE = "devia_login_csrf"
_PURPOSE = b"devia-csrf-v1\x00"


def token_for_session(session_token: str) -> str:
    return hashlib.sha256(_PURPOSE + session_token.encode("utf-8")).hexdigest()


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


async def _submitted(request: Request) -> str:
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FORM_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def require_session_token(request: Request) -> None:
    """Dependency of every state-changing UI route of a signed-in user."""
    session_token = request.cookies.get(SESSION_COOKIE, "")
    submitted = await _submitted(request)
    expected = token_for_session(session_token) if session_token else ""
    if not submitted or not expected or not hmac.compare_digest(submitted, expected):
        raise Forbidden("the form has expired or did not come from this site: reload the page")


async def require_login_token(request: Request) -> None:
    """Dependency of the sign-in form (double submit: cookie and form field must match)."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    submitted = await _submitted(request)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise Forbidden("the sign-in form has expired: reload the page and try again")
