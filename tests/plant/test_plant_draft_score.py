"""`devia eval plant` scoring of a draft: the whole report's rates and the model's own."""

from __future__ import annotations

from typing import Any

import pytest

from evals.plant_eval import aggregate, score_draft


def _statement(verdict: str, chunk_id: str, found: bool) -> dict[str, Any]:
    citation = {"chunk_id": chunk_id, "doc_id": "SOP-1", "section_or_step": "5.3"}
    return {"check": {"verdict": verdict}, "citations": [citation | {"quote_found": found}]}


def _state() -> dict[str, Any]:
    report = {
        "ai_provenance": {"retrieved": [{"chunk_id": "c1"}, {"chunk_id": "c2"}]},
        "event_description": {  # composed from the records: verified by construction
            "statements": [_statement("verified", "c1", True), _statement("verified", "c2", True)],
            "requirement_deviated_from": {"doc_id": "SOP-1", "section": "5.3"},
        },
        "history_and_recurrence": {
            "similar_records": [{"record_id": "DEV-1"}],
            "recurrence_determination": "none",
            "statements": [],
        },
        "capa": {  # drafted by the model: one of two statements holds
            "statements": [
                _statement("verified", "c1", True),
                _statement("unsupported", "c2", False),
            ]
        },
    }
    sections = {
        "event_description": {"origin": "composed_from_records"},
        "history_and_recurrence": {"origin": "composed_from_records"},
        "capa": {"prompts": ["draft_capa.v2"]},
    }
    return {"report": report, "sections": sections, "timings": [{"seconds": 2.0}]}


GOLD = {
    "event_id": "E-1",
    "governing_sop": {"doc_id": "SOP-1", "section_id": "5.3"},
    "related_deviation_ids": ["DEV-1"],
    "same_equipment_deviation_ids": ["DEV-1"],
    "expected_root_cause_6m": "method",
    "expected_category": "process",
}


def test_the_models_own_rates_leave_out_the_composed_sections() -> None:
    metrics = aggregate([score_draft(_state(), GOLD)])
    assert metrics["citation_validity"] == 1.0
    assert metrics["unsupported_rate"] == pytest.approx(1 / 4)
    assert metrics["quote_match_rate"] == pytest.approx(3 / 4)
    assert metrics["unsupported_rate_model"] == pytest.approx(1 / 2)
    assert metrics["quote_match_rate_model"] == pytest.approx(1 / 2)
    assert metrics["sop_section_cited"] == 1.0 and metrics["related_recall@5"] == 1.0
