"""Search of the indexed evidence and similar-event lookup, scoped to the caller's sites.

The scope comes from the signed-in user (their sites plus the shared reference site); a
`site` parameter can only narrow it, and asking for a site outside it is refused with 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.auth.deps import StateDep, UserDep
from api.evidence import EvidenceIndex, readable_sites
from api.records import investigations
from api.records.accounts import Principal
from api.records.errors import Forbidden, Invalid, RecordsError
from api.routers.investigations import InvestigationId
from api.schemas.search import SearchOut, SimilarOut
from retrieval.search import SearchRequest, SearchRequestError
from retrieval.similar import EventQuery, SimilarQueryError

router = APIRouter(tags=["search"])
Strings = Annotated[list[str] | None, Query(max_length=20)]


class IndexUnavailable(RecordsError):
    status_code = 503


class SimilarIn(BaseModel):
    description: Annotated[str, Field(min_length=1, max_length=20_000)]
    site: Annotated[str | None, Field(max_length=64)] = None
    equipment: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    product_code: Annotated[str, Field(max_length=200)] = ""
    parameter: Annotated[str, Field(max_length=200)] = ""
    occurred_at: AwareDatetime | None = None


def _index(state: StateDep) -> EvidenceIndex:
    if state.evidence is None:
        raise IndexUnavailable("the evidence index is not loaded in this process")
    return state.evidence


def scope(principal: Principal, requested: list[str] | None) -> tuple[str, ...]:
    allowed = readable_sites(principal.sites)
    if not requested:
        return allowed
    outside = sorted(set(requested) - set(allowed))
    if outside:
        raise Forbidden(f"no access to site(s) {', '.join(outside)}")
    return tuple(dict.fromkeys(requested))


@router.get("/search", response_model=SearchOut)
def search(
    state: StateDep,
    principal: UserDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="Plain-words query")],
    site: Strings = None,
    doc_type: Strings = None,
    product: Strings = None,
    equipment: Strings = None,
    date_from: date | None = None,
    date_to: date | None = None,
    include_superseded: bool = False,
    group: bool = False,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    index = _index(state)
    try:
        request = SearchRequest(
            q,
            sites=scope(principal, site),
            doc_types=doc_type or (),
            products=product or (),
            equipment=equipment or (),
            date_from=date_from,
            date_to=date_to,
            include_superseded=include_superseded,
            limit=limit,
            group_by_document=group,
        )
    except SearchRequestError as exc:
        raise Invalid(str(exc)) from exc
    return SearchOut.of(index.search(request))


def _similar(
    index: EvidenceIndex, payload: dict[str, Any], sites: tuple[str, ...], limit: int
) -> SimilarOut:
    try:
        query = EventQuery.from_payload(payload, sites)
    except SimilarQueryError as exc:
        raise Invalid(str(exc)) from exc
    return SimilarOut.of(index.similar(query, limit))


@router.post("/similar", response_model=SimilarOut)
def similar(
    body: SimilarIn,
    state: StateDep,
    principal: UserDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarOut:
    """Historical events most like the one described, with shared factors and a failure-mode
    suggestion. `site` narrows the scope to one of the caller's sites."""
    index = _index(state)
    sites = scope(principal, [body.site] if body.site else None)
    payload: dict[str, Any] = {
        "description": body.description,
        "equipment": body.equipment,
        "product_code": body.product_code,
        "parameter": body.parameter or None,
        "occurred_at": body.occurred_at.isoformat() if body.occurred_at else None,
    }
    return _similar(index, payload, sites, limit)


@router.get("/investigations/{investigation_id}/similar", response_model=SimilarOut)
def similar_to_investigation(
    investigation_id: InvestigationId,
    state: StateDep,
    principal: UserDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarOut:
    """Precedents of one investigation's event, from its own site's history."""
    index = _index(state)
    with state.db.read() as session:
        investigation = investigations.get_visible(session, principal, investigation_id)
        payload = dict(investigation.payload)
        site = investigation.site
    return _similar(index, payload, (site,), limit)
