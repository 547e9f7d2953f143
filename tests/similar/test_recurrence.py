from datetime import date

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.recurrence import assess_recurrence, classify_effectiveness, months_before
from retrieval.similar import EventQuery, SimilarEventFinder
from retrieval.store.base import IndexStore
from tests.similar.conftest import MES_PAYLOAD


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(date(2026, 11, 20), 24) == date(2024, 11, 20)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
    with pytest.raises(ValueError):
        months_before(date(2026, 1, 1), -1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Effective: no recurrence in 20 batches", "yes"),
        ("Not effective: excursion recurred", "no"),
        ("ineffective", "no"),
        ("", "pending"),
        (None, "pending"),
        ("Pending: check due 2027-01", "pending"),
        ("see attachment", "unknown"),
    ],
)
def test_classify_effectiveness(text: str | None, expected: str) -> None:
    assert classify_effectiveness(text) == expected


def test_same_failure_mode_on_same_equipment_is_a_recurrence(
    history: IndexStore, embedder: HashingEmbedder
) -> None:
    query = EventQuery.from_payload(MES_PAYLOAD)
    similar = SimilarEventFinder(history, embedder).find(query)
    report = assess_recurrence(history, query, similar, window_months=24)
    assert report.determination == "recurrence_same_root_cause"
    assert report.failure_mode == "OVERHEATING" and report.failure_mode_source == "predicted"
    assert (report.window_start, report.window_end) == ("2024-11-20", "2026-11-20")
    by_id = {r.doc_id: r for r in report.related}
    # DEV-3 (2020) is outside the window, DEV-5 another site, DEV-6 the event's own day
    assert set(by_id) == {"DEV-1", "DEV-2"}
    assert by_id["DEV-1"].relations == ("same_equipment", "same_failure_mode", "same_product")
    assert by_id["DEV-2"].relations == ("same_equipment",)
    capa = by_id["DEV-1"].capas[0]
    assert (capa.capa_id, capa.found, capa.effective) == ("CAPA-1", True, "no")
    assert by_id["DEV-1"].root_cause == "Heater controller PID tuning drifted"
    assert report.counts == {
        "same_equipment": 2, "same_product": 1, "same_failure_mode": 1, "total": 2
    }  # fmt: skip
    assert "DEV-1" in report.rationale and "CAPA-1" in report.rationale
    assert "not effective" in report.rationale


def test_related_but_different_failure_mode(history: IndexStore) -> None:
    query = EventQuery(
        text="granulator vibration",
        sites=("SITE-A",),
        equipment=("GR-201",),
        event_date=date(2026, 11, 20),
        failure_mode="VIBRATION",
    )
    report = assess_recurrence(history, query, None, window_months=24)
    assert report.determination == "related_different_cause"
    assert report.failure_mode_source == "given"
    assert {r.doc_id for r in report.related} == {"DEV-1", "DEV-2"}
    capas = {c.capa_id: c.effective for r in report.related for c in r.capas}
    assert capas == {"CAPA-1": "no", "CAPA-2": "yes"}


def test_nothing_related_is_new(history: IndexStore) -> None:
    query = EventQuery(
        text="label smudged",
        sites=("SITE-A",),
        equipment=("PK-900",),
        products=("PRD-0500",),
        event_date=date(2026, 11, 20),
        failure_mode="LABEL_MIXUP",
    )
    report = assess_recurrence(history, query, None, window_months=6)
    assert report.determination == "new"
    assert report.related == [] and report.counts["total"] == 0
    with pytest.raises(ValueError):
        assess_recurrence(history, query, None, window_months=0)


def test_window_boundary_excludes_older_events(history: IndexStore) -> None:
    query = EventQuery(
        text="air temperature",
        sites=("SITE-A",),
        products=("PRD-0042",),
        event_date=date(2026, 11, 20),
        failure_mode="OVERHEATING",
    )
    short = assess_recurrence(history, query, None, window_months=6)
    assert short.determination == "new"  # DEV-1 (2026-03-01) is 8+ months earlier
    long = assess_recurrence(history, query, None, window_months=120)
    assert {r.doc_id for r in long.related} == {"DEV-1", "DEV-3"}
