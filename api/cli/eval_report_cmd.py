"""`devia eval report`: Markdown + HTML report (with plots) of the stored eval runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.settings import Settings

console = Console()


def eval_report(
    runs: Annotated[
        Path | None,
        typer.Option(
            "--runs", help="Data dir holding eval/<suite>/*.json (default DEVIA_DATA_DIR)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Report folder (default DATA_DIR/eval/report).")
    ] = None,
) -> None:
    """Newest run of each suite against the previous one: tables, deltas and plots."""
    from evals.report import write_report
    from evals.run_store import load_runs, runs_dir

    data_dir = runs if runs is not None else Settings().data_dir
    target = out if out is not None else runs_dir(data_dir) / "report"
    try:
        found = load_runs(data_dir)
        if not found:
            raise ValueError(f"no stored runs under {runs_dir(data_dir)}")
        markdown, page = write_report(
            found, target, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        )
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    for suite, suite_runs in sorted(found.items()):
        console.print(
            f"{suite}: {len(suite_runs)} stored run(s), newest {suite_runs[-1].path.name}"
        )
    console.print(f"wrote {markdown} and {page}")
