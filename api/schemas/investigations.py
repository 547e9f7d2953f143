"""Request and response bodies of the investigation, draft, review and chat endpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from api.records.models import (
    ChatMessage,
    DraftVersion,
    Investigation,
    Job,
    Review,
    SectionEdit,
    Signature,
)

Reason = Annotated[str, Field(min_length=1, max_length=4000)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ManualInvestigationIn(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=64)]
    title: Annotated[str, Field(min_length=1, max_length=500)]
    description: Annotated[str, Field(min_length=1, max_length=20_000)]
    occurred_at: AwareDatetime
    area: Annotated[str, Field(max_length=200)] = ""
    line: Annotated[str, Field(max_length=200)] = ""
    equipment: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    product_code: Annotated[str, Field(max_length=200)] = ""
    batch_id: Annotated[str, Field(max_length=200)] = ""


class JobOut(BaseModel):
    id: int
    kind: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            attempts=job.attempts,
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


class InvestigationOut(BaseModel):
    id: str
    site: str
    source: str
    source_event_id: str | None
    title: str
    status: str
    opened_at: datetime
    due_at: datetime
    overdue: bool
    current_version: int
    last_error: str | None

    @classmethod
    def of(cls, inv: Investigation, now: datetime) -> InvestigationOut:
        return cls(
            id=inv.id,
            site=inv.site,
            source=inv.source,
            source_event_id=inv.source_event_id,
            title=inv.title,
            status=inv.status,
            opened_at=inv.opened_at,
            due_at=inv.due_at,
            overdue=inv.due_at < now and inv.status not in ("approved", "rejected"),
            current_version=inv.current_version,
            last_error=inv.last_error,
        )


class InvestigationDetail(InvestigationOut):
    payload: dict[str, Any]
    jobs: list[JobOut]


class InvestigationPage(BaseModel):
    total: int
    items: list[InvestigationOut]


class VersionOut(BaseModel):
    version: int
    sha256: str
    origin: Literal["ai", "human"]
    author: str  # "system" for AI versions, else the username
    created_at: datetime
    provenance: dict[str, Any] | None
    content: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: DraftVersion, author: str, with_content: bool) -> VersionOut:
        return cls(
            version=row.version,
            sha256=row.sha256,
            origin="ai" if row.origin == "ai" else "human",
            author=author,
            created_at=row.created_at,
            provenance=row.provenance,
            content=row.content if with_content else None,
        )


class SectionDiff(BaseModel):
    section: str
    diff: list[str]


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    sections: list[SectionDiff]


class SectionEditIn(BaseModel):
    base_version: int = Field(ge=1)
    value: Any
    reason: Reason


class SectionEditOut(BaseModel):
    section: str
    from_version: int
    to_version: int
    old_value: Any
    new_value: Any
    reason: str
    author: str
    created_at: datetime

    @classmethod
    def of(cls, row: SectionEdit, author: str) -> SectionEditOut:
        return cls(
            section=row.section,
            from_version=row.from_version,
            to_version=row.to_version,
            old_value=json.loads(row.old_value),
            new_value=json.loads(row.new_value),
            reason=row.reason,
            author=author,
            created_at=row.created_at,
        )


class SubmitIn(BaseModel):
    version: int = Field(ge=1)
    note: Annotated[str, Field(max_length=4000)] = ""


class RedraftIn(BaseModel):
    reason: Reason


class ChangesRequestIn(BaseModel):
    version: int = Field(ge=1)
    sha256: Sha256
    comments: dict[str, Annotated[str, Field(min_length=1, max_length=8000)]] = Field(
        min_length=1, description="section name -> comment"
    )


class SignatureIn(BaseModel):
    """Part 11 signature: both components re-entered (username and password) at signing."""

    version: int = Field(ge=1)
    sha256: Sha256
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]
    comment: Annotated[str, Field(max_length=4000)] = ""


class SignatureOut(BaseModel):
    id: int
    version: int
    version_sha256: str
    printed_name: str
    meaning: str
    statement: str
    signed_at: datetime

    @classmethod
    def of(cls, row: Signature) -> SignatureOut:
        return cls(
            id=row.id,
            version=row.version,
            version_sha256=row.version_sha256,
            printed_name=row.printed_name,
            meaning=row.meaning,
            statement=row.statement,
            signed_at=row.signed_at,
        )


class ReviewOut(BaseModel):
    id: int
    version: int
    version_sha256: str
    decision: str
    reviewer: str
    comments: dict[str, Any]
    signature_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, row: Review, reviewer: str) -> ReviewOut:
        return cls(
            id=row.id,
            version=row.version,
            version_sha256=row.version_sha256,
            decision=row.decision,
            reviewer=reviewer,
            comments=row.comments,
            signature_id=row.signature_id,
            created_at=row.created_at,
        )


class ChatIn(BaseModel):
    content: Annotated[str, Field(min_length=1, max_length=8000)]


class ChatOut(BaseModel):
    id: int
    role: str
    author: str
    content: str
    reply_to: int | None
    created_at: datetime
    answer_job_id: int | None = None

    @classmethod
    def of(cls, row: ChatMessage, author: str, job_id: int | None = None) -> ChatOut:
        return cls(
            id=row.id,
            role=row.role,
            author=author,
            content=row.content,
            reply_to=row.reply_to,
            created_at=row.created_at,
            answer_job_id=job_id,
        )
