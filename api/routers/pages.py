"""Web UI: the landing page, sign in and sign out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from api.auth import secrets
from api.auth.deps import SESSION_COOKIE, StateDep
from api.records import accounts, investigations
from api.records.errors import RecordsError
from api.records.models import InvestigationStatus, User
from api.routers import ui_chat, ui_investigations, ui_records
from api.routers.health import readiness
from api.web import WEB_DIR, csrf
from api.web.session import optional_user, render

__all__ = ["WEB_DIR", "router"]
router = APIRouter(include_in_schema=False)
# The rest of the UI lives in its own routers, mounted with this one by the app factory.
for _module in (ui_investigations, ui_chat, ui_records):
    router.include_router(_module.router)
_DUMMY_HASH = secrets.hash_password("devia-dummy-password-for-timing")


@router.get("/", response_class=HTMLResponse)
def index(request: Request, state: StateDep) -> Response:
    ready, checks = readiness(state)
    user = optional_user(request, state)
    counts: dict[str, int] = {}
    if user is not None:
        with state.db.read() as session:
            counts = investigations.counts_by_status(session, user.sites)
    return render(
        request,
        "index.html",
        user,
        ready=ready,
        checks=checks,
        counts=counts,
        statuses=[s.value for s in InvestigationStatus],
    )


def _safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no host, not protocol-relative): no open redirect."""
    if not target:
        return "/queue"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/queue"
    return target


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    token = csrf.new_login_token()
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        login_csrf=token,
        next_url=next_url,
        error=error,
    )
    config = request.app.state.devia.config
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        secure=config.cookie_secure,
        samesite="strict",
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, state: StateDep, next: str | None = None) -> Response:
    if optional_user(request, state) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, _safe_next(next))


@router.post("/login", dependencies=[Depends(csrf.require_login_token)])
def login_submit(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    config = state.config
    token = ""
    try:
        with state.db.write() as session:
            user = session.execute(
                select(User).where(User.username == username)
            ).scalar_one_or_none()
            if user is None:
                secrets.verify_password(_DUMMY_HASH, password)
                ok = False
            else:
                ok = accounts.check_password(
                    session, user, password, max_failed=config.max_failed_attempts, purpose="login"
                )
            if ok and user is not None:
                token, _login = accounts.open_session(session, user, config.session_ttl_s)
    except RecordsError as exc:  # locked or disabled account: say so plainly
        return _login_page(request, _safe_next(next), exc.message, exc.status_code)
    if not token:
        return _login_page(request, _safe_next(next), "Wrong user name or password.", 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=config.session_ttl_s,
        httponly=True,
        secure=config.cookie_secure,
        samesite=config.cookie_samesite,  # type: ignore[arg-type]
        path="/",
    )
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(csrf.require_session_token)])
def logout(request: Request, state: StateDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with state.db.write() as session:
            accounts.close_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
