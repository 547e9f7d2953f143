"""Sections composed from the records' own lines (assistant.agent.from_records), on evidence in
the formats ingestion writes: QMS "Field: value" lines, SOP sections under a numbered heading,
batch-record steps as markdown table rows."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.agent.evidence import EvidenceItem, EvidenceSet
from assistant.agent.from_records import compose_section
from assistant.agent.verify import verify_sections
from assistant.verification.support_scorer import KeywordOverlapScorer
from assistant.verification.verifier import StatementVerifier

EVENT_TEXT = (
    "Event MES-EX-1 (MES), site SITE-A.\n"
    "Location: area Granulation, line L2, equipment GR-201.\n"
    "Parameter Impeller power: limits 8.0 to 12.0 kW.\n"
    "Peak 13.76 kW at 2026-11-03T03:04:00+00:00, 1.76 kW beyond the limit.\n"
    "Time outside limits 360 s (6 samples of 60 s).\n"
    "Description: Impeller power exceeded the upper limit on GR-201."
)
ANOMALY = {"parameter": {"name": "Impeller power"}, "mbr_step": {"step_id": "4.2"}}


def _item(eid: str, doc_id: str, doc_type: str, text: str, **kw: Any) -> EvidenceItem:
    return EvidenceItem(
        eid=eid, chunk_id=f"c-{eid}", doc_id=doc_id, doc_type=doc_type, text=text, origin="x", **kw
    )


def demo_evidence() -> EvidenceSet:
    items = [
        _item("E0", "MES-EX-1", "source_event", EVENT_TEXT),
        _item(
            "E1",
            "DEV-2023-0070",
            "deviation",
            "Deviation DEV-2023-0070 - what happened\nTitle: Wet massing end point exceeded\n"
            "Description: At the wet massing step of batch B23-0766, the impeller power of GR-201 "
            "reached 13.2 kW, above the end-point limit of 12 kW.\nOccurred: 2023-09-12T11:50:00Z",
        ),
        _item(
            "E2",
            "CAPA-2021-0001",
            "capa",
            "CAPA CAPA-2021-0001 - effectiveness\nEffectiveness result: not_effective\n"
            "Effectiveness checked: 2022-07-14\nStatus: closed",
        ),
        _item(
            "E3",
            "SOP-PRD-011",
            "sop",
            "5.2 Binder addition\nAdd the binder solution through the spray nozzle at the set "
            "spray rate.",
            revision="3",
            section_id="5.2",
            status="effective",
        ),
        _item(
            "E4",
            "SOP-PRD-011",
            "sop",
            "5.3 Wet massing end point\nWet mass until the impeller power end point is\nreached "
            "(8 - 12 kW). If the end point is exceeded, stop and inform the supervisor.",
            revision="3",
            section_id="5.3",
            status="effective",
        ),
        _item(
            "E5",
            "BR-B26-0919",
            "batch_record",
            "| Step | Instruction | Parameter | Limits | Actual | Unit |\n|---|---|---|---|---|---|\n"
            "| 4.1 | Binder addition | Spray rate | 900 - 1100 | 1010 | g/min |\n"
            "| 4.2 | Wet massing to end point | Impeller power | 8 - 12 | 13.76 | kW |",
            section_id="4.2",
        ),
    ]
    return EvidenceSet(
        items=items,
        similar=[{"record_id": "DEV-2023-0070", "eid": "E1", "shared_factors": []}],
        capas=[{"capa_id": "CAPA-2021-0001", "eids": ["E2"]}],
        sop_eids=["E3", "E4"],
        batch_record_eids=["E5"],
    )


def _verified(records: dict[str, dict[str, Any]], ev: EvidenceSet) -> dict[str, dict[str, Any]]:
    checked, _ = verify_sections(records, ev, StatementVerifier(KeywordOverlapScorer()))
    return checked


def test_event_description_states_the_figures_the_governing_sentence_and_the_step() -> None:
    ev = demo_evidence()
    record = _verified({"e": compose_section("event_description", ev, ANOMALY)}, ev)["e"]
    event, sop, step = record["content"]["statements"]
    assert event["text"].startswith("Parameter Impeller power: limits 8.0 to 12.0 kW. Peak 13.76")
    assert event["citations"][0]["quote_span"].startswith("Peak 13.76 kW")
    # 5.2 was retrieved first, but 5.3 is the section naming the event's parameter
    assert sop["citations"][0]["chunk_id"] == "c-E4"
    # the sentence is whole although the PDF text wrapped it
    assert sop["text"] == "Wet mass until the impeller power end point is reached (8 - 12 kW)."
    assert step["citations"][0]["quote_span"] == (
        "| 4.2 | Wet massing to end point | Impeller power | 8 - 12 | 13.76 | kW |"
    )
    assert "Step: 4.2; Instruction: Wet massing to end point" in step["text"]
    assert record["verified"] == record["n_statements"] == 3
    assert record["origin"] == "composed_from_records" and record["call"] is None
    assert record["evidence"] == ["E0", "E4", "E5"]


def test_history_states_past_deviations_and_capa_effectiveness_in_the_records_words() -> None:
    ev = demo_evidence()
    record = _verified({"h": compose_section("history_and_recurrence", ev, ANOMALY)}, ev)["h"]
    deviation, capa = record["content"]["statements"]
    assert deviation["text"].startswith("DEV-2023-0070: At the wet massing step of batch B23")
    assert capa["text"] == (
        "Related CAPA CAPA-2021-0001: effectiveness result not_effective, checked 2022-07-14."
    )
    assert capa["citations"][0]["quote_span"] == "Effectiveness result: not_effective"
    assert record["verified"] == 2


def test_a_free_text_event_is_described_by_its_description_line() -> None:
    ev = EvidenceSet(
        items=[
            _item(
                "E0",
                "TXT-1",
                "source_event",
                "Event TXT-1 (manual), site SITE-A.\nDescription: Label roll mix-up on line 3.",
            )
        ]
    )
    record = compose_section("event_description", ev, {})
    assert [s["text"] for s in record["content"]["statements"]] == ["Label roll mix-up on line 3."]


def test_nothing_to_compose_is_said_not_hidden() -> None:
    record = compose_section("history_and_recurrence", EvidenceSet(), {})
    assert record["content"]["statements"] == []
    assert record["error"] == "no record line to compose this section from"
    with pytest.raises(ValueError, match="not composed from records"):
        compose_section("capa", EvidenceSet(), {})


def test_a_chunk_with_instruction_like_text_is_never_quoted() -> None:
    ev = demo_evidence()
    flagged = ev.items[4].model_copy(update={"injection": ["ignore previous instructions"]})
    ev = ev.model_copy(update={"items": [*ev.items[:4], flagged, *ev.items[5:]]})
    record = compose_section("event_description", ev, ANOMALY)
    cited = [c["chunk_id"] for s in record["content"]["statements"] for c in s["citations"]]
    assert "c-E4" not in cited and "c-E3" in cited  # the other SOP section instead
