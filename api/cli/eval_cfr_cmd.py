"""`devia eval cfr-qa`: which 21 CFR section an FDA observation violates (evals/cfr_qa.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from evals.cfr_qa import DEFAULT_ITEMS, DEFAULT_KNOWLEDGE, METHODS, CfrQaDataError
from evals.result_file import write_result
from evals.run_store import new_run_path

console = Console()


def _fmt(value: float | int) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def eval_cfr_qa(
    data: Annotated[
        Path, typer.Option("--data", help="Items (cfr_citation_qa.jsonl format).")
    ] = DEFAULT_ITEMS,
    corpus: Annotated[
        Path,
        typer.Option("--corpus", help="Knowledge: violation records (violation_records format)."),
    ] = DEFAULT_KNOWLEDGE,
    method: Annotated[str, typer.Option(help=f"{' | '.join(METHODS)}.")] = "knn",
    k: Annotated[int, typer.Option(min=1, help="knn: neighbours that vote.")] = 15,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Score a seeded random sample of N items.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --limit sample.")] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result JSON here.")
    ] = None,
    store: Annotated[
        bool, typer.Option(help="Also keep the run in DEVIA_DATA_DIR/eval/cfr-qa/ for reports.")
    ] = True,
) -> None:
    """Top-1/top-3 accuracy of the 21 CFR section, never answered from the item's own firm."""
    from evals.cfr_qa import run_cfr_qa
    from retrieval.embedding import SentenceTransformerEmbedder

    if method not in METHODS:
        raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
    settings = Settings()
    try:
        with console.status("embedding observations and violation records"):
            run = run_cfr_qa(
                lambda: SentenceTransformerEmbedder(
                    settings.embed_model_path, settings.embed_batch_size
                ),
                data,
                corpus,
                method=method,
                limit=limit,
                seed=seed,
                k=k,
            )
    except (CfrQaDataError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    m = run.metrics
    table = Table(
        "method",
        "top-1",
        "top-3",
        "top-5",
        "top-1 macro",
        title=(
            f"cfr-qa: {m['n_items']} items from {m['n_firms']} firms, "
            f"{m['n_knowledge_records']} violation records, {m['n_sections']} sections"
        ),
    )
    table.add_row(method, *(_fmt(m[x]) for x in ("top1", "top3", "top5", "top1_macro")))
    table.add_row(
        "majority (floor)",
        *(_fmt(m[f"baseline_majority_{x}"]) for x in ("top1", "top3", "top5", "top1_macro")),
    )
    console.print(table)
    console.print(f"{m['seconds']:.1f} s ({m['items_per_s']:.1f} items/s after loading)")
    extra = {
        "suite": "cfr-qa",
        "config": run.config,
        "timings": run.timings,
        "embedder": str(settings.embed_model_path or "bundled all-MiniLM-L6-v2"),
        "per_item": run.per_item,
    }
    targets = [json_out] if json_out else []
    if store:
        targets.append(new_run_path(settings.data_dir, "cfr-qa"))
    for target in targets:
        write_result(target, run.metrics, **extra)
        console.print(f"wrote {target}")
