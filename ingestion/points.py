"""Chunks to index points: payload per the index contract, dense + sparse vectors.

The text that is embedded is a pure function of the payload (`embedding_text`): a stored
point can be re-vectorised from its payload alone, which is how an older revision is
re-stamped "superseded" without keeping its vectors around.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ingestion.model import Chunk, DocMetadata
from retrieval.embedding import Embedder
from retrieval.index_contract import Payload, point_id
from retrieval.sparse import document_vector
from retrieval.store.base import IndexPoint

CONTENT_SHA256 = "content_sha256"  # hash of what the points were made from (file or record)
INCOMPLETE = "incomplete"  # True when pages had no text layer and no OCR
PAGES_WITHOUT_TEXT = "pages_without_text"
TABLE_CAPTION = "table_caption"
SOURCE_ROW = "source_row"
INGESTED_AT = "ingested_at"
_MAX_PREFIX_CHARS = 240


def document_key(site: str, doc_id: str) -> str:
    """Point ids are made from site and document id: two sites may number documents alike."""
    return f"{site}|{doc_id}"


def record_key(site: str, doc_id: str) -> str:
    """QMS records live beside documents of the same number (a CAPA record and its PDF)."""
    return f"{site}|{doc_id}|record"


def embedding_text(payload: Mapping[str, Any]) -> str:
    """Caption, heading path and title give a chunk its context for the embedder (the
    caption first: it names what a table holds)."""
    parts = [str(payload.get(TABLE_CAPTION) or "")]
    path = payload.get(Payload.SECTION_PATH) or []
    if path:
        parts.append(" > ".join(str(p) for p in path[-2:]))
    parts.append(str(payload.get(Payload.TITLE) or ""))
    prefix = " | ".join(p for p in parts if p)[:_MAX_PREFIX_CHARS]
    return f"{prefix}\n{payload.get(Payload.TEXT, '')}"


def chunk_payload(
    chunk: Chunk,
    position: int,
    meta: DocMetadata,
    *,
    source_path: str,
    source_sha256: str,
    content_sha256: str,
    incomplete: bool = False,
    pages_without_text: Sequence[int] = (),
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        Payload.DOC_ID: meta.doc_id,
        Payload.DOC_TYPE: meta.doc_type.value,
        Payload.TITLE: meta.title,
        Payload.REVISION: meta.revision,
        Payload.STATUS: meta.status.value,
        Payload.SITE: meta.site,
        Payload.PRODUCTS: list(meta.products),
        Payload.EQUIPMENT: list(meta.equipment),
        Payload.BATCH_IDS: list(meta.batch_ids),
        Payload.CAPA_IDS: list(meta.capa_ids),
        Payload.SOURCE_PATH: source_path,
        Payload.SOURCE_SHA256: source_sha256,
        Payload.CHUNK_KIND: chunk.kind.value,
        Payload.CHUNK_INDEX: position,
        Payload.SECTION_PATH: list(chunk.section_path),
        Payload.SECTION_ID: chunk.section_id,
        Payload.PAGE_START: chunk.page_start,
        Payload.PAGE_END: chunk.page_end,
        Payload.CHAR_START: chunk.char_start,
        Payload.CHAR_END: chunk.char_end,
        Payload.TEXT: chunk.text,
        CONTENT_SHA256: content_sha256,
        INCOMPLETE: incomplete,
    }
    optional = {
        Payload.EFFECTIVE_DATE: meta.effective_date,
        Payload.SUPERSEDED_BY: meta.superseded_by,
        Payload.EVENT_DATE: meta.event_date,
        TABLE_CAPTION: chunk.caption if chunk.kind.value in ("table", "step") else None,
        PAGES_WITHOUT_TEXT: list(pages_without_text) or None,
    }
    payload.update({k: v for k, v in optional.items() if v})
    if meta.event_date and Payload.EVENT_TS not in meta.extra:
        day = datetime.fromisoformat(meta.event_date).replace(tzinfo=UTC)
        payload[Payload.EVENT_TS] = int(day.timestamp())
    for key, value in meta.extra.items():
        if key == "record":
            payload[Payload.RECORD] = value
            if value.get("failure_mode"):
                payload[Payload.FAILURE_MODE] = str(value["failure_mode"])
            if value.get("category"):
                payload[Payload.CATEGORY] = str(value["category"])
        elif key == "event_ts":
            payload[Payload.EVENT_TS] = value
        else:
            payload.setdefault(key, value)
    payload.update(chunk.extra)
    return payload


def make_points(
    payloads: Sequence[dict[str, Any]], embedder: Embedder, *, doc_keys: Sequence[str]
) -> list[IndexPoint]:
    """Vectors for every payload (one batched embedder call) and deterministic ids."""
    if not payloads:
        return []
    texts = [embedding_text(p) for p in payloads]
    dense = embedder.embed(texts)
    points: list[IndexPoint] = []
    for payload, key, text, vector in zip(payloads, doc_keys, texts, dense, strict=True):
        pid = point_id(key, str(payload[Payload.REVISION]), int(payload[Payload.CHUNK_INDEX]))
        points.append(
            IndexPoint(id=pid, dense=vector.tolist(), sparse=document_vector(text), payload=payload)
        )
    return points
