"""ingest_paths end to end on the in-memory engine: re-runs, revisions, bad input, restarts."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from ingestion.mapping import load_mapping
from ingestion.pipeline import IngestOptions, ingest_paths
from ingestion.report import FileStatus
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import ChunkKind, Payload
from retrieval.store.base import Filter, IndexStore

from .conftest import write_batch_record, write_deviation_csv, write_image_only_pdf, write_sop


def _status(report: Any) -> dict[str, FileStatus]:
    return {f.path: f.status for f in report.files}


def _payloads(store: IndexStore, **must: Any) -> list[dict[str, Any]]:
    return [dict(p.payload) for p in store.scroll(Filter(must=must) if must else None)]


def test_ingest_then_rerun_skips_everything(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sop(src / "sop.pdf", pages=1)
    write_batch_record(src / "br.pdf")
    write_deviation_csv(src / "deviations.csv", count=3)
    (src / "README.md").write_text("# not a document\n")
    report = ingest_paths([src], store=store, embedder=embedder, options=options)
    assert set(_status(report).values()) == {FileStatus.INGESTED}, report.to_dict()
    assert set(_status(report)) == {"sop.pdf", "br.pdf", "deviations.csv"}
    total = store.count()
    assert total == report.totals["points_added"] > 0
    for payload in _payloads(store):
        assert payload[Payload.SITE] == "SITE-A"
        assert payload[Payload.SOURCE_PATH] in {"sop.pdf", "br.pdf", "deviations.csv"}
        copy = (
            options.documents_dir
            / f"{payload[Payload.SOURCE_SHA256]}{Path(payload[Payload.SOURCE_PATH]).suffix}"
        )
        assert copy.exists()
    records = _payloads(store, **{Payload.CHUNK_KIND: ChunkKind.RECORD.value})
    assert {p[Payload.DOC_ID] for p in records} == {
        "DEV-2021-0001",
        "DEV-2021-0002",
        "DEV-2021-0003",
    }
    assert records[0][Payload.RECORD]["equipment"] == ["FBD-201", "FBD-202"]

    again = ingest_paths([src], store=store, embedder=embedder, options=options)
    assert set(_status(again).values()) == {FileStatus.UNCHANGED}
    assert again.totals["points_added"] == 0 and store.count() == total
    assert again.stage_seconds.get("parse", 0.0) == 0.0  # skipped before parsing


def test_new_revision_supersedes_old_and_late_old_revision_is_superseded(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    rev3 = write_sop(
        tmp_path / "rev3.pdf", revision="3", effective="2022-04-04", drying_limit="70", pages=1
    )
    rev4 = write_sop(tmp_path / "rev4.pdf", revision="4", pages=1)
    rev2 = write_sop(
        tmp_path / "rev2.pdf", revision="2", effective="2019-01-01", drying_limit="75", pages=1
    )
    calls: list[tuple[Filter, int]] = []
    real_replace = store.replace

    def spy(old: Filter, points: Any) -> None:
        calls.append((old, len(points)))
        real_replace(old, points)

    store.replace = spy  # type: ignore[method-assign]
    ingest_paths([rev3], store=store, embedder=embedder, options=options)
    ingest_paths([rev4], store=store, embedder=embedder, options=options)
    # One replace wrote rev 4 and re-stamped rev 3: never both effective, never neither.
    assert calls[-1][0].must[Payload.REVISION] == ["3", "4"]
    by_rev = {}
    for payload in _payloads(store, **{Payload.DOC_ID: "SOP-PRD-012"}):
        by_rev.setdefault(payload[Payload.REVISION], set()).add(
            (payload[Payload.STATUS], payload.get(Payload.SUPERSEDED_BY))
        )
    assert by_rev == {"3": {("superseded", "4")}, "4": {("effective", None)}}

    report = ingest_paths([rev2], store=store, embedder=embedder, options=options)
    assert report.files[0].status is FileStatus.INGESTED
    rev2_points = _payloads(store, **{Payload.DOC_ID: "SOP-PRD-012", Payload.REVISION: "2"})
    assert {(p[Payload.STATUS], p[Payload.SUPERSEDED_BY]) for p in rev2_points} == {
        ("superseded", "3")
    }
    effective = _payloads(store, **{Payload.DOC_ID: "SOP-PRD-012", Payload.STATUS: "effective"})
    assert {p[Payload.REVISION] for p in effective} == {"4"}


def test_changed_file_replaces_its_points(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    path = write_sop(tmp_path / "sop.pdf", pages=2)
    ingest_paths([path], store=store, embedder=embedder, options=options)
    write_sop(path, pages=1, drying_limit="66")
    report = ingest_paths([path], store=store, embedder=embedder, options=options)
    assert report.files[0].status is FileStatus.INGESTED
    stored = _payloads(store)
    assert len(stored) == report.totals["points_added"]
    assert len({p[Payload.SOURCE_SHA256] for p in stored}) == 1
    assert any("| 66 |" in p[Payload.TEXT] for p in stored)


def _encrypted_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret procedure text")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    doc.close()
    return path


def test_bad_inputs_get_clear_statuses_and_good_files_still_ingest(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sop(src / "good.pdf", pages=1)
    (src / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    _encrypted_pdf(src / "encrypted.pdf")
    (src / "empty.pdf").write_bytes(b"")
    write_image_only_pdf(src / "scan.pdf")
    (src / "latin1.txt").write_bytes("Temp\xe9rature de s\xe9chage: 60 \xb0C\n".encode("latin-1"))
    (src / "bad.csv").write_text("id,title\nDEV-1,Something\n")
    (src / "zz_copy.pdf").write_bytes((src / "good.pdf").read_bytes())
    (src / "picture.png").write_bytes(b"\x89PNG")
    big = src / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(2_000_000)  # sparse: nothing is written
    report = ingest_paths(
        [src], store=store, embedder=embedder, options=replace(options, max_file_bytes=1_000_000)
    )
    by_path = {f.path: f for f in report.files}
    assert by_path["good.pdf"].status is FileStatus.INGESTED
    assert by_path["zz_copy.pdf"].status is FileStatus.DUPLICATE
    assert "good.pdf" in by_path["zz_copy.pdf"].reason
    assert by_path["corrupt.pdf"].status is FileStatus.FAILED
    assert "PDF" in by_path["corrupt.pdf"].reason
    assert by_path["encrypted.pdf"].status is FileStatus.FAILED
    assert "password" in by_path["encrypted.pdf"].reason
    assert by_path["empty.pdf"].status is FileStatus.FAILED
    assert "0 bytes" in by_path["empty.pdf"].reason
    assert by_path["big.txt"].status is FileStatus.FAILED
    assert "too large" in by_path["big.txt"].reason
    assert by_path["bad.csv"].status is FileStatus.FAILED
    assert "missing required columns: record_type" in by_path["bad.csv"].reason
    assert by_path["picture.png"].status is FileStatus.UNSUPPORTED
    scan = by_path["scan.pdf"]
    if scan.status is FileStatus.FAILED:  # no Tesseract: reported, nothing indexed as empty
        assert scan.pages_without_text == [1] and "no text layer" in scan.reason
    latin = by_path["latin1.txt"]
    assert latin.status is FileStatus.INGESTED
    assert any("decoded as cp1252" in note for note in latin.notes)
    stored = _payloads(store)
    assert {p[Payload.SOURCE_PATH] for p in stored} == {"good.pdf", "latin1.txt"}
    assert any("Température de séchage" in p[Payload.TEXT] for p in stored)


def test_incomplete_document_is_flagged_in_payload_and_report(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    path = write_sop(tmp_path / "sop.pdf", pages=1)
    doc = pymupdf.open(path)
    scan = pymupdf.open(write_image_only_pdf(tmp_path / "scan.pdf"))
    doc.insert_pdf(scan)
    doc.save(tmp_path / "mixed.pdf")
    report = ingest_paths(
        [tmp_path / "mixed.pdf"],
        store=store,
        embedder=embedder,
        options=replace(options, ocr=False),
    )
    outcome = report.files[0]
    assert outcome.status is FileStatus.INCOMPLETE and outcome.pages_without_text == [2]
    assert report.totals["pages_without_text"] == 1
    assert all(p["incomplete"] and p["pages_without_text"] == [2] for p in _payloads(store))


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


def test_run_killed_halfway_restarts_without_duplicates_or_orphans(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for number in range(4):
        write_sop(src / f"sop{number}.pdf", doc_id=f"SOP-QA-00{number}", pages=1)
    write_deviation_csv(src / "z_deviations.csv", count=40)
    real_upsert = store.upsert
    writes = {"n": 0}

    def dying_upsert(points: Any) -> None:
        writes["n"] += 1
        if writes["n"] == 2:
            raise Killed
        real_upsert(points)

    real_replace = store.replace

    def dying_replace(old: Filter, points: Any) -> None:
        writes["n"] += 1
        if writes["n"] == 3:
            raise Killed
        real_replace(old, points)

    store.upsert = dying_upsert  # type: ignore[method-assign]
    store.replace = dying_replace  # type: ignore[method-assign]
    small_batches = replace(options, record_batch=8)
    with pytest.raises(Killed):
        ingest_paths([src], store=store, embedder=embedder, options=small_batches)
    partial = store.count()
    assert partial > 0
    store.upsert = real_upsert  # type: ignore[method-assign]
    store.replace = real_replace  # type: ignore[method-assign]
    report = ingest_paths([src], store=store, embedder=embedder, options=small_batches)
    assert report.totals["failed"] == 0
    ids = [p.id for p in store.scroll()]
    assert len(ids) == len(set(ids))

    fresh_store = type(store).in_memory("fresh")  # type: ignore[attr-defined]
    fresh = ingest_paths(
        [src],
        store=fresh_store,
        embedder=embedder,
        options=replace(
            small_batches,
            state_path=tmp_path / "fresh.sqlite",
            documents_dir=tmp_path / "fresh-docs",
        ),
    )
    assert sorted(ids) == sorted(p.id for p in fresh_store.scroll())
    assert store.count() == fresh.totals["points_added"]
    fresh_store.close()


def test_openfda_mapping_reads_only_the_index_split(
    tmp_path: Path, store: IndexStore, embedder: HashingEmbedder, options: IngestOptions
) -> None:
    rows = [
        '{"doc_id": "OFDA-1-0", "event_id": "1", "reason_for_recall": "Labeling: wrong expiry date", '
        '"classification": ["Class III"], "status": ["Terminated"], "recall_initiation_date": "20150506", '
        '"report_date": "20150624", "failure_mode": "LABEL_MIXUP", "prefix_class": "LABEL_MIXUP", '
        '"firm_key": "acme", "dosage_form": "ORAL_SOLID", "split": "index_2012_2021"}',
        '{"doc_id": "OFDA-2-0", "event_id": "2", "reason_for_recall": "Subpotent drug", '
        '"classification": ["Class II"], "status": ["Ongoing"], "recall_initiation_date": "20220506", '
        '"failure_mode": "POTENCY_SUB", "split": "dev_2022_2023H1"}',
    ]
    path = tmp_path / "recalls.jsonl"
    path.write_text("\n".join(rows) + "\n")
    mapped = replace(options, mapping=load_mapping(Path("openfda_recall_events")))
    report = ingest_paths([path], store=store, embedder=embedder, options=mapped)
    outcome = report.files[0]
    assert (outcome.status, outcome.records, outcome.rows_filtered) == (FileStatus.INGESTED, 1, 1)
    (payload,) = _payloads(store)
    assert payload[Payload.DOC_ID] == "OFDA-1-0" and payload[Payload.SITE] == "OPENFDA"
    assert payload[Payload.FAILURE_MODE] == "LABEL_MIXUP"
    assert payload[Payload.EVENT_DATE] == "2015-05-06"
    record = payload[Payload.RECORD]
    assert record["classification"] == "minor" and record["status"] == "closed"
    assert record["extra"]["firm_key"] == "acme"
    assert "Labeling: wrong expiry date" in payload[Payload.TEXT]
