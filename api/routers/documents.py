"""Source documents: streamed upload (size-limited), status, download of the stored file.

The body is the raw file (any content type); it is streamed to disk with a running byte
count and refused with 413 as soon as it passes the upload limit. A configured ingestor
indexes it in the background (job kind "ingest").
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from api.auth.deps import StateDep, UserDep
from api.records import documents
from api.records.errors import Forbidden, Invalid, RecordsError
from api.records.models import Document, Role

router = APIRouter(prefix="/documents", tags=["documents"])
DocumentId = Annotated[str, Path(min_length=1, max_length=36)]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PayloadTooLarge(RecordsError):
    status_code = 413


class DocumentOut(BaseModel):
    id: str
    site: str
    filename: str
    doc_type: str | None
    sha256: str
    size_bytes: int
    status: str
    detail: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Document) -> DocumentOut:
        return cls(
            id=row.id,
            site=row.site,
            filename=row.filename,
            doc_type=row.doc_type,
            sha256=row.sha256,
            size_bytes=row.size_bytes,
            status=row.status,
            detail=row.detail,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")
    if not cleaned:
        raise Invalid("filename has no usable characters")
    return cleaned[:200]


@router.post("", status_code=201, response_model=DocumentOut)
async def upload(
    request: Request,
    state: StateDep,
    principal: UserDep,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
    doc_type: Annotated[str | None, Query(max_length=32)] = None,
) -> DocumentOut:
    if principal.role not in (Role.investigator, Role.admin):
        raise Forbidden("only investigators and admins upload documents")
    if site not in principal.sites:
        raise Forbidden(f"you are not assigned to site {site!r}")
    name = safe_filename(filename)
    limit = state.config.max_upload_bytes
    document_id = str(uuid.uuid4())
    folder = state.config.uploads_dir / site / document_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as handle:
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(f"upload over the limit of {limit} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
            except ClientDisconnect as exc:  # also how the body-size middleware stops us
                raise PayloadTooLarge("upload interrupted or over the size limit") from exc
        if size == 0:
            raise Invalid("empty upload: send the file as the request body")
        with state.db.write() as session:
            row, _job = documents.register(
                session,
                principal,
                document_id=document_id,
                site=site,
                filename=name,
                doc_type=doc_type,
                sha256=digest.hexdigest(),
                size_bytes=size,
                stored_path=target,
                ingest=state.handlers.ingest is not None,
            )
            out = DocumentOut.of(row)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    state.worker.wake()
    return out


@router.get("", response_model=list[DocumentOut])
def list_documents(state: StateDep, principal: UserDep) -> list[DocumentOut]:
    with state.db.read() as session:
        return [DocumentOut.of(d) for d in documents.list_visible(session, principal)]


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: DocumentId, state: StateDep, principal: UserDep) -> DocumentOut:
    with state.db.read() as session:
        return DocumentOut.of(documents.get_visible(session, principal, document_id))


@router.get("/{document_id}/source", response_class=FileResponse)
def download(document_id: DocumentId, state: StateDep, principal: UserDep) -> FileResponse:
    with state.db.read() as session:
        row = documents.get_visible(session, principal, document_id)
    return FileResponse(row.stored_path, filename=row.filename)
