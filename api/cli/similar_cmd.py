"""`devia similar` (similar historical events, recurrence, failure-mode suggestion) and
`devia eval recalls` (the recalls retrieval suite)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.backends import open_embedder
from api.settings import Settings
from evals.recalls import DEFAULT_CORPUS, DEFAULT_QUERIES, FIELDS, RecallsConfig
from evals.result_file import write_result
from retrieval.recurrence import RecurrenceReport, assess_recurrence
from retrieval.similar import EventQuery, SimilarQueryError, SimilarResult

console = Console()


def _read_event(event: Path | None, text: str | None, sites: tuple[str, ...]) -> EventQuery:
    if event is not None and text:
        raise SimilarQueryError("give either --event PAYLOAD.json or free text, not both")
    if event is not None:
        try:
            payload = json.loads(event.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SimilarQueryError(f"cannot read the event payload {event}: {exc}") from exc
        if not isinstance(payload, dict):
            raise SimilarQueryError(f"{event}: the payload must be a JSON object")
        return EventQuery.from_payload(payload, sites)
    if not text:
        raise SimilarQueryError("give --event PAYLOAD.json or free text")
    if not sites:
        raise SimilarQueryError("free text needs --site (the site scope to search)")
    return EventQuery.from_text(text, sites)


def similar(
    text: Annotated[str | None, typer.Argument(help="Free-text event description.")] = None,
    event: Annotated[
        Path | None, typer.Option("--event", help="Event payload JSON (MES anomaly / record).")
    ] = None,
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Site scope (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    window_months: Annotated[int, typer.Option(min=1, max=240)] = 24,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Similar historical deviations, recurrence and failure-mode suggestion for an event."""
    from retrieval.similar import SimilarEventFinder
    from retrieval.store.factory import open_store
    from retrieval.vector_cache import VectorCache

    settings = Settings()
    try:
        query = _read_event(event, text, tuple(site or ()))
    except SimilarQueryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    embedder = open_embedder(settings)
    api_key = settings.index_api_key.get_secret_value() if settings.index_api_key else None
    store = open_store(
        settings.index,
        settings.index_dir,
        shards=settings.index_shards,
        replicas=settings.index_replicas,
        api_key=api_key,
    )
    try:
        finder = SimilarEventFinder(
            store, embedder, vector_cache=VectorCache.in_data_dir(settings.data_dir)
        )
        result = finder.find(query, limit=limit)
        recurrence = assess_recurrence(store, query, result, window_months=window_months)
    except SimilarQueryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        store.close()
    if as_json:
        print(json.dumps(_result_json(result, recurrence), indent=2, default=str))
        return
    _print_result(result, recurrence)


def _result_json(result: SimilarResult, recurrence: RecurrenceReport) -> dict[str, Any]:
    return {
        "query": asdict(result.query),
        "failure_modes": [asdict(s) for s in result.failure_modes],
        "similar_events": [
            {k: v for k, v in asdict(e).items() if k != "record"} for e in result.events
        ],
        "recurrence": asdict(recurrence),
        "candidates": result.candidates,
        "timings_ms": dict(result.timings_ms),
    }


def _print_result(result: SimilarResult, recurrence: RecurrenceReport) -> None:
    if result.failure_modes:
        modes = ", ".join(f"{s.failure_mode} {s.score:.2f}" for s in result.failure_modes)
        console.print(f"[bold]Suggested failure modes:[/bold] {modes}")
    table = Table(title=f"Similar events ({result.candidates} candidates)")
    for column in ("#", "record", "date", "failure mode", "score", "shared factors", "text"):
        table.add_column(column)
    for rank, e in enumerate(result.events, start=1):
        table.add_row(
            str(rank),
            e.doc_id,
            e.event_date or "",
            e.failure_mode or "",
            f"{e.scores.final:.3f}",
            "; ".join(e.shared_factors),
            e.text.replace("\n", " ")[:120],
        )
    console.print(table)
    console.print(
        f"[bold]Recurrence:[/bold] {recurrence.determination} "
        f"(window {recurrence.window_months} months)"
    )
    console.print(recurrence.rationale)


def eval_recalls(
    corpus: Annotated[Path, typer.Option(help="Recall events JSONL.")] = DEFAULT_CORPUS,
    queries: Annotated[Path, typer.Option(help="Queries JSONL.")] = DEFAULT_QUERIES,
    field: Annotated[str, typer.Option(help=f"Query field: {' | '.join(FIELDS)}.")] = "query",
    limit: Annotated[int | None, typer.Option(min=1, help="First N queries only.")] = None,
    strict: Annotated[bool, typer.Option(help="Relevant only from another firm.")] = False,
    index: Annotated[
        str, typer.Option(help="Fresh temporary index kind: edge | local | :memory:.")
    ] = "edge",
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Similar-event retrieval on FDA recall events: P@k, MRR, nDCG, failure-mode accuracy."""
    from evals.recalls import RecallsDataError, run_recalls, table_rows
    from retrieval.store.factory import open_store
    from retrieval.vector_cache import VectorCache

    if index not in ("edge", "local", ":memory:"):
        console.print("[red]error:[/red] --index must be edge, local or :memory:")
        raise typer.Exit(2)
    settings = Settings()
    config = RecallsConfig(corpus=corpus, queries=queries, field=field, strict=strict, limit=limit)
    started = time.perf_counter()
    embedder = open_embedder(settings)
    try:
        with console.status("ingesting the historical events and ranking"):
            run = run_recalls(
                config,
                embedder,
                lambda d: open_store(index, d),
                vector_cache=VectorCache.in_data_dir(settings.data_dir),
            )
    except (RecallsDataError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    mode = "strict" if strict else "standard"
    table = Table(title=f"recalls ({field}, {mode}, {run.metrics['queries']:.0f} queries)")
    for column in ("metric", "macro", "micro"):
        table.add_column(column)
    for row in table_rows(run.metrics):
        table.add_row(*row)
    console.print(table)
    console.print(
        f"index: {run.index_info['points']} points via {run.index_info['mapping']}; "
        f"ingest {run.timings['ingest_s']} s, search {run.timings['per_query_ms']} ms/query, "
        f"total {time.perf_counter() - started:.1f} s"
    )
    if json_path:
        write_result(
            json_path,
            run.metrics,
            suite="recalls",
            config=run.config,
            timings=run.timings,
            index=run.index_info,
            per_query=run.per_query,
        )
        console.print(f"wrote {json_path}")
