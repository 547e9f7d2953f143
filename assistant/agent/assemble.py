"""Assemble the report from data and drafted sections, and record its provenance.

Everything that is a fact of the event or of the records (ids, dates, limits, figures, the
similar-event list, recurrence counts, linked CAPAs) is copied from data here, never
generated. Human-only decisions are emptied in code as the last step.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from assistant.agent.anomaly import Anomaly
from assistant.agent.evidence import EvidenceSet
from assistant.agent.report import (
    HUMAN_ONLY_FIELDS,
    InvestigationReport,
    clear_human_only,
    iter_statements,
)

CLOSURE_DAYS = 30
RECENT_DAYS = 365
SAME_MODE_MIN_SCORE = 0.5


def recurrence(ev: EvidenceSet, occurred_at: datetime | None) -> tuple[str, dict[str, int]]:
    """Recurrence determination and counts, from the similar records and their CAPAs."""
    same_eq = [
        r for r in ev.similar if any(f.startswith("same equipment") for f in r["shared_factors"])
    ]
    top = ev.failure_modes[0] if ev.failure_modes else None
    mode = top["failure_mode"] if top and top["score"] >= SAME_MODE_MIN_SCORE else None
    same_mode = [r for r in ev.similar if mode and r.get("failure_mode") == mode]
    recent = 0
    if occurred_at is not None:
        cutoff = (occurred_at - timedelta(days=RECENT_DAYS)).date().isoformat()
        recent = sum(1 for r in same_eq if (r.get("occurred_at") or "") >= cutoff)
    counts = {
        "similar_found": len(ev.similar),
        "same_equipment": len(same_eq),
        "same_predicted_failure_mode": len(same_mode),
        "same_equipment_last_12_months": recent,
        "linked_capas": len(ev.capas),
        "linked_capas_not_effective": sum(
            1 for c in ev.capas if c.get("effectiveness_result") == "not_effective"
        ),
    }
    if any(r in same_mode for r in same_eq):
        return "recurrence_same_root_cause", counts
    if same_eq or same_mode:
        return "related_different_cause", counts
    return "new", counts


def _header(anomaly: Anomaly, opened_at: datetime) -> dict[str, Any]:
    occurred = anomaly.occurred_at.isoformat() if anomaly.occurred_at else None
    step = anomaly.mbr_step
    return {
        "report_id": anomaly.event_id,
        "version": 1,
        "status": "draft_ai",
        "site": anomaly.site,
        "area": anomaly.area,
        "line": anomaly.line,
        "products": [{"product_code": anomaly.product_code}] if anomaly.product_code else [],
        "batches": (
            [{"batch_id": anomaly.batch_id, "status": "in_process"}] if anomaly.batch_id else []
        ),
        "equipment": [{"tag": tag} for tag in anomaly.equipment],
        "process_step": step.model_dump(mode="json") if step else None,
        "source_event": {
            "system": anomaly.source_system,
            "event_id": anomaly.event_id,
            "raised_at": occurred,
            "raw_payload_ref": f"sha256:{anomaly.payload_sha256}",
        },
        "dates": {
            "occurred_at": occurred,
            "opened_at": opened_at.isoformat(),
            "due_at": (opened_at + timedelta(days=CLOSURE_DAYS)).isoformat(),
        },
    }


def _event_description(
    anomaly: Anomaly, figures: dict[str, Any] | None, ev: EvidenceSet, drafted: dict[str, Any]
) -> dict[str, Any]:
    sop = ev.get(ev.sop_eids[:1])
    p = anomaly.parameter
    expected = []
    if p:
        expected.append(
            {
                "parameter": p.name,
                "unit": p.unit,
                "limit_type": "spec",
                "limit_low": p.limit_low,
                "limit_high": p.limit_high,
                "observed": figures["peak_value"] if figures else p.observed_peak,
                "duration": f"{figures['time_outside_s']:g} s outside limits"
                if figures
                else (f"{p.duration_s:g} s" if p.duration_s is not None else None),
            }
        )
    refs = []
    if figures:
        refs.append(
            {
                "historian_tag": figures["tag"],
                "window_start": figures["window_start"],
                "window_end": figures["window_end"],
                "plot_ref": figures.get("plot_path"),
            }
        )
    where = ", ".join(
        x for x in (anomaly.site, anomaly.area, anomaly.line, *anomaly.equipment) if x
    )
    return {
        "what_happened": anomaly.description,
        "requirement_deviated_from": (
            {"doc_id": sop[0].doc_id, "version": sop[0].revision, "section": sop[0].section_id}
            if sop
            else None
        ),
        "expected_vs_actual": expected,
        "where": where,
        "when": anomaly.occurred_at.isoformat() if anomaly.occurred_at else None,
        "how_detected": "alarm" if anomaly.source_system == "MES" else None,
        "process_data_refs": refs,
        "characterisation": figures,
        "statements": drafted.get("statements", []),
    }


def _timeline(anomaly: Anomaly, figures: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    if figures and figures.get("first_outside_at"):
        src = f"historian:{figures['tag']}"
        rows.append(
            {
                "timestamp": figures["first_outside_at"],
                "event": "first sample outside limits",
                "source_ref": src,
            }
        )
        rows.append(
            {
                "timestamp": figures["peak_at"],
                "event": f"peak {figures['peak_value']:g}",
                "source_ref": src,
            }
        )
        rows.append(
            {
                "timestamp": figures["last_outside_at"],
                "event": "last sample outside limits",
                "source_ref": src,
            }
        )
    elif anomaly.occurred_at:
        rows.append(
            {
                "timestamp": anomaly.occurred_at.isoformat(),
                "event": "event occurred",
                "source_ref": anomaly.event_id,
            }
        )
    return sorted(rows, key=lambda r: r["timestamp"])


def _references(content: dict[str, Any], ev: EvidenceSet) -> list[dict[str, Any]]:
    index = {item.chunk_id: item for item in ev.items}
    cited = [c["chunk_id"] for _, st in iter_statements(content) for c in st["citations"]]
    cited += [e.chunk_id for e in ev.get(ev.sop_eids[:1] + ev.batch_record_eids[:1])]
    refs: dict[tuple[str, str | None], dict[str, Any]] = {}
    for chunk_id in cited:
        item = index.get(chunk_id)
        if item is None:
            continue
        refs.setdefault(
            (item.doc_id, item.revision),
            {
                "doc_id": item.doc_id,
                "title": item.title,
                "version": item.revision,
                "type": item.doc_type,
            },
        )
    return list(refs.values())


def assemble_report(
    *,
    anomaly: Anomaly,
    figures: dict[str, Any] | None,
    ev: EvidenceSet,
    sections: dict[str, dict[str, Any]],
    opened_at: datetime,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """The report as a JSON dict, validated against `InvestigationReport`."""
    drafted = {name: record.get("content") or {} for name, record in sections.items()}
    determination, counts = recurrence(ev, anomaly.occurred_at)
    history = {
        "search": ev.search,
        "similar_records": [
            {
                k: row.get(k)
                for k in (
                    "record_id",
                    "type",
                    "similarity",
                    "occurred_at",
                    "title",
                    "shared_factors",
                    "failure_mode",
                    "root_cause",
                    "capa_ids",
                    "capa_effective",
                    "chunk_id",
                )
            }
            for row in ev.similar
        ],
        "recurrence_determination": determination,
        "recurrence_counts": counts,
        "failure_mode_suggestions": ev.failure_modes,
        "statements": drafted.get("history_and_recurrence", {}).get("statements", []),
    }
    content: dict[str, Any] = {
        "header": _header(anomaly, opened_at),
        "event_description": _event_description(
            anomaly, figures, ev, drafted.get("event_description", {})
        ),
        "timeline": _timeline(anomaly, figures),
        "history_and_recurrence": history,
    }
    for name in (
        "executive_summary",
        "impact_assessment",
        "classification",
        "root_cause_analysis",
        "disposition",
    ):
        if name in drafted:
            content[name] = dict(drafted[name])
    if "capa" in drafted or ev.capas:
        capa = dict(drafted.get("capa", {}))
        capa["linked_capas"] = [
            {
                k: c.get(k)
                for k in (
                    "capa_id",
                    "title",
                    "equipment",
                    "effectiveness_result",
                    "status",
                    "chunk_id",
                )
            }
            for c in ev.capas
        ]
        content["capa"] = capa
    content["references"] = _references(content, ev)
    clear_human_only(content)
    report = InvestigationReport.model_validate({**content, "ai_provenance": provenance})
    out = report.model_dump(mode="json")
    clear_human_only(out)  # the models carry the human-only fields; keep them empty
    for section, field in HUMAN_ONLY_FIELDS:
        assert not (out.get(section) or {}).get(field), f"{section}.{field} must stay empty"
    out["ai_provenance"]["draft_hash"] = draft_hash(out)
    return out


def draft_hash(content: dict[str, Any]) -> str:
    """sha256 of the report without its provenance block (what a person reviews)."""
    body = {k: v for k, v in content.items() if k != "ai_provenance"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
