"""`devia demo`: generate the fictional demo plant corpus (SOPs, batch records, QMS, scenarios)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from evals.plant.generator import CorpusError, generate_corpus

app = typer.Typer(help="Demo plant corpus (fictional site SITE-A).", no_args_is_help=True)
console = Console()


@app.callback()
def demo() -> None:
    """Demo plant corpus (fictional site SITE-A)."""


@app.command("generate")
def generate(
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives byte-identical files.")] = 7,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <DEVIA_DATA_DIR>/demo-plant).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing generated corpus in the output folder.")
    ] = False,
) -> None:
    """Write the demo corpus: SOP and batch-record PDFs, QMS exports, MES scenarios, gold labels."""
    out_dir = out if out is not None else Settings().data_dir / "demo-plant"
    started = time.perf_counter()
    try:
        summary = generate_corpus(out_dir, seed=seed, overwrite=overwrite)
    except CorpusError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - started
    table = Table("item", "count")
    for name, count in summary.counts.items():
        table.add_row(name, str(count))
    console.print(table)
    console.print(
        f"{summary.out_dir}: {summary.total_bytes / 1e6:.2f} MB in {elapsed:.1f} s (seed {seed})"
    )
