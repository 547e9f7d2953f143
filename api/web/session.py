"""Who is signed in to the web UI, the role-aware navigation, and the shared page context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.auth.deps import SESSION_COOKIE, StateDep
from api.records import accounts
from api.records.accounts import Principal
from api.records.errors import RecordsError
from api.records.models import Role
from api.web import WEB_DIR
from api.web.chat_format import split_answer
from api.web.csrf import token_for_session

templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))  # autoescapes .html
templates.env.filters["split_answer"] = split_answer


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: frozenset[Role]


NAV: tuple[NavItem, ...] = (
    NavItem("/queue", "Queue", frozenset(Role)),
    NavItem("/documents", "Documents", frozenset(Role)),
    NavItem("/search", "Search", frozenset({Role.investigator, Role.qa_approver})),
    NavItem("/audit", "Audit trail", frozenset({Role.qa_approver, Role.admin})),
)


def optional_user(request: Request, state: StateDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with state.db.read() as session:
            return accounts.principal_for(session, accounts.resolve_session(session, token))
    except RecordsError:
        return None


def page_user(request: Request, state: StateDep) -> Principal:
    """The signed-in user, or a redirect to the sign-in page that comes back here."""
    user = optional_user(request, state)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303, "sign in first", headers={"Location": "/login?next=" + quote(target)}
        )
    return user


PageUserDep = Annotated[Principal, Depends(page_user)]


def require_page_role(user: Principal, *roles: Role) -> None:
    if user.role not in roles:
        raise HTTPException(403, f"your role ({user.role.value}) may not open this page")


# Pages load only their own scripts and styles: text that slipped past escaping still cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def render(
    request: Request,
    template: str,
    user: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    nav = [item for item in NAV if user is not None and user.role in item.roles]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": nav,
            "csrf_token": token_for_session(token) if token and user else "",
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
