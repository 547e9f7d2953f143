"""Tables of the records store (SQLAlchemy 2 declarative). Schema changes go through Alembic.

Append-only tables (audit_log, draft_versions, section_edits, signatures, reviews) are never
updated or deleted by the app; migration 0001 adds triggers that refuse UPDATE and DELETE.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.records.canonical import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Role(enum.StrEnum):
    investigator = "investigator"
    qa_approver = "qa_approver"
    admin = "admin"


class InvestigationStatus(enum.StrEnum):
    drafting = "drafting"
    awaiting_review = "awaiting_review"
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"
    failed = "failed"


class JobStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class JobKind(enum.StrEnum):
    draft = "draft"
    chat = "chat"
    ingest = "ingest"


class Site(Base):
    __tablename__ = "sites"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    printed_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class UserSite(Base):
    __tablename__ = "user_sites"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    scope: Mapped[str] = mapped_column(String(32))  # "events": POST /api/v1/events only
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Session(Base):
    __tablename__ = "sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Investigation(Base):
    __tablename__ = "investigations"
    __table_args__ = (
        UniqueConstraint("site", "source_event_id"),
        Index("ix_investigations_site_status", "site", "status"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    source: Mapped[str] = mapped_column(String(16))  # "MES" or "manual"
    source_event_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("site", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"))
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DraftVersion(Base):
    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("investigation_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(8))  # "ai" or "human"
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: system
    provenance: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class SectionEdit(Base):
    __tablename__ = "section_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str] = mapped_column(Text)  # canonical JSON
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Signature(Base):
    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    version_sha256: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(32))
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    version_sha256: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))  # changes_requested / approved / rejected
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comments: Mapped[dict[str, Any]]  # section -> comment
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
    created_at: Mapped[datetime]


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id"))
    created_at: Mapped[datetime]


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    filename: Mapped[str] = mapped_column(String(255))
    doc_type: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))  # stored / ingested / failed
    detail: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    investigation_id: Mapped[str | None] = mapped_column(ForeignKey("investigations.id"))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    chat_message_id: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))  # e.g. "user:alice", "system"
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    old_value: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    new_value: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
