"""The failure-mode model, its per-scope cache, the text rules it learns from, and the finder
ranking with it: a small synthetic labelled history in an in-memory index."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from retrieval.embedding import HashingEmbedder
from retrieval.event_text import record_event_texts, split_product_text, strip_headings
from retrieval.index_contract import ChunkKind, Payload, point_id
from retrieval.label_model import MIN_RECORDS, FailureModeModel, TrainingExample
from retrieval.label_model_cache import LabelModelCache
from retrieval.mode_ranking import MODEL_PRIOR_WEIGHT, cover_likely_modes, promotion_ratio
from retrieval.similar import (
    EVENT_DOC_TYPES,
    PRODUCT_TERM_WEIGHT,
    EventQuery,
    SimilarEventFinder,
    weighted_query_vector,
)
from retrieval.sparse import document_vector, term_id
from retrieval.store.base import IndexPoint, IndexStore
from retrieval.store.factory import open_store

# Three failure modes, each worded many ways: the model must learn the mode from the words,
# not from one fixed sentence. Every record title starts with a filing heading, as real
# recall titles do ("Failed Dissolution Specifications: ...").
VOCAB: dict[str, tuple[str, list[str], list[str]]] = {
    "TEMP_EXCURSION": (
        "Temperature excursion",
        ["inlet air temperature", "outlet air temperature", "product bed temperature",
         "jacket temperature", "heater setpoint"],
        ["exceeded the upper limit", "rose above the alarm limit", "overshot the setpoint",
         "ran hot during drying", "was too high at heat up"],
    ),
    "SEAL_LEAK": (
        "Equipment leak",
        ["fill pump seal", "valve gasket", "mechanical seal", "pump diaphragm",
         "tubing connection"],
        ["was leaking product", "dripped onto the line", "showed a visible leak",
         "failed the pressure hold", "wept fluid at the joint"],
    ),
    "LABEL_ERROR": (
        "Labeling",
        ["carton label", "vial label", "blister foil print", "package insert",
         "shipper label"],
        ["showed the wrong strength", "carried the wrong lot number", "was missing the expiry",
         "named another product", "had a misprinted barcode"],
    ),
}  # fmt: skip
SITE = "SITE-L"


def _records(per_mode: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for mode, (heading, subjects, verbs) in VOCAB.items():
        for n in range(per_mode):
            text = f"The {rng.choice(subjects)} {rng.choice(verbs)} on line {rng.randint(1, 9)}"
            out.append(
                {"id": f"{mode}-{n}", "mode": mode, "title": f"{heading}: {text}", "day": n + 1}
            )
    return out


def _points(
    records: list[dict[str, Any]], embedder: HashingEmbedder, labelled: bool = True
) -> list[IndexPoint]:
    points = []
    vectors = embedder.embed([r["title"] for r in records])
    for record, vector in zip(records, vectors, strict=True):
        day = datetime(2025, 1, 1, tzinfo=UTC).replace(day=1 + record["day"] % 28)
        payload: dict[str, Any] = {
            Payload.DOC_ID: record["id"],
            Payload.DOC_TYPE: "deviation",
            Payload.SITE: SITE,
            Payload.TEXT: f"Deviation {record['id']} - what happened\nTitle: {record['title']}",
            Payload.EVENT_DATE: day.date().isoformat(),
            Payload.EVENT_TS: int(day.timestamp()),
            Payload.CHUNK_KIND: ChunkKind.RECORD.value,
            Payload.RECORD: {
                "record_type": "deviation",
                "id": record["id"],
                "title": record["title"],
            },
        }
        if labelled:
            payload[Payload.FAILURE_MODE] = record["mode"]
        points.append(
            IndexPoint(
                point_id(record["id"], "-", 0),
                vector.tolist(),
                document_vector(payload[Payload.TEXT]),
                payload,
            )
        )
    return points


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=128)


@pytest.fixture
def store(embedder: HashingEmbedder, tmp_path: Any) -> Iterator[IndexStore]:
    index = open_store(":memory:", tmp_path)
    index.ensure_collection(embedder.dim)
    yield index
    index.close()


# New events, worded with the modes' vocabulary but never as one training sentence.
NEW_EVENTS = {
    "TEMP_EXCURSION": "outlet air temperature overshot during drying, alarm raised",
    "SEAL_LEAK": "operators saw the mechanical seal leaking at the joint",
    "LABEL_ERROR": "vial label printed with the wrong lot number and expiry",
}


def _examples(embedder: HashingEmbedder, per_mode: int) -> list[TrainingExample]:
    records = _records(per_mode)
    texts = [strip_headings(r["title"]) for r in records]
    vectors = embedder.embed(texts)
    return [
        TrainingExample(text, vector.tolist(), r["mode"])
        for text, vector, r in zip(texts, vectors, records, strict=True)
    ]


def test_model_ranks_the_right_mode_first_for_unseen_wording(embedder: HashingEmbedder) -> None:
    model = FailureModeModel.fit(_examples(embedder, 15), records=45)
    assert model is not None and set(model.classes) == set(VOCAB)
    for mode, text in NEW_EVENTS.items():
        probs = model.probabilities(text, embedder.embed([text])[0].tolist())
        assert sum(probs.values()) == pytest.approx(1.0)
        assert max(probs, key=lambda m: probs[m]) == mode, (text, probs)
        assert probs[mode] > 0.5


def test_model_needs_enough_labelled_records_and_two_labels(embedder: HashingEmbedder) -> None:
    examples = _examples(embedder, 15)
    assert FailureModeModel.fit(examples, records=MIN_RECORDS - 1) is None
    one_label = [e for e in examples if e.label == "SEAL_LEAK"] * 3
    assert FailureModeModel.fit(one_label, records=45) is None


def test_model_is_deterministic(embedder: HashingEmbedder) -> None:
    text = NEW_EVENTS["SEAL_LEAK"]
    vector = embedder.embed([text])[0].tolist()
    first = FailureModeModel.fit(_examples(embedder, 12), records=36)
    second = FailureModeModel.fit(_examples(embedder, 12), records=36)
    assert first is not None and second is not None
    assert first.probabilities(text, vector) == second.probabilities(text, vector)


def test_two_label_model_gives_both_probabilities(embedder: HashingEmbedder) -> None:
    examples = [e for e in _examples(embedder, 20) if e.label != "LABEL_ERROR"]
    model = FailureModeModel.fit(examples, records=40)
    assert model is not None and len(model.classes) == 2
    text = NEW_EVENTS["TEMP_EXCURSION"]
    probs = model.probabilities(text, embedder.embed([text])[0].tolist())
    assert set(probs) == {"TEMP_EXCURSION", "SEAL_LEAK"}
    assert probs["TEMP_EXCURSION"] > probs["SEAL_LEAK"]


def test_headings_are_stripped_and_kept_as_a_second_wording() -> None:
    assert strip_headings("Labeling: Label Mix-Up: wrong strength on carton") == (
        "wrong strength on carton"
    )
    assert strip_headings("Lack of Assurance of Sterility") == "Lack of Assurance of Sterility"
    assert strip_headings("Failed stability specifications - assay low") == "assay low"
    long_clause = "The operator noticed during the second shift of the week that: x"
    assert strip_headings(long_clause) == long_clause  # not a heading: too many words
    payload = {Payload.RECORD: {"title": "CGMP Deviations: water leak in the fill room"}}
    assert record_event_texts(payload) == [
        "water leak in the fill room",
        "CGMP Deviations: water leak in the fill room",
    ]
    assert record_event_texts({Payload.TEXT: "chunk only"}) == ["chunk only"]


def test_product_segments_are_split_from_the_problem() -> None:
    problem, product = split_product_text(
        "Water content above specification. | Product: Sunitinib Capsules, 12.5 mg, NDC 0093"
    )
    assert problem == "Water content above specification"
    assert product == "Sunitinib Capsules, 12.5 mg, NDC 0093"
    text = "Inlet air temperature high. Equipment: GR-201. Product: PRD-0042"
    assert split_product_text(text) == ("Inlet air temperature high. Equipment: GR-201", "PRD-0042")
    assert split_product_text("no product here") == ("no product here", "")
    assert split_product_text("Product: only") == ("Product: only", "only")


def test_product_words_weigh_less_in_the_keyword_query() -> None:
    sparse = weighted_query_vector("seal leak", "sunitinib seal")
    by_term = dict(zip(sparse.indices, sparse.values, strict=True))
    assert by_term[term_id("seal")] == 1.0
    assert by_term[term_id("leak")] == 1.0
    assert by_term[term_id("sunitinib")] == PRODUCT_TERM_WEIGHT


def test_cover_likely_modes_moves_a_nearly_as_likely_mode_up() -> None:
    labels = ["A", "A", "A", "B", "C", "A"]
    # p(B) above 1/3.5 of p(A): B's best precedent goes second; C too unlikely for third.
    assert cover_likely_modes(labels, {"A": 0.6, "B": 0.3, "C": 0.1}) == [0, 3, 1, 2, 4, 5]
    # p(B) below the ratio: the list stays grouped by the top mode.
    assert cover_likely_modes(labels, {"A": 0.8, "B": 0.15, "C": 0.05}) == list(range(6))
    assert cover_likely_modes(labels, {"A": 0.45, "B": 0.3, "C": 0.25}) == [0, 3, 4, 1, 2, 5]
    assert promotion_ratio(2) == pytest.approx(1 / 3.5)
    assert cover_likely_modes([], {"A": 1.0}) == []


def test_finder_ranks_by_the_scope_model(store: IndexStore, embedder: HashingEmbedder) -> None:
    store.upsert(_points(_records(12), embedder))
    finder = SimilarEventFinder(store, embedder)
    for mode, text in NEW_EVENTS.items():
        result = finder.find(EventQuery.from_text(text, [SITE]), limit=5)
        assert result.label_source == "model"
        assert result.failure_modes[0].failure_mode == mode
        assert [e.failure_mode for e in result.events[:3]] == [mode] * 3, text
        top = result.events[0].scores
        assert top.final == pytest.approx(
            top.text + top.field_boost + MODEL_PRIOR_WEIGHT * top.failure_mode_prior
        )


def test_unlabelled_history_falls_back_to_text_similarity(
    store: IndexStore, embedder: HashingEmbedder
) -> None:
    store.upsert(_points(_records(12), embedder, labelled=False))
    result = SimilarEventFinder(store, embedder).find(
        EventQuery.from_text(NEW_EVENTS["SEAL_LEAK"], [SITE]), limit=5
    )
    assert result.label_source == "neighbours"
    assert result.failure_modes == []
    assert len(result.events) == 5
    assert all(e.scores.failure_mode_prior == 0.0 for e in result.events)


def test_cache_rebuilds_when_the_scope_changes(
    store: IndexStore, embedder: HashingEmbedder
) -> None:
    records = _records(12)
    store.upsert(_points(records[:20], embedder))  # 20 records: below MIN_RECORDS
    cache = LabelModelCache(store, embedder, EVENT_DOC_TYPES)
    small = cache.get([SITE])
    assert small.model is None and small.labelled_records == 20
    assert cache.get([SITE]) is small  # unchanged scope: no rebuild
    store.upsert(_points(records[20:], embedder))
    grown = cache.get([SITE])
    assert grown.model is not None and grown.labelled_records == 36
    assert cache.get(["OTHER-SITE"]).labelled_records == 0  # scope: another tenant sees none


class _CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=128)
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.texts.extend(texts)
        return super().embed(texts)


def test_cache_rebuild_embeds_only_new_training_texts(
    store: IndexStore, embedder: HashingEmbedder
) -> None:
    records = _records(12)
    store.upsert(_points(records[:30], embedder))
    counting = _CountingEmbedder()
    cache = LabelModelCache(store, counting, EVENT_DOC_TYPES)
    first = cache.get([SITE])
    assert first.model is not None
    embedded = len(counting.texts)
    assert embedded == len(set(counting.texts)) >= 30  # each distinct text once
    store.upsert(_points(records[30:], embedder))
    counting.texts.clear()
    assert cache.get([SITE]).labelled_records == 36
    new_titles = {r["title"] for r in records[30:]}
    assert counting.texts and len(counting.texts) <= 2 * len(new_titles)
    assert all(any(text in title for title in new_titles) for text in counting.texts), (
        counting.texts
    )
