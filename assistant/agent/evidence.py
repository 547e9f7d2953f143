"""Gather the evidence an investigation needs, keeping every retrieved chunk for provenance.

Sources: the event itself (E0: the MES record and the computed figures), similar historical
deviations with their shared factors, the linked CAPAs and their effectiveness, the governing
SOP sections for the equipment / product / parameter, and the executed batch-record step.
Every item gets a short id (E0, E1, ...) that prompts show and citations use; the id maps to
the chunk id, document, revision, page and scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field

from assistant.agent.anomaly import Anomaly
from assistant.agent.characterise import Characterisation
from assistant.verification.injection import find_injection
from retrieval.index_contract import DocType, Payload, RevisionStatus
from retrieval.search import Searcher, SearchHit, SearchRequest, to_hit
from retrieval.similar import EventQuery, SimilarEventFinder, SimilarResult
from retrieval.store.base import Filter, IndexStore

EVENT_DOC_TYPE = "source_event"


class EvidenceItem(BaseModel):
    eid: str  # E0, E1, ...
    chunk_id: str
    doc_id: str
    doc_type: str
    revision: str | None = None
    status: str | None = None
    title: str | None = None
    page: int | None = None
    section_id: str | None = None
    section_path: list[str] = Field(default_factory=list)
    text: str
    origin: str  # event | similar_event | capa | sop | batch_record | record_detail
    score: float | None = None
    dense_score: float | None = None
    sparse_score: float | None = None
    rerank_score: float | None = None
    injection: list[str] = Field(default_factory=list)  # instruction-like patterns found

    @property
    def effective(self) -> bool:
        return self.status != RevisionStatus.SUPERSEDED.value


class EvidenceSet(BaseModel):
    items: list[EvidenceItem] = Field(default_factory=list)
    similar: list[dict[str, Any]] = Field(default_factory=list)
    failure_modes: list[dict[str, Any]] = Field(default_factory=list)
    capas: list[dict[str, Any]] = Field(default_factory=list)
    sop_eids: list[str] = Field(default_factory=list)
    batch_record_eids: list[str] = Field(default_factory=list)
    classification_eids: list[str] = Field(default_factory=list)
    root_cause_eids: list[str] = Field(default_factory=list)
    search: dict[str, Any] = Field(default_factory=dict)

    def by_eid(self) -> dict[str, EvidenceItem]:
        return {item.eid: item for item in self.items}

    def get(self, eids: Iterable[str]) -> list[EvidenceItem]:
        index = self.by_eid()
        return [index[e] for e in eids if e in index]


class RecordLookup(Protocol):
    """Exact look-up of indexed documents by id (CAPA records, a batch record)."""

    def chunks(self, sites: Sequence[str], doc_ids: Sequence[str]) -> list[SearchHit]: ...


class StoreRecordLookup:
    """`RecordLookup` over an `IndexStore` (a filtered scroll: no scoring)."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store

    def chunks(self, sites: Sequence[str], doc_ids: Sequence[str]) -> list[SearchHit]:
        if not doc_ids:
            return []
        flt = Filter(
            must={Payload.SITE: list(sites), Payload.DOC_ID: list(doc_ids)},
            must_not={Payload.STATUS: RevisionStatus.SUPERSEDED.value},
        )
        hits = [to_hit(point) for point in self._store.scroll(flt)]
        order = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        position = {hit.chunk_id: i for i, hit in enumerate(hits)}
        return sorted(hits, key=lambda h: (order.get(h.doc_id, 0), position[h.chunk_id]))


@dataclass
class EvidenceSources:
    searcher: Searcher
    similar: SimilarEventFinder
    lookup: RecordLookup
    similar_limit: int = 10
    sop_limit: int = 3


def event_text(anomaly: Anomaly, figures: Characterisation | None) -> str:
    """The source-event record as the model sees it (E0): payload fields and computed figures."""
    lines = [f"Event {anomaly.event_id} ({anomaly.source_system}), site {anomaly.site}."]
    where = ", ".join(
        part
        for part in (
            f"area {anomaly.area}" if anomaly.area else "",
            f"line {anomaly.line}" if anomaly.line else "",
            f"equipment {', '.join(anomaly.equipment)}" if anomaly.equipment else "",
        )
        if part
    )
    if where:
        lines.append(f"Location: {where}.")
    if anomaly.product_code or anomaly.batch_id:
        lines.append(f"Product {anomaly.product_code or '-'}, batch {anomaly.batch_id or '-'}.")
    if anomaly.mbr_step:
        step = anomaly.mbr_step
        lines.append(f"Batch record step {step.step_id} of {step.mbr_id} version {step.version}.")
    if anomaly.occurred_at:
        lines.append(f"Occurred at {anomaly.occurred_at.isoformat()}.")
    p = anomaly.parameter
    if p:
        unit = f" {p.unit}" if p.unit else ""
        lines.append(f"Parameter {p.name}: limits {p.limit_low} to {p.limit_high}{unit}.")
    if figures:
        unit = f" {figures.unit}" if figures.unit else ""
        lines.append(
            f"Peak {figures.peak_value:g}{unit} at {figures.peak_at}, "
            f"{figures.peak_excess:g}{unit} beyond the limit."
        )
        lines.append(
            f"Time outside limits {figures.time_outside_s:g} s "
            f"({figures.samples_outside} samples of {figures.interval_s:g} s)."
        )
        lines.append(f"Largest rate of change {figures.max_rate_per_min:g}{unit} per minute.")
    lines.append(f"Description: {anomaly.description}")
    return "\n".join(lines)


class _Collector:
    def __init__(self) -> None:
        self.items: list[EvidenceItem] = []
        self._by_chunk: dict[str, str] = {}

    def add_hit(self, hit: SearchHit, origin: str) -> str:
        known = self._by_chunk.get(hit.chunk_id)
        if known:
            return known
        eid = f"E{len(self.items)}"
        self.items.append(
            EvidenceItem(
                eid=eid,
                chunk_id=hit.chunk_id,
                doc_id=hit.doc_id,
                doc_type=hit.doc_type,
                revision=hit.revision,
                status=hit.status,
                title=hit.title,
                page=hit.page_start,
                section_id=hit.section_id,
                section_path=list(hit.section_path),
                text=hit.text,
                origin=origin,
                score=hit.score,
                dense_score=hit.dense_score,
                sparse_score=hit.sparse_score,
                injection=[f.pattern for f in find_injection(hit.text)],
            )
        )
        self._by_chunk[hit.chunk_id] = eid
        return eid

    def add_event(self, anomaly: Anomaly, figures: Characterisation | None) -> str:
        eid = f"E{len(self.items)}"
        text = event_text(anomaly, figures)
        self.items.append(
            EvidenceItem(
                eid=eid,
                chunk_id=f"event:{anomaly.event_id}",
                doc_id=anomaly.event_id,
                doc_type=EVENT_DOC_TYPE,
                revision=anomaly.payload_sha256[:12],
                status=RevisionStatus.EFFECTIVE.value,
                title=f"{anomaly.source_system} event {anomaly.event_id}",
                text=text,
                origin="event",
                injection=[f.pattern for f in find_injection(anomaly.description)],
            )
        )
        return eid


def _query_text(anomaly: Anomaly) -> str:
    parts = [anomaly.description]
    if anomaly.parameter:
        parts.append(anomaly.parameter.name)
    parts.extend(anomaly.equipment)
    return " ".join(parts)


def gather_evidence(
    anomaly: Anomaly,
    figures: Characterisation | None,
    sources: EvidenceSources,
    sites: Sequence[str],
) -> EvidenceSet:
    collector = _Collector()
    collector.add_event(anomaly, figures)
    query = EventQuery.from_payload(anomaly.as_payload(), sites)
    similar = sources.similar.find(query, limit=sources.similar_limit)
    similar_rows = _similar_rows(similar, collector)

    capa_ids = sorted({c for row in similar_rows for c in row["capa_ids"]})
    capas = _capa_rows(sources.lookup.chunks(sites, capa_ids), collector)
    effectiveness = {c["capa_id"]: c.get("effectiveness_result") for c in capas}
    for row in similar_rows:
        row["capa_effective"] = _capa_effective([effectiveness.get(c) for c in row["capa_ids"]])

    root_cause_eids = _root_cause_evidence(similar_rows[:3], sources, sites, collector)
    sop_eids = _sop_evidence(anomaly, sources, sites, collector)
    br_eids = _batch_record_evidence(anomaly, sources, sites, collector)
    class_eids = [
        collector.add_hit(hit, "sop")
        for hit in sources.searcher.search(
            SearchRequest(
                "deviation classification criteria minor major critical impact on product quality",
                sites=sites,
                doc_types=[DocType.SOP],
                limit=2,
            )
        ).hits
    ]
    return EvidenceSet(
        items=collector.items,
        similar=similar_rows,
        failure_modes=[
            {"failure_mode": s.failure_mode, "score": round(s.score, 4), "neighbours": s.neighbours}
            for s in similar.failure_modes
        ],
        capas=capas,
        sop_eids=sop_eids,
        batch_record_eids=br_eids,
        classification_eids=class_eids,
        root_cause_eids=root_cause_eids,
        search={
            "query": query.text,
            "filters": {
                "sites": list(sites),
                "equipment": list(query.equipment),
                "products": list(query.products),
                "before": query.event_date.isoformat() if query.event_date else None,
            },
            "candidates": similar.candidates,
        },
    )


def _similar_rows(similar: SimilarResult, collector: _Collector) -> list[dict[str, Any]]:
    rows = []
    for event in similar.events:
        record = dict(event.record or {})
        hit = SearchHit(
            chunk_id=event.chunk_id,
            doc_id=event.doc_id,
            doc_type=event.doc_type,
            revision=None,
            title=event.title,
            site=event.site,
            status=None,
            page_start=None,
            page_end=None,
            section_path=(),
            section_id=None,
            chunk_kind=None,
            text=event.text,
            event_date=event.event_date,
            score=event.scores.final,
            dense_score=event.scores.dense,
            sparse_score=event.scores.sparse,
        )
        eid = collector.add_hit(hit, "similar_event")
        rows.append(
            {
                "record_id": event.doc_id,
                "type": event.doc_type or "deviation",
                "similarity": round(event.scores.final, 4),
                "occurred_at": event.event_date,
                "title": event.title,
                "shared_factors": list(event.shared_factors),
                "failure_mode": event.failure_mode,
                "root_cause": record.get("root_cause"),
                "root_cause_6m": record.get("root_cause_6m"),
                "category": record.get("category"),
                "classification": record.get("classification"),
                "equipment": list(event.equipment),
                "capa_ids": list(event.capa_ids),
                "chunk_id": event.chunk_id,
                "eid": eid,
            }
        )
    return rows


def _capa_rows(hits: Sequence[SearchHit], collector: _Collector) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for hit in hits:
        eid = collector.add_hit(hit, "capa")
        record = dict(hit.record or {})
        row = rows.setdefault(
            hit.doc_id,
            {
                "capa_id": hit.doc_id,
                "title": hit.title,
                "equipment": list(record.get("equipment") or []),
                "effectiveness_result": record.get("effectiveness_result"),
                "status": record.get("status"),
                "root_cause": record.get("root_cause"),
                "chunk_id": hit.chunk_id,
                "eids": [],
            },
        )
        row["eids"].append(eid)
    return list(rows.values())


def _capa_effective(results: Sequence[str | None]) -> str | None:
    known = [r for r in results if r]
    if not known:
        return None
    if "not_effective" in known:
        return "no"
    if "pending" in known:
        return "pending"
    return "yes"


def _sop_evidence(
    anomaly: Anomaly, sources: EvidenceSources, sites: Sequence[str], collector: _Collector
) -> list[str]:
    text = _query_text(anomaly)
    if anomaly.parameter:
        text = f"{anomaly.parameter.name} limits {text}"
    for equipment in (anomaly.equipment, ()):
        result = sources.searcher.search(
            SearchRequest(
                text,
                sites=sites,
                doc_types=[DocType.SOP],
                equipment=equipment,
                limit=sources.sop_limit,
            )
        )
        if result.hits:
            return [collector.add_hit(hit, "sop") for hit in result.hits]
    return []


def _batch_record_evidence(
    anomaly: Anomaly, sources: EvidenceSources, sites: Sequence[str], collector: _Collector
) -> list[str]:
    if not anomaly.batch_id:
        return []
    chunks = sources.lookup.chunks(sites, [f"BR-{anomaly.batch_id}"])
    step = anomaly.mbr_step.step_id if anomaly.mbr_step else None
    chosen = [h for h in chunks if step and h.section_id == step]
    if not chosen:
        chosen = chunks[:1]
    return [collector.add_hit(hit, "batch_record") for hit in chosen[:2]]


def _root_cause_evidence(
    rows: Sequence[dict[str, Any]],
    sources: EvidenceSources,
    sites: Sequence[str],
    collector: _Collector,
) -> list[str]:
    """The root-cause chunk of the closest similar records (their best chunk may not be it)."""
    chunks = sources.lookup.chunks(sites, [row["record_id"] for row in rows])
    eids: list[str] = []
    for row in rows:
        own = [h for h in chunks if h.doc_id == row["record_id"]]
        cause = [h for h in own if "root cause" in (h.section_id or "").lower()] or own[:1]
        eids.extend(collector.add_hit(hit, "record_detail") for hit in cause[:1])
    return eids
