"""Ranking with a failure-mode model: put the precedents of the likely modes first, and show
the best precedent of each plausible mode near the top.

With p(mode | event) from the label model (`retrieval.label_model`), a candidate's final
score gains `MODEL_PRIOR_WEIGHT * p(its mode)`: precedents of the likely modes come first,
text similarity orders them within a mode. The weight is meant for validation splits of the
historical index only (`evals.recalls.validation_split`); 2 was set before the validation runs
reported in issue 5 and not re-tuned after them.

A list grouped by the top mode only helps the investigator when that mode is right. When a
second mode is nearly as likely, its best precedent is worth showing second: the expected
reciprocal rank of the first relevant precedent gains p(mode k) / k, and the expected
precision of the first `PRECISION_DEPTH` loses (p(top) - p(mode k)) / PRECISION_DEPTH, so the
k-th most likely mode's best precedent moves to position k when
p(mode k) > p(top) / (1 + PRECISION_DEPTH / k). No fitted parameter is involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MODEL_PRIOR_WEIGHT = 2.0
PRECISION_DEPTH = 5
COVERED_MODES = 3  # positions 2 .. COVERED_MODES may take another mode's best precedent


def promotion_ratio(position: int) -> float:
    """p(mode at `position`) / p(top mode) above which the move pays (1-based position)."""
    return 1.0 / (1.0 + PRECISION_DEPTH / position)


def cover_likely_modes(labels: Sequence[str | None], probs: Mapping[str, float]) -> list[int]:
    """A new order (indices into `labels`, ranked best first) where position k (2..3) holds
    the best-ranked precedent of the k-th most likely mode when that mode is likely enough."""
    order = list(range(len(labels)))
    modes = sorted(probs, key=lambda m: (-probs[m], m))
    if not modes or len(order) < 2:
        return order
    top = probs[modes[0]]
    for position in range(2, min(COVERED_MODES, len(modes), len(order)) + 1):
        mode = modes[position - 1]
        if probs[mode] <= promotion_ratio(position) * top:
            break
        at = next((i for i, idx in enumerate(order) if labels[idx] == mode), None)
        if at is not None and at > position - 1:
            order.insert(position - 1, order.pop(at))
    return order
