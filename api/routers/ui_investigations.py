"""Web UI: the queue, the investigation page and its actions (edit, review, sign, history).

Actions call the same records functions as the JSON API, inside one write transaction each.
A refused action re-renders the page with the reason in plain words; a done one redirects
back to the page (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth.deps import StateDep
from api.limits import LimitsDep, TooManyRequests
from api.records import investigations
from api.records.accounts import Principal
from api.records.errors import Forbidden, RecordsError
from api.records.models import InvestigationStatus, Role
from api.routers.investigations import username_of
from api.routers.reviews import verify_signer
from api.schemas.investigations import SignatureIn
from api.state import AppState
from api.web.csrf import require_session_token
from api.web.draft_view import SECTION_TITLES, citation_at, highlight
from api.web.investigation_page import build_page, days_until
from api.web.section_edit import apply_form
from api.web.session import PageUserDep, render
from api.web.sources import find_source

router = APIRouter(include_in_schema=False)
Csrf = Depends(require_session_token)
InvestigationId = Annotated[str, Path(min_length=1, max_length=36)]
DONE_MESSAGES = {
    "edited": "Section saved as a new version.",
    "changes": "Changes requested; the investigator has been given your comments.",
    "approved": "Approved and signed.",
    "rejected": "Rejected and signed.",
    "submitted": "Draft resubmitted for review.",
    "redraft": "Drafting restarted.",
}


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    state: StateDep,
    user: PageUserDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    statuses = [s.value for s in InvestigationStatus]
    chosen_status = status if status in statuses else None
    rows: list[dict[str, Any]] = []
    with state.db.read() as session:
        found, total = investigations.list_visible(
            session, user, status=chosen_status, site=site or None, limit=200
        )
        for inv in found:
            payload = inv.payload or {}
            suggestion = ""
            if inv.current_version:
                content = investigations.get_version(session, inv.id, inv.current_version).content
                classification = content.get("classification")
                if isinstance(classification, dict):
                    suggestion = str(classification.get("criticality_suggested") or "")
            equipment = payload.get("equipment") or []
            rows.append(
                {
                    "inv": inv,
                    "equipment": ", ".join(str(e) for e in equipment)
                    if isinstance(equipment, list)
                    else str(equipment),
                    "product": str(payload.get("product_code") or ""),
                    "criticality": suggestion,
                    "days": days_until(inv.due_at),
                }
            )
    return render(
        request,
        "queue.html",
        user,
        rows=rows,
        total=total,
        statuses=statuses,
        status=chosen_status or "",
        site=site or "",
        sites=sorted(user.sites),
    )


def _page(
    request: Request,
    state: AppState,
    user: Principal,
    investigation_id: str,
    *,
    version: int | None = None,
    error: str = "",
    status_code: int = 200,
    open_dialog: str = "",
) -> Response:
    with state.db.read() as session:
        page = build_page(
            session,
            user,
            investigation_id,
            version=version,
            data_dir=state.config.data_dir,
            index=state.evidence,
        )
    done = request.query_params.get("done", "")
    return render(
        request,
        "investigation.html",
        user,
        status_code=status_code,
        p=page,
        inv=page.investigation,
        error=error,
        notice=DONE_MESSAGES.get(done, ""),
        open_dialog=open_dialog,
        section_titles=SECTION_TITLES,
        chat_enabled=state.handlers.chat is not None,
    )


def _back(investigation_id: str, done: str) -> Response:
    return RedirectResponse(f"/investigations/{investigation_id}?done={done}", status_code=303)


@router.get("/investigations/{investigation_id}", response_class=HTMLResponse)
def investigation(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    v: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return _page(request, state, user, investigation_id, version=v)


@router.get("/investigations/{investigation_id}/progress", response_class=HTMLResponse)
def progress(
    request: Request, investigation_id: InvestigationId, state: StateDep, user: PageUserDep
) -> Response:
    """Polled while drafting; once the draft is ready (or failed), the page reloads."""
    with state.db.read() as session:
        page = build_page(
            session,
            user,
            investigation_id,
            version=None,
            data_dir=state.config.data_dir,
            index=None,
        )
    response = render(request, "_progress.html", user, p=page, inv=page.investigation)
    if page.investigation.status != InvestigationStatus.drafting.value:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get(
    "/investigations/{investigation_id}/v/{version}/citations/{n}", response_class=HTMLResponse
)
def citation_source(
    request: Request,
    investigation_id: InvestigationId,
    version: Annotated[int, Path(ge=1)],
    n: Annotated[int, Path(ge=1)],
    state: StateDep,
    user: PageUserDep,
) -> Response:
    with state.db.read() as session:
        inv = investigations.get_visible(session, user, investigation_id)
        content = investigations.get_version(session, inv.id, version).content
        site = inv.site
    citation = citation_at(content, n)
    if citation is None:
        return render(request, "_source.html", user, status_code=404, citation=None, n=n)
    source = find_source(state.evidence, citation, site)
    marked = (
        highlight(source.text, citation.quote, citation.quote_start, citation.quote_end)
        if source
        else None
    )
    return render(
        request,
        "_source.html",
        user,
        citation=citation,
        source=source,
        marked=marked,
        index_loaded=state.evidence is not None,
        n=n,
    )


async def _form_dict(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/investigations/{investigation_id}/sections/{section}", dependencies=[Csrf])
async def edit_section(
    request: Request,
    investigation_id: InvestigationId,
    section: Annotated[str, Path(min_length=1, max_length=100)],
    state: StateDep,
    user: PageUserDep,
) -> Response:
    form = await _form_dict(request)
    try:
        if user.role not in (Role.investigator, Role.qa_approver):
            raise Forbidden(f"your role ({user.role.value}) may not edit drafts")
        base_version = int(form.get("base_version") or 0)
        with state.db.write() as session:
            inv = investigations.get_visible(session, user, investigation_id)
            base = investigations.get_version(session, inv.id, base_version or inv.current_version)
            value = apply_form(section, base.content.get(section), form)
            investigations.edit_section(
                session,
                user,
                investigation_id,
                section=section,
                value=value,
                reason=form.get("reason", ""),
                base_version=base_version,
            )
    except (RecordsError, ValueError) as exc:
        message = exc.message if isinstance(exc, RecordsError) else "invalid form values"
        code = exc.status_code if isinstance(exc, RecordsError) else 422
        return _page(request, state, user, investigation_id, error=message, status_code=code)
    return _back(investigation_id, "edited")


@router.post("/investigations/{investigation_id}/request-changes", dependencies=[Csrf])
def request_changes(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    version: Annotated[int, Form(ge=1)],
    sha256: Annotated[str, Form(max_length=64)],
    section: Annotated[str, Form(max_length=100)],
    comment: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    try:
        if user.role is not Role.qa_approver:
            raise Forbidden("only QA approvers request changes")
        with state.db.write() as session:
            investigations.request_changes(
                session,
                user,
                investigation_id,
                version=version,
                sha256=sha256,
                comments={section: comment.strip()} if comment.strip() else {},
            )
    except RecordsError as exc:
        return _page(
            request, state, user, investigation_id, error=exc.message, status_code=exc.status_code
        )
    return _back(investigation_id, "changes")


@router.post("/investigations/{investigation_id}/sign", dependencies=[Csrf])
def sign(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    version: Annotated[int, Form(ge=1)],
    sha256: Annotated[str, Form(pattern="^[0-9a-f]{64}$")],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Part 11 signature: user name and password re-entered; both checked before signing."""
    dialog = f"{decision}-dialog"
    try:
        if user.role is not Role.qa_approver:
            raise Forbidden("only QA approvers sign approvals and rejections")
        if not username or not password:
            raise Forbidden("enter your user name and password to sign")
        body = SignatureIn(
            version=version, sha256=sha256, username=username, password=password, comment=comment
        )
        verify_signer(state, user, body)
        with state.db.write() as session:
            investigations.sign(
                session,
                user,
                investigation_id,
                decision="approve" if decision == "approve" else "reject",
                version=version,
                sha256=sha256,
                comment=comment,
            )
    except RecordsError as exc:
        if exc.status_code == 423:  # locked by this attempt: the session no longer works
            return RedirectResponse("/login", status_code=303)
        return _page(
            request,
            state,
            user,
            investigation_id,
            error=exc.message,
            status_code=exc.status_code,
            open_dialog=dialog,
        )
    return _back(investigation_id, "approved" if decision == "approve" else "rejected")


@router.post("/investigations/{investigation_id}/submit", dependencies=[Csrf])
def submit(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    version: Annotated[int, Form(ge=1)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        if user.role not in (Role.investigator, Role.qa_approver):
            raise Forbidden(f"your role ({user.role.value}) may not resubmit drafts")
        with state.db.write() as session:
            investigations.submit(session, user, investigation_id, version=version, note=note)
    except RecordsError as exc:
        return _page(
            request, state, user, investigation_id, error=exc.message, status_code=exc.status_code
        )
    return _back(investigation_id, "submitted")


@router.post("/investigations/{investigation_id}/redraft", dependencies=[Csrf])
def redraft(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    limits: LimitsDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        if user.role is not Role.investigator:
            raise Forbidden("only investigators restart drafting")
        if not reason.strip():
            raise Forbidden("give a reason for restarting the draft")
        with state.db.write() as session:
            limits.check_drafts(session, user.actor)
            investigations.redraft(session, user, investigation_id, reason.strip())
    except RecordsError as exc:
        return _page(
            request, state, user, investigation_id, error=exc.message, status_code=exc.status_code
        )
    except TooManyRequests as exc:
        page = _page(request, state, user, investigation_id, error=exc.detail, status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    state.worker.wake()
    return _back(investigation_id, "redraft")


@router.get("/investigations/{investigation_id}/history", response_class=HTMLResponse)
def history(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    from_version: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Response:
    error = ""
    diff: list[dict[str, Any]] = []
    with state.db.read() as session:
        inv = investigations.get_visible(session, user, investigation_id)
        versions = [
            (v, username_of(session, v.author_user_id))
            for v in investigations.versions(session, inv.id)
        ]
        edits = [
            (e, username_of(session, e.user_id))
            for e in investigations.section_edits(session, inv.id)
        ]
        if versions:
            to_v = to_version or inv.current_version
            from_v = from_version or max(1, to_v - 1)
            try:
                diff = investigations.diff_versions(session, inv.id, from_v, to_v)
            except RecordsError as exc:
                error = exc.message
        else:
            from_v = to_v = 0
    return render(
        request,
        "history.html",
        user,
        inv=inv,
        versions=versions,
        edits=edits,
        diff=diff,
        from_v=from_v,
        to_v=to_v,
        error=error,
        section_titles=SECTION_TITLES,
    )
