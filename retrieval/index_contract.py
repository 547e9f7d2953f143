"""The index contract shared by ingestion and retrieval. Imports nothing of ours.

Every point in the index is one chunk of one revision of one document (or one QMS record).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Final

COLLECTION: Final = "devia_chunks"
DENSE_VECTOR: Final = "dense"
SPARSE_VECTOR: Final = "sparse"

# Namespace for deterministic point ids: uuid5(NAMESPACE, f"{doc_id}|{revision}|{position}").
POINT_NAMESPACE: Final = uuid.UUID("6f1c2a53-9d0e-4c0b-8b8a-2f4d3c1e7a90")


class DocType(StrEnum):
    SOP = "sop"
    BATCH_RECORD = "batch_record"
    CAPA = "capa"
    DEVIATION = "deviation"
    GUIDANCE = "guidance"  # regulations, ICH / FDA guidance and other reference texts
    OTHER = "other"


class RevisionStatus(StrEnum):
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"


class ChunkKind(StrEnum):
    TEXT = "text"
    TABLE = "table"
    STEP = "step"  # one batch-record step (its rows grouped)
    RECORD = "record"  # one field group of a QMS record


class Payload:
    """Payload field names. Keyword fields carry a payload index for filtering."""

    DOC_ID: Final = "doc_id"  # e.g. SOP-QA-012, DEV-2024-0113, BR-B26-0815
    DOC_TYPE: Final = "doc_type"  # DocType
    TITLE: Final = "title"
    REVISION: Final = "revision"  # str, as printed on the document ("4", "04", "B")
    EFFECTIVE_DATE: Final = "effective_date"  # ISO date or absent
    STATUS: Final = "status"  # RevisionStatus
    SUPERSEDED_BY: Final = "superseded_by"  # revision that replaced this one, or absent
    SITE: Final = "site"  # tenant / site scope; every point has one
    PRODUCTS: Final = "products"  # list[str]
    EQUIPMENT: Final = "equipment"  # list[str] of equipment tags
    BATCH_IDS: Final = "batch_ids"  # list[str]
    EVENT_DATE: Final = "event_date"  # ISO date of a record's event (deviations, CAPAs)
    EVENT_TS: Final = "event_ts"  # same as epoch seconds, for range filters
    FAILURE_MODE: Final = "failure_mode"  # label of a historical quality event
    CATEGORY: Final = "category"  # 6M / deviation category of a record
    CAPA_IDS: Final = "capa_ids"  # list[str]
    SOURCE_PATH: Final = "source_path"
    SOURCE_SHA256: Final = "source_sha256"  # content hash of the whole source document
    CHUNK_KIND: Final = "chunk_kind"  # ChunkKind
    CHUNK_INDEX: Final = "chunk_index"  # position of the chunk in its document revision
    SECTION_PATH: Final = "section_path"  # list[str], e.g. ["5 Procedure", "5.3 Drying"]
    SECTION_ID: Final = "section_id"  # "5.3" or a batch-record step id "6.3"
    PAGE_START: Final = "page_start"  # 1-based
    PAGE_END: Final = "page_end"
    CHAR_START: Final = "char_start"  # offsets of the chunk text in page_start's page text
    CHAR_END: Final = "char_end"
    TEXT: Final = "text"  # the chunk text, verbatim from the source (what quotes are checked on)
    RECORD: Final = "record"  # dict: the structured fields of a QMS record, when the chunk is one


KEYWORD_INDEXED: Final = (
    Payload.DOC_ID,
    Payload.DOC_TYPE,
    Payload.REVISION,
    Payload.STATUS,
    Payload.SITE,
    Payload.PRODUCTS,
    Payload.EQUIPMENT,
    Payload.BATCH_IDS,
    Payload.FAILURE_MODE,
    Payload.CATEGORY,
    Payload.CAPA_IDS,
    Payload.CHUNK_KIND,
    Payload.SOURCE_SHA256,
)
INTEGER_INDEXED: Final = (Payload.EVENT_TS, Payload.PAGE_START)


def point_id(doc_id: str, revision: str, position: int) -> str:
    """Deterministic point id: re-ingesting the same chunk gives the same id."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc_id}|{revision}|{position}"))
