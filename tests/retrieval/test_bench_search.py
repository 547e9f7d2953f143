"""The search benchmark runs end to end on a tiny configuration and reports its metrics."""

from __future__ import annotations

from pathlib import Path

from evals.bench_search import BenchConfig, SyntheticCorpus, run_bench, size_label
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload


def test_synthetic_corpus_is_deterministic_and_contract_shaped() -> None:
    a = SyntheticCorpus(32, seed=1).points(0, 20)
    b = SyntheticCorpus(32, seed=1).points(0, 20)
    assert [p.id for p in a] == [p.id for p in b]
    assert len({p.id for p in a}) == 20
    for p in a:
        assert p.payload[Payload.SITE] and p.payload[Payload.TEXT] and p.sparse.indices
        assert abs(sum(x * x for x in p.dense) - 1.0) < 1e-4


def test_bench_reports_latency_metrics(tmp_path: Path) -> None:
    config = BenchConfig(
        points=400, small=200, queries=4, runs=2, dim=32, with_local=True, work_dir=tmp_path
    )
    report = run_bench(config, HashingEmbedder(32), progress=lambda _: None)
    m = report.metrics
    for name in (
        "p50_ms@200",
        "p95_ms@200",
        "p95_ms@400",
        "embed_p95_ms",
        "p95_ms_with_embed@400",
        "upsert_points_per_s",
        "local_p95_ms@200",
    ):
        assert m[name] > 0, name
    assert m["p95_ms@400"] >= m["p50_ms@400"]
    assert m["p95_ms_with_embed@400"] >= m["p50_ms@400"]
    assert m["mean_hits@400"] > 0  # the filters select something
    assert list(tmp_path.iterdir()) == []  # the temporary index is removed
    assert size_label(100_000) == "100k" and size_label(1234) == "1234"
