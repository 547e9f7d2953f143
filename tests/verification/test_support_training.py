"""Fitting the hybrid support model and grouped cross-fitting, on a small synthetic set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from assistant.verification.support_model import SupportModel, text_fingerprint
from assistant.verification.support_scorer import HybridSupportScorer, KeywordOverlapScorer
from assistant.verification.support_training import (
    compute_signals,
    cross_validated_scores,
    fit_support_model,
)
from retrieval.embedding import HashingEmbedder
from tests.verification.synthetic_pairs import synthetic_pairs


def test_cross_fitted_scores_separate_supported_pairs() -> None:
    pairs = synthetic_pairs()
    signals = compute_signals(HashingEmbedder(256), pairs)
    scores = cross_validated_scores(pairs, signals, n_folds=4)
    labels = [int(p.supported) for p in pairs]
    assert not np.isnan(scores).any()
    assert roc_auc_score(labels, scores) > 0.9


def test_cross_fitting_needs_two_groups() -> None:
    pairs = [p for p in synthetic_pairs() if p.group == "letter-0"]
    signals = compute_signals(HashingEmbedder(64), pairs)
    with pytest.raises(ValueError, match="two groups"):
        cross_validated_scores(pairs, signals)


def test_fitted_model_round_trips_and_scores_like_the_scorer(tmp_path: Path) -> None:
    embedder = HashingEmbedder(256)
    pairs = synthetic_pairs()
    model = fit_support_model(embedder, pairs, description="synthetic")
    path = tmp_path / "model.json"
    model.save(path)
    loaded = SupportModel.load(path)
    assert loaded.topic.classes == ("CLEANING", "INVESTIGATION", "LAB")
    assert text_fingerprint(pairs[0].evidence) in loaded.trained_on
    scorer = HybridSupportScorer(embedder, loaded)
    scores = scorer.score([p.statement for p in pairs], [[p.evidence] for p in pairs])
    assert ((scores >= scorer.threshold) == np.array([p.supported for p in pairs])).mean() > 0.9
    assert np.all((scores >= 0) & (scores <= 1))


def test_scorer_refuses_a_model_fitted_on_other_embeddings(tmp_path: Path) -> None:
    model = fit_support_model(HashingEmbedder(64), synthetic_pairs(), description="x")
    with pytest.raises(ValueError, match="hashing-64"):
        HybridSupportScorer(HashingEmbedder(128), model)


def test_keyword_scorer_ignores_regulatory_citations() -> None:
    scorer = KeywordOverlapScorer()
    with_cfr, without = scorer.score(
        ["Failed to clean equipment (21 CFR 211.67(a)).", "Failed to clean equipment."],
        [["Equipment was not cleaned; failed swabs."]] * 2,
    )
    assert with_cfr == without == 1.0
