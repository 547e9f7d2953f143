"""Support scorers: statement + evidence texts -> score in [0, 1], label at a threshold.

- `KeywordOverlapScorer`: share of statement content words found in the evidence (baseline).
- `EmbeddingSimilarityScorer`: MiniLM cosine (mean of whole-evidence and best-sentence cosine).
- `HybridSupportScorer` (the default): the fitted `SupportModel` over topic agreement, both
  cosines and keyword coverage. Offline, about as fast as embedding the texts.
- `LLMJudgeScorer` (in `judge.py`): a chat model asked for a verdict; slow, optional.
All score a batch at once, so embeddings of shared texts are computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from assistant.verification.support_features import (
    embed_pairs,
    feature_columns,
    join_evidence,
    keyword_coverage,
)
from assistant.verification.support_model import SupportModel
from retrieval.embedding import Embedder

# Operating thresholds of the untrained scorers: the accuracy-maximising cut on the 2,280
# dev claim/evidence pairs (FDA warning letters), rounded; one number each, so little can be
# overfitted, but accuracy on that same set is mildly optimistic.
KEYWORD_THRESHOLD = 0.57
EMBEDDING_THRESHOLD = 0.60


class SupportScorer(Protocol):
    name: str
    threshold: float

    def score(
        self, statements: Sequence[str], evidence: Sequence[Sequence[str]]
    ) -> NDArray[np.float64]:
        """One score in [0, 1] per statement; `evidence[i]` are the texts cited by statement i."""
        ...


def _check_lengths(statements: Sequence[str], evidence: Sequence[Sequence[str]]) -> None:
    if len(statements) != len(evidence):
        raise ValueError(f"{len(statements)} statements but {len(evidence)} evidence lists")


class KeywordOverlapScorer:
    name = "keyword"

    def __init__(self, threshold: float = KEYWORD_THRESHOLD) -> None:
        self.threshold = threshold

    def score(
        self, statements: Sequence[str], evidence: Sequence[Sequence[str]]
    ) -> NDArray[np.float64]:
        _check_lengths(statements, evidence)
        return np.array(
            [
                keyword_coverage(s, join_evidence(e))
                for s, e in zip(statements, evidence, strict=True)
            ],
            dtype=np.float64,
        )


class EmbeddingSimilarityScorer:
    name = "minilm"

    def __init__(self, embedder: Embedder, threshold: float = EMBEDDING_THRESHOLD) -> None:
        self._embedder = embedder
        self.threshold = threshold

    def score(
        self, statements: Sequence[str], evidence: Sequence[Sequence[str]]
    ) -> NDArray[np.float64]:
        _check_lengths(statements, evidence)
        emb = embed_pairs(self._embedder, statements, [join_evidence(e) for e in evidence])
        cos_full = np.einsum("ij,ij->i", emb.statements, emb.evidence)
        mean = (cos_full + emb.sentence_similarity_max) / 2.0
        return np.clip(mean.astype(np.float64), 0.0, 1.0)


class HybridSupportScorer:
    name = "hybrid"

    def __init__(self, embedder: Embedder, model: SupportModel | None = None) -> None:
        self._model = model or SupportModel.load()
        if self._model.embedder_name != embedder.name:
            raise ValueError(
                f"support model was fitted on {self._model.embedder_name!r} embeddings, "
                f"not {embedder.name!r}"
            )
        self._embedder = embedder
        self.threshold = self._model.threshold

    @property
    def model(self) -> SupportModel:
        return self._model

    def score(
        self, statements: Sequence[str], evidence: Sequence[Sequence[str]]
    ) -> NDArray[np.float64]:
        _check_lengths(statements, evidence)
        if not statements:
            return np.zeros(0, dtype=np.float64)
        joined = [join_evidence(e) for e in evidence]
        emb = embed_pairs(self._embedder, statements, joined)
        agreement = self._model.topic.agreement(emb.statements, emb.evidence)
        keyword = np.array(
            [keyword_coverage(s, e) for s, e in zip(statements, joined, strict=True)]
        )
        return self._model.scores(feature_columns(agreement, emb, keyword))
