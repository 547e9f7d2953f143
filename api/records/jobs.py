"""Durable job table: enqueue, claim safely across processes, heartbeat, finish.

Claiming: PostgreSQL uses `SELECT ... FOR UPDATE SKIP LOCKED`; SQLite an atomic conditional
UPDATE inside a BEGIN IMMEDIATE transaction. A running job whose heartbeat is older than the
stale limit (its worker died) is claimable again until it has used its attempts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from api.records import audit
from api.records.canonical import utc_now
from api.records.models import Job, JobKind, JobStatus


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: JobKind
    attempts: int
    investigation_id: str | None
    document_id: str | None
    chat_message_id: int | None


def enqueue(
    session: Session,
    kind: JobKind,
    *,
    investigation_id: str | None = None,
    document_id: str | None = None,
    chat_message_id: int | None = None,
) -> Job:
    job = Job(
        kind=kind.value,
        investigation_id=investigation_id,
        document_id=document_id,
        chat_message_id=chat_message_id,
        status=JobStatus.pending.value,
        attempts=0,
        created_at=utc_now(),
    )
    session.add(job)
    session.flush()
    return job


def _claimable(
    kinds: Collection[JobKind], stale_before: datetime, max_attempts: int
) -> ColumnElement[bool]:
    return and_(
        Job.kind.in_([k.value for k in kinds]),
        or_(
            Job.status == JobStatus.pending.value,
            and_(
                Job.status == JobStatus.running.value,
                Job.heartbeat_at < stale_before,
                Job.attempts < max_attempts,
            ),
        ),
    )


def claim(
    session: Session,
    kinds: Collection[JobKind],
    worker_id: str,
    *,
    stale_after_s: float,
    max_attempts: int,
) -> ClaimedJob | None:
    if not kinds:
        return None
    now = utc_now()
    condition = _claimable(kinds, now - timedelta(seconds=stale_after_s), max_attempts)
    candidate = select(Job.id).where(condition).order_by(Job.created_at, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.execute(candidate.with_for_update(skip_locked=True)).scalar_one_or_none()
        if job_id is None:
            return None
        statement = update(Job).where(Job.id == job_id)
    else:
        statement = update(Job).where(Job.id == candidate.scalar_subquery(), condition)
    row = session.execute(
        statement.values(
            status=JobStatus.running.value,
            claimed_by=worker_id,
            claimed_at=now,
            heartbeat_at=now,
            attempts=Job.attempts + 1,
        ).returning(
            Job.id,
            Job.kind,
            Job.attempts,
            Job.investigation_id,
            Job.document_id,
            Job.chat_message_id,
        )
    ).one_or_none()
    if row is None:
        return None
    return ClaimedJob(row[0], JobKind(row[1]), row[2], row[3], row[4], row[5])


def heartbeat(session: Session, job_id: int, worker_id: str) -> bool:
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.claimed_by == worker_id, Job.status == JobStatus.running.value)
        .values(heartbeat_at=utc_now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session, job_id: int, worker_id: str, *, ok: bool, error: str | None = None
) -> bool:
    """Mark the job done/failed if this worker still owns it; False means it was taken over."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.claimed_by == worker_id, Job.status == JobStatus.running.value)
        .values(
            status=(JobStatus.done if ok else JobStatus.failed).value,
            finished_at=utc_now(),
            error=error,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    audit.append(
        session,
        audit.SYSTEM,
        entity="job",
        entity_id=str(job_id),
        action="done" if ok else "failed",
        reason=error,
        new={"worker": worker_id},
    )
    return True


def release(session: Session, job_id: int, worker_id: str) -> bool:
    """Hand a claimed job back (pending, this attempt not counted): its worker is shutting
    down and interrupted it. False if the claim was no longer ours."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.claimed_by == worker_id, Job.status == JobStatus.running.value)
        .values(
            status=JobStatus.pending.value,
            claimed_by=None,
            attempts=Job.attempts - 1,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    audit.append(
        session,
        audit.SYSTEM,
        entity="job",
        entity_id=str(job_id),
        action="released",
        reason="worker shutting down",
        new={"worker": worker_id},
    )
    return True


def fail_exhausted(session: Session, max_attempts: int, stale_after_s: float) -> list[Job]:
    """Running jobs whose worker died on every attempt: mark them failed (returned)."""
    stale_before = utc_now() - timedelta(seconds=stale_after_s)
    jobs = (
        session.execute(
            select(Job).where(
                Job.status == JobStatus.running.value,
                Job.heartbeat_at < stale_before,
                Job.attempts >= max_attempts,
            )
        )
        .scalars()
        .all()
    )
    for job in jobs:
        job.status = JobStatus.failed.value
        job.finished_at = utc_now()
        job.error = f"worker stopped responding on each of {job.attempts} attempts"
        audit.append(
            session,
            audit.SYSTEM,
            entity="job",
            entity_id=str(job.id),
            action="failed",
            reason=job.error,
        )
    return list(jobs)


def jobs_for_investigation(session: Session, investigation_id: str) -> list[Job]:
    return list(
        session.execute(
            select(Job).where(Job.investigation_id == investigation_id).order_by(Job.id)
        ).scalars()
    )


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status: int(count) for status, count in rows}
