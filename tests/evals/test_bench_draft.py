"""`devia bench draft` figures from the graph state at review."""

from __future__ import annotations

from typing import Any

import pytest

from evals.bench_draft import bench_draft, time_draft


def _state(attempts: dict[str, int], verified: int) -> dict[str, Any]:
    sections = {
        name: {
            "prompts": ["draft_x.v1"],
            "attempt": n,
            "n_statements": 2,
            "verified": 1,
            "call": {"usage": {"prompt_tokens": 700, "completion_tokens": 150}},
        }
        for name, n in attempts.items()
    }
    sections["executive_summary"] = {  # assembled: no prompt, no call
        "prompts": [],
        "attempt": 1,
        "n_statements": 2,
        "verified": verified,
    }
    return {"sections": sections, "timings": [{"node": "draft_section", "seconds": 2.0}] * 3}


def test_time_draft_counts_calls_redrafts_and_verified_statements() -> None:
    timing = time_draft(lambda _: _state({"a": 1, "b": 2, "c": 2}, verified=2), "t")
    assert timing.llm_calls == 5 and timing.redrafted == 2
    assert (timing.statements, timing.verified) == (8, 5)
    assert (timing.model_statements, timing.model_verified) == (6, 3)  # the summary is not
    assert (timing.prompt_tokens, timing.completion_tokens) == (2100, 450)
    rows = {row["section"]: row for row in timing.sections}
    assert rows["b"]["attempts"] == 2 and rows["b"]["prompt_tokens"] == 700
    assert timing.per_node == {"draft_section": 6.0}


def test_bench_reports_medians_of_the_runs() -> None:
    states = iter([_state({"a": 1}, 0), _state({"a": 2}, 2), _state({"a": 2}, 2)])
    metrics, timings = bench_draft(lambda _: next(states), runs=3)
    assert len(timings) == 3
    assert metrics["llm_calls_median"] == 2 and metrics["sections_redrafted_median"] == 1
    assert metrics["verified_share_median"] == pytest.approx(3 / 4)
    assert metrics["verified_share_model_median"] == pytest.approx(1 / 2)
    assert metrics["prompt_tokens_median"] == 700
    assert metrics["node_draft_section_s_median"] == 6.0
    with pytest.raises(ValueError):
        bench_draft(lambda _: {}, runs=0)
