"""Recurrence: related events on the same equipment / product / failure mode within a window
before the new event, the CAPAs linked to them and whether those CAPAs worked.

The determination is a suggestion for the investigator (report section
`history_and_recurrence`); the rationale names the records it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from retrieval.index_contract import DocType, Payload
from retrieval.similar import EventQuery, SimilarResult
from retrieval.store.base import Filter, IndexStore, Range

Determination = Literal["new", "recurrence_same_root_cause", "related_different_cause"]
CapaEffective = Literal["yes", "no", "pending", "unknown"]
MAX_RELATED = 500  # records read per relation; a longer history is reported as truncated
SAME_EQUIPMENT = "same_equipment"
SAME_PRODUCT = "same_product"
SAME_FAILURE_MODE = "same_failure_mode"
_NOT_EFFECTIVE = ("not effective", "ineffective", "not_effective", "failed", "recurred")
_PENDING = ("pending", "open", "in progress", "not yet", "scheduled")


@dataclass(frozen=True)
class LinkedCapa:
    capa_id: str
    found: bool  # the CAPA record is in the index
    effective: CapaEffective
    effectiveness_result: str | None


@dataclass(frozen=True)
class RelatedEvent:
    doc_id: str
    event_date: str | None
    failure_mode: str | None
    relations: tuple[str, ...]  # SAME_EQUIPMENT / SAME_PRODUCT / SAME_FAILURE_MODE
    root_cause: str | None
    capas: tuple[LinkedCapa, ...]


@dataclass(frozen=True)
class RecurrenceReport:
    determination: Determination
    rationale: str
    window_months: int
    window_start: str
    window_end: str
    failure_mode: str | None
    failure_mode_source: Literal["given", "predicted", "none"]
    counts: Mapping[str, int]
    related: list[RelatedEvent] = field(default_factory=list)
    truncated: bool = False


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    if months < 0:
        raise ValueError("months must be >= 0")
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(f"cannot go {months} months back from {day}")


def classify_effectiveness(result: str | None) -> CapaEffective:
    if not result or not result.strip():
        return "pending"
    text = result.strip().lower()
    if any(word in text for word in _NOT_EFFECTIVE):
        return "no"
    if any(word in text for word in _PENDING):
        return "pending"
    if "effective" in text or text in ("yes", "pass", "passed"):
        return "yes"
    return "unknown"


def _ts(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _record(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    record = payload.get(Payload.RECORD)
    return record if isinstance(record, Mapping) else {}


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value.strip().lower()} if value.strip() else set()
    if isinstance(value, list | tuple):
        return {str(v).strip().lower() for v in value if str(v).strip()}
    return set()


def assess_recurrence(
    store: IndexStore,
    query: EventQuery,
    similar: SimilarResult | None = None,
    window_months: int = 24,
    today: date | None = None,
) -> RecurrenceReport:
    """Related events in `[event date - window, event date)` (today when the query has no
    date) and the CAPAs linked to them. The failure mode is the query's own, else the top
    suggestion of `similar`."""
    if window_months < 1:
        raise ValueError("window_months must be >= 1")
    end = query.event_date or today or datetime.now(UTC).date()
    start = months_before(end, window_months)
    failure_mode, source = _failure_mode(query, similar)
    base_must: dict[str, Any] = {
        Payload.SITE: list(query.sites),
        Payload.DOC_TYPE: DocType.DEVIATION.value,
    }
    window = {Payload.EVENT_TS: Range(gte=_ts(start), lte=_ts(end) - 1)}
    relations: dict[str, set[str]] = {}
    payloads: dict[str, Mapping[str, Any]] = {}
    truncated = False
    conditions: list[tuple[str, str, Any]] = []
    if query.equipment:
        conditions.append((SAME_EQUIPMENT, Payload.EQUIPMENT, list(query.equipment)))
    if query.products:
        conditions.append((SAME_PRODUCT, Payload.PRODUCTS, list(query.products)))
    if failure_mode:
        conditions.append((SAME_FAILURE_MODE, Payload.FAILURE_MODE, failure_mode))
    for relation, key, value in conditions:
        flt = Filter(must={**base_must, key: value}, ranges=window)
        seen_docs = 0
        for point in store.scroll(flt):
            doc_id = str(point.payload.get(Payload.DOC_ID, point.id))
            if doc_id == query.event_id:
                continue
            if doc_id not in payloads:
                seen_docs += 1
                if seen_docs > MAX_RELATED:
                    truncated = True
                    break
                payloads[doc_id] = point.payload
            relations.setdefault(doc_id, set()).add(relation)
    capas = _linked_capas(store, query.sites, payloads.values())
    related = [
        _related(doc_id, payloads[doc_id], relations[doc_id], capas)
        for doc_id in sorted(payloads, key=lambda d: str(payloads[d].get(Payload.EVENT_DATE)))
    ]
    counts = {
        rel: sum(1 for r in related if rel in r.relations)
        for rel in (SAME_EQUIPMENT, SAME_PRODUCT, SAME_FAILURE_MODE)
    }
    counts["total"] = len(related)
    determination, rationale = _determine(query, related, failure_mode, source, window_months)
    return RecurrenceReport(
        determination=determination,
        rationale=rationale,
        window_months=window_months,
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        failure_mode=failure_mode,
        failure_mode_source=source,
        counts=counts,
        related=related,
        truncated=truncated,
    )


def _failure_mode(
    query: EventQuery, similar: SimilarResult | None
) -> tuple[str | None, Literal["given", "predicted", "none"]]:
    if query.failure_mode:
        return query.failure_mode, "given"
    if similar and similar.failure_modes:
        return similar.failure_modes[0].failure_mode, "predicted"
    return None, "none"


def _capa_ids(payload: Mapping[str, Any]) -> list[str]:
    ids = payload.get(Payload.CAPA_IDS) or _record(payload).get("capa_ids") or []
    return [str(i) for i in ids] if isinstance(ids, list | tuple) else []


def _linked_capas(
    store: IndexStore, sites: Sequence[str], events: Iterable[Mapping[str, Any]]
) -> dict[str, LinkedCapa]:
    wanted = sorted({cid for payload in events for cid in _capa_ids(payload)})
    if not wanted:
        return {}
    found: dict[str, Mapping[str, Any]] = {}
    flt = Filter(
        must={
            Payload.SITE: list(sites),
            Payload.DOC_TYPE: DocType.CAPA.value,
            Payload.DOC_ID: wanted,
        }
    )
    for point in store.scroll(flt):
        doc_id = str(point.payload.get(Payload.DOC_ID))
        record = _record(point.payload)
        if record.get("effectiveness_result") or doc_id not in found:
            found[doc_id] = record
    out: dict[str, LinkedCapa] = {}
    for cid in wanted:
        capa_record = found.get(cid)
        if capa_record is None:
            out[cid] = LinkedCapa(cid, False, "unknown", None)
            continue
        result = capa_record.get("effectiveness_result")
        text = str(result) if result else None
        out[cid] = LinkedCapa(cid, True, classify_effectiveness(text), text)
    return out


def _related(
    doc_id: str,
    payload: Mapping[str, Any],
    relations: set[str],
    capas: Mapping[str, LinkedCapa],
) -> RelatedEvent:
    record = _record(payload)
    root_cause = record.get("root_cause")
    linked = tuple(capas[c] for c in _capa_ids(payload) if c in capas and c != doc_id)
    label = payload.get(Payload.FAILURE_MODE)
    return RelatedEvent(
        doc_id=doc_id,
        event_date=str(payload.get(Payload.EVENT_DATE))
        if payload.get(Payload.EVENT_DATE)
        else None,
        failure_mode=str(label) if label else None,
        relations=tuple(sorted(relations)),
        root_cause=str(root_cause) if root_cause else None,
        capas=linked,
    )


def _determine(
    query: EventQuery,
    related: Sequence[RelatedEvent],
    failure_mode: str | None,
    source: str,
    window_months: int,
) -> tuple[Determination, str]:
    mode_text = (
        f"failure mode {failure_mode} ({'given' if source == 'given' else 'predicted from similar events'})"
        if failure_mode
        else "no failure mode (none given, none predicted)"
    )
    if not related:
        return "new", (
            f"No event within the last {window_months} months shares this event's equipment, "
            f"product or {mode_text}."
        )
    same_asset = [
        r
        for r in related
        if SAME_FAILURE_MODE in r.relations
        and (SAME_EQUIPMENT in r.relations or SAME_PRODUCT in r.relations)
    ]
    if same_asset:
        lines = [
            f"{len(same_asset)} earlier event(s) within {window_months} months show the same "
            f"{mode_text} on the same equipment or product: "
            + ", ".join(f"{r.doc_id} ({r.event_date or 'undated'})" for r in same_asset)
            + ". Same failure mode on the same asset points to the same root cause recurring; "
            "the investigation must confirm or rule this out."
        ]
        lines.extend(_capa_lines(same_asset))
        return "recurrence_same_root_cause", " ".join(lines)
    parts: list[str] = []
    asset = [r for r in related if SAME_EQUIPMENT in r.relations or SAME_PRODUCT in r.relations]
    mode_only = [r for r in related if r.relations == (SAME_FAILURE_MODE,)]
    if asset:
        parts.append(
            f"{len(asset)} earlier event(s) on the same equipment or product had a different "
            "failure mode: " + ", ".join(f"{r.doc_id} ({r.failure_mode})" for r in asset) + "."
        )
    if mode_only:
        parts.append(
            f"{len(mode_only)} earlier event(s) share the {mode_text} on other equipment or "
            "products: " + ", ".join(r.doc_id for r in mode_only[:10]) + "."
        )
    parts.extend(_capa_lines(related))
    return "related_different_cause", " ".join(parts)


def _capa_lines(events: Sequence[RelatedEvent]) -> list[str]:
    lines: list[str] = []
    for r in events:
        for capa in r.capas:
            if capa.effective == "yes":
                lines.append(
                    f"{capa.capa_id} (for {r.doc_id}) was judged effective; a recurrence "
                    "means its effectiveness must be re-assessed."
                )
            elif capa.effective == "no":
                lines.append(f"{capa.capa_id} (for {r.doc_id}) was judged not effective.")
            elif capa.effective == "pending":
                lines.append(f"{capa.capa_id} (for {r.doc_id}): effectiveness check pending.")
            elif not capa.found:
                lines.append(f"{capa.capa_id} (for {r.doc_id}) is not in the index.")
    return lines
