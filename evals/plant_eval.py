"""`devia eval plant`: the investigation agent over the demo-plant scenarios.

Per scenario the agent runs from the MES payload to the review point, then the draft is
scored against the gold labels (scenarios/gold.jsonl):

- citation_validity: share of citations that resolve to a chunk retrieved for the draft, of an
  effective revision (must be 1.0);
- quote_match_rate: share of citations whose quote is found in the cited chunk;
- unsupported_rate: share of statements not verified (flagged for the investigator);
- related_recall@5 / same_equipment_recall@5: gold related (same failure mode) / same-equipment
  deviations among the first 5 similar records, over min(5, number of gold records);
- sop_section_cited: the governing SOP section (doc, section) is cited by some statement or is
  the requirement named in the event description;
- rca_6m_match: the 6M category of the first root-cause hypothesis equals the gold one.
"""

from __future__ import annotations

import csv
import json
import shutil
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.agent.report import iter_statements

LIST_FIELDS = ("equipment", "batch_ids", "capa_ids", "deviation_ids")


@dataclass(frozen=True)
class Scenario:
    payload: dict[str, Any]
    gold: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.payload["event_id"])


def load_scenarios(plant_dir: Path) -> list[Scenario]:
    gold = {
        row["event_id"]: row
        for row in (
            json.loads(line)
            for line in (plant_dir / "scenarios" / "gold.jsonl").read_text().splitlines()
            if line.strip()
        )
    }
    scenarios = []
    for path in sorted((plant_dir / "scenarios" / "payloads").glob("*.json")):
        payload = json.loads(path.read_text())
        scenarios.append(Scenario(payload, gold[payload["event_id"]]))
    return scenarios


def _csv_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            record: dict[str, Any] = dict(row)
            for name in LIST_FIELDS:
                if name in record:
                    record[name] = [v for v in (record[name] or "").split(";") if v]
            yield record


def qms_records(plant_dir: Path) -> list[dict[str, Any]]:
    """Every deviation and CAPA record of the plant's QMS exports (CSV and JSONL)."""
    records: list[dict[str, Any]] = []
    for path in sorted((plant_dir / "qms").iterdir()):
        if path.suffix == ".csv":
            records.extend(_csv_records(path))
        elif path.suffix == ".jsonl":
            records.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return records


def write_subset(plant_dir: Path, out_dir: Path, scenario: Scenario, others: int = 30) -> Path:
    """A small corpus for one scenario: its governing SOP (effective revision), its batch
    record, the deviations on its equipment plus `others` distractors, and their CAPAs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sop = scenario.gold["governing_sop"]
    shutil.copy(plant_dir / "sops" / f"{sop['doc_id']}_rev{sop['revision']}.pdf", out_dir)
    shutil.copy(
        plant_dir / "batch_records" / f"{scenario.gold['batch_record']['doc_id']}.pdf", out_dir
    )
    equipment = set(scenario.payload.get("equipment") or [])
    records = qms_records(plant_dir)
    deviations = [r for r in records if r.get("record_type") == "deviation"]
    same = [r for r in deviations if equipment & set(r.get("equipment") or [])]
    rest = [r for r in deviations if r not in same][:: max(1, len(deviations) // max(others, 1))]
    chosen = same + rest[:others]
    capa_ids = {c for r in chosen for c in r.get("capa_ids") or []}
    capas = [r for r in records if r.get("record_type") == "capa" and r["id"] in capa_ids]
    with (out_dir / "qms_subset.jsonl").open("w") as handle:
        for record in chosen + capas:
            handle.write(json.dumps(record) + "\n")
    return out_dir


def ingest_corpus(paths: Sequence[Path], store: Any, embedder: Any, site: str = "SITE-A") -> Any:
    from ingestion.pipeline import IngestOptions, ingest_paths

    return ingest_paths(
        list(paths), store=store, embedder=embedder, options=IngestOptions(site=site)
    )


def plant_paths(plant_dir: Path) -> list[Path]:
    return [plant_dir / d for d in ("sops", "batch_records", "qms", "capas")]


def _recall_at(ranked: Sequence[str], gold: Sequence[str], k: int = 5) -> float | None:
    if not gold:
        return None
    return len(set(ranked[:k]) & set(gold)) / min(k, len(gold))


def score_draft(state: dict[str, Any], gold: dict[str, Any]) -> dict[str, Any]:
    report = state["report"]
    retrieved = {
        r["chunk_id"]: r
        for r in report["ai_provenance"]["retrieved"]
        if r.get("status") != "superseded"
    }
    found = iter_statements(report)
    statements = [st for _, st in found]
    citations = [c for st in statements for c in st["citations"]]
    # what the model wrote, apart from the sections composed without it (records, summary)
    composed = {n for n, r in (state.get("sections") or {}).items() if r.get("origin")}
    by_model = [st for name, st in found if name not in composed]
    model_citations = [c for st in by_model for c in st["citations"]]
    ranked = [r["record_id"] for r in report["history_and_recurrence"]["similar_records"]]
    sop = gold["governing_sop"]
    cited_sections = {
        (c.get("doc_id"), c.get("section_or_step")) for c in citations if c["chunk_id"] in retrieved
    }
    requirement = report["event_description"].get("requirement_deviated_from") or {}
    sop_cited = (sop["doc_id"], sop["section_id"]) in cited_sections or (
        requirement.get("doc_id") == sop["doc_id"]
        and requirement.get("section") == sop["section_id"]
    )
    rca = report.get("root_cause_analysis") or {}
    hypotheses = rca.get("hypotheses") or []
    return {
        "event_id": gold["event_id"],
        "statements": len(statements),
        "citations": len(citations),
        "valid_citations": sum(c["chunk_id"] in retrieved for c in citations),
        "quotes_found": sum(bool(c.get("quote_found")) for c in citations),
        "unsupported": sum(
            (st.get("check") or {}).get("verdict") != "verified" for st in statements
        ),
        "model_statements": len(by_model),
        "model_citations": len(model_citations),
        "model_quotes_found": sum(bool(c.get("quote_found")) for c in model_citations),
        "model_unsupported": sum(
            (st.get("check") or {}).get("verdict") != "verified" for st in by_model
        ),
        "related_recall@5": _recall_at(ranked, gold["related_deviation_ids"]),
        "same_equipment_recall@5": _recall_at(ranked, gold["same_equipment_deviation_ids"]),
        "sop_section_cited": float(sop_cited),
        "rca_6m_match": (
            float(hypotheses[0].get("category_6M") == gold["expected_root_cause_6m"])
            if hypotheses
            else None
        ),
        "category_match": (
            float((report.get("classification") or {}).get("category") == gold["expected_category"])
            if report.get("classification")
            else None
        ),
        "recurrence": report["history_and_recurrence"]["recurrence_determination"],
        "draft_s": round(sum(t["seconds"] for t in state.get("timings") or []), 3),
    }


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(statistics.fmean(values)) if values else float("nan")


def _share(rows: Sequence[dict[str, Any]], part: str, whole: str) -> float:
    total = sum(r.get(whole, 0) for r in rows)
    return sum(r.get(part, 0) for r in rows) / total if total else float("nan")


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    citations = sum(r["citations"] for r in rows)
    statements = sum(r["statements"] for r in rows)
    return {
        "scenarios": float(len(rows)),
        "citation_validity": sum(r["valid_citations"] for r in rows) / citations
        if citations
        else float("nan"),
        "quote_match_rate": sum(r["quotes_found"] for r in rows) / citations
        if citations
        else float("nan"),
        "unsupported_rate": sum(r["unsupported"] for r in rows) / statements
        if statements
        else float("nan"),
        "quote_match_rate_model": _share(rows, "model_quotes_found", "model_citations"),
        "unsupported_rate_model": _share(rows, "model_unsupported", "model_statements"),
        "related_recall@5": _mean(rows, "related_recall@5"),
        "same_equipment_recall@5": _mean(rows, "same_equipment_recall@5"),
        "sop_section_cited": _mean(rows, "sop_section_cited"),
        "rca_6m_match": _mean(rows, "rca_6m_match"),
        "category_match": _mean(rows, "category_match"),
        "draft_s_median": float(statistics.median(r["draft_s"] for r in rows))
        if rows
        else float("nan"),
    }


Runner = Callable[[Scenario], dict[str, Any]]  # scenario -> final graph state at review
Ranker = Callable[[Scenario], list[str]]  # scenario -> similar record ids, best first


def score_retrieval(
    scenarios: Sequence[Scenario], rank: Ranker
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The similar-event step alone (no model): gold related / same-equipment deviations
    among the first 5 records the agent would cite."""
    rows: list[dict[str, Any]] = []
    timings: list[float] = []
    for scenario in scenarios:
        started = time.perf_counter()
        ranked = rank(scenario)
        timings.append((time.perf_counter() - started) * 1000)
        rows.append(
            {
                "event_id": scenario.event_id,
                "top5": ranked[:5],
                "related_recall@5": _recall_at(ranked, scenario.gold["related_deviation_ids"]),
                "same_equipment_recall@5": _recall_at(
                    ranked, scenario.gold["same_equipment_deviation_ids"]
                ),
                "search_ms": round(timings[-1], 2),
            }
        )
    metrics = {
        "scenarios": float(len(rows)),
        "quote_match_rate_model": _share(rows, "model_quotes_found", "model_citations"),
        "unsupported_rate_model": _share(rows, "model_unsupported", "model_statements"),
        "related_recall@5": _mean(rows, "related_recall@5"),
        "same_equipment_recall@5": _mean(rows, "same_equipment_recall@5"),
        "search_ms_median": statistics.median(timings) if timings else float("nan"),
    }
    return metrics, rows


def run_plant_eval(
    scenarios: Sequence[Scenario], run: Runner, progress: Callable[[str], None] | None = None
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    rows = []
    for scenario in scenarios:
        started = time.perf_counter()
        state = run(scenario)
        row = score_draft(state, scenario.gold)
        row["wall_s"] = round(time.perf_counter() - started, 3)
        rows.append(row)
        if progress:
            progress(f"{scenario.event_id}: {row}")
    return aggregate(rows), rows
