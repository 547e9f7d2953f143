"""Similar historical quality events for a new anomaly or deviation.

Method (chosen on principle, hyper-parameters round and checked on a split of the historical
index only, never on evaluation queries):

1. Candidates: one dense and one sparse (BM25) query in the engine, site-scoped, restricted to
   historical quality-event records dated before the new event; chunks grouped per record
   (best chunk score per record).
2. Text score: `DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * bm25 / max_bm25`. A record found
   by one list only gets the lowest score of the other list (an upper bound of its true one).
3. Failure-mode prior p(mode | event): from the failure-mode model trained on the scope's
   own labelled events (retrieval.label_model, retrieval.label_model_cache); each candidate
   gains `MODEL_PRIOR_WEIGHT * p(its label)`, and the best precedent of a nearly-as-likely
   second or third mode moves up to second or third place (retrieval.mode_ranking). Where the
   scope has too few labels for a model, the labels of the top `PRIOR_NEIGHBOURS` records,
   weighted by `exp((score - best) / PRIOR_TEMPERATURE)`, give the distribution instead and
   each candidate gains `PRIOR_WEIGHT * p(its label)`.
4. Field matches (same equipment tag, product, process parameter) add fixed boosts.
5. An optional reranker (retrieval.rerank) reorders the head of the list.

A labelled product segment of the query text ("| Product: ...") describes the material, not
the failure: the dense vector and the failure-mode model see the problem statement only, and
the product's words count `PRODUCT_TERM_WEIGHT` in the keyword half (retrieval.event_text).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from rapidfuzz import fuzz

from retrieval.embedding import Embedder
from retrieval.event_text import split_product_text
from retrieval.failure_modes import (
    FailureModeSuggestion,
    failure_mode_distribution,
    suggestions_from_probabilities,
)
from retrieval.index_contract import DocType, Payload
from retrieval.label_model_cache import LabelModelCache
from retrieval.mode_ranking import MODEL_PRIOR_WEIGHT, cover_likely_modes
from retrieval.rerank import Reranker
from retrieval.sparse import term_id, tokenize
from retrieval.store.base import Filter, IndexStore, Range, ScoredPoint, SearchMode, SparseVector
from retrieval.vector_cache import VectorCache

DENSE_WEIGHT = 0.7
PRIOR_NEIGHBOURS = 10
PRIOR_TEMPERATURE = 0.05
PRIOR_WEIGHT = 0.5
EQUIPMENT_BOOST = 0.10
PRODUCT_BOOST = 0.08
PARAMETER_BOOST = 0.05
PRODUCT_TERM_WEIGHT = 0.25  # keyword weight of product-description words in the query
PARAMETER_MATCH_MIN = 90.0  # rapidfuzz partial_ratio for "same parameter" in the record text
CANDIDATES = 100
RERANK_DEPTH = 20
EVENT_DOC_TYPES: tuple[str, ...] = (DocType.DEVIATION.value,)


class SimilarQueryError(ValueError):
    """An event query that cannot be searched (no text, no site scope, bad field)."""


@dataclass(frozen=True)
class EventQuery:
    """A new event to find precedents for: free text plus optional structured fields."""

    text: str
    sites: tuple[str, ...]
    equipment: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    parameter: str | None = None
    event_date: date | None = None  # only events before it count as history
    event_id: str | None = None  # the event's own record is never its own precedent
    failure_mode: str | None = None  # when already classified by a person

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise SimilarQueryError("the event has no text to search with")
        if not self.sites or any(not s.strip() for s in self.sites):
            raise SimilarQueryError("a site scope is required")

    @classmethod
    def from_text(cls, text: str, sites: Sequence[str]) -> EventQuery:
        return cls(text=text, sites=tuple(sites))

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], sites: Sequence[str] = ()) -> EventQuery:
        """Read an MES anomaly payload (investigation-report.md shape) or a deviation record.

        `sites` overrides the payload's own site (the caller's scope decides what is visible).
        """
        description = _first_str(payload, "description", "title", "problem", "text")
        parameter = payload.get("parameter")
        param_name: str | None = None
        parts: list[str] = [description] if description else []
        if isinstance(parameter, Mapping):
            param_name = _str_or_none(parameter.get("name"))
            parts.append(_parameter_sentence(parameter))
        elif isinstance(parameter, str) and parameter.strip():
            param_name = parameter.strip()
            parts.append(f"Parameter: {param_name}")
        equipment = _str_list(payload.get("equipment"), "equipment")
        products = _str_list(
            payload.get("product_code") or payload.get("products") or payload.get("product"),
            "product_code",
        )
        if equipment:
            parts.append("Equipment: " + ", ".join(equipment))
        if products:
            parts.append("Product: " + ", ".join(products))
        site = _str_or_none(payload.get("site"))
        scope = tuple(sites) or ((site,) if site else ())
        return cls(
            text=". ".join(p for p in parts if p),
            sites=scope,
            equipment=equipment,
            products=products,
            parameter=param_name,
            event_date=_date_or_none(
                payload.get("occurred_at") or payload.get("event_date") or payload.get("date")
            ),
            event_id=_str_or_none(payload.get("event_id") or payload.get("id")),
            failure_mode=_str_or_none(payload.get("failure_mode")),
        )


@dataclass(frozen=True)
class ScoreBreakdown:
    dense: float
    sparse: float
    text: float  # fused text similarity
    field_boost: float
    failure_mode_prior: float  # p(candidate's label | event): label model or neighbour vote
    rerank: float | None
    final: float


@dataclass(frozen=True)
class SimilarEvent:
    doc_id: str
    doc_type: str
    site: str
    title: str | None
    event_date: str | None
    failure_mode: str | None
    equipment: tuple[str, ...]
    products: tuple[str, ...]
    capa_ids: tuple[str, ...]
    text: str  # text of the best-matching chunk
    chunk_id: str
    record: Mapping[str, Any] | None
    shared_factors: tuple[str, ...]
    scores: ScoreBreakdown


@dataclass(frozen=True)
class SimilarResult:
    query: EventQuery
    events: list[SimilarEvent]
    failure_modes: list[FailureModeSuggestion]
    candidates: int
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    label_source: str = "neighbours"  # "model": the scope's failure-mode model; "neighbours"


@dataclass
class _Candidate:
    point: ScoredPoint
    dense: float | None = None
    sparse: float | None = None


class SimilarEventFinder:
    """Ranks historical quality events for an `EventQuery`. Thread-safe if the store is."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        reranker: Reranker | None = None,
        doc_types: Sequence[str] = EVENT_DOC_TYPES,
        candidates: int = CANDIDATES,
        label_models: LabelModelCache | None = None,
        use_label_model: bool = True,
        vector_cache: VectorCache | None = None,
    ) -> None:
        """`label_models`: share one cache between finders over the same store (else each
        finder keeps its own, keeping training-text vectors in `vector_cache` when given);
        `use_label_model=False`: the neighbour vote only."""
        self._store = store
        self._embedder = embedder
        self._reranker = reranker
        self._doc_types = tuple(doc_types)
        self._candidates = candidates
        self._labels: LabelModelCache | None = None
        if use_label_model:
            self._labels = label_models or LabelModelCache(
                store, embedder, self._doc_types, vector_cache=vector_cache
            )

    def find(self, query: EventQuery, limit: int = 10) -> SimilarResult:
        if not 1 <= limit <= self._candidates:
            raise SimilarQueryError(f"limit must be between 1 and {self._candidates}")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        problem, product = split_product_text(query.text)
        dense_vec = self._embedder.embed([problem])[0].tolist()
        sparse_vec = weighted_query_vector(problem, product)
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000
        probs: dict[str, float] | None = None
        if self._labels is not None:
            t0 = time.perf_counter()
            scope_model = self._labels.get(query.sites).model
            if scope_model is not None:
                probs = scope_model.probabilities(problem, dense_vec)
            timings["label_model_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        flt = self._filter(query)
        fetch = self._candidates * 3  # chunks: records may have several
        dense_hits = self._store.search(dense_vec, None, flt, fetch, SearchMode.DENSE)
        sparse_hits = (
            self._store.search(None, sparse_vec, flt, fetch, SearchMode.SPARSE)
            if sparse_vec.indices
            else []
        )
        timings["search_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        records = _group(dense_hits, sparse_hits, query.event_id, self._candidates)
        # A record missing from a full result list shares no term with the query (score 0);
        # missing from a truncated list, it scores at most the list's lowest score.
        events = self._score(
            query, records, sparse_truncated=len(sparse_hits) >= fetch, probs=probs
        )
        neighbours = [(e.failure_mode, e.scores.text) for e in _by_text(events)]
        if probs is not None:
            order = cover_likely_modes([e.failure_mode for e in events], probs)
            events = [events[i] for i in order]
            suggestions = suggestions_from_probabilities(probs, neighbours, PRIOR_NEIGHBOURS)
        else:
            suggestions = failure_mode_distribution(neighbours, PRIOR_NEIGHBOURS, PRIOR_TEMPERATURE)
        timings["score_ms"] = (time.perf_counter() - t0) * 1000
        if self._reranker is not None and events:
            t0 = time.perf_counter()
            events = self._rerank(query, events)
            timings["rerank_ms"] = (time.perf_counter() - t0) * 1000
        return SimilarResult(
            query,
            events[:limit],
            suggestions[:3],
            len(records),
            timings,
            label_source="model" if probs is not None else "neighbours",
        )

    def _filter(self, query: EventQuery) -> Filter:
        ranges: dict[str, Range] = {}
        if query.event_date is not None:
            day = datetime(
                query.event_date.year, query.event_date.month, query.event_date.day, tzinfo=UTC
            )
            ranges[Payload.EVENT_TS] = Range(lte=day.timestamp() - 1)
        must: dict[str, Any] = {Payload.SITE: list(query.sites)}
        if self._doc_types:
            must[Payload.DOC_TYPE] = list(self._doc_types)
        return Filter(must=must, ranges=ranges)

    def _score(
        self,
        query: EventQuery,
        records: list[_Candidate],
        *,
        sparse_truncated: bool,
        probs: Mapping[str, float] | None,
    ) -> list[SimilarEvent]:
        if not records:
            return []
        dense_known = [c.dense for c in records if c.dense is not None]
        sparse_known = [c.sparse for c in records if c.sparse is not None]
        dense_floor = min(dense_known) if dense_known else 0.0
        sparse_floor = min(sparse_known) if sparse_known and sparse_truncated else 0.0
        sparse_max = max(sparse_known) if sparse_known else 0.0
        text_scores: list[tuple[_Candidate, float, float, float]] = []
        for cand in records:
            dense = cand.dense if cand.dense is not None else dense_floor
            sparse = cand.sparse if cand.sparse is not None else sparse_floor
            sparse_norm = sparse / sparse_max if sparse_max > 0 else 0.0
            text = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * sparse_norm
            text_scores.append((cand, dense, sparse, text))
        if probs is not None:
            prior, weight = dict(probs), MODEL_PRIOR_WEIGHT
        else:
            labelled = [
                (_str_or_none(c.point.payload.get(Payload.FAILURE_MODE)), t)
                for c, _, _, t in sorted(text_scores, key=lambda x: -x[3])
            ]
            neighbours = failure_mode_distribution(labelled, PRIOR_NEIGHBOURS, PRIOR_TEMPERATURE)
            prior, weight = {s.failure_mode: s.score for s in neighbours}, PRIOR_WEIGHT
        events: list[SimilarEvent] = []
        for cand, dense, sparse, text in text_scores:
            payload = cand.point.payload
            label = _str_or_none(payload.get(Payload.FAILURE_MODE))
            factors, boost = shared_factors(query, payload, predicted_mode=_top(prior))
            p_label = prior.get(label, 0.0) if label else 0.0
            final = text + boost + weight * p_label
            events.append(
                _event(
                    cand.point,
                    factors,
                    ScoreBreakdown(dense, sparse, text, boost, p_label, None, final),
                )
            )
        events.sort(key=lambda e: (-e.scores.final, e.doc_id))
        return events

    def _rerank(self, query: EventQuery, events: list[SimilarEvent]) -> list[SimilarEvent]:
        assert self._reranker is not None
        head, tail = events[:RERANK_DEPTH], events[RERANK_DEPTH:]
        scores = self._reranker.score(query.text, [e.text for e in head])
        if len(scores) != len(head):
            raise ValueError(f"reranker returned {len(scores)} scores for {len(head)} texts")
        rescored = [
            _with_rerank(e, s) for e, s in zip(head, scores, strict=True) if math.isfinite(s)
        ]
        rescored.sort(key=lambda e: (-(e.scores.rerank or 0.0), -e.scores.final))
        return rescored + tail


def shared_factors(
    query: EventQuery, payload: Mapping[str, Any], predicted_mode: str | None = None
) -> tuple[tuple[str, ...], float]:
    """What a historical record has in common with the query, and the field boost it earns.

    The failure mode is compared with the query's own label when a person gave one, else with
    the most likely mode among the neighbours (said so in the factor text)."""
    factors: list[str] = []
    boost = 0.0
    record = payload.get(Payload.RECORD)
    record = record if isinstance(record, Mapping) else {}
    equipment = _norm_set(payload.get(Payload.EQUIPMENT) or record.get("equipment"))
    for tag in query.equipment:
        if tag.strip().lower() in equipment:
            factors.append(f"same equipment {tag}")
    if any(f.startswith("same equipment") for f in factors):
        boost += EQUIPMENT_BOOST
    products = _norm_set(payload.get(Payload.PRODUCTS) or record.get("product_code"))
    same_product = [p for p in query.products if p.strip().lower() in products]
    for product in same_product:
        factors.append(f"same product {product}")
    if same_product:
        boost += PRODUCT_BOOST
    if query.parameter:
        haystack = " ".join(
            str(v) for v in (payload.get(Payload.TEXT), record.get("parameter")) if v
        )
        score = fuzz.partial_ratio(query.parameter.lower(), haystack.lower()) if haystack else 0
        if score >= PARAMETER_MATCH_MIN:
            factors.append(f"same parameter {query.parameter.lower()}")
            boost += PARAMETER_BOOST
    label = _str_or_none(payload.get(Payload.FAILURE_MODE))
    if label and query.failure_mode and label == query.failure_mode:
        factors.append(f"same failure mode {label}")
    elif label and not query.failure_mode and predicted_mode and label == predicted_mode:
        factors.append(f"same failure mode {label} (predicted for this event)")
    return tuple(factors), boost


def weighted_query_vector(problem: str, product: str = "") -> SparseVector:
    """Keyword query: weight 1 per distinct problem term, `PRODUCT_TERM_WEIGHT` per product
    term that the problem text does not already have."""
    weights = {term_id(t): PRODUCT_TERM_WEIGHT for t in tokenize(product)}
    weights.update({term_id(t): 1.0 for t in tokenize(problem)})
    items = sorted(weights.items())
    return SparseVector(tuple(i for i, _ in items), tuple(w for _, w in items))


def _group(
    dense_hits: Sequence[ScoredPoint],
    sparse_hits: Sequence[ScoredPoint],
    own_event: str | None,
    limit: int,
) -> list[_Candidate]:
    """Best chunk per record, with its best dense and sparse scores."""
    by_doc: dict[str, _Candidate] = {}
    order: list[str] = []
    for hits, kind in ((dense_hits, "dense"), (sparse_hits, "sparse")):
        for hit in hits:
            doc_id = str(hit.payload.get(Payload.DOC_ID, hit.id))
            if own_event and doc_id == own_event:
                continue
            cand = by_doc.get(doc_id)
            if cand is None:
                cand = by_doc[doc_id] = _Candidate(hit)
                order.append(doc_id)
            score = hit.dense_score if kind == "dense" else hit.sparse_score
            score = hit.score if score is None else score
            current = getattr(cand, kind)
            if current is None or score > current:
                setattr(cand, kind, score)
                if kind == "dense":
                    cand.point = hit
    dense_docs = [d for d in order if by_doc[d].dense is not None][:limit]
    sparse_docs = [d for d in order if by_doc[d].dense is None][:limit]
    return [by_doc[d] for d in dense_docs + sparse_docs]


def _by_text(events: Sequence[SimilarEvent]) -> list[SimilarEvent]:
    return sorted(events, key=lambda e: -e.scores.text)


def _top(prior: Mapping[str, float]) -> str | None:
    return max(prior, key=lambda k: prior[k]) if prior else None


def _event(point: ScoredPoint, factors: tuple[str, ...], scores: ScoreBreakdown) -> SimilarEvent:
    p = point.payload
    record = p.get(Payload.RECORD)
    return SimilarEvent(
        doc_id=str(p.get(Payload.DOC_ID, point.id)),
        doc_type=str(p.get(Payload.DOC_TYPE, "")),
        site=str(p.get(Payload.SITE, "")),
        title=_str_or_none(p.get(Payload.TITLE)),
        event_date=_str_or_none(p.get(Payload.EVENT_DATE)),
        failure_mode=_str_or_none(p.get(Payload.FAILURE_MODE)),
        equipment=tuple(str(v) for v in p.get(Payload.EQUIPMENT) or ()),
        products=tuple(str(v) for v in p.get(Payload.PRODUCTS) or ()),
        capa_ids=tuple(str(v) for v in p.get(Payload.CAPA_IDS) or ()),
        text=str(p.get(Payload.TEXT, "")),
        chunk_id=point.id,
        record=record if isinstance(record, Mapping) else None,
        shared_factors=factors,
        scores=scores,
    )


def _with_rerank(event: SimilarEvent, score: float) -> SimilarEvent:
    s = event.scores
    scores = ScoreBreakdown(
        s.dense, s.sparse, s.text, s.field_boost, s.failure_mode_prior, score, s.final
    )
    return SimilarEvent(**{**event.__dict__, "scores": scores})


def _parameter_sentence(parameter: Mapping[str, Any]) -> str:
    name = _str_or_none(parameter.get("name")) or "parameter"
    unit = _str_or_none(parameter.get("unit")) or ""
    text = f"Parameter: {name}"
    observed = parameter.get("observed_peak", parameter.get("observed"))
    low, high = parameter.get("limit_low"), parameter.get("limit_high")
    if observed is not None:
        text += f", observed {observed} {unit}".rstrip()
    if low is not None or high is not None:
        text += f", limits {low if low is not None else ''}-{high if high is not None else ''}"
        text += f" {unit}".rstrip()
    return text


def _first_str(payload: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _str_or_none(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise SimilarQueryError(f"{what} must be a string or a list of strings")


def _norm_set(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value.strip().lower()}
    if isinstance(value, list | tuple):
        return {str(v).strip().lower() for v in value}
    return set()


def _date_or_none(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 8 and text.isdigit():
            return datetime.strptime(text, "%Y%m%d").date()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise SimilarQueryError(f"cannot read the event date {text!r}") from exc


def group_counts(events: Sequence[SimilarEvent]) -> dict[str, int]:
    """Number of similar events per failure mode (for trend notes)."""
    counts: dict[str, int] = defaultdict(int)
    for e in events:
        counts[e.failure_mode or "unlabelled"] += 1
    return dict(counts)
