"""The learned part of claim-support scoring: a topic model and a logistic combiner.

`TopicModel`: multinomial logistic regression on MiniLM embeddings that tells which GMP
requirement area (theme: investigations, cleaning, lab controls, ...) a text is about.
`topic_agreement` = sum over themes of P(theme | statement) * P(theme | evidence): evidence
about the wrong requirement area does not support a statement, however many words they share.

`SupportModel`: the topic model plus a logistic regression over `FEATURE_NAMES` whose output
is the support score; label = score >= threshold. Fitted from labelled claim/evidence pairs
(`fit_support_model`), the combiner on cross-fitted topic features (grouped by `groups`) so it
learns how much an out-of-sample topic score is worth. Stored as one JSON file; prediction
needs only numpy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assistant.verification.support_features import FEATURE_NAMES

MODEL_FORMAT = 1
SHIPPED_MODEL_PATH = Path(__file__).with_name("support_model.json")
TOPIC_C = 4.0
COMBINER_C = 1.0


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return result


@dataclass(frozen=True)
class TopicModel:
    classes: tuple[str, ...]
    coef: NDArray[np.float64]  # (n_classes, dim)
    intercept: NDArray[np.float64]  # (n_classes,)

    def predict_proba(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        if vectors.shape[1] != self.coef.shape[1]:
            raise ValueError(
                f"topic model expects {self.coef.shape[1]}-d vectors, got {vectors.shape[1]}-d"
            )
        return _softmax(vectors.astype(np.float64) @ self.coef.T + self.intercept)

    def agreement(
        self, statements: NDArray[np.float32], evidence: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (
            self.predict_proba(statements) * self.predict_proba(evidence)
        ).sum(axis=1)
        return result


def fit_topic_model(vectors: NDArray[np.float32], themes: Sequence[str]) -> TopicModel:
    from sklearn.linear_model import LogisticRegression

    if len(set(themes)) < 2:
        raise ValueError("a topic model needs texts of at least two themes")
    clf = LogisticRegression(C=TOPIC_C, max_iter=3000).fit(vectors, list(themes))
    return TopicModel(
        tuple(str(c) for c in clf.classes_),
        np.asarray(clf.coef_, dtype=np.float64),
        np.asarray(clf.intercept_, dtype=np.float64),
    )


@dataclass(frozen=True)
class Combiner:
    weights: NDArray[np.float64]  # one per FEATURE_NAMES entry
    bias: float

    def score(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))
        return result


def fit_combiner(features: NDArray[np.float64], labels: NDArray[np.int_]) -> Combiner:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=COMBINER_C, max_iter=2000).fit(features, labels)
    return Combiner(np.asarray(clf.coef_[0], dtype=np.float64), float(clf.intercept_[0]))


@dataclass(frozen=True)
class SupportModel:
    topic: TopicModel
    combiner: Combiner
    threshold: float
    embedder_name: str
    trained_on: frozenset[str]  # fingerprints of the evidence texts it was fitted on
    description: str

    def scores(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.combiner.score(features)

    def save(self, path: Path) -> None:
        document: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "description": self.description,
            "embedder": self.embedder_name,
            "feature_names": list(FEATURE_NAMES),
            "threshold": self.threshold,
            "combiner": {"weights": self.combiner.weights.tolist(), "bias": self.combiner.bias},
            "topic": {
                "classes": list(self.topic.classes),
                "coef": np.round(self.topic.coef, 6).tolist(),
                "intercept": np.round(self.topic.intercept, 6).tolist(),
            },
            "trained_on_evidence_fingerprints": sorted(self.trained_on),
        }
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(document, separators=(",", ":")))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path = SHIPPED_MODEL_PATH) -> SupportModel:
        if not path.exists():
            raise FileNotFoundError(f"support model file not found: {path}")
        document = json.loads(path.read_text())
        if document.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: unsupported support model format {document.get('format')}")
        if tuple(document["feature_names"]) != FEATURE_NAMES:
            raise ValueError(f"{path}: features {document['feature_names']} != {FEATURE_NAMES}")
        topic = document["topic"]
        return cls(
            topic=TopicModel(
                tuple(topic["classes"]),
                np.asarray(topic["coef"], dtype=np.float64),
                np.asarray(topic["intercept"], dtype=np.float64),
            ),
            combiner=Combiner(
                np.asarray(document["combiner"]["weights"], dtype=np.float64),
                float(document["combiner"]["bias"]),
            ),
            threshold=float(document["threshold"]),
            embedder_name=str(document["embedder"]),
            trained_on=frozenset(document["trained_on_evidence_fingerprints"]),
            description=str(document.get("description", "")),
        )
