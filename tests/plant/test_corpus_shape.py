"""Counts, size, file split and exact field names of the generated corpus."""

from __future__ import annotations

import json
from typing import Any

from evals.plant.generator import CorpusSummary
from evals.plant.qms_export import CAPA_FIELDS, DEVIATION_FIELDS
from tests.plant.conftest import read_csv, read_jsonl

CATEGORIES = {
    "equipment",
    "process",
    "material",
    "environment",
    "documentation",
    "laboratory_OOS",
    "personnel_procedure",
    "utilities",
    "supplier",
    "data_integrity",
}
SIX_M = {"man", "machine", "method", "material", "measurement", "mother_nature"}


def test_size_and_counts(corpus: CorpusSummary) -> None:
    root = corpus.out_dir
    assert corpus.total_bytes < 20 * 1024 * 1024
    assert 22 <= len({p.name.split("_rev")[0] for p in root.glob("sops/*.pdf")}) <= 30
    superseded = [p for p in root.glob("sops/*.pdf")]
    assert len(superseded) - len({p.name.split("_rev")[0] for p in superseded}) >= 3
    assert 35 <= len(list(root.glob("batch_records/BR-*.pdf"))) <= 45
    assert 3 <= len(list(root.glob("capas/CAPA-*.pdf"))) <= 10
    assert 35 <= len(list(root.glob("scenarios/payloads/*.json"))) <= 45
    assert corpus.counts["scenarios"] == len(read_jsonl(root / "scenarios" / "gold.jsonl"))
    assert 350 <= corpus.counts["deviations"] <= 450
    assert 50 <= corpus.counts["capas"] <= 70
    assert (root / "README.md").read_text().startswith("# Demo plant corpus")


def test_exports_use_the_canonical_fields_and_split(corpus: CorpusSummary) -> None:
    qms = corpus.out_dir / "qms"
    header = (qms / "deviations_2021-2023.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == DEVIATION_FIELDS
    assert tuple((qms / "capas.csv").read_text().splitlines()[0].split(",")) == CAPA_FIELDS
    old = read_csv(qms / "deviations_2021-2023.csv")
    new = read_jsonl(qms / "deviations_2024-2026.jsonl")
    assert {r["opened_at"][:4] for r in old} <= {"2021", "2022", "2023"}
    assert {r["opened_at"][:4] for r in new} <= {"2024", "2025", "2026"}
    assert all(tuple(r) == DEVIATION_FIELDS for r in new)
    csv_capas = {r["id"] for r in read_csv(qms / "capas.csv")}
    jsonl_capas = read_jsonl(qms / "capas.jsonl")
    assert all(tuple(r) == CAPA_FIELDS for r in jsonl_capas)
    assert csv_capas.isdisjoint(r["id"] for r in jsonl_capas)


def test_record_values_are_in_their_vocabularies(
    deviations: list[dict[str, Any]], capas: list[dict[str, Any]]
) -> None:
    assert len({d["id"] for d in deviations}) == len(deviations)
    assert {d["category"] for d in deviations} == CATEGORIES
    assert {d["root_cause_6m"] for d in deviations} <= SIX_M
    assert {d["classification"] for d in deviations} == {"minor", "major", "critical"}
    assert {d["record_type"] for d in deviations} == {"deviation"}
    assert 14 <= len({d["failure_mode"] for d in deviations}) <= 20
    assert {c["effectiveness_result"] for c in capas} == {"effective", "not_effective", "pending"}
    for dev in deviations:
        assert dev["occurred_at"] < dev["opened_at"]
        assert dev["closed_at"] == "" or dev["opened_at"] < dev["closed_at"]
        assert "2021-11-01" <= dev["occurred_at"][:10] <= "2026-10-31"


def test_humidity_excursions_happen_in_summer(deviations: list[dict[str, Any]]) -> None:
    months = [
        int(d["occurred_at"][5:7])
        for d in deviations
        if d["failure_mode"] == "hvac_humidity_summer"
    ]
    assert months and all(6 <= m <= 9 for m in months)


def test_payloads_follow_the_mes_shape(corpus: CorpusSummary) -> None:
    for path in sorted((corpus.out_dir / "scenarios" / "payloads").glob("*.json")):
        doc = json.loads(path.read_text())
        assert set(doc) == {
            "event_id",
            "site",
            "area",
            "line",
            "equipment",
            "product_code",
            "batch_id",
            "mbr_step",
            "parameter",
            "process_data",
            "occurred_at",
            "description",
        }
        assert path.stem == doc["event_id"] and doc["occurred_at"].startswith("2026-11")
        samples = doc["process_data"]["samples"]
        assert 60 <= len(samples) <= 120
        param = doc["parameter"]
        low = param["limit_low"] if param["limit_low"] is not None else float("-inf")
        high = param["limit_high"] if param["limit_high"] is not None else float("inf")
        outside = [(t, v) for t, v in samples if not low <= v <= high]
        assert param["duration_s"] == 60 * len(outside)
        assert outside[0][0] == doc["occurred_at"]
        assert param["observed_peak"] in [v for _, v in outside]
