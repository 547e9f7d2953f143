"""The audit trail: filtered listing (JSON or CSV export) and hash-chain verification."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api.auth.deps import AuditReaderDep, StateDep
from api.records import audit
from api.records.accounts import Principal
from api.records.canonical import iso_utc
from api.records.models import AuditEntry, Role
from api.schemas.audit import AuditEntryOut, AuditPage, ChainVerification

router = APIRouter(prefix="/audit", tags=["audit"])
CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "site",
    "entity",
    "entity_id",
    "action",
    "reason",
    "old_value",
    "new_value",
    "prev_hash",
    "hash",
)
MAX_EXPORT_ROWS = 1_000_000


def _query(
    principal: Principal,
    entity: str | None,
    entity_id: str | None,
    actor: str | None,
    action: str | None,
    site: str | None,
    since: datetime | None,
    until: datetime | None,
    after_seq: int,
) -> Select[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.seq > after_seq)
    # Entries of the caller's own sites only: an entry carries its site's data (chat text,
    # edited sections), so another client's trail stays hidden even from an admin assigned
    # elsewhere. Admins also see the entries of no site (accounts, configuration).
    own = AuditEntry.site.in_(sorted(principal.sites))
    query = query.where(
        or_(own, AuditEntry.site.is_(None)) if principal.role is Role.admin else own
    )
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
        (AuditEntry.site, site),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query.order_by(AuditEntry.seq)


@router.get("", response_model=AuditPage)
def list_audit(
    state: StateDep,
    principal: AuditReaderDep,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    format: Literal["json", "csv"] = "json",
) -> AuditPage | StreamingResponse:
    query = _query(principal, entity, entity_id, actor, action, site, since, until, after_seq)
    if format == "csv":
        return StreamingResponse(
            _csv_rows(state.db.read, query.limit(MAX_EXPORT_ROWS)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="devia-audit.csv"'},
        )
    with state.db.read() as session:
        rows = session.execute(query.limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[AuditEntryOut.of(r) for r in rows],
        next_after_seq=rows[-1].seq if more and rows else None,
    )


def _csv_rows(
    read: Callable[[], AbstractContextManager[Session]], query: Select[AuditEntry]
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    with read() as session:
        for row in session.execute(query.execution_options(yield_per=1000)).scalars():
            values = [getattr(row, column) for column in CSV_COLUMNS]
            values[1] = iso_utc(row.at)
            writer.writerow(["" if v is None else v for v in values])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


@router.get("/verify", response_model=ChainVerification)
def verify(state: StateDep, principal: AuditReaderDep) -> ChainVerification:
    """Recompute the whole hash chain; report the first entry that does not verify."""
    del principal
    with state.db.read() as session:
        report = audit.verify_all(session)
    return ChainVerification(
        ok=report.ok,
        entries_checked=report.entries_checked,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
    )
