"""Failure-mode suggestion: from the scope's failure-mode model where there is one
(`suggestions_from_probabilities`), else from the labels of the nearest historical events."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureModeSuggestion:
    failure_mode: str
    score: float  # p(mode | event) of the model, or share of the neighbours' vote; 0..1
    neighbours: int  # how many of the top neighbours carry this label


def failure_mode_distribution(
    ranked: Sequence[tuple[str | None, float]], k: int, temperature: float
) -> list[FailureModeSuggestion]:
    """Similarity-weighted vote of the top `k` labelled neighbours, best first.

    `ranked`: (label, similarity) pairs, most similar first; unlabelled records are skipped.
    Each neighbour weighs `exp((similarity - best) / temperature)`, so near-ties vote alike
    and far neighbours barely count. Scores sum to 1 (empty list when nothing is labelled).
    """
    if k < 1 or temperature <= 0:
        raise ValueError("k must be >= 1 and temperature > 0")
    labelled = [(label, sim) for label, sim in ranked if label][:k]
    if not labelled:
        return []
    best = max(sim for _, sim in labelled)
    weights: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for label, sim in labelled:
        weights[label] += math.exp((sim - best) / temperature)
        counts[label] += 1
    total = sum(weights.values())
    suggestions = [
        FailureModeSuggestion(label, weight / total, counts[label])
        for label, weight in weights.items()
    ]
    suggestions.sort(key=lambda s: (-s.score, s.failure_mode))
    return suggestions


def suggestions_from_probabilities(
    probs: Mapping[str, float], ranked: Sequence[tuple[str | None, float]], k: int
) -> list[FailureModeSuggestion]:
    """The model's modes, most likely first, each with how many of the top `k` labelled
    neighbours (`ranked`: (label, similarity), most similar first) carry it."""
    counts: dict[str, int] = defaultdict(int)
    for label, _ in [(label, sim) for label, sim in ranked if label][:k]:
        counts[label] += 1
    suggestions = [FailureModeSuggestion(m, p, counts[m]) for m, p in probs.items()]
    suggestions.sort(key=lambda s: (-s.score, s.failure_mode))
    return suggestions
