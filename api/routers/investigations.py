"""Investigations: list, open manually, read, draft versions, diffs, section edits, chat."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from api.auth.deps import EditorDep, InvestigatorDep, StateDep, UserDep
from api.limits import LimitsDep
from api.records import investigations, jobs
from api.records.canonical import utc_now
from api.records.errors import Forbidden
from api.records.models import InvestigationStatus, JobKind, Role, User
from api.schemas.investigations import (
    ChatIn,
    ChatOut,
    DiffOut,
    InvestigationDetail,
    InvestigationOut,
    InvestigationPage,
    JobOut,
    ManualInvestigationIn,
    RedraftIn,
    SectionDiff,
    SectionEditIn,
    SectionEditOut,
    SubmitIn,
    VersionOut,
)

router = APIRouter(prefix="/investigations", tags=["investigations"])
InvestigationId = Annotated[str, Path(min_length=1, max_length=36)]
SectionName = Annotated[str, Path(min_length=1, max_length=100)]


def username_of(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "system"
    user = session.get(User, user_id)
    return user.username if user else f"user#{user_id}"


@router.get("", response_model=InvestigationPage)
def list_investigations(
    state: StateDep,
    principal: UserDep,
    status: InvestigationStatus | None = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> InvestigationPage:
    with state.db.read() as session:
        rows, total = investigations.list_visible(
            session,
            principal,
            status=status.value if status else None,
            site=site,
            due_before=due_before,
            due_after=due_after,
            limit=limit,
            offset=offset,
        )
    now = utc_now()
    return InvestigationPage(total=total, items=[InvestigationOut.of(r, now) for r in rows])


@router.post("", status_code=201, response_model=InvestigationDetail)
def open_manual(
    body: ManualInvestigationIn, state: StateDep, principal: InvestigatorDep, limits: LimitsDep
) -> InvestigationDetail:
    if body.site not in principal.sites:
        raise Forbidden(f"you are not assigned to site {body.site!r}")
    with state.db.write() as session:
        limits.check_drafts(session, principal.actor)
        investigation, job = investigations.create(
            session,
            principal.actor,
            investigations.NewInvestigation(
                site=body.site,
                source="manual",
                source_event_id=None,
                title=body.title,
                payload=body.model_dump(mode="json"),
            ),
            due_days=state.config.investigation_due_days,
        )
        detail = InvestigationDetail(
            **InvestigationOut.of(investigation, utc_now()).model_dump(),
            payload=investigation.payload,
            jobs=[JobOut.of(job)],
        )
    state.worker.wake()
    return detail


@router.get("/{investigation_id}", response_model=InvestigationDetail)
def get_investigation(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> InvestigationDetail:
    with state.db.read() as session:
        investigation = investigations.get_visible(session, principal, investigation_id)
        job_rows = jobs.jobs_for_investigation(session, investigation.id)
        return InvestigationDetail(
            **InvestigationOut.of(investigation, utc_now()).model_dump(),
            payload=investigation.payload,
            jobs=[JobOut.of(j) for j in job_rows],
        )


@router.post("/{investigation_id}/redraft", status_code=202, response_model=JobOut)
def redraft(
    investigation_id: InvestigationId,
    body: RedraftIn,
    state: StateDep,
    principal: InvestigatorDep,
    limits: LimitsDep,
) -> JobOut:
    with state.db.write() as session:
        limits.check_drafts(session, principal.actor)
        job = investigations.redraft(session, principal, investigation_id, body.reason)
        out = JobOut.of(job)
    state.worker.wake()
    return out


@router.get("/{investigation_id}/versions", response_model=list[VersionOut])
def list_versions(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> list[VersionOut]:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        return [
            VersionOut.of(v, username_of(session, v.author_user_id), with_content=False)
            for v in investigations.versions(session, investigation_id)
        ]


@router.get("/{investigation_id}/versions/{version}", response_model=VersionOut)
def get_version(
    investigation_id: InvestigationId,
    version: Annotated[int, Path(ge=1)],
    state: StateDep,
    principal: UserDep,
) -> VersionOut:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        row = investigations.get_version(session, investigation_id, version)
        return VersionOut.of(row, username_of(session, row.author_user_id), with_content=True)


@router.get("/{investigation_id}/diff", response_model=DiffOut)
def diff(
    investigation_id: InvestigationId,
    state: StateDep,
    principal: UserDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> DiffOut:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        sections = investigations.diff_versions(session, investigation_id, from_version, to_version)
    return DiffOut(
        from_version=from_version,
        to_version=to_version,
        sections=[SectionDiff(**s) for s in sections],
    )


@router.get("/{investigation_id}/edits", response_model=list[SectionEditOut])
def list_edits(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> list[SectionEditOut]:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        return [
            SectionEditOut.of(e, username_of(session, e.user_id))
            for e in investigations.section_edits(session, investigation_id)
        ]


@router.put("/{investigation_id}/sections/{section}", response_model=VersionOut)
def edit_section(
    investigation_id: InvestigationId,
    section: SectionName,
    body: SectionEditIn,
    state: StateDep,
    principal: EditorDep,
) -> VersionOut:
    """Replace one section; the result is a new, immutable human version."""
    with state.db.write() as session:
        version = investigations.edit_section(
            session,
            principal,
            investigation_id,
            section=section,
            value=body.value,
            reason=body.reason,
            base_version=body.base_version,
        )
        return VersionOut.of(version, principal.username, with_content=True)


@router.post("/{investigation_id}/submit", response_model=InvestigationOut)
def submit(
    investigation_id: InvestigationId, body: SubmitIn, state: StateDep, principal: EditorDep
) -> InvestigationOut:
    with state.db.write() as session:
        investigation = investigations.submit(
            session, principal, investigation_id, version=body.version, note=body.note
        )
        return InvestigationOut.of(investigation, utc_now())


@router.get("/{investigation_id}/chat", response_model=list[ChatOut])
def list_chat(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> list[ChatOut]:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        return [
            ChatOut.of(m, username_of(session, m.author_user_id))
            for m in investigations.chat_messages(session, investigation_id)
        ]


@router.post("/{investigation_id}/chat", status_code=201, response_model=ChatOut)
def post_chat(
    investigation_id: InvestigationId,
    body: ChatIn,
    state: StateDep,
    principal: UserDep,
    limits: LimitsDep,
) -> ChatOut:
    """Store a question; when a chat responder is configured, an answer job is queued."""
    if principal.role is Role.admin:
        raise Forbidden("admins do not take part in investigations")
    limits.check_chat(principal.username)
    answer = state.handlers.chat is not None
    with state.db.write() as session:
        message = investigations.add_chat_message(
            session, principal, investigation_id, body.content
        )
        job = (
            jobs.enqueue(
                session, JobKind.chat, investigation_id=investigation_id, chat_message_id=message.id
            )
            if answer
            else None
        )
        out = ChatOut.of(message, principal.username, job.id if job else None)
    if answer:
        state.worker.wake()
    return out
