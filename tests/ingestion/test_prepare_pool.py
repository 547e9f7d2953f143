"""Parsing and chunking in worker processes: same chunks as the serial path, input order,
per-file failures inside the pool, and a worker that dies."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from ingestion import pipeline
from ingestion.pipeline import IngestOptions, ingest_paths
from ingestion.prepare import PreparedDocument, PrepareSettings, prepare_in_worker
from ingestion.prepare_pool import PreparePool, WorkerCrashed
from ingestion.report import FileStatus, IngestReport
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import Payload
from retrieval.store.factory import open_store

from .conftest import SHARED_PDFS, write_batch_record, write_sop

# Small and large, prose and tables (ICH Q3C: unruled tables continued across pages).
SAMPLE_PDFS = (
    "fda_pdma_drug_samples_free_clinics.pdf",
    "ich_q5c_biotech_stability.pdf",
    "fda_data_integrity_qa_guidance_2018.pdf",
    "ich_q3c_r8_residual_solvents.pdf",
)
POINT_FIELDS = (
    Payload.DOC_ID,
    Payload.REVISION,
    Payload.CHUNK_INDEX,
    Payload.CHUNK_KIND,
    Payload.TEXT,
    Payload.PAGE_START,
    Payload.PAGE_END,
    Payload.CHAR_START,
    Payload.CHAR_END,
    Payload.SECTION_PATH,
    Payload.SECTION_ID,
    Payload.SOURCE_PATH,
)


def slow_first_job(path: Path, settings: PrepareSettings) -> PreparedDocument:
    """Worker job whose file named "a*" finishes last."""
    if path.name.startswith("a"):
        time.sleep(1.5)
    return prepare_in_worker(path, settings)


def crashing_job(path: Path, settings: PrepareSettings) -> PreparedDocument:
    """Worker job that kills its process on files named "crash*" (as a MuPDF segfault would)."""
    if path.name.startswith("crash"):
        os._exit(3)
    return prepare_in_worker(path, settings)


def _ingest(paths: list[Path], tmp_path: Path, name: str, **changes: Any) -> tuple[Any, Any]:
    """(report, [point fields...] sorted by point id) of a run into a fresh index."""
    options = IngestOptions(state_path=tmp_path / f"{name}.sqlite", **changes)
    store = open_store(":memory:", Path("unused"))
    try:
        report = ingest_paths(paths, store=store, embedder=HashingEmbedder(dim=64), options=options)
        points = sorted(
            (str(p.id), *(repr(p.payload.get(field)) for field in POINT_FIELDS))
            for p in store.scroll()
        )
    finally:
        store.close()
    return report, points


def _statuses(report: IngestReport) -> list[tuple[str, str, str, int, int]]:
    return [(f.path, f.status.value, f.reason, f.pages, f.chunks) for f in report.files]


def test_parallel_run_stores_the_same_points_as_the_serial_run(tmp_path: Path) -> None:
    src = tmp_path / "pdfs"
    src.mkdir()
    for name in SAMPLE_PDFS:
        shutil.copyfile(SHARED_PDFS / name, src / name)
    serial, serial_points = _ingest([src], tmp_path, "serial", workers=1)
    parallel, parallel_points = _ingest(
        [src], tmp_path, "parallel", workers=2, parallel_min_bytes=0
    )
    assert (serial.worker_processes, parallel.worker_processes) == (0, 2)
    assert _statuses(parallel) == _statuses(serial)
    assert [f.path for f in parallel.files] == sorted(SAMPLE_PDFS)  # input order
    assert serial.totals["chunks"] > 100
    assert len(parallel_points) == serial.totals["chunks"]
    assert parallel_points == serial_points
    assert any("'table'" in point for point in parallel_points)
    stages = parallel.to_dict()["stage_seconds"]
    assert stages["parse"] > 0 and stages["chunk"] > 0 and stages["prepare_wait"] > 0


def test_too_little_to_parse_stays_in_this_process(tmp_path: Path) -> None:
    write_sop(tmp_path / "a.pdf", pages=1)
    write_batch_record(tmp_path / "b.pdf")
    report, _ = _ingest([tmp_path / "a.pdf", tmp_path / "b.pdf"], tmp_path, "small", workers=2)
    assert report.worker_processes == 0  # under parallel_min_bytes
    assert report.totals["ingested"] == 2


def test_pool_gives_documents_in_input_order_when_a_later_one_is_ready_first(
    tmp_path: Path,
) -> None:
    paths = [
        write_sop(tmp_path / "z_first.pdf", pages=1),  # prepared in this process
        write_sop(tmp_path / "a_slow.pdf", pages=2),
        write_batch_record(tmp_path / "b_fast.pdf"),
        write_batch_record(tmp_path / "c_fast.pdf", batch="B26-0811"),
    ]
    with PreparePool(paths, PrepareSettings(), workers=2, job=slow_first_job) as pool:
        assert pool.processes == 2
        docs = [pool.take(path) for path in paths]
    assert [d.meta.doc_id for d in docs[:2]] == ["SOP-PRD-012", "SOP-PRD-012"]
    assert [d.pages for d in docs[:2]] == [1, 2]
    assert [d.meta.batch_ids for d in docs[2:]] == [["B26-0810"], ["B26-0811"]]
    assert all(d.chunks and d.parse_s > 0 for d in docs)


def test_failing_files_inside_the_pool_keep_their_statuses(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sop(src / "a_good.pdf", pages=2)
    (src / "b_corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret procedure text")
    doc.save(src / "c_encrypted.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u")
    doc.close()
    write_batch_record(src / "d_batch.pdf")
    (src / "e_notes.md").write_text("# Notes\n\nLine clearance done before every batch.\n")
    serial, serial_points = _ingest([src], tmp_path, "serial", workers=1)
    parallel, parallel_points = _ingest(
        [src], tmp_path, "parallel", workers=2, parallel_min_bytes=0
    )
    assert parallel.worker_processes == 2
    assert _statuses(parallel) == _statuses(serial)
    by_path = {f.path: f for f in parallel.files}
    assert by_path["b_corrupt.pdf"].status is FileStatus.FAILED
    assert "not a readable PDF" in by_path["b_corrupt.pdf"].reason
    assert by_path["c_encrypted.pdf"].status is FileStatus.FAILED
    assert "password" in by_path["c_encrypted.pdf"].reason
    for good in ("a_good.pdf", "d_batch.pdf", "e_notes.md"):
        assert by_path[good].status is FileStatus.INGESTED
    assert parallel_points == serial_points


def test_a_dying_worker_fails_only_its_file(tmp_path: Path) -> None:
    paths = [
        write_sop(tmp_path / "a.pdf", pages=1),
        write_batch_record(tmp_path / "b.pdf"),
        write_sop(tmp_path / "crash.pdf", pages=2),
        write_batch_record(tmp_path / "d.pdf", batch="B26-0811"),
        write_batch_record(tmp_path / "e.pdf", batch="B26-0812"),
    ]
    results: dict[str, Any] = {}
    with PreparePool(paths, PrepareSettings(), workers=2, job=crashing_job) as pool:
        for path in paths:
            try:
                results[path.name] = pool.take(path).meta.batch_ids
            except WorkerCrashed as exc:
                results[path.name] = str(exc)
        assert pool.restarts >= 2  # once among the others, once alone
    assert "process died" in results.pop("crash.pdf")
    assert results == {
        "a.pdf": [],
        "b.pdf": ["B26-0810"],
        "d.pdf": ["B26-0811"],
        "e.pdf": ["B26-0812"],
    }


def test_a_dying_worker_does_not_lose_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_sop(src / "a.pdf", pages=1)
    write_sop(src / "crash.pdf", pages=2)
    write_batch_record(src / "d.pdf")
    monkeypatch.setattr(pipeline, "PreparePool", functools.partial(PreparePool, job=crashing_job))
    report, points = _ingest([src], tmp_path, "crash", workers=2, parallel_min_bytes=0)
    by_path = {f.path: f for f in report.files}
    assert by_path["crash.pdf"].status is FileStatus.FAILED
    assert "process died" in by_path["crash.pdf"].reason
    assert by_path["a.pdf"].status is FileStatus.INGESTED
    assert by_path["d.pdf"].status is FileStatus.INGESTED
    assert report.worker_restarts >= 2
    assert {p[-1] for p in points} == {"'a.pdf'", "'d.pdf'"}


def test_workers_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVIA_INGEST_WORKERS", "1")
    assert IngestOptions().workers == 1
    monkeypatch.setenv("DEVIA_INGEST_WORKERS", "3")
    assert IngestOptions().workers == 3
    assert replace(IngestOptions(), exact_tokens=True).workers_for([Path("a"), Path("b")]) == 1
    monkeypatch.setenv("DEVIA_INGEST_WORKERS", "two")
    with pytest.raises(ValueError, match="DEVIA_INGEST_WORKERS"):
        IngestOptions()


MAIN_SCRIPT = """
import os
import sys
from pathlib import Path

if __name__ != "__main__":  # imported again by a worker process
    Path(os.environ["MARKERS"], f"imported-{os.getpid()}").write_text(__name__)


def main() -> None:
    from ingestion.prepare import PrepareSettings
    from ingestion.prepare_pool import PreparePool

    paths = [Path(p) for p in sys.argv[1:]]
    with PreparePool(paths, PrepareSettings(), workers=2) as pool:
        pages = [pool.take(p).pages for p in paths]
        print(pool.processes, pages)


if __name__ == "__main__":
    main()
"""


def test_workers_do_not_import_the_main_script_again(tmp_path: Path) -> None:
    """The `devia` script imports the whole CLI: a worker importing it again costs seconds."""
    script = tmp_path / "main_script.py"
    script.write_text(MAIN_SCRIPT)
    markers = tmp_path / "markers"
    markers.mkdir()
    paths = [
        write_sop(tmp_path / "a.pdf", pages=1),
        write_sop(tmp_path / "b.pdf", pages=2),
        write_batch_record(tmp_path / "c.pdf"),
    ]
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MARKERS": str(markers), "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, str(script), *map(str, paths)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert done.stdout.split("\n")[0] == "2 [1, 2, 1]"
    assert list(markers.iterdir()) == []
