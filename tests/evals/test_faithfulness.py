"""Faithfulness: deterministic citation checks and NaN accounting (no model here; the real
judge runs in test_model_subsets.py)."""

from __future__ import annotations

import math
from typing import Any

from assistant.chat import ChatAnswer, ChatCitation
from evals.faithfulness import (
    deterministic_checks,
    faithfulness_metrics,
    ragas_scores,
)
from retrieval.store.base import ScoredPoint


class _Store:
    def __init__(self, chunks: dict[str, str]) -> None:
        self.chunks = chunks

    def retrieve(self, ids: list[str]) -> list[ScoredPoint]:
        return [ScoredPoint(i, 1.0, {"text": self.chunks[i]}) for i in ids if i in self.chunks]


def _citation(chunk_id: str, quote: str) -> ChatCitation:
    return ChatCitation("S1", chunk_id, "DOC", None, 3, None, quote, "verified", [])


def test_citations_resolve_and_quotes_are_found() -> None:
    store = _Store({"c1": "Audit trails should be reviewed\n  by the quality unit."})
    answer = ChatAnswer(
        "who?",
        "The quality unit [S1].",
        "answered",
        [
            _citation("c1", "Audit trails should be reviewed by the quality unit."),
            _citation("c1", "Audit trails are optional."),
            _citation("gone", "anything"),
        ],
    )
    checks = deterministic_checks(answer, store)  # type: ignore[arg-type]
    assert checks == {"n_citations": 3, "citations_resolved": 2, "quotes_found": 1}


class _Metric:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    async def ascore(self, **_: Any) -> Any:
        if isinstance(self.outcome, Exception):
            raise self.outcome

        class Result:
            value = self.outcome

        return Result()


def test_judge_failures_are_nan_and_counted_never_dropped() -> None:
    metrics = {
        "faithfulness": _Metric(1.0),
        "context_precision": _Metric(float("nan")),
        "context_recall": _Metric(ValueError("judge returned invalid JSON")),
    }
    sample = {"question": "q", "answer": "a", "contexts": ["c"], "reference": "r"}
    rows = ragas_scores([sample, sample], metrics)
    assert rows[0]["faithfulness"] == 1.0 and math.isnan(rows[0]["context_recall"])
    assert "invalid JSON" in rows[0]["context_recall_error"]
    summary = faithfulness_metrics(rows, n_not_found=1)
    assert summary["n_judged"] == 2 and summary["n_not_found"] == 1
    assert summary["faithfulness_mean"] == 1.0 and summary["faithfulness_nan"] == 0
    assert summary["context_precision_nan"] == 2 and summary["context_recall_nan"] == 2
    assert summary["context_recall_mean_nan_as_0"] == 0.0
    assert math.isnan(float(summary["context_recall_mean"]))
