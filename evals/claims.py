"""`devia eval claims`: claim-support verification on real FDA warning-letter pairs.

Each pair is a claim (FDA's heading, with its 21 CFR citation) and evidence (facility facts)
labelled SUPPORTED or NOT_SUPPORTED. Negatives are claims of another theme: from the same
letter (hard: same facility, same narrative) or from another letter (easy). See
evals/datasets/warning_letters/PROVENANCE.md.

Metrics: AUC over all pairs, AUC_hard (positives vs same-letter negatives), AUC_easy, accuracy
at the verifier's operating threshold, the keyword-overlap baseline beside it, counts, timings.

Protocol for the learned `hybrid` verifier: when the data shares evidence with the data the
shipped model was fitted on (the dev pairs), every pair is scored by a model refitted without
the pair's letter (grouped cross-fitting, see assistant/verification/support_training.py);
on unseen data (e.g. the held-out split) the shipped model scores it as is.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from assistant.verification.support_model import SHIPPED_MODEL_PATH, SupportModel, text_fingerprint
from assistant.verification.support_scorer import (
    EmbeddingSimilarityScorer,
    HybridSupportScorer,
    KeywordOverlapScorer,
    SupportScorer,
)
from assistant.verification.support_training import (
    LabelledPair,
    compute_signals,
    cross_validated_scores,
    fit_support_model,
)
from retrieval.embedding import Embedder

DATASET_DIR = Path(__file__).parent / "datasets" / "warning_letters"
DEFAULT_PAIRS = DATASET_DIR / "claim_evidence_pairs.jsonl"
VERIFIERS = ("hybrid", "minilm", "keyword")
HARD_NEG_TYPES = frozenset({"hard", "same_letter_other_theme"})
EASY_NEG_TYPES = frozenset({"easy", "other_letter_other_theme"})
LABELS = {"SUPPORTED": True, "NOT_SUPPORTED": False}
EvalProtocol = Literal["auto", "cv", "shipped"]


class ClaimsDataError(ValueError):
    """The pairs file cannot be used (names the file and line)."""


@dataclass(frozen=True)
class ClaimPair:
    pair_id: str
    pair: LabelledPair
    difficulty: str  # "positive", "hard", "easy" or "other"


def load_pairs(path: Path) -> list[ClaimPair]:
    if not path.exists():
        raise ClaimsDataError(f"{path}: file not found")
    pairs: list[ClaimPair] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = LABELS[row["label"]]
                claim, evidence, pair_id = row["claim"], row["evidence"], row["pair_id"]
                theme = row.get("theme") or "UNKNOWN"
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ClaimsDataError(f"{path}:{line_no}: bad pair record ({exc!r})") from exc
            if not isinstance(claim, str) or not isinstance(evidence, str):
                raise ClaimsDataError(f"{path}:{line_no}: claim and evidence must be strings")
            neg_type = row.get("neg_type")
            if label:
                difficulty = "positive"
            elif neg_type in HARD_NEG_TYPES:
                difficulty = "hard"
            elif neg_type in EASY_NEG_TYPES:
                difficulty = "easy"
            else:
                difficulty = "other"
            pair = LabelledPair(
                statement=claim,
                evidence=evidence,
                supported=label,
                statement_theme=theme if label else (row.get("claim_theme") or "UNKNOWN"),
                evidence_theme=theme,
                group=str(pair_id).split("#")[0],
            )
            pairs.append(ClaimPair(str(pair_id), pair, difficulty))
    if not pairs:
        raise ClaimsDataError(f"{path}: no pairs")
    return pairs


def sample_pairs(pairs: Sequence[ClaimPair], limit: int | None, seed: int) -> list[ClaimPair]:
    """A seeded random sample of `limit` pairs (all pairs, in file order, when no limit)."""
    if limit is None or limit >= len(pairs):
        return list(pairs)
    if limit <= 0:
        raise ValueError("limit must be positive")
    chosen = sorted(random.Random(seed).sample(range(len(pairs)), limit))
    return [pairs[i] for i in chosen]


def _auc(labels: NDArray[np.int_], scores: NDArray[np.float64]) -> float:
    if len(set(labels.tolist())) < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score  # heavy import: only when scoring

    return float(roc_auc_score(labels, scores))


@dataclass
class VerifierResult:
    name: str
    protocol: str
    threshold: float
    scores: NDArray[np.float64]
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)


def _score_metrics(
    pairs: Sequence[ClaimPair], scores: NDArray[np.float64], threshold: float
) -> dict[str, float]:
    labels = np.array([int(p.pair.supported) for p in pairs])
    difficulty = np.array([p.difficulty for p in pairs])
    if np.isnan(scores).any():
        raise ValueError("a verifier returned NaN scores")
    predicted = (scores >= threshold).astype(int)
    hard = (difficulty == "positive") | (difficulty == "hard")
    easy = (difficulty == "positive") | (difficulty == "easy")
    hard_neg = difficulty == "hard"
    return {
        "AUC": _auc(labels, scores),
        "AUC_hard": _auc(labels[hard], scores[hard]),
        "AUC_easy": _auc(labels[easy], scores[easy]),
        "accuracy": float((predicted == labels).mean()),
        "accuracy_hard": float((predicted[hard] == labels[hard]).mean())
        if hard.any()
        else float("nan"),
        "recall_supported": float(predicted[labels == 1].mean())
        if (labels == 1).any()
        else float("nan"),
        "false_support_rate_hard": float(predicted[hard_neg].mean())
        if hard_neg.any()
        else float("nan"),
        "threshold": threshold,
    }


def _hybrid_scores(
    pairs: Sequence[ClaimPair], embedder: Embedder, model_path: Path, protocol: EvalProtocol
) -> tuple[NDArray[np.float64], str, float]:
    model = SupportModel.load(model_path)
    overlap = sum(text_fingerprint(p.pair.evidence) in model.trained_on for p in pairs)
    if protocol == "cv" or (protocol == "auto" and overlap):
        labelled = [p.pair for p in pairs]
        signals = compute_signals(embedder, labelled)
        return cross_validated_scores(labelled, signals), "grouped_cv_by_letter", model.threshold
    scorer = HybridSupportScorer(embedder, model)
    scores = scorer.score([p.pair.statement for p in pairs], [[p.pair.evidence] for p in pairs])
    return (
        scores,
        f"shipped_model (evidence overlap with its training data: {overlap})",
        scorer.threshold,
    )


def _run_scorer(scorer: SupportScorer, pairs: Sequence[ClaimPair]) -> NDArray[np.float64]:
    return scorer.score([p.pair.statement for p in pairs], [[p.pair.evidence] for p in pairs])


def evaluate_verifier(
    name: str,
    pairs: Sequence[ClaimPair],
    embedder_factory: Callable[[], Embedder],
    model_path: Path = SHIPPED_MODEL_PATH,
    protocol: EvalProtocol = "auto",
    extra_scorers: dict[str, SupportScorer] | None = None,
) -> VerifierResult:
    started = time.perf_counter()
    if name == "hybrid":
        scores, used, threshold = _hybrid_scores(pairs, embedder_factory(), model_path, protocol)
    elif name == "minilm":
        scorer: SupportScorer = EmbeddingSimilarityScorer(embedder_factory())
        scores, used, threshold = _run_scorer(scorer, pairs), "untrained", scorer.threshold
    elif name == "keyword":
        scorer = KeywordOverlapScorer()
        scores, used, threshold = _run_scorer(scorer, pairs), "untrained", scorer.threshold
    elif extra_scorers and name in extra_scorers:
        scorer = extra_scorers[name]
        scores, used, threshold = _run_scorer(scorer, pairs), "as_given", scorer.threshold
    else:
        known = list(VERIFIERS) + sorted(extra_scorers or {})
        raise ValueError(f"unknown verifier {name!r}; known: {', '.join(known)}")
    seconds = time.perf_counter() - started
    result = VerifierResult(name, used, threshold, scores, seconds)
    result.metrics = _score_metrics(pairs, scores, threshold)
    return result


@dataclass(frozen=True)
class ClaimsEvalReport:
    metrics: dict[str, float | int]
    verifiers: list[VerifierResult]
    details: dict[str, Any]


def run_claims_eval(
    data: Path = DEFAULT_PAIRS,
    verifiers: Sequence[str] = ("hybrid",),
    limit: int | None = None,
    seed: int = 0,
    embedder_factory: Callable[[], Embedder] | None = None,
    model_path: Path = SHIPPED_MODEL_PATH,
    protocol: EvalProtocol = "auto",
    extra_scorers: dict[str, SupportScorer] | None = None,
) -> ClaimsEvalReport:
    """Score the pairs with each verifier and the keyword baseline; the first verifier's
    figures are the unprefixed metrics, every verifier's also appear as `<name>_<metric>`."""
    if not verifiers:
        raise ValueError("name at least one verifier")
    pairs = sample_pairs(load_pairs(data), limit, seed)
    cache: list[Embedder] = []

    def shared_embedder() -> Embedder:
        if not cache:
            if embedder_factory is None:
                from retrieval.embedding import SentenceTransformerEmbedder

                cache.append(SentenceTransformerEmbedder())
            else:
                cache.append(embedder_factory())
        return cache[0]

    names = list(dict.fromkeys([*verifiers, "keyword"]))
    results = [
        evaluate_verifier(n, pairs, shared_embedder, model_path, protocol, extra_scorers)
        for n in names
    ]
    primary, baseline = results[0], next(r for r in results if r.name == "keyword")
    counts = {
        d: sum(p.difficulty == d for p in pairs) for d in ("positive", "hard", "easy", "other")
    }
    metrics: dict[str, float | int] = {
        **primary.metrics,
        "n_pairs": len(pairs),
        "n_supported": counts["positive"],
        "n_hard_negatives": counts["hard"],
        "n_easy_negatives": counts["easy"],
        "n_groups": len({p.pair.group for p in pairs}),
        "seconds": primary.seconds,
        "pairs_per_s": len(pairs) / primary.seconds if primary.seconds > 0 else float("nan"),
        "baseline_keyword_AUC": baseline.metrics["AUC"],
        "baseline_keyword_AUC_hard": baseline.metrics["AUC_hard"],
        "baseline_keyword_accuracy": baseline.metrics["accuracy"],
    }
    for result in results:
        for key, value in result.metrics.items():
            metrics[f"{result.name}_{key}"] = value
        metrics[f"{result.name}_seconds"] = result.seconds
    details = {
        "data": str(data),
        "limit": limit,
        "seed": seed,
        "primary_verifier": primary.name,
        "protocols": {r.name: r.protocol for r in results},
        "hard_negatives": "claims of another theme from the same letter (neg_type hard)",
        "note_on_seconds": "cv protocol seconds include refitting the model once per fold",
    }
    return ClaimsEvalReport(metrics, results, details)


def fit_shipped_model(
    data: Path = DEFAULT_PAIRS,
    out: Path = SHIPPED_MODEL_PATH,
    embedder_factory: Callable[[], Embedder] | None = None,
) -> SupportModel:
    """Refit the hybrid verifier's model on every pair of `data` and write it to `out`."""
    if embedder_factory is None:
        from retrieval.embedding import SentenceTransformerEmbedder

        embedder: Embedder = SentenceTransformerEmbedder()
    else:
        embedder = embedder_factory()
    pairs = [p.pair for p in load_pairs(data)]
    model = fit_support_model(
        embedder,
        pairs,
        description=(
            f"fitted on {len(pairs)} pairs of {data.name} (FDA warning letters, dev split); "
            "combiner on grouped cross-fitted topic agreement"
        ),
    )
    model.save(out)
    return model
