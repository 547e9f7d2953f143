"""Ranking metrics for the recalls suite, as the data README defines them.

Each query comes with the gains of its ranked results (0 = not relevant, 1 = relevant,
2 = relevant and the same dosage form) and the gains of every relevant document in the
corpus (for the ideal DCG). Per-query values are averaged two ways: micro (each query weighs
the same) and macro (mean over failure-mode classes of the class means: each class weighs the
same).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RankedQuery:
    """One query's ranking, reduced to what the metrics need."""

    query_class: str  # the gold failure mode: the macro-averaging group
    gains: Sequence[int]  # gain of the result at each rank (rank 1 first)
    relevant_gains: Sequence[int]  # gains of ALL relevant documents in the corpus


def precision_at(gains: Sequence[int], k: int) -> float:
    return sum(1 for g in gains[:k] if g > 0) / k


def success_at(gains: Sequence[int], k: int) -> float:
    return 1.0 if any(g > 0 for g in gains[:k]) else 0.0


def reciprocal_rank(gains: Sequence[int]) -> float:
    """1 / rank of the first relevant result; 0 when none is in the ranking."""
    for rank, gain in enumerate(gains, start=1):
        if gain > 0:
            return 1.0 / rank
    return 0.0


def _dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at(gains: Sequence[int], relevant_gains: Sequence[int], k: int, graded: bool) -> float:
    """nDCG@k with linear gains. Binary: every relevant result gains 1. Graded: the stored gain
    (2 for a same-dosage-form match). 0 when the corpus holds nothing relevant."""

    def gain(g: int) -> float:
        return float(g) if graded else float(g > 0)

    ideal = sorted((gain(g) for g in relevant_gains if g > 0), reverse=True)[:k]
    idcg = _dcg(ideal)
    if idcg == 0:
        return 0.0
    return _dcg([gain(g) for g in gains[:k]]) / idcg


def query_metrics(query: RankedQuery, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in ks:
        out[f"P@{k}"] = precision_at(query.gains, k)
        out[f"Success@{k}"] = success_at(query.gains, k)
    out["MRR"] = reciprocal_rank(query.gains)
    out["nDCG@10"] = ndcg_at(query.gains, query.relevant_gains, 10, graded=False)
    out["graded_nDCG@10"] = ndcg_at(query.gains, query.relevant_gains, 10, graded=True)
    return out


def macro_micro(
    per_query: Sequence[Mapping[str, float]], classes: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """(macro, micro) means of every metric name in `per_query`. `classes[i]` is query i's
    class. Macro: mean over classes of the mean within the class."""
    if len(per_query) != len(classes):
        raise ValueError("one class per query is needed")
    if not per_query:
        return {}, {}
    names = list(per_query[0])
    micro = {n: sum(q[n] for q in per_query) / len(per_query) for n in names}
    by_class: dict[str, list[Mapping[str, float]]] = defaultdict(list)
    for values, cls in zip(per_query, classes, strict=True):
        by_class[cls].append(values)
    macro = {
        n: sum(sum(q[n] for q in group) / len(group) for group in by_class.values()) / len(by_class)
        for n in names
    }
    return macro, micro


def evaluate_rankings(
    queries: Sequence[RankedQuery], ks: Sequence[int] = (1, 5, 10)
) -> tuple[dict[str, float], dict[str, float], list[dict[str, float]]]:
    """(macro, micro, per-query) ranking metrics."""
    per_query = [query_metrics(q, ks) for q in queries]
    macro, micro = macro_micro(per_query, [q.query_class for q in queries])
    return macro, micro, per_query


def label_accuracy(predicted: Sequence[str], gold: str, k: int) -> float:
    """1 if `gold` is among the first k predicted labels."""
    return 1.0 if gold in predicted[:k] else 0.0
