"""Sign in and out with a session cookie (HTTP-only, SameSite, Secure per settings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import APIKeyCookie
from sqlalchemy import select

from api.auth import secrets
from api.auth.deps import SESSION_COOKIE, StateDep, UserDep
from api.records import accounts
from api.records.errors import Unauthenticated
from api.records.models import User
from api.schemas.auth import LoginIn, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)
# Verifying against a real hash for unknown users keeps response times alike (no user probing).
_DUMMY_HASH = secrets.hash_password("devia-dummy-password-for-timing")


@router.post("/login", response_model=UserOut)
def login(body: LoginIn, state: StateDep, response: Response) -> UserOut:
    config = state.config
    with state.db.write() as session:
        user = session.execute(
            select(User).where(User.username == body.username)
        ).scalar_one_or_none()
        if user is None:
            secrets.verify_password(_DUMMY_HASH, body.password)
            ok = False
        else:
            ok = accounts.check_password(
                session, user, body.password, max_failed=config.max_failed_attempts, purpose="login"
            )
        if ok and user is not None:
            token, _login = accounts.open_session(session, user, config.session_ttl_s)
            principal = accounts.principal_for(session, user)
    if not ok or user is None:
        raise Unauthenticated("wrong username or password")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=config.session_ttl_s,
        httponly=True,
        secure=config.cookie_secure,
        samesite=config.cookie_samesite,  # type: ignore[arg-type]
        path="/",
    )
    return UserOut(
        username=principal.username,
        printed_name=principal.printed_name,
        role=principal.role.value,
        sites=sorted(principal.sites),
    )


@router.post("/logout", status_code=204)
def logout(
    state: StateDep, response: Response, token: Annotated[str | None, Depends(_cookie)]
) -> Response:
    if token:
        with state.db.write() as session:
            accounts.close_session(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=UserOut)
def me(principal: UserDep) -> UserOut:
    return UserOut(
        username=principal.username,
        printed_name=principal.printed_name,
        role=principal.role.value,
        sites=sorted(principal.sites),
    )
