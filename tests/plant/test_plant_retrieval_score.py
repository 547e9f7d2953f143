"""`devia eval plant --retrieval-only` scoring: recall@5 against the scenario gold."""

from __future__ import annotations

from evals.plant_eval import Scenario, score_retrieval


def scenario(event_id: str, related: list[str], same_equipment: list[str]) -> Scenario:
    gold = {
        "event_id": event_id,
        "related_deviation_ids": related,
        "same_equipment_deviation_ids": same_equipment,
    }
    return Scenario({"event_id": event_id}, gold)


def test_recall_at_5_counts_gold_among_the_first_five_over_min_5_gold() -> None:
    scenarios = [
        scenario("E1", [f"D{i}" for i in range(10)], ["D0", "D9"]),
        scenario("E2", ["X1"], []),
    ]
    ranked = {
        "E1": ["D0", "D1", "Z1", "D2", "Z2", "D9"],  # 3 related of 5; D9 is 6th
        "E2": ["Y1", "Y2", "Y3", "Y4", "Y5", "X1"],
    }
    metrics, rows = score_retrieval(scenarios, lambda s: ranked[s.event_id])
    assert rows[0]["related_recall@5"] == 3 / 5
    assert rows[0]["same_equipment_recall@5"] == 1 / 2
    assert rows[1]["related_recall@5"] == 0.0
    assert rows[1]["same_equipment_recall@5"] is None  # no gold: left out of the mean
    assert metrics["related_recall@5"] == (3 / 5 + 0.0) / 2
    assert metrics["same_equipment_recall@5"] == 1 / 2
    assert metrics["scenarios"] == 2.0
