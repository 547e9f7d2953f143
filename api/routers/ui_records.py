"""Web UI: documents (upload, ingestion status), evidence search, and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.deps import StateDep
from api.evidence import readable_sites
from api.records import documents
from api.records.errors import RecordsError
from api.records.models import AuditEntry, Role
from api.routers.audit import _query as audit_query
from api.routers.search import scope
from api.web.session import PageUserDep, render, require_page_role
from retrieval.index_contract import DocType
from retrieval.search import SearchRequest, SearchRequestError

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=200)]


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, state: StateDep, user: PageUserDep) -> Response:
    with state.db.read() as session:
        rows = documents.list_visible(session, user)
    return render(
        request,
        "documents.html",
        user,
        rows=rows,
        sites=sorted(user.sites),
        doc_types=[t.value for t in DocType],
        can_upload=user.role in (Role.investigator, Role.admin),
        ingest_enabled=state.handlers.ingest is not None,
        max_upload_bytes=state.config.max_upload_bytes,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    state: StateDep,
    user: PageUserDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    site: Text = "",
    doc_type: Text = "",
    product: Text = "",
    equipment: Text = "",
    date_from: Text = "",
    date_to: Text = "",
    include_superseded: bool = False,
) -> Response:
    error = ""
    hits: list[Any] = []
    form = {
        "q": q,
        "site": site,
        "doc_type": doc_type,
        "product": product,
        "equipment": equipment,
        "date_from": date_from,
        "date_to": date_to,
        "include_superseded": include_superseded,
    }
    if q.strip():
        if state.evidence is None:
            error = "The document index is not loaded in this server process, so search is off."
        else:
            try:
                request_ = SearchRequest(
                    q.strip(),
                    sites=scope(user, [site] if site else None),
                    doc_types=[doc_type] if doc_type else (),
                    products=[product] if product else (),
                    equipment=[equipment] if equipment else (),
                    date_from=date.fromisoformat(date_from) if date_from else None,
                    date_to=date.fromisoformat(date_to) if date_to else None,
                    include_superseded=include_superseded,
                    limit=20,
                )
                hits = state.evidence.search(request_).hits
            except RecordsError as exc:
                error = exc.message
            except (SearchRequestError, ValueError) as exc:
                error = f"The search could not run: {exc}"
    return render(
        request,
        "search.html",
        user,
        form=form,
        hits=hits,
        error=error,
        searched=bool(q.strip()),
        sites=list(readable_sites(user.sites)),
        doc_types=[t.value for t in DocType],
    )


def _day(value: str, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter as a UTC instant; an end date includes its whole day."""
    if not value:
        return None
    day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
    return datetime.combine(day, time.min, tzinfo=UTC)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    state: StateDep,
    user: PageUserDep,
    entity: Text = "",
    entity_id: Text = "",
    actor: Text = "",
    action: Text = "",
    site: Text = "",
    since: Text = "",
    until: Text = "",
) -> Response:
    require_page_role(user, Role.qa_approver, Role.admin)
    error = ""
    rows: list[AuditEntry] = []
    filters = {
        "entity": entity,
        "entity_id": entity_id,
        "actor": actor,
        "action": action,
        "site": site,
        "since": since,
        "until": until,
    }
    try:
        since_at, until_at = _day(since), _day(until, end=True)
    except ValueError:
        error = "Dates must be given as YYYY-MM-DD."
        since_at = until_at = None
    if not error:
        query = audit_query(
            user,
            entity or None,
            entity_id or None,
            actor or None,
            action or None,
            site or None,
            since_at,
            until_at,
            0,
        )
        with state.db.read() as session:
            rows = list(session.execute(query.limit(500)).scalars())
    export: dict[str, str] = {"format": "csv"}
    for key, value in (
        ("entity", entity),
        ("entity_id", entity_id),
        ("actor", actor),
        ("action", action),
        ("site", site),
    ):
        if value:
            export[key] = value
    if since_at:
        export["since"] = since_at.isoformat()
    if until_at:
        export["until"] = until_at.isoformat()
    return render(
        request,
        "audit.html",
        user,
        rows=rows,
        filters=filters,
        error=error,
        csv_url="/api/v1/audit?" + urlencode(export),
        sites=sorted(user.sites),
    )
