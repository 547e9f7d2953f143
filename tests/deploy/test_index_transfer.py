"""`devia index copy/export/import`: an index moves between Qdrant Edge and a qdrant-client
target (local mode: the same API as a Qdrant server) with vectors and payloads intact,
idempotently, verified by counts and searches; bad dumps are refused before any write."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from retrieval.embedding import HashingEmbedder
from retrieval.store.base import IndexPoint, SearchMode
from retrieval.store.factory import open_store
from retrieval.store.transfer import ExportableStore
from tests.retrieval.sample_corpus import QUERIES, build_points

DIM = 64
EMBEDDER = HashingEmbedder(DIM)
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DEVIA_INDEX", raising=False)
    return tmp_path / "data"


@pytest.fixture
def edge_index(data_dir: Path) -> list[IndexPoint]:
    """An Edge index (the default) in DEVIA_DATA_DIR/index holding the sample corpus."""
    points = build_points(EMBEDDER)
    store = open_store("edge", data_dir / "index")
    store.ensure_collection(DIM)
    store.upsert(points)
    store.optimize()
    store.close()
    return points


def devia(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def devia_fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def opened(kind: str, index_dir: Path) -> Iterator[ExportableStore]:
    store = open_store(kind, index_dir)
    try:
        yield store  # type: ignore[misc]
    finally:
        store.close()


def snapshot(kind: str, index_dir: Path) -> dict[str, tuple[list[float], dict[int, float], dict]]:
    """Every point of an index: dense vector, sparse vector (as a map) and payload."""
    for store in opened(kind, index_dir):
        return {
            p.id: (
                list(p.dense),
                dict(zip(p.sparse.indices, p.sparse.values, strict=True)),
                dict(p.payload),
            )
            for p in store.export_points(7)  # a batch size that does not divide the corpus
        }
    raise AssertionError("unreachable")


def dense_results(kind: str, index_dir: Path) -> list[dict[str, float]]:
    """Dense search over the whole corpus per query: every id with its score (engines may
    order exact ties either way, so scores are compared, not positions)."""
    results = []
    for store in opened(kind, index_dir):
        for text in QUERIES:
            hits = store.search(
                EMBEDDER.embed([text])[0].tolist(), None, limit=100, mode=SearchMode.DENSE
            )
            results.append({h.id: h.score for h in hits})
    return results


def assert_same_results(left: list[dict[str, float]], right: list[dict[str, float]]) -> None:
    assert len(left) == len(right) == len(QUERIES)
    for here, there in zip(left, right, strict=True):
        assert here.keys() == there.keys()
        for point_id, score in here.items():
            assert there[point_id] == pytest.approx(score, abs=1e-4)


def assert_same_points(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for point_id, (dense, sparse, payload) in left.items():
        other_dense, other_sparse, other_payload = right[point_id]
        assert other_payload == payload
        assert other_dense == pytest.approx(dense, abs=1e-6)
        assert other_sparse.keys() == sparse.keys()
        for index, value in sparse.items():
            assert other_sparse[index] == pytest.approx(value, rel=1e-6)


def test_copy_edge_to_qdrant_client_and_back(data_dir: Path, edge_index: list[IndexPoint]) -> None:
    out = devia("index", "copy", "--from", "edge", "--to", "local", "--batch-size", "5")
    assert f"copied {len(edge_index)} points in 4 batches" in " ".join(out.split())
    assert "searches return the same ids" in " ".join(out.split())
    edge = snapshot("edge", data_dir / "index")
    local = snapshot("local", data_dir / "index")
    assert len(edge) == len(edge_index)
    assert_same_points(edge, local)
    assert_same_results(
        dense_results("edge", data_dir / "index"), dense_results("local", data_dir / "index")
    )

    # Idempotent: a second run overwrites the same points.
    devia("index", "copy", "--from", "edge", "--to", "local")
    assert len(snapshot("local", data_dir / "index")) == len(edge_index)

    # And back into a fresh Edge folder: a site can move either way.
    back = data_dir.parent / "back"
    devia("index", "copy", "--from", "local", "--to", "edge", "--to-dir", str(back))
    assert_same_points(snapshot("edge", back), edge)
    info = devia("index", "info", "--index", "edge", "--index-dir", str(back))
    assert f"{len(edge_index)} points, {DIM}-d" in info


def test_export_import_through_a_dump_file(
    data_dir: Path, edge_index: list[IndexPoint], tmp_path: Path
) -> None:
    dump = tmp_path / "index.jsonl.gz"
    out = devia("index", "export", str(dump))
    assert f"exported {len(edge_index)} points" in out
    assert not dump.with_name(dump.name + ".partial").exists()
    target = tmp_path / "elsewhere"
    for _ in range(2):  # importing twice leaves the same index
        out = devia("index", "import", str(dump), "--index", "local", "--index-dir", str(target))
        assert f"it now holds {len(edge_index)}" in " ".join(out.split())
    assert_same_points(snapshot("local", target), snapshot("edge", data_dir / "index"))
    assert_same_results(dense_results("local", target), dense_results("edge", data_dir / "index"))
    assert "exists" in devia_fails("index", "export", str(dump))


def _rewrite(source: Path, target: Path, keep: int | None, extra: str = "") -> None:
    with gzip.open(source, "rt") as handle:
        lines = handle.readlines()
    with gzip.open(target, "wt") as handle:
        handle.writelines(lines[:keep] if keep is not None else lines)
        handle.write(extra)


def test_bad_dumps_are_refused_before_any_write(
    data_dir: Path, edge_index: list[IndexPoint], tmp_path: Path
) -> None:
    dump = tmp_path / "good.jsonl.gz"
    devia("index", "export", str(dump))
    target = tmp_path / "target"
    truncated = tmp_path / "truncated.jsonl.gz"
    _rewrite(dump, truncated, keep=10)
    assert "truncated (no end marker after 9 points)" in devia_fails(
        "index", "import", str(truncated), "--index", "local", "--index-dir", str(target)
    )
    garbled = tmp_path / "garbled.jsonl.gz"
    _rewrite(dump, garbled, keep=-1, extra='{"id": "x"}\n')
    assert "line" in devia_fails(
        "index", "import", str(garbled), "--index", "local", "--index-dir", str(target)
    )
    plain = tmp_path / "plain.txt"
    plain.write_text("hello\n")
    assert "not a readable gzip dump" in devia_fails(
        "index", "import", str(plain), "--index", "local", "--index-dir", str(target)
    )
    assert "no such file" in devia_fails("index", "import", str(tmp_path / "missing.gz"))
    for store in opened("local", target):
        assert store.dense_dim is None and store.count() == 0  # nothing was written


def test_copy_refuses_nonsense(data_dir: Path, tmp_path: Path) -> None:
    assert "same index" in devia_fails("index", "copy", "--from", "edge", "--to", "edge")
    assert "no collection yet" in devia_fails(
        "index", "copy", "--from", "edge", "--to", "local", "--from-dir", str(tmp_path / "e")
    )
    assert "unknown index" in devia_fails("index", "copy", "--from", "edge", "--to", "qdrant")
