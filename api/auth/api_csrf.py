"""CSRF protection of the cookie-authenticated JSON API (a dependency of every /api/v1 route).

A cross-site page can make the browser send a POST with the victim's session cookie as long
as the request stays "simple": a form (urlencoded, multipart, text/plain) or a fetch with a
raw body and no content type, e.g. a forged upload to `POST /api/v1/documents`. JSON requests
need a CORS preflight that this server never grants, so they cannot be forged. Hence: a
state-changing request that carries the session cookie and is not JSON must also carry the
page's `X-CSRF-Token` (api.web.csrf: derived from the session token). Requests with a bearer
API key (MES) carry no cookie authority and are exempt.
"""

from __future__ import annotations

import hmac
from email.message import Message

from fastapi import Request

from api.auth.deps import SESSION_COOKIE
from api.records.errors import Forbidden
from api.web.csrf import HEADER, token_for_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def require_api_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    session_token = request.cookies.get(SESSION_COOKIE)
    if not session_token or is_json(request.headers.get("content-type")):
        return
    submitted = request.headers.get(HEADER, "")
    if not submitted or not hmac.compare_digest(submitted, token_for_session(session_token)):
        raise Forbidden(
            f"a cookie-authenticated {request.method} that is not JSON must carry the page's "
            f"{HEADER} header (cross-site request forgery protection)"
        )
