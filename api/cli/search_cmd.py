"""`devia search` (hybrid search from the terminal) and `devia bench search` (its latency)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from retrieval.embedding import Embedder
from retrieval.index_contract import DocType
from retrieval.store.base import SearchMode

console = Console()

_DATE = ["%Y-%m-%d"]


def _embedder(settings: Settings) -> Embedder:
    from api.backends import open_embedder

    return open_embedder(settings)


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def search(
    text: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    site: Annotated[
        list[str],
        typer.Option("--site", help="Site(s) you may see (required, repeatable): the scope."),
    ],
    doc_type: Annotated[
        list[DocType] | None, typer.Option("--type", help="Document type(s), repeatable.")
    ] = None,
    product: Annotated[list[str] | None, typer.Option("--product", help="Product code(s).")] = None,
    equipment: Annotated[
        list[str] | None, typer.Option("--equipment", help="Equipment tag(s).")
    ] = None,
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=_DATE, help="Event date from (records only)."),
    ] = None,
    date_to: Annotated[
        datetime | None, typer.Option("--to", formats=_DATE, help="Event date to, inclusive.")
    ] = None,
    include_superseded: Annotated[
        bool, typer.Option("--include-superseded", help="Also search superseded revisions.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    group: Annotated[
        bool, typer.Option("--group", help="One row per document: its best chunk + count.")
    ] = False,
    mode: Annotated[SearchMode, typer.Option("--mode")] = SearchMode.HYBRID,
) -> None:
    """Hybrid (dense + keyword) search of the index, scoped to your site(s)."""
    from retrieval.search import Searcher, SearchRequest, SearchRequestError
    from retrieval.store.errors import StoreError
    from retrieval.store.factory import open_store

    settings = Settings()
    try:
        request = SearchRequest(
            text,
            sites=site,
            doc_types=doc_type or (),
            products=product or (),
            equipment=equipment or (),
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
            include_superseded=include_superseded,
            limit=limit,
            mode=mode,
            group_by_document=group,
            component_scores=True,  # interactive: show why each hit ranks where it does
        )
    except SearchRequestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    api_key = settings.index_api_key.get_secret_value() if settings.index_api_key else None
    try:
        store = open_store(
            settings.index,
            settings.index_dir,
            shards=settings.index_shards,
            replicas=settings.index_replicas,
            api_key=api_key,
        )
    except StoreError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        embedder = None if mode is SearchMode.SPARSE else _embedder(settings)
        searcher = Searcher(store, embedder)
        result = searcher.search(request)
    except (StoreError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        store.close()

    table = Table(title=f"{len(result.hits)} result(s) for {text!r} in {', '.join(request.sites)}")
    for column in (
        "#",
        "score",
        "dense",
        "sparse",
        "document",
        "type",
        "site",
        "section",
        "pages",
        *(["chunks"] if group else []),
        "text",
    ):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(result.hits, 1):
        document = f"{hit.doc_id} rev {hit.revision}" if hit.revision else hit.doc_id
        if hit.status == "superseded":
            document += " (superseded)"
        table.add_row(
            str(rank),
            _score(hit.score),
            _score(hit.dense_score),
            _score(hit.sparse_score),
            document,
            hit.doc_type,
            hit.site,
            hit.section_id or "",
            hit.pages,
            *([str(hit.chunks_in_document)] if group else []),
            _snippet(hit.text),
        )
    console.print(table)
    console.print(
        f"[dim]embedding {result.embed_ms:.1f} ms, search {result.search_ms:.1f} ms, "
        f"index {settings.index}[/dim]"
    )


def bench_search(
    points: Annotated[int, typer.Option(help="Index size to measure (and 10k).")] = 100_000,
    queries: Annotated[int, typer.Option(help="Queries per timed pass.")] = 200,
    runs: Annotated[int, typer.Option(help="Timed passes; figures are their medians.")] = 3,
    with_local: Annotated[
        bool, typer.Option("--with-local", help="Also time qdrant-client local mode at 10k.")
    ] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the metrics here.")
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="Where the temporary index goes (default: system tmp).")
    ] = None,
) -> None:
    """Latency of a filtered hybrid query on a synthetic Edge index (p50/p95, medians)."""
    from evals.bench_search import BenchConfig, iter_rows, run_bench
    from evals.result_file import write_result

    settings = Settings()
    embedder = _embedder(settings)
    config = BenchConfig(
        points=points,
        queries=queries,
        runs=runs,
        dim=embedder.dim,
        with_local=with_local,
        work_dir=work_dir,
    )
    try:
        report = run_bench(config, embedder, progress=lambda m: console.print(f"[dim]{m}[/dim]"))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table("metric", "value", title="devia bench search")
    for name, value in iter_rows(report.metrics):
        table.add_row(name, value)
    console.print(table)
    console.print(
        f"[dim]{report.notes['query']}; {report.notes['cpus']} CPUs, 1-minute load average "
        f"{report.notes['load_avg_1m']} (a shared machine slows every figure)[/dim]"
    )
    if json_path is not None:
        write_result(json_path, report.metrics, bench="search", **report.notes)
        console.print(f"metrics written to {json_path}")
