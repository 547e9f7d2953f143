"""The same behaviour tests run against every store backend (Qdrant Edge, qdrant-client local
mode on disk and in memory), then the backends are compared with each other on one corpus.

Tolerance between backends (both search exactly on a corpus this small; Edge only switches
to HNSW above its indexing threshold):
- dense and sparse: the same top-5 ids in the same order, scores equal within 1e-4;
- hybrid (RRF): the same top-1 (up to exact ties of the fused score, which either engine may
  order either way) and at least 4 of the top-5 ids shared.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload, point_id
from retrieval.sparse import document_vector, query_vector
from retrieval.store.base import (
    Filter,
    IndexPoint,
    IndexStore,
    Range,
    ScoredPoint,
    SearchMode,
    SparseVector,
)
from retrieval.store.errors import (
    CollectionMissingError,
    InvalidInputError,
    StoreError,
    StoreLockedError,
)
from retrieval.store.factory import EDGE_FOLDER, open_store
from tests.retrieval.sample_corpus import CHUNKS, QUERIES, SOP_DRYING, build_points, chunk_ids

# "local" (qdrant-client local mode on disk) is the same class as ":memory:" plus an SQLite
# file that commits every write: it runs the read-only and persistence tests; the many
# mutating tests run on ":memory:" to keep the suite fast.
BACKENDS = ("edge", "local", ":memory:")
MUTABLE_BACKENDS = ("edge", ":memory:")
DIM = 64
EMBEDDER = HashingEmbedder(DIM)


@pytest.fixture(scope="session")
def empty_edge_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty Edge index with its payload indexes, made once: creating the fifteen payload
    indexes costs seconds of fsyncs on a busy disk, copying the result a few milliseconds."""
    index_dir = tmp_path_factory.mktemp("edge-template")
    template = open_store("edge", index_dir)
    template.ensure_collection(DIM)
    template.close()
    return index_dir


@pytest.fixture(params=MUTABLE_BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, empty_edge_index: Path
) -> Iterator[IndexStore]:
    if request.param == "edge":
        shutil.copytree(empty_edge_index / EDGE_FOLDER, tmp_path / EDGE_FOLDER)
    opened = open_store(request.param, tmp_path)
    opened.ensure_collection(DIM)  # a no-op on the copied template
    yield opened
    opened.close()


@pytest.fixture
def loaded(store: IndexStore) -> IndexStore:
    store.upsert(build_points(EMBEDDER))
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexStore]:
    """One loaded store per backend for the tests that only read (creating an Edge shard
    with its payload indexes costs about a second of fsyncs on a busy disk)."""
    opened = open_store(request.param, tmp_path_factory.mktemp("shared"))
    opened.ensure_collection(DIM)
    opened.upsert(build_points(EMBEDDER))
    yield opened
    opened.close()


def ids_of(store: IndexStore, flt: Filter | None = None) -> set[str]:
    return {p.id for p in store.scroll(flt, batch_size=5)}


def expected_ids(predicate: object) -> set[str]:
    assert callable(predicate)
    return {pid for chunk, pid in zip(CHUNKS, chunk_ids(), strict=True) if predicate(chunk)}


def search(store: IndexStore, text: str, **kwargs: object) -> list[str]:
    hits = store.search(EMBEDDER.embed([text])[0], query_vector(text), **kwargs)  # type: ignore[arg-type]
    return [h.id for h in hits]


def point(doc_id: str, revision: str, position: int, text: str, site: str = "SITE-A") -> IndexPoint:
    return IndexPoint(
        point_id(doc_id, revision, position),
        EMBEDDER.embed([text])[0].tolist(),
        document_vector(text),
        {
            Payload.DOC_ID: doc_id,
            Payload.REVISION: revision,
            Payload.SITE: site,
            Payload.TEXT: text,
            Payload.CHUNK_INDEX: position,
        },
    )


# -- writes and reads ---------------------------------------------------------------------


def test_upsert_count_scroll_retrieve(shared: IndexStore) -> None:
    all_ids = chunk_ids()
    assert shared.count() == len(CHUNKS)
    assert ids_of(shared) == set(all_ids)
    payloads = {p.id: p.payload for p in shared.scroll()}
    first = CHUNKS[0]
    assert payloads[all_ids[0]][Payload.TEXT] == first.text
    assert payloads[all_ids[0]][Payload.PRODUCTS] == list(first.products)

    missing = point_id("nope", "1", 0)
    got = shared.retrieve([all_ids[3], missing, all_ids[1]])
    assert [p.id for p in got] == [all_ids[3], all_ids[1]]
    assert got[0].payload[Payload.REVISION] == CHUNKS[3].revision


def test_upsert_same_id_overwrites(store: IndexStore) -> None:
    store.upsert([point("D-1", "1", 0, "first text")])
    store.upsert([point("D-1", "1", 0, "second text")])
    assert store.count() == 1
    [only] = store.retrieve([point_id("D-1", "1", 0)])
    assert only.payload[Payload.TEXT] == "second text"


def test_empty_sparse_vector_is_stored(store: IndexStore) -> None:
    """A chunk of stopwords only has no sparse terms: it is still stored and dense-searchable."""
    p = point("D-2", "1", 0, "the of and")
    assert p.sparse.indices == ()
    store.upsert([p])
    assert search(store, "the of and", mode=SearchMode.DENSE) == [p.id]
    assert search(store, "the of and") == [p.id]  # hybrid degrades to dense


def test_delete_by_filter(loaded: IndexStore) -> None:
    loaded.delete(Filter(must={Payload.DOC_TYPE: "deviation", Payload.SITE: "SITE-B"}))
    assert ids_of(loaded) == expected_ids(
        lambda c: not (c.doc_type == "deviation" and c.site == "SITE-B")
    )


def test_delete_and_replace_refuse_empty_filter(loaded: IndexStore) -> None:
    with pytest.raises(InvalidInputError, match="empty filter"):
        loaded.delete(Filter())
    with pytest.raises(InvalidInputError, match="empty filter"):
        loaded.replace(Filter(), [point("X", "1", 0, "x")])
    assert loaded.count() == len(CHUNKS)


def test_replace_new_revision(loaded: IndexStore) -> None:
    old = Filter(must={Payload.DOC_ID: SOP_DRYING, Payload.SITE: "SITE-A"})
    new = [point(SOP_DRYING, "5", i, f"5.{i} new drying text {i}") for i in range(2)]
    loaded.replace(old, new)
    remaining = list(loaded.scroll(Filter(must={Payload.DOC_ID: SOP_DRYING})))
    assert {p.id for p in remaining} == {p.id for p in new}
    assert loaded.count() == len(CHUNKS) - 4 + 2
    # other documents untouched
    assert ids_of(loaded, Filter(must_not={Payload.DOC_ID: SOP_DRYING})) == expected_ids(
        lambda c: c.doc_id != SOP_DRYING
    )


def test_replace_same_ids_keeps_the_new_version(store: IndexStore) -> None:
    """Re-ingesting a revision gives the same deterministic ids: replace must not delete them."""
    old = [point("D-3", "1", i, f"old {i}") for i in range(3)]
    store.upsert(old)
    new = [point("D-3", "1", i, f"new {i}") for i in range(2)]
    store.replace(Filter(must={Payload.DOC_ID: "D-3"}), new)
    got = {p.id: p.payload[Payload.TEXT] for p in store.scroll()}
    assert got == {p.id: f"new {i}" for i, p in enumerate(new)}


def test_replace_with_nothing_removes(loaded: IndexStore) -> None:
    loaded.replace(Filter(must={Payload.DOC_ID: "ICH-Q7"}), [])
    assert loaded.count(Filter(must={Payload.DOC_ID: "ICH-Q7"})) == 0
    assert loaded.count() == len(CHUNKS) - 2


# -- filters --------------------------------------------------------------------------------


FILTER_CASES = [
    (Filter(must={Payload.SITE: "SITE-B"}), lambda c: c.site == "SITE-B"),
    (Filter(must={Payload.DOC_TYPE: ["sop", "capa"]}), lambda c: c.doc_type in ("sop", "capa")),
    (Filter(must={Payload.EQUIPMENT: "TP-201"}), lambda c: "TP-201" in c.equipment),
    (
        Filter(must={Payload.PRODUCTS: ["IBU-400", "PARA-500"]}),
        lambda c: bool({"IBU-400", "PARA-500"} & set(c.products)),
    ),
    (
        Filter(must={Payload.SITE: "SITE-A"}, must_not={Payload.STATUS: "superseded"}),
        lambda c: c.site == "SITE-A" and c.status != "superseded",
    ),
    (
        Filter(must_not={Payload.DOC_TYPE: ["sop", "guidance"]}),
        lambda c: c.doc_type not in ("sop", "guidance"),
    ),
    (
        Filter(ranges={Payload.EVENT_TS: Range(gte=1672531200, lte=1704067199)}),  # 2023
        lambda c: c.event_date is not None and c.event_date.year == 2023,
    ),
    (
        Filter(ranges={Payload.EVENT_TS: Range(gte=1704067200)}),  # 2024 onwards
        lambda c: c.event_date is not None and c.event_date.year >= 2024,
    ),
    (
        Filter(
            must={Payload.SITE: ["SITE-A"], Payload.DOC_TYPE: "deviation"},
            ranges={Payload.EVENT_TS: Range(lte=1704067199)},
        ),
        lambda c: (
            c.site == "SITE-A"
            and c.doc_type == "deviation"
            and c.event_date is not None
            and c.event_date.year <= 2023
        ),
    ),
    (Filter(must={Payload.PAGE_START: 4}), lambda c: c.page == 4),
]


@pytest.mark.parametrize(("flt", "predicate"), FILTER_CASES)
def test_filters(shared: IndexStore, flt: Filter, predicate: object) -> None:
    expected = expected_ids(predicate)
    assert expected, "a filter case must select something"
    assert ids_of(shared, flt) == expected
    assert shared.count(flt) == len(expected)
    for mode in SearchMode:
        hits = set(
            search(shared, "temperature cleaning deviation tablet", flt=flt, mode=mode, limit=50)
        )
        assert hits <= expected


def test_bad_filters_are_refused(shared: IndexStore) -> None:
    with pytest.raises(InvalidInputError, match="matches nothing"):
        shared.count(Filter(must={Payload.SITE: []}))
    with pytest.raises(InvalidInputError, match="str, int or bool"):
        shared.count(Filter(must={Payload.SITE: 1.5}))
    with pytest.raises(InvalidInputError, match="neither gte nor lte"):
        shared.count(Filter(ranges={Payload.EVENT_TS: Range()}))


# -- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(SearchMode))
def test_search_finds_the_chunk_by_its_own_text(shared: IndexStore, mode: SearchMode) -> None:
    for chunk, pid in zip(CHUNKS[:8], chunk_ids()[:8], strict=True):
        assert search(shared, chunk.text, mode=mode, limit=3)[0] == pid


def test_search_limit_scores_and_components(shared: IndexStore) -> None:
    text = "dryer inlet air temperature excursion FBD-101"
    dense = EMBEDDER.embed([text])[0]
    plain = shared.search(dense, query_vector(text), limit=4)
    assert all(h.dense_score is None and h.sparse_score is None for h in plain)
    hits = shared.search(dense, query_vector(text), limit=4, component_scores=True)
    assert [(h.id, h.score) for h in hits] == [(h.id, h.score) for h in plain]
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.dense_score is not None for h in hits)
    assert any(h.sparse_score is not None and h.sparse_score > 0 for h in hits)
    dense_hits = shared.search(dense, None, limit=4, mode=SearchMode.DENSE)
    assert all(h.score == h.dense_score and h.sparse_score is None for h in dense_hits)


def test_search_needs_query_vectors(shared: IndexStore) -> None:
    with pytest.raises(InvalidInputError):
        shared.search(None, None)
    with pytest.raises(InvalidInputError):
        shared.search(None, SparseVector((), ()), mode=SearchMode.SPARSE)
    with pytest.raises(InvalidInputError, match="shape"):
        shared.search([1.0, 0.0], None, mode=SearchMode.DENSE)


# -- bad input leaves the index untouched --------------------------------------------------


def test_bad_batch_writes_nothing(shared: IndexStore) -> None:
    good = point("D-9", "1", 0, "fine")
    bad_cases = [
        IndexPoint(good.id, [0.1] * (DIM - 1), good.sparse, good.payload),
        IndexPoint(good.id, [float("nan")] * DIM, good.sparse, good.payload),
        IndexPoint(good.id, [0.0] * DIM, good.sparse, good.payload),
        IndexPoint("not-a-uuid", good.dense, good.sparse, good.payload),
        IndexPoint(good.id, good.dense, good.sparse, {Payload.DOC_ID: "D-9"}),  # no site
        IndexPoint(good.id, good.dense, SparseVector((1, 1), (0.5, 0.5)), good.payload),
        IndexPoint(good.id, good.dense, good.sparse, {**good.payload, "day": date(2024, 1, 2)}),
        IndexPoint(good.id, good.dense, good.sparse, {**good.payload, "x": {"y": [float("inf")]}}),
    ]
    for bad in bad_cases:
        with pytest.raises(InvalidInputError):
            shared.upsert([point("D-8", "1", 0, "ok"), bad])
        with pytest.raises(InvalidInputError):
            shared.replace(Filter(must={Payload.DOC_ID: SOP_DRYING}), [bad])
    assert shared.count() == len(CHUNKS)
    assert ids_of(shared) == set(chunk_ids())


def test_dimension_mismatch_is_refused(store: IndexStore) -> None:
    with pytest.raises(CollectionMissingError, match="64-d"):
        store.ensure_collection(DIM + 1)


# -- persistence and folder ownership -------------------------------------------------------


@pytest.mark.parametrize("kind", ["edge", "local"])
def test_reopen_keeps_data_and_folder_is_owned_once(tmp_path: Path, kind: str) -> None:
    first = open_store(kind, tmp_path)
    first.ensure_collection(DIM)
    first.upsert(build_points(EMBEDDER)[:5])
    first.flush()
    with pytest.raises(StoreLockedError, match=str(tmp_path)):
        open_store(kind, tmp_path)
    # another process is refused too, with the folder named
    probe = (
        "import sys; from pathlib import Path; from retrieval.store.factory import EDGE_FOLDER, open_store\n"
        "try:\n    open_store(sys.argv[1], Path(sys.argv[2]))\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc); sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, kind, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 3, result.stderr
    assert "StoreLockedError" in result.stdout and str(tmp_path) in result.stdout
    first.close()

    again = open_store(kind, tmp_path)
    try:
        assert again.count() == 5
        assert (
            again.search(EMBEDDER.embed([CHUNKS[0].text])[0], None, limit=1)[0].id
            == (chunk_ids()[0])
        )
    finally:
        again.close()


def test_empty_index_counts_zero_and_search_says_so(tmp_path: Path) -> None:
    fresh = open_store("edge", tmp_path)
    try:
        assert fresh.count() == 0
        assert list(fresh.scroll()) == []
        with pytest.raises(CollectionMissingError, match="ingest"):
            fresh.search([1.0] * DIM, None)
    finally:
        fresh.close()


# -- atomic replace under a concurrent reader ----------------------------------------------


def test_replace_is_atomic_for_concurrent_readers(loaded: IndexStore) -> None:
    """A reader thread searching one document while another thread swaps its revisions
    back and forth must always see exactly one complete revision."""
    target = loaded
    revisions = {
        "A": [point("DOC-X", "A", i, f"drying temperature step {i} rev A") for i in range(3)],
        "B": [point("DOC-X", "B", i, f"drying temperature step {i} rev B") for i in range(5)],
    }
    doc = Filter(must={Payload.DOC_ID: "DOC-X"})
    target.upsert(revisions["A"])
    stop = threading.Event()
    problems: list[str] = []
    observations = {"n": 0}

    def reader() -> None:
        query = "drying temperature step"
        while not stop.is_set():
            hits = target.search(EMBEDDER.embed([query])[0], query_vector(query), flt=doc, limit=20)
            seen = {h.payload[Payload.REVISION] for h in hits}
            if len(seen) != 1 or len(hits) != len(revisions[next(iter(seen))]):
                problems.append(f"saw {len(hits)} hits of revisions {sorted(seen)}")
            observations["n"] += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for swap in range(40):
            target.replace(doc, revisions["B" if swap % 2 == 0 else "A"])
    finally:
        stop.set()
        thread.join(timeout=30)
    assert observations["n"] > 0
    assert problems == []


# -- congruence between backends ------------------------------------------------------------


def _all_backends(tmp_path: Path, embedder: object, dim: int) -> list[IndexStore]:
    stores = []
    for kind in ("edge", ":memory:"):
        opened = open_store(kind, tmp_path / kind.strip(":"))
        opened.ensure_collection(dim)
        opened.upsert(build_points(embedder))  # type: ignore[arg-type]
        opened.optimize()
        stores.append(opened)
    return stores


def assert_congruent(stores: list[IndexStore], embedder: object, flt: Filter | None) -> None:
    edge, client = stores
    for text in QUERIES:
        dense = embedder.embed([text])[0]  # type: ignore[attr-defined]
        sparse = query_vector(text)
        for mode in (SearchMode.DENSE, SearchMode.SPARSE):
            a = edge.search(dense, sparse, flt=flt, limit=5, mode=mode)
            b = client.search(dense, sparse, flt=flt, limit=5, mode=mode)
            assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-4, abs=1e-4)
            # ids must agree except where scores tie
            for x, y in zip(a, b, strict=True):
                assert x.id == y.id or x.score == pytest.approx(y.score, abs=1e-5), (text, mode)
        a = edge.search(dense, sparse, flt=flt, limit=5)
        b = client.search(dense, sparse, flt=flt, limit=5)
        assert top_tied(a) & top_tied(b), text  # the same best hit (RRF ties in any order)
        assert len({h.id for h in a} & {h.id for h in b}) >= 4, text


def top_tied(hits: list[ScoredPoint]) -> set[str]:
    return {h.id for h in hits if h.score >= hits[0].score - 1e-6}


@pytest.mark.parametrize(
    "flt", [None, Filter(must={Payload.SITE: ["SITE-A"]}, must_not={Payload.STATUS: "superseded"})]
)
def test_backends_agree_on_rankings(tmp_path: Path, flt: Filter | None) -> None:
    stores = _all_backends(tmp_path, EMBEDDER, DIM)
    try:
        assert_congruent(stores, EMBEDDER, flt)
    finally:
        for s in stores:
            s.close()


@pytest.mark.embedder
def test_backends_agree_with_the_real_embedder(tmp_path: Path) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    stores = _all_backends(tmp_path, embedder, embedder.dim)
    try:
        assert_congruent(stores, embedder, Filter(must={Payload.SITE: ["SITE-A", "SITE-B"]}))
    finally:
        for s in stores:
            s.close()


def test_closed_store_refuses_work(store: IndexStore) -> None:
    store.upsert([point("D-5", "1", 0, "text")])
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.count()
    with pytest.raises(StoreError, match="closed"):
        store.upsert([point("D-6", "1", 0, "text")])
