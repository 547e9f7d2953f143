"""A small, realistic GMP corpus for store and search tests: SOP sections, batch-record steps,
historical deviations and CAPAs over two sites, with revisions, equipment, products, dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from retrieval.embedding import Embedder
from retrieval.index_contract import ChunkKind, DocType, Payload, RevisionStatus, point_id
from retrieval.sparse import document_vector
from retrieval.store.base import IndexPoint


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    doc_type: DocType
    title: str
    revision: str
    status: RevisionStatus
    site: str
    text: str
    section_id: str
    page: int
    products: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    event_date: date | None = None
    kind: ChunkKind = ChunkKind.TEXT
    failure_mode: str | None = None


def _ts(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


SOP_DRYING = "SOP-PRD-031"
SOP_CLEANING = "SOP-QA-012"

CHUNKS: tuple[Chunk, ...] = (
    # SOP for fluid-bed drying, revision 4 effective, revision 3 superseded (site A).
    Chunk(
        SOP_DRYING,
        DocType.SOP,
        "Fluid bed drying of granules",
        "4",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "5.3 Drying. Set the inlet air temperature of fluid bed dryer FBD-101 to "
        "60 +/- 5 C. Dry until loss on drying is not more than 2.0 percent.",
        "5.3",
        4,
        ("PARA-500",),
        ("FBD-101",),
    ),
    Chunk(
        SOP_DRYING,
        DocType.SOP,
        "Fluid bed drying of granules",
        "4",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "5.4 Temperature excursion. If the inlet air temperature leaves the range "
        "for more than 5 minutes, stop the dryer, record the excursion and inform QA.",
        "5.4",
        5,
        ("PARA-500",),
        ("FBD-101",),
    ),
    Chunk(
        SOP_DRYING,
        DocType.SOP,
        "Fluid bed drying of granules",
        "4",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "5.5 Sampling. Take three samples for loss on drying from the top, middle "
        "and bottom of the bowl using a sampling thief.",
        "5.5",
        5,
        ("PARA-500",),
        ("FBD-101",),
    ),
    Chunk(
        SOP_DRYING,
        DocType.SOP,
        "Fluid bed drying of granules",
        "3",
        RevisionStatus.SUPERSEDED,
        "SITE-A",
        "5.3 Drying. Set the inlet air temperature of dryer FBD-101 to 65 C and dry "
        "for 45 minutes.",
        "5.3",
        4,
        ("PARA-500",),
        ("FBD-101",),
    ),
    # Cleaning SOP (site A), effective.
    Chunk(
        SOP_CLEANING,
        DocType.SOP,
        "Cleaning of the tablet press",
        "7",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "6.1 Dismantle the punches and dies of tablet press TP-201. Clean with "
        "purified water and 70 percent isopropyl alcohol. Swab the feed frame.",
        "6.1",
        3,
        (),
        ("TP-201",),
    ),
    Chunk(
        SOP_CLEANING,
        DocType.SOP,
        "Cleaning of the tablet press",
        "7",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "6.4 Acceptance. Swab results for residual API must be below 10 ppm; a "
        "failing swab requires re-cleaning and a deviation.",
        "6.4",
        4,
        (),
        ("TP-201",),
    ),
    # Same SOP number at site B (different tenant), effective.
    Chunk(
        SOP_CLEANING,
        DocType.SOP,
        "Cleaning of the tablet press",
        "2",
        RevisionStatus.EFFECTIVE,
        "SITE-B",
        "6.1 Clean the tablet press TP-900 punches with detergent and rinse with "
        "purified water; swab the turret.",
        "6.1",
        3,
        (),
        ("TP-900",),
    ),
    # Batch record steps (site A).
    Chunk(
        "BR-B26-0815",
        DocType.BATCH_RECORD,
        "Batch record PARA-500 lot B26-0815",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Step 6.3 Drying on FBD-101: inlet temperature "
        "recorded 72 C at 10:40, above the 55-65 C range. Operator stopped the dryer.",
        "6.3",
        12,
        ("PARA-500",),
        ("FBD-101",),
        date(2024, 3, 14),
        ChunkKind.STEP,
    ),
    Chunk(
        "BR-B26-0815",
        DocType.BATCH_RECORD,
        "Batch record PARA-500 lot B26-0815",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Step 7.1 Compression on TP-201: tablet weight "
        "within 495-505 mg, hardness 80-120 N, friability 0.3 percent.",
        "7.1",
        14,
        ("PARA-500",),
        ("TP-201",),
        date(2024, 3, 15),
        ChunkKind.STEP,
    ),
    # Historical deviations.
    Chunk(
        "DEV-2023-0042",
        DocType.DEVIATION,
        "Dryer inlet temperature excursion",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "During drying of lot B23-0301 the inlet air "
        "temperature of FBD-101 rose to 75 C for 12 minutes. Root cause: faulty temperature "
        "controller. The controller was replaced.",
        "1",
        1,
        ("PARA-500",),
        ("FBD-101",),
        date(2023, 2, 20),
        ChunkKind.RECORD,
        "equipment_malfunction",
    ),
    Chunk(
        "DEV-2023-0107",
        DocType.DEVIATION,
        "Swab failure after cleaning",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Swab of the feed frame of TP-201 showed 25 ppm "
        "residual API after cleaning. Root cause: the cleaning step skipped the feed frame. "
        "Re-cleaning passed.",
        "1",
        1,
        (),
        ("TP-201",),
        date(2023, 6, 2),
        ChunkKind.RECORD,
        "cleaning_failure",
    ),
    Chunk(
        "DEV-2024-0113",
        DocType.DEVIATION,
        "Tablet weight out of limits",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Tablet weight of lot B24-0112 drifted to 520 mg "
        "on TP-201. Root cause: worn lower punches. Punches were replaced and weight "
        "checks increased.",
        "1",
        1,
        ("IBU-200",),
        ("TP-201",),
        date(2024, 1, 30),
        ChunkKind.RECORD,
        "equipment_wear",
    ),
    Chunk(
        "DEV-2024-0201",
        DocType.DEVIATION,
        "Granule moisture high",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-B",
        "Loss on drying of granules was 3.1 percent after "
        "drying on FBD-900; granules were re-dried. Root cause: short drying time.",
        "1",
        1,
        ("PARA-500",),
        ("FBD-900",),
        date(2024, 5, 8),
        ChunkKind.RECORD,
        "process_parameter",
    ),
    Chunk(
        "DEV-2022-0009",
        DocType.DEVIATION,
        "Label mix-up",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-B",
        "Two label rolls of different strengths were found on the packaging line "
        "PK-3. Line clearance was incomplete.",
        "1",
        1,
        ("IBU-200", "IBU-400"),
        ("PK-3",),
        date(2022, 11, 3),
        ChunkKind.RECORD,
        "labeling_error",
    ),
    # CAPAs.
    Chunk(
        "CAPA-2023-0015",
        DocType.CAPA,
        "Temperature controller preventive maintenance",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Add a monthly calibration of the FBD-101 "
        "temperature controller and an alarm at 66 C inlet air temperature.",
        "1",
        1,
        ("PARA-500",),
        ("FBD-101",),
        date(2023, 3, 10),
        ChunkKind.RECORD,
    ),
    Chunk(
        "CAPA-2023-0031",
        DocType.CAPA,
        "Cleaning SOP revision for feed frame",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "Revise the cleaning SOP to list the feed frame "
        "explicitly and train operators on the swab locations.",
        "1",
        1,
        (),
        ("TP-201",),
        date(2023, 7, 1),
        ChunkKind.RECORD,
    ),
    # Guidance (site-independent text, still scoped to a site when indexed).
    Chunk(
        "ICH-Q7",
        DocType.GUIDANCE,
        "ICH Q7 Good Manufacturing Practice for APIs",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "8.15 Any deviation from established procedures "
        "should be documented and explained. Critical deviations should be investigated.",
        "8.15",
        22,
    ),
    Chunk(
        "ICH-Q7",
        DocType.GUIDANCE,
        "ICH Q7 Good Manufacturing Practice for APIs",
        "1",
        RevisionStatus.EFFECTIVE,
        "SITE-A",
        "12.7 Cleaning validation should be directed to "
        "situations where contamination or carryover of materials poses the greatest risk.",
        "12.7",
        41,
    ),
)


def chunk_payload(chunk: Chunk, position: int) -> dict[str, Any]:
    payload: dict[str, Any] = {
        Payload.DOC_ID: chunk.doc_id,
        Payload.DOC_TYPE: chunk.doc_type.value,
        Payload.TITLE: chunk.title,
        Payload.REVISION: chunk.revision,
        Payload.STATUS: chunk.status.value,
        Payload.SITE: chunk.site,
        Payload.PRODUCTS: list(chunk.products),
        Payload.EQUIPMENT: list(chunk.equipment),
        Payload.CHUNK_KIND: chunk.kind.value,
        Payload.CHUNK_INDEX: position,
        Payload.SECTION_ID: chunk.section_id,
        Payload.SECTION_PATH: [chunk.section_id],
        Payload.PAGE_START: chunk.page,
        Payload.PAGE_END: chunk.page,
        Payload.TEXT: chunk.text,
    }
    if chunk.event_date is not None:
        payload[Payload.EVENT_DATE] = chunk.event_date.isoformat()
        payload[Payload.EVENT_TS] = _ts(chunk.event_date)
    if chunk.failure_mode:
        payload[Payload.FAILURE_MODE] = chunk.failure_mode
    return payload


def chunk_ids(chunks: Sequence[Chunk] = CHUNKS) -> list[str]:
    """Deterministic ids: position = index of the chunk within its doc/site/revision."""
    seen: dict[tuple[str, str, str], int] = {}
    ids = []
    for chunk in chunks:
        key = (chunk.site, chunk.doc_id, chunk.revision)
        position = seen.get(key, 0)
        seen[key] = position + 1
        ids.append(point_id(f"{chunk.site}/{chunk.doc_id}", chunk.revision, position))
    return ids


def build_points(embedder: Embedder, chunks: Sequence[Chunk] = CHUNKS) -> list[IndexPoint]:
    vectors = embedder.embed([c.text for c in chunks])
    ids = chunk_ids(chunks)
    positions: dict[tuple[str, str, str], int] = {}
    points = []
    for chunk, vector, pid in zip(chunks, vectors, ids, strict=True):
        key = (chunk.site, chunk.doc_id, chunk.revision)
        position = positions.get(key, 0)
        positions[key] = position + 1
        points.append(
            IndexPoint(
                pid, vector.tolist(), document_vector(chunk.text), chunk_payload(chunk, position)
            )
        )
    return points


QUERIES: tuple[str, ...] = (
    "dryer inlet air temperature too high",
    "FBD-101 temperature excursion",
    "swab failure residual API after cleaning",
    "tablet weight drift worn punches",
    "loss on drying limit granules",
    "label mix-up on packaging line",
    "how to document a deviation from procedure",
    "calibration of temperature controller",
    "TP-201 feed frame cleaning",
    "cleaning validation carryover risk",
)
