"""`devia eval claims`: score claim-support verifiers on FDA warning-letter claim/evidence pairs.

Also `fit_claims_verifier` (suggested: `devia eval claims-fit`), which refits the hybrid
verifier's model file from labelled pairs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from assistant.verification.support_model import SHIPPED_MODEL_PATH
from evals.claims import (
    DEFAULT_PAIRS,
    VERIFIERS,
    ClaimsDataError,
    EvalProtocol,
    fit_shipped_model,
    run_claims_eval,
)
from evals.result_file import write_result
from retrieval.embedding import Embedder

console = Console()


def _embedder_factory(settings: Settings) -> Embedder:
    from api.backends import open_embedder

    return open_embedder(settings)


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def eval_claims(
    data: Annotated[Path, typer.Option(help="Claim/evidence pairs (JSONL).")] = DEFAULT_PAIRS,
    limit: Annotated[
        int | None, typer.Option(help="Score a seeded random sample of this many pairs.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --limit sample.")] = 0,
    verifier: Annotated[
        list[str] | None,
        typer.Option(
            "--verifier",
            help=f"Verifier(s) to score, repeatable: {', '.join(VERIFIERS)}. The first one's "
            "figures are the unprefixed metrics. Default: hybrid.",
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            help="hybrid only: auto (grouped cross-fitting when the data overlaps the shipped "
            "model's training pairs, else the shipped model), cv, or shipped."
        ),
    ] = "auto",
    model: Annotated[Path, typer.Option(help="Hybrid verifier model file.")] = SHIPPED_MODEL_PATH,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the metrics to this JSON file.")
    ] = None,
) -> None:
    """AUC (all pairs, hard negatives only), accuracy at the operating threshold, timings."""
    if protocol not in ("auto", "cv", "shipped"):
        raise typer.BadParameter("--protocol must be auto, cv or shipped")
    names = verifier or ["hybrid"]
    unknown = [n for n in names if n not in VERIFIERS]
    if unknown:
        raise typer.BadParameter(f"unknown verifier(s) {unknown}; known: {', '.join(VERIFIERS)}")
    settings = Settings()
    eval_protocol: EvalProtocol = protocol  # type: ignore[assignment]
    try:
        with console.status("scoring claim/evidence pairs"):
            report = run_claims_eval(
                data=data,
                verifiers=names,
                limit=limit,
                seed=seed,
                embedder_factory=lambda: _embedder_factory(settings),
                model_path=model,
                protocol=eval_protocol,
            )
    except (ClaimsDataError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc

    m = report.metrics
    table = Table(
        "verifier",
        "AUC",
        "AUC_hard",
        "AUC_easy",
        "accuracy",
        "acc_hard",
        "threshold",
        "seconds",
        "protocol",
        title=(
            f"claims: {m['n_pairs']} pairs ({m['n_supported']} supported, "
            f"{m['n_hard_negatives']} hard / {m['n_easy_negatives']} easy negatives, "
            f"{m['n_groups']} letters)"
        ),
    )
    for result in report.verifiers:
        r = result.metrics
        table.add_row(
            result.name + (" (baseline)" if result.name == "keyword" else ""),
            _fmt(r["AUC"]),
            _fmt(r["AUC_hard"]),
            _fmt(r["AUC_easy"]),
            _fmt(r["accuracy"]),
            _fmt(r["accuracy_hard"]),
            f"{result.threshold:.2f}",
            f"{result.seconds:.1f}",
            result.protocol,
        )
    console.print(table)
    if json_out is not None:
        write_result(json_out, report.metrics, **report.details)
        console.print(f"metrics written to {json_out}")


def fit_claims_verifier(
    data: Annotated[
        Path, typer.Option(help="Labelled claim/evidence pairs (JSONL).")
    ] = DEFAULT_PAIRS,
    out: Annotated[Path, typer.Option(help="Model file to write.")] = SHIPPED_MODEL_PATH,
) -> None:
    """Refit the hybrid claim-support model (topic model + combiner) and write it."""
    settings = Settings()
    try:
        with console.status("embedding pairs and fitting"):
            fitted = fit_shipped_model(data, out, lambda: _embedder_factory(settings))
    except (ClaimsDataError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"wrote {out}: {fitted.description}")
