"""`POST /events`: the MES trigger. Opens an investigation and queues its AI draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.auth.deps import EventSourceDep, StateDep
from api.records import accounts
from api.records.errors import Forbidden, Invalid
from api.records.events import accept_event
from api.schemas.events import EventAccepted, MesEvent

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=202,
    response_model=EventAccepted,
    responses={
        401: {"description": "missing or invalid API key"},
        403: {"description": "API key not scoped to this site"},
        409: {"description": "idempotency key reused with a different body"},
        413: {"description": "body too large"},
        422: {"description": "invalid payload or unknown site"},
    },
)
def post_event(
    event: MesEvent,
    source: EventSourceDep,
    state: StateDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> EventAccepted:
    if event.site != source.site:
        with state.db.read() as session:
            if not accounts.site_exists(session, event.site):
                raise Invalid(f"unknown site {event.site!r}")
        raise Forbidden(f"this API key may only post events for site {source.site!r}")
    payload = event.model_dump(mode="json")
    outcome = accept_event(
        state.db,
        source.actor,
        site=event.site,
        event_id=event.event_id,
        idempotency_key=idempotency_key,
        payload=payload,
        title=f"{event.parameter.name} excursion on {', '.join(event.equipment)} "
        f"({event.batch_id})",
        due_days=state.config.investigation_due_days,
    )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        state.worker.wake()
    return EventAccepted(**outcome.response)
