"""The minimal landing page (the full UI is a later piece of work)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyCookie
from fastapi.templating import Jinja2Templates

from api.auth.deps import SESSION_COOKIE, StateDep
from api.records import accounts, investigations
from api.records.accounts import Principal
from api.records.errors import RecordsError
from api.records.models import InvestigationStatus
from api.routers.health import readiness

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))  # autoescapes .html
router = APIRouter(include_in_schema=False)
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request, state: StateDep, token: Annotated[str | None, Depends(_cookie)]
) -> HTMLResponse:
    ready, checks = readiness(state)
    user: Principal | None = None
    counts: dict[str, int] = {}
    if token:
        try:
            with state.db.read() as session:
                user = accounts.principal_for(session, accounts.resolve_session(session, token))
                counts = investigations.counts_by_status(session, user.sites)
        except RecordsError:
            user = None
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "ready": ready,
            "checks": checks,
            "user": user,
            "counts": counts,
            "statuses": [s.value for s in InvestigationStatus],
        },
    )
