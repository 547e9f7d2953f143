"""Uploaded source documents: the stored file, its hash and its ingestion status."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.records import audit, jobs
from api.records.accounts import Principal
from api.records.canonical import utc_now
from api.records.errors import NotFound
from api.records.models import Document, Job, JobKind


def register(
    session: Session,
    principal: Principal,
    *,
    document_id: str,
    site: str,
    filename: str,
    doc_type: str | None,
    sha256: str,
    size_bytes: int,
    stored_path: Path,
    ingest: bool,
) -> tuple[Document, Job | None]:
    now = utc_now()
    document = Document(
        id=document_id,
        site=site,
        filename=filename,
        doc_type=doc_type,
        sha256=sha256,
        size_bytes=size_bytes,
        stored_path=str(stored_path),
        status="queued" if ingest else "stored",
        detail=None if ingest else "no ingestion configured: stored only",
        uploaded_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    session.flush()
    job = jobs.enqueue(session, JobKind.ingest, document_id=document.id) if ingest else None
    audit.append(
        session,
        principal.actor,
        entity="document",
        entity_id=document.id,
        action="upload",
        site=site,
        new={"filename": filename, "doc_type": doc_type, "sha256": sha256, "size": size_bytes},
    )
    return document, job


def get_visible(session: Session, principal: Principal, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.site not in principal.sites:
        raise NotFound(f"no document {document_id}")
    return document


def list_visible(session: Session, principal: Principal, limit: int = 200) -> list[Document]:
    return list(
        session.execute(
            select(Document)
            .where(Document.site.in_(sorted(principal.sites)))
            .order_by(Document.created_at.desc())
            .limit(limit)
        ).scalars()
    )


def set_status(session: Session, document_id: str, status: str, detail: str | None) -> None:
    document = session.get(Document, document_id)
    if document is None:
        return
    old = {"status": document.status}
    document.status = status
    document.detail = detail
    document.updated_at = utc_now()
    audit.append(
        session,
        audit.SYSTEM,
        entity="document",
        entity_id=document_id,
        action="ingest_" + status,
        site=document.site,
        reason=detail,
        old=old,
        new={"status": status},
    )
