"""Investigations and their drafts: creation (MES or manual), versions, edits, review, signing.

Every function runs inside the caller's write transaction and appends its audit entries to
it, so a change and its audit record commit together or not at all.

Authorship (for "the author cannot approve their own draft"): the authors of version N are the
users who wrote any human version up to N, plus the user who last submitted the draft for
review. The AI's versions have no human author (author_user_id is NULL: the system).
"""

from __future__ import annotations

import difflib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.records import audit, jobs
from api.records.accounts import Principal
from api.records.audit import Actor
from api.records.canonical import canonical_json, content_sha256, utc_now
from api.records.errors import Conflict, Forbidden, Invalid, NotFound
from api.records.models import (
    ChatMessage,
    DraftVersion,
    Investigation,
    InvestigationStatus,
    Job,
    JobKind,
    Review,
    SectionEdit,
    Signature,
)
from api.records.report_rules import EDITABLE_SECTIONS, ai_content_problems, missing_decisions

S = InvestigationStatus
SignDecision = Literal["approve", "reject"]
MEANINGS: dict[str, str] = {
    "approve": "approved",
    "reject": "rejected",
}


@dataclass(frozen=True)
class NewInvestigation:
    site: str
    source: Literal["MES", "manual"]
    source_event_id: str | None
    title: str
    payload: dict[str, Any]


def create(
    session: Session, actor: Actor, new: NewInvestigation, *, due_days: int
) -> tuple[Investigation, Job]:
    now = utc_now()
    investigation = Investigation(
        id=str(uuid.uuid4()),
        site=new.site,
        source=new.source,
        source_event_id=new.source_event_id,
        title=new.title[:500],
        payload=new.payload,
        status=S.drafting.value,
        opened_at=now,
        due_at=now + timedelta(days=due_days),
        current_version=0,
        submitted_by=None,
        last_error=None,
        created_by=actor.label,
        updated_at=now,
    )
    session.add(investigation)
    job = jobs.enqueue(session, JobKind.draft, investigation_id=investigation.id)
    audit.append(
        session,
        actor,
        entity="investigation",
        entity_id=investigation.id,
        action="create",
        site=new.site,
        new={
            "source": new.source,
            "source_event_id": new.source_event_id,
            "title": investigation.title,
            "status": investigation.status,
            "due_at": investigation.due_at.isoformat(),
            "payload_sha256": content_sha256(new.payload),
            "draft_job_id": job.id,
        },
    )
    return investigation, job


def get_visible(
    session: Session, principal: Principal, investigation_id: str, *, for_update: bool = False
) -> Investigation:
    query = select(Investigation).where(Investigation.id == investigation_id)
    if for_update:
        query = query.with_for_update()
    investigation = session.execute(query).scalar_one_or_none()
    # Another site's investigation answers exactly like a missing one: no existence leak.
    if investigation is None or investigation.site not in principal.sites:
        raise NotFound(f"no investigation {investigation_id}")
    return investigation


def list_visible(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    site: str | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Investigation], int]:
    sites = principal.sites if site is None else principal.sites & {site}
    query = select(Investigation).where(Investigation.site.in_(sorted(sites)))
    if status is not None:
        query = query.where(Investigation.status == status)
    if due_before is not None:
        query = query.where(Investigation.due_at < due_before)
    if due_after is not None:
        query = query.where(Investigation.due_at >= due_after)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = session.execute(
        query.order_by(Investigation.due_at, Investigation.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def counts_by_status(session: Session, sites: frozenset[str] | None = None) -> dict[str, int]:
    query = select(Investigation.status, func.count()).group_by(Investigation.status)
    if sites is not None:
        query = query.where(Investigation.site.in_(sorted(sites)))
    return {status: int(n) for status, n in session.execute(query).all()}


def versions(session: Session, investigation_id: str) -> list[DraftVersion]:
    return list(
        session.execute(
            select(DraftVersion)
            .where(DraftVersion.investigation_id == investigation_id)
            .order_by(DraftVersion.version)
        ).scalars()
    )


def get_version(session: Session, investigation_id: str, version: int) -> DraftVersion:
    row = session.execute(
        select(DraftVersion).where(
            DraftVersion.investigation_id == investigation_id, DraftVersion.version == version
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"investigation {investigation_id} has no draft version {version}")
    return row


def _add_version(
    session: Session,
    investigation: Investigation,
    content: dict[str, Any],
    *,
    origin: Literal["ai", "human"],
    author_user_id: int | None,
    provenance: dict[str, Any] | None,
    actor: Actor,
    reason: str | None,
) -> DraftVersion:
    number = investigation.current_version + 1
    version = DraftVersion(
        investigation_id=investigation.id,
        version=number,
        content=content,
        sha256=content_sha256(content),
        origin=origin,
        author_user_id=author_user_id,
        provenance=provenance,
        created_at=utc_now(),
    )
    session.add(version)
    investigation.current_version = number
    investigation.updated_at = version.created_at
    session.flush()
    audit.append(
        session,
        actor,
        entity="draft_version",
        entity_id=f"{investigation.id}/v{number}",
        action="create",
        site=investigation.site,
        reason=reason,
        new={"version": number, "origin": origin, "sha256": version.sha256},
    )
    return version


def _set_status(
    session: Session,
    investigation: Investigation,
    status: InvestigationStatus,
    actor: Actor,
    reason: str | None = None,
) -> None:
    old = investigation.status
    investigation.status = status.value
    investigation.updated_at = utc_now()
    audit.append(
        session,
        actor,
        entity="investigation",
        entity_id=investigation.id,
        action="status",
        site=investigation.site,
        reason=reason,
        old={"status": old},
        new={"status": status.value},
    )


def store_ai_draft(
    session: Session, investigation_id: str, content: dict[str, Any], provenance: dict[str, Any]
) -> DraftVersion:
    investigation = session.execute(
        select(Investigation).where(Investigation.id == investigation_id).with_for_update()
    ).scalar_one()
    if investigation.status != S.drafting.value:
        raise Conflict(f"investigation is {investigation.status}, not drafting")
    problems = ai_content_problems(content)
    if problems:
        raise Invalid("AI draft refused: " + "; ".join(problems))
    version = _add_version(
        session,
        investigation,
        content,
        origin="ai",
        author_user_id=None,
        provenance=provenance,
        actor=audit.SYSTEM,
        reason="AI draft",
    )
    _set_status(session, investigation, S.awaiting_review, audit.SYSTEM, "AI draft ready")
    return version


def record_draft_failure(session: Session, investigation_id: str, error: str) -> None:
    investigation = session.get(Investigation, investigation_id)
    if investigation is None or investigation.status != S.drafting.value:
        return
    investigation.last_error = error[:4000]
    _set_status(session, investigation, S.failed, audit.SYSTEM, error[:4000])


def redraft(session: Session, principal: Principal, investigation_id: str, reason: str) -> Job:
    investigation = get_visible(session, principal, investigation_id, for_update=True)
    if investigation.status != S.failed.value:
        raise Conflict(f"only a failed draft can be restarted (this one is {investigation.status})")
    investigation.last_error = None
    _set_status(session, investigation, S.drafting, principal.actor, reason)
    return jobs.enqueue(session, JobKind.draft, investigation_id=investigation.id)


def _require_current(investigation: Investigation, version: int) -> None:
    if investigation.current_version == 0:
        raise Conflict("the investigation has no draft yet")
    if version != investigation.current_version:
        raise Conflict(
            f"version {version} is superseded: the current version is "
            f"{investigation.current_version}; reload it and act on that one"
        )


def edit_section(
    session: Session,
    principal: Principal,
    investigation_id: str,
    *,
    section: str,
    value: Any,
    reason: str,
    base_version: int,
) -> DraftVersion:
    if section not in EDITABLE_SECTIONS:
        raise Invalid(f"unknown or non-editable section {section!r}")
    if not reason.strip():
        raise Invalid("a reason is required for every edit")
    investigation = get_visible(session, principal, investigation_id, for_update=True)
    if investigation.status not in (S.awaiting_review.value, S.changes_requested.value):
        raise Conflict(f"a draft that is {investigation.status} cannot be edited")
    _require_current(investigation, base_version)
    base = get_version(session, investigation.id, base_version)
    old_value = base.content.get(section)
    if canonical_json(old_value) == canonical_json(value):
        raise Invalid(f"section {section!r} is unchanged")
    content = dict(base.content)
    content[section] = value
    version = _add_version(
        session,
        investigation,
        content,
        origin="human",
        author_user_id=principal.user_id,
        provenance=None,
        actor=principal.actor,
        reason=reason,
    )
    edit = SectionEdit(
        investigation_id=investigation.id,
        from_version=base_version,
        to_version=version.version,
        section=section,
        old_value=canonical_json(old_value),
        new_value=canonical_json(value),
        reason=reason.strip(),
        user_id=principal.user_id,
        created_at=version.created_at,
    )
    session.add(edit)
    audit.append(
        session,
        principal.actor,
        entity="section",
        entity_id=f"{investigation.id}/{section}",
        action="edit",
        site=investigation.site,
        reason=reason.strip(),
        old=old_value,
        new=value,
    )
    return version


def section_edits(session: Session, investigation_id: str) -> list[SectionEdit]:
    return list(
        session.execute(
            select(SectionEdit)
            .where(SectionEdit.investigation_id == investigation_id)
            .order_by(SectionEdit.id)
        ).scalars()
    )


def submit(
    session: Session, principal: Principal, investigation_id: str, *, version: int, note: str
) -> Investigation:
    investigation = get_visible(session, principal, investigation_id, for_update=True)
    if investigation.status != S.changes_requested.value:
        raise Conflict(
            f"only a draft with changes requested can be resubmitted, not {investigation.status}"
        )
    _require_current(investigation, version)
    investigation.submitted_by = principal.user_id
    _set_status(session, investigation, S.awaiting_review, principal.actor, note or "resubmitted")
    return investigation


def authors(session: Session, investigation: Investigation, up_to_version: int) -> set[int]:
    rows = session.execute(
        select(DraftVersion.author_user_id).where(
            DraftVersion.investigation_id == investigation.id,
            DraftVersion.version <= up_to_version,
            DraftVersion.author_user_id.is_not(None),
        )
    ).scalars()
    found = {int(r) for r in rows if r is not None}
    if investigation.submitted_by is not None:
        found.add(investigation.submitted_by)
    return found


def _reviewable_version(
    session: Session, investigation: Investigation, version: int, sha256: str
) -> DraftVersion:
    if investigation.status != S.awaiting_review.value:
        raise Conflict(f"the draft is {investigation.status}, not awaiting review")
    _require_current(investigation, version)
    stored = get_version(session, investigation.id, version)
    if stored.sha256 != sha256:
        raise Conflict(
            f"sha256 {sha256} is not the hash of version {version} ({stored.sha256}): "
            "you are not looking at the stored content"
        )
    if content_sha256(stored.content) != stored.sha256:
        raise Conflict(f"version {version} no longer matches its recorded hash; refusing to act")
    return stored


def request_changes(
    session: Session,
    principal: Principal,
    investigation_id: str,
    *,
    version: int,
    sha256: str,
    comments: dict[str, str],
) -> Review:
    if not comments or not any(c.strip() for c in comments.values()):
        raise Invalid("at least one section comment is required")
    unknown = [s for s in comments if s not in EDITABLE_SECTIONS]
    if unknown:
        raise Invalid(f"unknown sections in comments: {unknown}")
    investigation = get_visible(session, principal, investigation_id, for_update=True)
    stored = _reviewable_version(session, investigation, version, sha256)
    review = Review(
        investigation_id=investigation.id,
        version=version,
        version_sha256=stored.sha256,
        decision="changes_requested",
        reviewer_id=principal.user_id,
        comments=comments,
        signature_id=None,
        created_at=utc_now(),
    )
    session.add(review)
    session.flush()
    audit.append(
        session,
        principal.actor,
        entity="review",
        entity_id=str(review.id),
        action="changes_requested",
        site=investigation.site,
        new={"version": version, "sha256": stored.sha256, "comments": comments},
    )
    _set_status(session, investigation, S.changes_requested, principal.actor, "changes requested")
    return review


def sign(
    session: Session,
    principal: Principal,
    investigation_id: str,
    *,
    decision: SignDecision,
    version: int,
    sha256: str,
    comment: str,
) -> Signature:
    """Part 11 signature bound to the exact version hash; the password was checked before."""
    investigation = get_visible(session, principal, investigation_id, for_update=True)
    stored = _reviewable_version(session, investigation, version, sha256)
    if decision == "approve":
        if principal.user_id in authors(session, investigation, version):
            raise Forbidden("you authored or submitted this draft: another person must approve it")
        missing = missing_decisions(stored.content)
        if missing:
            raise Invalid("human decisions missing before approval: " + ", ".join(missing))
    elif not comment.strip():
        raise Invalid("a rejection needs a comment giving the reason")
    meaning = MEANINGS[decision]
    signed_at = utc_now()
    statement = (
        f"I, {principal.printed_name}, {meaning} investigation {investigation.id} "
        f"version {version} (sha256 {stored.sha256})."
    )
    signature = Signature(
        investigation_id=investigation.id,
        version=version,
        version_sha256=stored.sha256,
        user_id=principal.user_id,
        printed_name=principal.printed_name,
        meaning=meaning,
        statement=statement,
        signed_at=signed_at,
    )
    session.add(signature)
    session.flush()
    review = Review(
        investigation_id=investigation.id,
        version=version,
        version_sha256=stored.sha256,
        decision=meaning,
        reviewer_id=principal.user_id,
        comments={"_": comment} if comment.strip() else {},
        signature_id=signature.id,
        created_at=signed_at,
    )
    session.add(review)
    session.flush()
    audit.append(
        session,
        principal.actor,
        entity="signature",
        entity_id=str(signature.id),
        action=meaning,
        site=investigation.site,
        reason=comment.strip() or None,
        new={
            "investigation_id": investigation.id,
            "version": version,
            "sha256": stored.sha256,
            "printed_name": principal.printed_name,
            "meaning": meaning,
            "signed_at": signed_at.isoformat(),
        },
        at=signed_at,
    )
    _set_status(
        session,
        investigation,
        S.approved if decision == "approve" else S.rejected,
        principal.actor,
        f"signed: {meaning}",
    )
    return signature


def signatures(session: Session, investigation_id: str) -> list[Signature]:
    return list(
        session.execute(
            select(Signature)
            .where(Signature.investigation_id == investigation_id)
            .order_by(Signature.id)
        ).scalars()
    )


def reviews(session: Session, investigation_id: str) -> list[Review]:
    return list(
        session.execute(
            select(Review).where(Review.investigation_id == investigation_id).order_by(Review.id)
        ).scalars()
    )


def diff_versions(
    session: Session, investigation_id: str, from_version: int, to_version: int
) -> list[dict[str, Any]]:
    """Per-section unified diffs of the pretty-printed JSON (only sections that differ)."""
    old = get_version(session, investigation_id, from_version).content
    new = get_version(session, investigation_id, to_version).content
    changes = []
    for section in sorted(set(old) | set(new)):
        if canonical_json(old.get(section)) == canonical_json(new.get(section)):
            continue
        old_lines = _pretty(old.get(section))
        new_lines = _pretty(new.get(section))
        diff = list(
            difflib.unified_diff(
                old_lines,
                new_lines,
                fromfile=f"v{from_version}/{section}",
                tofile=f"v{to_version}/{section}",
                lineterm="",
            )
        )
        changes.append({"section": section, "diff": diff})
    return changes


def _pretty(value: Any) -> list[str]:
    if value is None:
        return []
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def add_chat_message(
    session: Session, principal: Principal, investigation_id: str, content: str
) -> ChatMessage:
    if not content.strip():
        raise Invalid("message must not be empty")
    investigation = get_visible(session, principal, investigation_id)
    message = ChatMessage(
        investigation_id=investigation.id,
        role="user",
        author_user_id=principal.user_id,
        content=content,
        reply_to=None,
        created_at=utc_now(),
    )
    session.add(message)
    session.flush()
    audit.append(
        session,
        principal.actor,
        entity="chat_message",
        entity_id=str(message.id),
        action="create",
        site=investigation.site,
        new={"investigation_id": investigation.id, "content": content},
    )
    return message


def add_assistant_reply(session: Session, question_id: int, content: str) -> ChatMessage:
    question = session.get(ChatMessage, question_id)
    if question is None:
        raise NotFound(f"no chat message {question_id}")
    investigation = session.get(Investigation, question.investigation_id)
    reply = ChatMessage(
        investigation_id=question.investigation_id,
        role="assistant",
        author_user_id=None,
        content=content,
        reply_to=question_id,
        created_at=utc_now(),
    )
    session.add(reply)
    session.flush()
    audit.append(
        session,
        audit.SYSTEM,
        entity="chat_message",
        entity_id=str(reply.id),
        action="create",
        site=investigation.site if investigation else None,
        new={"reply_to": question_id, "content": content},
    )
    return reply


def chat_messages(session: Session, investigation_id: str) -> list[ChatMessage]:
    return list(
        session.execute(
            select(ChatMessage)
            .where(ChatMessage.investigation_id == investigation_id)
            .order_by(ChatMessage.id)
        ).scalars()
    )
