"""FastAPI dependencies: app state, the signed-in user (session cookie), roles, MES API keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.records import accounts
from api.records.accounts import EVENTS_SCOPE, Principal
from api.records.audit import Actor
from api.records.errors import Forbidden, Unauthenticated
from api.records.models import Role
from api.state import AppState

SESSION_COOKIE = "devia_session"

_session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)
_bearer = HTTPBearer(auto_error=False, description="MES API key (`devia users api-key`)")


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.devia
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def current_user(
    state: StateDep, token: Annotated[str | None, Depends(_session_cookie)]
) -> Principal:
    if not token:
        raise Unauthenticated("not signed in: POST /api/v1/auth/login first")
    with state.db.read() as session:
        user = accounts.resolve_session(session, token)
        return accounts.principal_for(session, user)


UserDep = Annotated[Principal, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[Principal], Principal]:
    allowed = {r.value for r in roles}

    def check(principal: UserDep) -> Principal:
        if principal.role.value not in allowed:
            raise Forbidden(
                f"role {principal.role.value} may not do this (needs: {', '.join(sorted(allowed))})"
            )
        return principal

    return check


InvestigatorDep = Annotated[Principal, Depends(require_role(Role.investigator))]
# QA approvers may correct a draft too; doing so makes them an author of it (no self-approval).
EditorDep = Annotated[Principal, Depends(require_role(Role.investigator, Role.qa_approver))]
ApproverDep = Annotated[Principal, Depends(require_role(Role.qa_approver))]
AuditReaderDep = Annotated[Principal, Depends(require_role(Role.qa_approver, Role.admin))]
ReaderDep = UserDep


@dataclass(frozen=True)
class EventSource:
    """An MES client authenticated by its API key (one site, the events endpoint only)."""

    key_id: int
    name: str
    site: str

    @property
    def actor(self) -> Actor:
        return Actor.api_key(self.key_id, self.name)


def event_source(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> EventSource:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
    with state.db.read() as session:
        key = accounts.find_api_key(session, credentials.credentials)
        if key is None:
            raise Unauthenticated("invalid or revoked API key")
        if key.scope != EVENTS_SCOPE:
            raise Forbidden("this API key is not allowed to post events")
        return EventSource(key.id, key.name, key.site_code)


EventSourceDep = Annotated[EventSource, Depends(event_source)]
