"""Ingestion benchmark: pages/s and chunks/s per stage, medians of several runs, each run into
a fresh temporary Qdrant Edge index; then a re-run over the same inputs (all unchanged).

Each run first parses and chunks the documents alone (no embedding, no index), with the same
worker processes ingestion uses, for `parse_chunk_pages_per_s`; then ingests them fully.
`METRIC_MEANING` (written into the JSON) says how every rate is computed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ingestion.pipeline import DOCUMENT_SUFFIXES, IngestOptions, discover, ingest_paths
from ingestion.prepare_pool import PreparePool
from ingestion.report import STAGES, IngestReport
from retrieval.embedding import Embedder
from retrieval.store.factory import open_store

METRIC_MEANING = {
    "parse_chunk_pages_per_s": "pages / wall seconds of the parse + chunk pass alone (every "
    "document parsed and chunked, nothing embedded), with the run's worker processes; it "
    "follows the run's full ingestion, so the worker processes' forkserver is running",
    "total_first_run_s": "total_s of run 1, the only one that starts the forkserver (its "
    "imports, once per process) as a fresh `devia ingest` does",
    "parse_chunk_cpu_pages_per_s": "pages / (parse_s + chunk_s): the rate of one process "
    "(worker seconds summed)",
    "parse_pages_per_s, chunk_pages_per_s": "pages / parse_s, pages / chunk_s of the full run",
    "parse_s, chunk_s": "full run: seconds measured around parsing + metadata and chunking of "
    "each document where it ran (this process or a worker), summed; with workers they overlap "
    "the embedding, so stage seconds can add up to more than total_s",
    "prepare_wait_s": "full run: wall seconds the ingesting process waited for parsed and "
    "chunked documents (serial: the parse + chunk itself)",
    "embed_s, upsert_s, hash_s, copy_s, optimize_s": "full run: wall seconds in the ingesting "
    "process",
    "total_s, pages_per_s, chunks_per_s": "full run wall clock: parse + chunk + embed + upsert",
}


def _per_s(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def _rates(report: IngestReport) -> dict[str, float]:
    totals = report.totals
    pages, chunks = totals["pages"], totals["chunks"]
    stage = report.stage_seconds
    parse_chunk_s = stage.get("parse", 0.0) + stage.get("chunk", 0.0)
    return {
        "pages": pages,
        "chunks": chunks,
        "points_added": totals["points_added"],
        "total_s": report.elapsed_s,
        "pages_per_s": _per_s(pages, report.elapsed_s),
        "chunks_per_s": _per_s(chunks, report.elapsed_s),
        "parse_pages_per_s": _per_s(pages, stage.get("parse", 0.0)),
        "chunk_pages_per_s": _per_s(pages, stage.get("chunk", 0.0)),
        "parse_chunk_cpu_pages_per_s": _per_s(pages, parse_chunk_s),
        "embed_chunks_per_s": _per_s(chunks, stage.get("embed", 0.0)),
        "upsert_chunks_per_s": _per_s(chunks, stage.get("upsert", 0.0)),
        "worker_processes": report.worker_processes,
        **{f"{name}_s": stage.get(name, 0.0) for name in STAGES},
    }


def parse_chunk_pass(paths: Sequence[Path], options: IngestOptions) -> dict[str, float]:
    """Parse and chunk every document under `paths` (no hashing, embedding or index) the way
    ingestion does, workers included: pages, chunks, wall seconds, failed files."""
    documents = [
        path
        for path, _ in discover(paths, options.exclude)
        if path.suffix.lower() in DOCUMENT_SUFFIXES
    ]
    pages = chunks = failed = 0
    start = time.perf_counter()
    with PreparePool(
        documents, options.prepare_settings, workers=options.workers_for(documents)
    ) as pool:
        for path in documents:
            try:
                prepared = pool.take(path)
            except Exception:  # counted, as ingestion reports it per file
                failed += 1
                continue
            pages += prepared.pages
            chunks += len(prepared.chunks)
        processes = pool.processes
    seconds = time.perf_counter() - start
    return {
        "parse_chunk_pass_s": seconds,
        "parse_chunk_pages_per_s": _per_s(pages, seconds),
        "parse_chunk_pass_pages": pages,
        "parse_chunk_pass_chunks": chunks,
        "parse_chunk_pass_failed": failed,
        "parse_chunk_pass_workers": processes,
    }


def run_bench(
    paths: Sequence[Path],
    embedder: Embedder,
    options: IngestOptions,
    runs: int = 3,
    console: Console | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """(median metrics, extra details). Each run: a fresh edge index, registry and documents
    folder; the last run is followed by a second ingestion of the same inputs."""
    console = console or Console()
    per_run: list[dict[str, float]] = []
    rerun: dict[str, float] = {}
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="devia-bench-ingest-") as tmp:
            root = Path(tmp)
            run_options = replace(
                options, documents_dir=root / "documents", state_path=root / "ingest-state.sqlite"
            )
            store = open_store("edge", root / "index")
            try:
                report = ingest_paths(paths, store=store, embedder=embedder, options=run_options)
                alone = parse_chunk_pass(paths, run_options)
                per_run.append({**_rates(report), **alone})
                console.print(
                    f"run {run + 1}/{runs}: full: {report.totals['pages']} pages, "
                    f"{report.totals['chunks']} chunks in {report.elapsed_s:.1f}s; "
                    f"parse + chunk alone {alone['parse_chunk_pass_s']:.2f}s "
                    f"({alone['parse_chunk_pages_per_s']:.0f} pages/s, "
                    f"{alone['parse_chunk_pass_workers']:.0f} worker processes)"
                )
                if run == runs - 1:
                    start = time.perf_counter()
                    again = ingest_paths(paths, store=store, embedder=embedder, options=run_options)
                    rerun = {
                        "rerun_s": time.perf_counter() - start,
                        "rerun_points_added": again.totals["points_added"],
                        "rerun_skipped": again.totals["skipped_unchanged"],
                        "rerun_ingested": again.totals["ingested"],
                    }
            finally:
                store.close()
    metrics = {name: statistics.median(r[name] for r in per_run) for name in per_run[0]}
    metrics["total_first_run_s"] = per_run[0]["total_s"]
    metrics.update(rerun)
    metrics["rerun_fraction"] = rerun["rerun_s"] / metrics["total_s"] if metrics["total_s"] else 0.0
    metrics["runs"] = runs
    table = Table("metric", "median", title=f"devia bench ingest ({runs} runs)")
    for name, value in metrics.items():
        table.add_row(name, f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(
        "parse_chunk_pages_per_s = pages / wall seconds of parsing + chunking every document "
        "alone (no embedding), with the same worker processes as ingestion; "
        "parse_chunk_cpu_pages_per_s = pages / summed per-document parse + chunk seconds"
    )
    return metrics, {
        "per_run": per_run,
        "inputs": [str(p) for p in paths],
        "workers": options.workers,
        "metric_meaning": METRIC_MEANING,
    }
