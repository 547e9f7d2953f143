"""Tiny synthetic site history in an in-memory index (hashing embedder: fast, deterministic)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from retrieval.embedding import Embedder, HashingEmbedder
from retrieval.index_contract import ChunkKind, Payload, point_id
from retrieval.sparse import document_vector
from retrieval.store.base import IndexPoint, IndexStore
from retrieval.store.factory import open_store

RECORDS: list[dict[str, Any]] = [
    {"id": "DEV-1", "type": "deviation", "site": "SITE-A", "date": "2026-03-01",
     "equipment": ["GR-201"], "product": "PRD-0042", "failure_mode": "OVERHEATING",
     "text": "Inlet air temperature exceeded upper limit during wet granulation drying",
     "capa_ids": ["CAPA-1"], "root_cause": "Heater controller PID tuning drifted"},
    {"id": "DEV-2", "type": "deviation", "site": "SITE-A", "date": "2025-12-01",
     "equipment": ["GR-201"], "product": "PRD-0099", "failure_mode": "EQUIPMENT_FAILURE",
     "text": "Granulator impeller motor tripped on overload during wet massing",
     "capa_ids": ["CAPA-2"]},
    {"id": "DEV-3", "type": "deviation", "site": "SITE-A", "date": "2020-01-01",
     "equipment": ["FBD-301"], "product": "PRD-0042", "failure_mode": "OVERHEATING",
     "text": "Outlet air temperature exceeded high alarm in the fluid bed dryer drying",
     "capa_ids": []},
    {"id": "DEV-4", "type": "deviation", "site": "SITE-A", "date": "2026-06-01",
     "equipment": ["TAB-101"], "product": "PRD-0007", "failure_mode": "TABLET_PHYSICAL",
     "text": "Tablet hardness below lower limit at compression start-up", "capa_ids": []},
    {"id": "DEV-5", "type": "deviation", "site": "SITE-B", "date": "2026-05-01",
     "equipment": ["GR-201"], "product": "PRD-0042", "failure_mode": "OVERHEATING",
     "text": "Inlet air temperature exceeded upper limit during wet granulation drying",
     "capa_ids": []},
    {"id": "DEV-6", "type": "deviation", "site": "SITE-A", "date": "2026-11-20",
     "equipment": ["GR-201"], "product": "PRD-0042", "failure_mode": "OVERHEATING",
     "text": "Inlet air temperature exceeded upper limit during wet granulation drying",
     "capa_ids": []},
    {"id": "CAPA-1", "type": "capa", "site": "SITE-A", "date": "2026-03-05",
     "equipment": ["GR-201"], "product": "PRD-0042", "failure_mode": None,
     "text": "Retune heater PID loop and add alarm", "capa_ids": [],
     "effectiveness_result": "Not effective: excursion recurred in batch B26-0700"},
    {"id": "CAPA-2", "type": "capa", "site": "SITE-A", "date": "2025-12-03",
     "equipment": ["GR-201"], "product": "PRD-0099", "failure_mode": None,
     "text": "Replace impeller motor overload relay", "capa_ids": [],
     "effectiveness_result": "Effective: no recurrence in 20 batches"},
]  # fmt: skip

MES_PAYLOAD: dict[str, Any] = {
    "event_id": "MES-EX-2026-00417",
    "site": "SITE-A",
    "equipment": ["GR-201"],
    "product_code": "PRD-0042",
    "batch_id": "B26-0815",
    "parameter": {"name": "Inlet air temperature", "unit": "C", "limit_low": 55,
                  "limit_high": 65, "observed_peak": 71.4, "duration_s": 420},
    "occurred_at": "2026-11-20T08:07:00Z",
    "description": "Inlet air temperature exceeded upper limit during wet granulation drying.",
}  # fmt: skip


def make_points(records: list[dict[str, Any]], embedder: Embedder) -> list[IndexPoint]:
    vectors = embedder.embed([r["text"] for r in records])
    points = []
    for record, vector in zip(records, vectors, strict=True):
        day = datetime.fromisoformat(record["date"]).replace(tzinfo=UTC)
        payload: dict[str, Any] = {
            Payload.DOC_ID: record["id"],
            Payload.DOC_TYPE: record["type"],
            Payload.SITE: record["site"],
            Payload.TEXT: record["text"],
            Payload.EQUIPMENT: record["equipment"],
            Payload.PRODUCTS: [record["product"]],
            Payload.EVENT_DATE: record["date"],
            Payload.EVENT_TS: int(day.timestamp()),
            Payload.CAPA_IDS: record["capa_ids"],
            Payload.CHUNK_KIND: ChunkKind.RECORD.value,
            Payload.RECORD: {
                k: v for k, v in record.items() if k in ("root_cause", "effectiveness_result")
            },
        }
        if record["failure_mode"]:
            payload[Payload.FAILURE_MODE] = record["failure_mode"]
        pid = point_id(f"{record['site']}|{record['id']}", "-", 0)
        points.append(IndexPoint(pid, vector.tolist(), document_vector(record["text"]), payload))
    return points


@pytest.fixture(scope="module")
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=64)


@pytest.fixture(scope="module")
def history(
    embedder: HashingEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexStore]:
    store = open_store(":memory:", tmp_path_factory.mktemp("idx"))
    store.ensure_collection(embedder.dim)
    store.upsert(make_points(RECORDS, embedder))
    yield store
    store.close()
