"""The same ingestion on Qdrant Edge, and with the real sentence-transformers embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.pipeline import IngestOptions, ingest_paths
from ingestion.report import FileStatus
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload
from retrieval.store.base import Filter
from retrieval.store.factory import open_store

from .conftest import SHARED_PDFS, write_deviation_csv, write_sop
from .q3c_check import QA_PATH, q3c_hit_rate


def test_edge_backend_ingest_rerun_and_reopen(tmp_path: Path, options: IngestOptions) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sop(src / "sop_rev3.pdf", revision="3", effective="2022-04-04", pages=1)
    write_sop(src / "sop_rev4.pdf", revision="4", pages=1)
    write_deviation_csv(src / "deviations.csv", count=5)
    embedder = HashingEmbedder(dim=32)
    store = open_store("edge", tmp_path / "index")
    try:
        report = ingest_paths([src], store=store, embedder=embedder, options=options)
        assert report.totals["ingested"] == 3 and report.totals["failed"] == 0
        total = store.count()
        effective = Filter(must={Payload.DOC_ID: "SOP-PRD-012", Payload.STATUS: "effective"})
        assert {p.payload[Payload.REVISION] for p in store.scroll(effective)} == {"4"}
    finally:
        store.close()
    reopened = open_store("edge", tmp_path / "index")
    try:
        again = ingest_paths([src], store=reopened, embedder=embedder, options=options)
        assert {f.status for f in again.files} == {FileStatus.UNCHANGED}
        assert reopened.count() == total and again.totals["points_added"] == 0
    finally:
        reopened.close()


@pytest.mark.embedder
@pytest.mark.skipif(not QA_PATH.exists(), reason="shared Q3C question set not on this machine")
def test_q3c_table_rows_retrievable_with_minilm(tmp_path: Path, options: IngestOptions) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    store = open_store("edge", tmp_path / "index")
    try:
        pdf = SHARED_PDFS / "ich_q3c_r8_residual_solvents.pdf"
        report = ingest_paths([pdf], store=store, embedder=embedder, options=options)
        assert report.files[0].status is FileStatus.INGESTED
        rate, questions, misses = q3c_hit_rate(store, embedder, ["GLOBAL"], k=5)
        print(f"Q3C table answers in top 5: {rate:.3f} of {questions} ({misses})")
        assert rate >= 0.9, misses
    finally:
        store.close()
