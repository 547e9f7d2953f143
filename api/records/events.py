"""MES events: one investigation per event, made safe to retry by an idempotency key.

The key (the `Idempotency-Key` header, else the MES event id) is unique per site in the
database; concurrent duplicates race on that constraint, exactly one wins and the others read
the winner's stored response. The same key with a different body is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.records import investigations
from api.records.audit import Actor
from api.records.canonical import content_sha256, utc_now
from api.records.db import Database
from api.records.errors import Conflict
from api.records.models import IdempotencyKey, Investigation


@dataclass(frozen=True)
class EventOutcome:
    response: dict[str, Any]
    replayed: bool


def accept_event(
    db: Database,
    actor: Actor,
    *,
    site: str,
    event_id: str,
    idempotency_key: str | None,
    payload: dict[str, Any],
    title: str,
    due_days: int,
) -> EventOutcome:
    key = idempotency_key or f"event:{event_id}"
    request_sha256 = content_sha256(payload)
    try:
        with db.write() as session:
            investigation, job = investigations.create(
                session,
                actor,
                investigations.NewInvestigation(
                    site=site,
                    source="MES",
                    source_event_id=event_id,
                    title=title,
                    payload=payload,
                ),
                due_days=due_days,
            )
            response = {
                "investigation_id": investigation.id,
                "job_id": job.id,
                "status": investigation.status,
                "event_id": event_id,
                "due_at": investigation.due_at.isoformat(),
            }
            session.add(
                IdempotencyKey(
                    site=site,
                    key=key,
                    request_sha256=request_sha256,
                    investigation_id=investigation.id,
                    response=response,
                    created_at=utc_now(),
                )
            )
            session.flush()
        return EventOutcome(response, replayed=False)
    except IntegrityError:
        return _replay(db, site=site, key=key, event_id=event_id, request_sha256=request_sha256)


def _replay(
    db: Database, *, site: str, key: str, event_id: str, request_sha256: str
) -> EventOutcome:
    with db.read() as session:
        stored = session.execute(
            select(IdempotencyKey).where(IdempotencyKey.site == site, IdempotencyKey.key == key)
        ).scalar_one_or_none()
        if stored is not None:
            if stored.request_sha256 != request_sha256:
                raise Conflict(
                    f"idempotency key {key!r} was already used with a different request body"
                )
            return EventOutcome(dict(stored.response), replayed=True)
        existing = session.execute(
            select(Investigation.id).where(
                Investigation.site == site, Investigation.source_event_id == event_id
            )
        ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"MES event {event_id!r} already opened investigation {existing} "
            "under a different idempotency key"
        )
    raise Conflict("the event could not be stored because of a conflicting record; retry")
