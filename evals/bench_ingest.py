"""Ingestion benchmark: pages/s and chunks/s per stage, medians of several runs, each run into
a fresh temporary Qdrant Edge index; then a re-run over the same inputs (all unchanged)."""

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

from ingestion.pipeline import IngestOptions, ingest_paths
from ingestion.report import STAGES, IngestReport
from retrieval.embedding import Embedder
from retrieval.store.factory import open_store


def _rates(report: IngestReport) -> dict[str, float]:
    totals = report.totals
    pages, chunks = totals["pages"], totals["chunks"]
    stage = report.stage_seconds

    def per_s(count: float, seconds: float) -> float:
        return count / seconds if seconds > 0 else float("nan")

    return {
        "pages": pages,
        "chunks": chunks,
        "points_added": totals["points_added"],
        "total_s": report.elapsed_s,
        "pages_per_s": per_s(pages, report.elapsed_s),
        "chunks_per_s": per_s(chunks, report.elapsed_s),
        "parse_pages_per_s": per_s(pages, stage.get("parse", 0.0)),
        "chunk_pages_per_s": per_s(pages, stage.get("chunk", 0.0)),
        "parse_chunk_pages_per_s": per_s(pages, stage.get("parse", 0.0) + stage.get("chunk", 0.0)),
        "embed_chunks_per_s": per_s(chunks, stage.get("embed", 0.0)),
        "upsert_chunks_per_s": per_s(chunks, stage.get("upsert", 0.0)),
        **{f"{name}_s": stage.get(name, 0.0) for name in STAGES},
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
                per_run.append(_rates(report))
                console.print(
                    f"run {run + 1}/{runs}: {report.totals['pages']} pages, "
                    f"{report.totals['chunks']} chunks in {report.elapsed_s:.1f}s"
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
    metrics.update(rerun)
    metrics["rerun_fraction"] = rerun["rerun_s"] / metrics["total_s"] if metrics["total_s"] else 0.0
    metrics["runs"] = runs
    table = Table("metric", "median", title=f"devia bench ingest ({runs} runs)")
    for name, value in metrics.items():
        table.add_row(name, f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    return metrics, {"per_run": per_run, "inputs": [str(p) for p in paths]}
