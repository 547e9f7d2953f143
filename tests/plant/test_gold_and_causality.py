"""Gold labels resolve to generated records, and the history obeys its causal rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pymupdf

from evals.plant.generator import CorpusSummary


def _sop_sections(corpus: CorpusSummary, doc_id: str, revision: int) -> set[str]:
    path = corpus.out_dir / "sops" / f"{doc_id}_rev{revision}.pdf"
    with pymupdf.open(path) as doc:
        lines = [line for page in doc for line in page.get_text().splitlines()]
    return {line.split(" ", 1)[0] for line in lines if line[:1].isdigit() and " " in line}


def test_gold_references_exist(
    corpus: CorpusSummary,
    gold: list[dict[str, Any]],
    deviations: list[dict[str, Any]],
    capas: list[dict[str, Any]],
) -> None:
    devs = {d["id"]: d for d in deviations}
    capa_ids = {c["id"] for c in capas}
    for labels in gold:
        payload = json.loads(
            (corpus.out_dir / "scenarios" / "payloads" / f"{labels['event_id']}.json").read_text()
        )
        assert labels["related_deviation_ids"], labels["event_id"]
        assert set(labels["same_equipment_deviation_ids"]) <= set(labels["related_deviation_ids"])
        for dev_id in labels["related_deviation_ids"]:
            dev = devs[dev_id]
            assert dev["failure_mode"] == labels["failure_mode"] or set(dev["equipment"]) & set(
                payload["equipment"]
            )
            assert dev["occurred_at"] < payload["occurred_at"]
        assert set(labels["capa_ids"]) <= capa_ids
        sop = labels["governing_sop"]
        assert sop["section_id"] in _sop_sections(corpus, sop["doc_id"], sop["revision"])
        assert (
            corpus.out_dir / "batch_records" / f"{labels['batch_record']['doc_id']}.pdf"
        ).is_file()
        assert labels["batch_record"]["step_id"] == payload["mbr_step"]["step_id"]
        assert labels["expected_root_cause"]


def test_links_between_deviations_and_capas_resolve(
    deviations: list[dict[str, Any]], capas: list[dict[str, Any]]
) -> None:
    dev_ids = {d["id"] for d in deviations}
    capa_ids = {c["id"] for c in capas}
    assert all(set(d["capa_ids"]) <= capa_ids for d in deviations)
    assert all(c["deviation_ids"] and set(c["deviation_ids"]) <= dev_ids for c in capas)


def _recurrences(
    capa: dict[str, Any], deviations: list[dict[str, Any]], by_id: dict[str, Any]
) -> list[date]:
    """Occurrence dates after the CAPA's due date: same failure mode, equipment in its scope."""
    modes = {by_id[d]["failure_mode"] for d in capa["deviation_ids"]}
    due = date.fromisoformat(capa["due_date"])
    return [
        date.fromisoformat(d["occurred_at"][:10])
        for d in deviations
        if d["failure_mode"] in modes
        and set(d["equipment"]) & set(capa["equipment"])
        and date.fromisoformat(d["occurred_at"][:10]) > due
    ]


def test_capa_effectiveness_matches_what_happened_next(
    deviations: list[dict[str, Any]], capas: list[dict[str, Any]]
) -> None:
    by_id = {d["id"]: d for d in deviations}
    for capa in capas:
        later = _recurrences(capa, deviations, by_id)
        if capa["effectiveness_result"] == "pending":
            assert capa["effectiveness_checked_at"] == "" and capa["status"] == "open"
            continue
        checked = date.fromisoformat(capa["effectiveness_checked_at"])
        in_window = [d for d in later if d <= checked]
        if capa["effectiveness_result"] == "effective":
            assert in_window == [], capa["id"]
            if len(capa["deviation_ids"]) > 1:  # a systemic fix: the failure mode stopped for good
                assert later == [], capa["id"]
        else:
            assert in_window, capa["id"]


def test_procedure_gap_was_first_recorded_as_human_error(deviations: list[dict[str, Any]]) -> None:
    gowning = sorted(
        (
            d
            for d in deviations
            if d["failure_mode"] == "gowning_procedure_gap" and d["status"] == "closed"
        ),
        key=lambda d: d["occurred_at"],
    )
    assert gowning[0]["root_cause_6m"] == "man"
    assert all(d["occurred_at"] < "2024-12-02" for d in gowning)  # SOP-STE-001 Rev 4 stopped them
