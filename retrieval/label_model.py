"""A failure-mode classifier trained on the labelled historical events of the index.

The failure modes of a plant's past deviations are its own categories: given a new event's
text, the model says how likely each category is, and the similar-event finder ranks
precedents of the likely categories first (`retrieval.similar`).

Model: one linear SVM (liblinear, one-vs-rest, balanced class weights, fixed seed) over three
feature blocks of the event text: word 1-2-gram TF-IDF, character 2-5-gram TF-IDF (spelling
and abbreviation variants) and the dense sentence embedding the index already uses.
Probabilities are a softmax of the decision values at temperature `TEMPERATURE`.

Hyper-parameters (C, temperature) belong to validation splits of the historical index only,
never to the evaluation queries: `evals.recalls.validation_split` trains on the index events
reported before a date and scores pseudo-queries, built like the evaluation queries, from the
events of the next two years (2018 and 2020 cuts). The values below were set before the
validation runs reported in issue 5 and were not re-tuned after them.

Training needs at least `MIN_RECORDS` labelled records and `MIN_CLASSES` labels; below that
(a new plant, an unlabelled corpus) `fit` returns None and the finder falls back to the
similarity-weighted vote of the nearest neighbours' labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, hstack, spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

C = 0.1
TEMPERATURE = 0.2
MIN_RECORDS = 30
MIN_CLASSES = 2
SEED = 0


@dataclass(frozen=True)
class TrainingExample:
    text: str
    vector: Sequence[float] | NDArray[np.float32]  # the embedder's vector of `text`
    label: str


class FailureModeModel:
    """Fitted classifier; `probabilities` is thread-safe (read-only after fit)."""

    def __init__(
        self,
        words: TfidfVectorizer,
        chars: TfidfVectorizer,
        svm: LinearSVC,
        records: int,
    ) -> None:
        self._words = words
        self._chars = chars
        self._svm = svm
        self.classes: tuple[str, ...] = tuple(str(c) for c in svm.classes_)
        self.records = records  # labelled records it was trained on

    @classmethod
    def fit(cls, examples: Sequence[TrainingExample], records: int) -> FailureModeModel | None:
        """Train on `examples` (several may come from one record); None when there are too
        few labelled records or labels to learn from."""
        labels = [e.label for e in examples]
        if records < MIN_RECORDS or len(set(labels)) < MIN_CLASSES:
            return None
        texts = [e.text for e in examples]
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        try:
            features = _features(
                words.fit_transform(texts),
                chars.fit_transform(texts),
                np.asarray([e.vector for e in examples], dtype=np.float32),
            )
        except ValueError:  # no term occurs twice: nothing to learn from
            return None
        svm = LinearSVC(C=C, class_weight="balanced", random_state=SEED)
        svm.fit(features, labels)
        return cls(words, chars, svm, records)

    def probabilities(self, text: str, vector: Sequence[float]) -> dict[str, float]:
        """p(failure mode | event text), summing to 1."""
        features = _features(
            self._words.transform([text]),
            self._chars.transform([text]),
            np.asarray([vector], dtype=np.float32),
        )
        scores = np.asarray(self._svm.decision_function(features), dtype=np.float64)[0]
        if len(self.classes) == 2:  # liblinear gives one score: the second class's margin
            scores = np.array([-scores, scores]) / 2 if scores.ndim == 0 else scores
        return _softmax(dict(zip(self.classes, scores.tolist(), strict=True)), TEMPERATURE)


def _features(words: spmatrix, chars: spmatrix, dense: NDArray[np.float32]) -> csr_matrix:
    return hstack([words, chars, csr_matrix(dense)]).tocsr()


def _softmax(scores: dict[str, float], temperature: float) -> dict[str, float]:
    best = max(scores.values())
    weights = {k: math.exp((v - best) / temperature) for k, v in scores.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}
