"""Fitting the support model, and scoring pairs the model never saw (grouped cross-fitting).

Protocol, so that no pair is scored by a model that saw it or its group (e.g. its letter):
- outer: GroupKFold over groups; for each fold, fit on the other groups, score this fold;
- inside a fit: the combiner is trained on topic agreements that are themselves cross-fitted
  (inner GroupKFold), so it weighs an out-of-sample topic score, not a memorised one; then the
  topic model is refitted on all the fit's pairs.
The embedder is not trained, so texts are embedded once for all folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from assistant.verification.support_features import (
    PairEmbeddings,
    embed_pairs,
    feature_columns,
    keyword_coverage,
    subset,
)
from assistant.verification.support_model import (
    Combiner,
    SupportModel,
    TopicModel,
    fit_combiner,
    fit_topic_model,
    text_fingerprint,
)
from retrieval.embedding import Embedder

OUTER_FOLDS = 5
INNER_FOLDS = 4
OPERATING_THRESHOLD = 0.5  # the combiner is a calibrated logistic model


@dataclass(frozen=True)
class LabelledPair:
    statement: str
    evidence: str
    supported: bool
    statement_theme: str
    evidence_theme: str
    group: str  # pairs of one group (letter, document) are never split across folds


@dataclass(frozen=True)
class PairSignals:
    """Everything a fit needs that does not depend on the fit: embeddings and lexical overlap."""

    embeddings: PairEmbeddings
    keyword: NDArray[np.float64]
    labels: NDArray[np.int_]
    groups: NDArray[np.str_]


def compute_signals(embedder: Embedder, pairs: Sequence[LabelledPair]) -> PairSignals:
    embeddings = embed_pairs(embedder, [p.statement for p in pairs], [p.evidence for p in pairs])
    keyword = np.array([keyword_coverage(p.statement, p.evidence) for p in pairs], dtype=float)
    labels = np.array([int(p.supported) for p in pairs], dtype=int)
    groups = np.array([p.group for p in pairs], dtype=str)
    return PairSignals(embeddings, keyword, labels, groups)


def feature_matrix(
    topic_agreement: NDArray[np.float64], signals: PairSignals, rows: NDArray[np.int_]
) -> NDArray[np.float64]:
    return feature_columns(topic_agreement, subset(signals.embeddings, rows), signals.keyword[rows])


def _fit_topic(
    pairs: Sequence[LabelledPair], signals: PairSignals, rows: NDArray[np.int_]
) -> TopicModel:
    """Each distinct statement and evidence text of `rows` once, labelled with its theme."""
    vectors: list[NDArray[np.float32]] = []
    themes: list[str] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        pair = pairs[row]
        for kind, text, theme in (
            ("s", pair.statement, pair.statement_theme),
            ("e", pair.evidence, pair.evidence_theme),
        ):
            if (kind, text) in seen:
                continue
            seen.add((kind, text))
            source = signals.embeddings.statements if kind == "s" else signals.embeddings.evidence
            vectors.append(source[row])
            themes.append(theme)
    return fit_topic_model(np.vstack(vectors), themes)


def _group_folds(
    groups: NDArray[np.str_], rows: NDArray[np.int_], n_folds: int
) -> list[tuple[NDArray[np.int_], NDArray[np.int_]]]:
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups[rows].tolist()))
    if n_groups < 2:
        raise ValueError("cross-fitting needs pairs from at least two groups")
    splitter = GroupKFold(n_splits=min(n_folds, n_groups))
    return [(rows[train], rows[test]) for train, test in splitter.split(rows, groups=groups[rows])]


def fit_on_rows(
    pairs: Sequence[LabelledPair], signals: PairSignals, rows: NDArray[np.int_]
) -> tuple[TopicModel, Combiner]:
    cross_fitted = np.zeros(len(rows))
    position = {row: i for i, row in enumerate(rows.tolist())}
    for train, test in _group_folds(signals.groups, rows, INNER_FOLDS):
        topic = _fit_topic(pairs, signals, train)
        agreement = topic.agreement(
            signals.embeddings.statements[test], signals.embeddings.evidence[test]
        )
        cross_fitted[[position[row] for row in test.tolist()]] = agreement
    combiner = fit_combiner(feature_matrix(cross_fitted, signals, rows), signals.labels[rows])
    return _fit_topic(pairs, signals, rows), combiner


def score_rows(
    topic: TopicModel, combiner: Combiner, signals: PairSignals, rows: NDArray[np.int_]
) -> NDArray[np.float64]:
    agreement = topic.agreement(
        signals.embeddings.statements[rows], signals.embeddings.evidence[rows]
    )
    return combiner.score(feature_matrix(agreement, signals, rows))


def cross_validated_scores(
    pairs: Sequence[LabelledPair], signals: PairSignals, n_folds: int = OUTER_FOLDS
) -> NDArray[np.float64]:
    """Support scores of every pair from a model fitted without the pair's group."""
    scores = np.full(len(pairs), np.nan)
    all_rows = np.arange(len(pairs))
    for train, test in _group_folds(signals.groups, all_rows, n_folds):
        topic, combiner = fit_on_rows(pairs, signals, train)
        scores[test] = score_rows(topic, combiner, signals, test)
    return scores


def fit_support_model(
    embedder: Embedder, pairs: Sequence[LabelledPair], description: str
) -> SupportModel:
    signals = compute_signals(embedder, pairs)
    topic, combiner = fit_on_rows(pairs, signals, np.arange(len(pairs)))
    return SupportModel(
        topic=topic,
        combiner=combiner,
        threshold=OPERATING_THRESHOLD,
        embedder_name=embedder.name,
        trained_on=frozenset(text_fingerprint(p.evidence) for p in pairs),
        description=description,
    )
