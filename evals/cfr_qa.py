"""`devia eval cfr-qa`: which 21 CFR section does an FDA observation violate?

Items (`cfr_citation_qa.jsonl`): an observation (the facility facts of one warning-letter
violation) and the gold citation(s). Knowledge (`violation_records_dev.jsonl`): FDA's own
violation records, each a heading with its 21 CFR citation (`claim`, `cfr_section`) and the
facts it was cited for (`evidence`).

Leakage: the observations ARE the evidence of some violation records, so an item may never be
answered from records of its own firm (every letter to that firm, not only the same letter).
The firm is the letter id without its trailing `_<number>`; for items it is read from the qid
(`CFRQA-<firm>_<n>#<k>`) or a `letter_id` field.

Methods (all rank the 21 CFR sections found in the knowledge records):
- `knn` (default): cosine similarity of the observation to every other-firm record's evidence
  and heading, dense (all-MiniLM-L6-v2) and TF-IDF averaged; a section scores the sum of the
  similarities of its records among the `k` nearest.
- `logreg`: a logistic-regression classifier on the same features, refitted per fold of
  firms (grouped cross-fitting: no item is scored by a model that saw its firm).
- `majority`: the most frequent sections of the knowledge records (the floor), always run.

A prediction is right when its section is one of the item's gold sections (the section of each
`gold_cfr` citation and `gold_section`: 13 dev items cite two sections).
Metrics: top-1, top-3, top-5 accuracy (micro), top-1 macro-averaged over gold sections.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder

DATASET_DIR = Path(__file__).parent / "datasets" / "warning_letters"
DEFAULT_ITEMS = DATASET_DIR / "cfr_citation_qa.jsonl"
DEFAULT_KNOWLEDGE = DATASET_DIR / "violation_records_dev.jsonl"
METHODS = ("knn", "logreg")
QUESTION_PREFIX = re.compile(
    r"^Which 21 CFR requirement is violated by the following observation\?\s*"
)
_SECTION = re.compile(r"^(\d+\.\d+)")
_LETTER_SUFFIX = re.compile(r"_\d+$")
TOP_K = (1, 3, 5)


class CfrQaDataError(ValueError):
    """An item or knowledge file cannot be used (names the file and line)."""


@dataclass(frozen=True)
class CfrItem:
    qid: str
    observation: str
    gold_sections: frozenset[str]
    firm: str


@dataclass(frozen=True)
class KnowledgeRecord:
    vid: str
    firm: str
    section: str
    claim: str
    evidence: str


def section_of(citation: str) -> str | None:
    """`211.84(d)(1)` -> `211.84`."""
    match = _SECTION.match(citation.strip())
    return match.group(1) if match else None


def firm_of(letter_id: str) -> str:
    return _LETTER_SUFFIX.sub("", letter_id.strip())


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise CfrQaDataError(f"{path}: file not found")
    rows: list[tuple[int, dict[str, Any]]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CfrQaDataError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise CfrQaDataError(f"{path}:{number}: not a JSON object")
            rows.append((number, row))
    if not rows:
        raise CfrQaDataError(f"{path}: no records")
    return rows


def load_items(path: Path) -> list[CfrItem]:
    items: list[CfrItem] = []
    for number, row in _read_jsonl(path):
        qid, question = row.get("qid"), row.get("question")
        if not isinstance(qid, str) or not isinstance(question, str) or not question.strip():
            raise CfrQaDataError(f"{path}:{number}: needs string fields qid and question")
        cited = [c for c in row.get("gold_cfr") or [] if isinstance(c, str)]
        sections = {s for s in (section_of(c) for c in cited) if s}
        if isinstance(row.get("gold_section"), str):
            sections.add(row["gold_section"])
        if not sections:
            raise CfrQaDataError(f"{path}:{number}: item {qid} has no gold_cfr/gold_section")
        letter = row.get("letter_id") or qid.removeprefix("CFRQA-").split("#")[0]
        observation = QUESTION_PREFIX.sub("", question).strip()
        items.append(CfrItem(qid, observation, frozenset(sections), firm_of(str(letter))))
    return items


def load_knowledge(path: Path) -> list[KnowledgeRecord]:
    """Violation records with a section (records whose heading cites none are left out)."""
    records: list[KnowledgeRecord] = []
    for number, row in _read_jsonl(path):
        letter, evidence = row.get("letter_id"), row.get("evidence")
        if not isinstance(letter, str) or not isinstance(evidence, str):
            raise CfrQaDataError(f"{path}:{number}: needs string fields letter_id and evidence")
        section = row.get("cfr_section")
        if not isinstance(section, str) or not section_of(section):
            continue
        records.append(
            KnowledgeRecord(
                str(row.get("vid") or f"{letter}#{number}"),
                firm_of(letter),
                section,
                str(row.get("claim") or ""),
                evidence,
            )
        )
    if not records:
        raise CfrQaDataError(f"{path}: no record has a cfr_section")
    return records


def sample_items(items: Sequence[CfrItem], limit: int | None, seed: int) -> list[CfrItem]:
    """A seeded random sample of `limit` items (all, in file order, without a limit)."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        raise ValueError("limit must be positive")
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


@dataclass(frozen=True)
class Features:
    """Dense and TF-IDF vectors (rows L2-normalised) of the items and the knowledge records."""

    item_dense: NDArray[np.float32]
    item_sparse: Any  # scipy CSR
    record_dense: NDArray[np.float32]
    record_sparse: Any

    def similarity(self) -> NDArray[np.float64]:
        dense = self.item_dense @ self.record_dense.T
        sparse = (self.item_sparse @ self.record_sparse.T).toarray()
        return (np.asarray(dense, dtype=np.float64) + sparse) / 2.0


def record_text(record: KnowledgeRecord) -> str:
    return f"{record.claim}\n{record.evidence}"


def build_features(
    items: Sequence[CfrItem], records: Sequence[KnowledgeRecord], embedder: Embedder
) -> Features:
    from sklearn.feature_extraction.text import TfidfVectorizer

    record_texts = [record_text(r) for r in records]
    # Fitted on the knowledge text only: the items' own wording never shapes the vocabulary.
    # min_df 2 drops one-off tokens (names, lot numbers); tiny knowledge files keep them all.
    min_df = 2 if len(records) >= 50 else 1
    tfidf = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, stop_words="english"
    )
    record_sparse = tfidf.fit_transform(record_texts)
    return Features(
        item_dense=embedder.embed([i.observation for i in items]),
        item_sparse=tfidf.transform([i.observation for i in items]),
        record_dense=embedder.embed(record_texts),
        record_sparse=record_sparse,
    )


Ranking = list[tuple[str, float]]


def _fill(scores: dict[str, float], fallback: Sequence[str]) -> Ranking:
    """Sections by score, then the remaining sections in fallback (frequency) order."""
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    seen = {s for s, _ in ranked}
    return ranked + [(s, 0.0) for s in fallback if s not in seen]


def rank_knn(
    items: Sequence[CfrItem],
    records: Sequence[KnowledgeRecord],
    features: Features,
    fallback: Sequence[str],
    k: int = 15,
) -> list[Ranking]:
    similarity = features.similarity()
    firms = np.array([r.firm for r in records])
    rankings: list[Ranking] = []
    for row, item in enumerate(items):
        sims = np.where(firms == item.firm, -np.inf, similarity[row])
        nearest = np.argsort(-sims)[:k]
        scores: dict[str, float] = defaultdict(float)
        for index in nearest:
            if np.isfinite(sims[index]):
                scores[records[index].section] += float(max(sims[index], 0.0))
        rankings.append(_fill(scores, fallback))
    return rankings


def rank_logreg(
    items: Sequence[CfrItem],
    records: Sequence[KnowledgeRecord],
    features: Features,
    fallback: Sequence[str],
    folds: int = 5,
) -> list[Ranking]:
    """Grouped cross-fitting: items are split into folds by firm; each fold is scored by a
    model fitted on the records of every firm outside the fold."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    item_x = hstack([csr_matrix(features.item_dense), features.item_sparse]).tocsr()
    record_x = hstack([csr_matrix(features.record_dense), features.record_sparse]).tocsr()
    labels = np.array([r.section for r in records])
    record_firms = np.array([r.firm for r in records])
    firms = sorted({i.firm for i in items})
    fold_of = {firm: n % folds for n, firm in enumerate(random.Random(0).sample(firms, len(firms)))}
    rankings: list[Ranking] = [[] for _ in items]
    for fold in range(folds):
        rows = [n for n, item in enumerate(items) if fold_of[item.firm] == fold]
        if not rows:
            continue
        held_firms = {items[n].firm for n in rows}
        train = np.array([f not in held_firms for f in record_firms])
        model = LogisticRegression(C=10.0, max_iter=2000)
        model.fit(record_x[train], labels[train])
        probabilities = model.predict_proba(item_x[rows])
        for row, probs in zip(rows, probabilities, strict=True):
            scores = {str(c): float(p) for c, p in zip(model.classes_, probs, strict=True)}
            rankings[row] = _fill(scores, fallback)
    return rankings


def accuracy_metrics(
    items: Sequence[CfrItem], rankings: Sequence[Ranking], prefix: str = ""
) -> dict[str, float]:
    hits = [_hit_rank(item, ranking) for item, ranking in zip(items, rankings, strict=True)]
    metrics = {
        f"{prefix}top{k}": sum(1 for h in hits if h is not None and h <= k) / len(items)
        for k in TOP_K
    }
    by_class: dict[str, list[int]] = defaultdict(list)
    for item, hit in zip(items, hits, strict=True):
        by_class[min(item.gold_sections)].append(int(hit == 1))
    metrics[f"{prefix}top1_macro"] = float(np.mean([np.mean(v) for v in by_class.values()]))
    return metrics


def _hit_rank(item: CfrItem, ranking: Ranking) -> int | None:
    for rank, (section, _) in enumerate(ranking, start=1):
        if section in item.gold_sections:
            return rank
    return None


@dataclass
class CfrQaRun:
    metrics: dict[str, float | int]
    per_item: list[dict[str, Any]]
    config: dict[str, Any]
    timings: dict[str, float]


def run_cfr_qa(
    embedder_factory: Callable[[], Embedder],
    items_path: Path = DEFAULT_ITEMS,
    knowledge_path: Path = DEFAULT_KNOWLEDGE,
    method: str = "knn",
    limit: int | None = None,
    seed: int = 0,
    k: int = 15,
) -> CfrQaRun:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    started = time.perf_counter()
    items = sample_items(load_items(items_path), limit, seed)
    records = load_knowledge(knowledge_path)
    fallback = [s for s, _ in Counter(r.section for r in records).most_common()]
    loaded = time.perf_counter()
    features = build_features(items, records, embedder_factory())
    featured = time.perf_counter()
    if method == "knn":
        rankings = rank_knn(items, records, features, fallback, k=k)
    else:
        rankings = rank_logreg(items, records, features, fallback)
    ranked = time.perf_counter()
    majority: list[Ranking] = [[(s, 0.0) for s in fallback]] * len(items)
    metrics: dict[str, float | int] = {
        **accuracy_metrics(items, rankings),
        **accuracy_metrics(items, majority, prefix="baseline_majority_"),
        "n_items": len(items),
        "n_knowledge_records": len(records),
        "n_sections": len(fallback),
        "n_firms": len({i.firm for i in items}),
        "seconds": ranked - started,
        "items_per_s": len(items) / (ranked - loaded) if ranked > loaded else float("nan"),
    }
    per_item = [
        {
            "qid": item.qid,
            "gold_sections": sorted(item.gold_sections),
            "predicted": [{"section": s, "score": round(v, 4)} for s, v in ranking[:5]],
            "hit_rank": _hit_rank(item, ranking),
        }
        for item, ranking in zip(items, rankings, strict=True)
    ]
    config = {
        "items": str(items_path),
        "knowledge": str(knowledge_path),
        "method": method,
        "k": k if method == "knn" else None,
        "limit": limit,
        "seed": seed,
        "leakage_rule": "records of the item's own firm (all its letters) are never used",
        "gold_rule": "right when the predicted section is any gold section of the item",
    }
    timings = {
        "load_s": loaded - started,
        "features_s": featured - loaded,
        "rank_s": ranked - featured,
    }
    return CfrQaRun(metrics, per_item, config, timings)
