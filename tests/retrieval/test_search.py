"""The search API: request validation, the mandatory site scope, filters, grouping, hits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload
from retrieval.search import (
    Searcher,
    SearchHit,
    SearchRequest,
    SearchRequestError,
    build_filter,
)
from retrieval.store.base import IndexStore, SearchMode
from retrieval.store.factory import open_store
from tests.retrieval.sample_corpus import CHUNKS, SOP_DRYING, build_points

DIM = 64


class CountingEmbedder:
    """The hashing embedder, counting its calls (to check which modes embed)."""

    def __init__(self) -> None:
        self._inner = HashingEmbedder(DIM)
        self.name = self._inner.name
        self.dim = DIM
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls += 1
        return self._inner.embed(texts)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexStore]:
    opened = open_store("edge", tmp_path_factory.mktemp("search"))
    opened.ensure_collection(DIM)
    opened.upsert(build_points(HashingEmbedder(DIM)))
    yield opened
    opened.close()


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def searcher(store: IndexStore, embedder: CountingEmbedder) -> Searcher:
    return Searcher(store, embedder)


def run(searcher: Searcher, text: str, **kwargs: object) -> list[SearchHit]:
    kwargs.setdefault("sites", ["SITE-A", "SITE-B"])
    kwargs.setdefault("limit", 50)
    return searcher.search(SearchRequest(text, **kwargs)).hits  # type: ignore[arg-type]


# -- request validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "  ", "sites": ["SITE-A"]}, "empty"),
        ({"text": "x" * 20_001, "sites": ["SITE-A"]}, "limit"),
        ({"text": "dryer", "sites": []}, "site scope is required"),
        ({"text": "dryer", "sites": "SITE-A"}, "not one string"),
        ({"text": "dryer", "sites": ["SITE-A", " "]}, "empty value"),
        ({"text": "dryer", "sites": ["SITE-A"], "doc_types": ["memo"]}, "document types"),
        ({"text": "dryer", "sites": ["SITE-A"], "limit": 0}, "between 1 and"),
        ({"text": "dryer", "sites": ["SITE-A"], "limit": 101}, "between 1 and"),
        (
            {
                "text": "dryer",
                "sites": ["SITE-A"],
                "date_from": date(2024, 2, 1),
                "date_to": date(2024, 1, 1),
            },
            "date range is empty",
        ),
    ],
)
def test_bad_requests_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SearchRequestError, match=message):
        SearchRequest(**kwargs)  # type: ignore[arg-type]


def test_site_scope_is_always_in_the_filter() -> None:
    flt = build_filter(SearchRequest("anything", sites=["SITE-B"], include_superseded=True))
    assert flt.must[Payload.SITE] == ["SITE-B"]


# -- tenant isolation ---------------------------------------------------------------------------


def test_results_never_leave_the_site_scope(searcher: Searcher) -> None:
    # The text names the other site and its equipment: the scope still decides.
    hits = run(searcher, "SITE-A FBD-101 dryer temperature TP-201 swab", sites=["SITE-B"])
    assert hits
    assert {h.site for h in hits} == {"SITE-B"}
    everything = run(searcher, "SITE-A FBD-101 dryer temperature", sites=["SITE-A", "SITE-B"])
    assert {h.site for h in everything} == {"SITE-A", "SITE-B"}


# -- filters ------------------------------------------------------------------------------------


def test_superseded_revisions_only_on_request(searcher: Searcher) -> None:
    text = "inlet air temperature of dryer FBD-101"
    default = run(searcher, text)
    assert all(h.status != "superseded" for h in default)
    assert not any(h.doc_id == SOP_DRYING and h.revision == "3" for h in default)
    with_old = run(searcher, text, include_superseded=True)
    assert any(h.doc_id == SOP_DRYING and h.revision == "3" for h in with_old)


def test_type_product_equipment_filters(searcher: Searcher) -> None:
    hits = run(searcher, "temperature cleaning weight", doc_types=["deviation", "capa"])
    assert hits and {h.doc_type for h in hits} <= {"deviation", "capa"}

    hits = run(searcher, "tablet weight", products=["IBU-200"])
    assert {h.doc_id for h in hits} == {"DEV-2024-0113", "DEV-2022-0009"}

    hits = run(searcher, "cleaning", equipment=["TP-201"], doc_types=["sop"])
    assert hits and all(h.doc_id == "SOP-QA-012" and h.site == "SITE-A" for h in hits)


def test_date_range_is_inclusive_and_keeps_dated_records_only(searcher: Searcher) -> None:
    hits = run(
        searcher, "deviation root cause", date_from=date(2023, 2, 20), date_to=date(2023, 6, 2)
    )
    expected = {
        c.doc_id
        for c in CHUNKS
        if c.event_date is not None and date(2023, 2, 20) <= c.event_date <= date(2023, 6, 2)
    }
    assert (
        {h.doc_id for h in hits} == expected == {"DEV-2023-0042", "DEV-2023-0107", "CAPA-2023-0015"}
    )
    later = run(searcher, "deviation", date_from=date(2024, 3, 15))
    assert {h.doc_id for h in later} == {"DEV-2024-0201", "BR-B26-0815"}
    assert all(h.event_date and h.event_date >= "2024-03-15" for h in later)


# -- hits, modes, grouping ----------------------------------------------------------------------


def test_hits_carry_citation_fields_and_scores(searcher: Searcher) -> None:
    [hit] = run(searcher, CHUNKS[1].text, sites=["SITE-A"], limit=1, component_scores=True)
    assert hit.doc_id == SOP_DRYING
    assert (hit.revision, hit.section_id, hit.page_start, hit.pages) == ("4", "5.4", 5, "5")
    assert hit.title == "Fluid bed drying of granules"
    assert hit.section_path == ("5.4",)
    assert hit.text == CHUNKS[1].text
    assert hit.chunk_kind == "text" and hit.doc_type == "sop"
    assert hit.dense_score is not None and hit.sparse_score is not None and hit.score > 0


def test_sparse_mode_does_not_embed(searcher: Searcher, embedder: CountingEmbedder) -> None:
    hits = run(searcher, "swab feed frame", mode=SearchMode.SPARSE)
    assert hits and embedder.calls == 0
    assert all(h.dense_score is None for h in hits)
    run(searcher, "swab feed frame", mode=SearchMode.DENSE)
    assert embedder.calls == 1


def test_group_by_document(searcher: Searcher) -> None:
    text = "drying inlet air temperature FBD-101 loss on drying"
    flat = run(searcher, text, sites=["SITE-A"])
    grouped = searcher.search(
        SearchRequest(text, sites=["SITE-A"], limit=5, group_by_document=True)
    )
    keys = [(h.doc_id, h.revision) for h in grouped.hits]
    assert len(keys) == len(set(keys)) == 5
    sop = next(h for h in grouped.hits if h.doc_id == SOP_DRYING)
    assert sop.chunks_in_document == 3  # sections 5.3, 5.4, 5.5 of the effective revision
    best_flat = next(h for h in flat if h.doc_id == SOP_DRYING)
    assert sop.chunk_id == best_flat.chunk_id
    assert grouped.candidates >= len(grouped.hits)


@pytest.mark.embedder
def test_real_embedder_ranks_the_relevant_record_first(tmp_path: Path) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    real = SentenceTransformerEmbedder()
    store = open_store(":memory:", tmp_path)
    try:
        store.ensure_collection(real.dim)
        store.upsert(build_points(real))
        result = Searcher(store, real).search(
            SearchRequest(
                "the granulate dryer overheated, why did it happen before?",
                sites=["SITE-A"],
                doc_types=["deviation"],
                limit=3,
            )
        )
    finally:
        store.close()
    assert result.hits[0].doc_id == "DEV-2023-0042"
    assert result.embed_ms > 0


@pytest.mark.embedder
def test_bf16_and_fp32_embeddings_are_interchangeable() -> None:
    from retrieval.embedding import SentenceTransformerEmbedder, native_bf16

    texts = [chunk.text for chunk in CHUNKS[:6]]
    fp32 = SentenceTransformerEmbedder(precision="fp32")
    bf16 = SentenceTransformerEmbedder(precision="bf16")
    auto = SentenceTransformerEmbedder()
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert auto.precision == ("bf16" if native_bf16() else "fp32")
    a, b = fp32.embed(texts), bf16.embed(texts)
    assert a.dtype == b.dtype == np.float32
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() > 0.995  # same index, either precision
    # ranking agrees: each text's nearest neighbour among the others is the same
    assert (np.argsort(-(a @ a.T), axis=1)[:, 1] == np.argsort(-(b @ a.T), axis=1)[:, 1]).all()
