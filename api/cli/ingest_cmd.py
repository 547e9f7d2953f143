"""`devia ingest PATH...` and `devia bench ingest PATH...`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from ingestion.mapping import MappingError, load_mapping
from ingestion.patterns import MetadataPatterns, load_patterns
from ingestion.pipeline import IngestOptions, ingest_paths
from retrieval.index_contract import DocType

if TYPE_CHECKING:
    from retrieval.embedding import SentenceTransformerEmbedder

console = Console()
TYPES = ("auto", *(t.value for t in DocType))
STATE_FILE = "ingest-state.sqlite"


WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Processes that parse and chunk documents ahead of the embedding "
        "(1: in this process). Default: $DEVIA_INGEST_WORKERS, else 2.",
    ),
]


def _options(
    settings: Settings,
    doc_type: str,
    site: str | None,
    mapping: Path | None,
    patterns: Path | None,
    workers: int | None = None,
) -> IngestOptions:
    if doc_type not in TYPES:
        console.print(f"[red]error:[/red] --type must be one of {', '.join(TYPES)}")
        raise typer.Exit(2)
    try:
        loaded_mapping = load_mapping(mapping) if mapping else None
        loaded_patterns = load_patterns(patterns) if patterns else MetadataPatterns()
        options = IngestOptions(
            documents_dir=settings.data_dir / "documents",
            state_path=settings.index_dir / STATE_FILE,
            doc_type=None if doc_type == "auto" else DocType(doc_type),
            site=site,
            mapping=loaded_mapping,
            max_file_bytes=settings.max_upload_bytes,
            patterns=loaded_patterns,
        )
    except (MappingError, ValueError, OSError) as exc:  # ValueError: also DEVIA_INGEST_WORKERS
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return replace(options, workers=workers) if workers is not None else options


def _embedder(settings: Settings) -> SentenceTransformerEmbedder:
    from api.backends import open_embedder

    return open_embedder(settings)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    doc_type: Annotated[
        str, typer.Option("--type", help=f"Document type: {', '.join(TYPES)}.")
    ] = "auto",
    site: Annotated[
        str | None, typer.Option(help="Site of documents and records that name none.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="Field mapping (JSON) for foreign QMS exports, or a bundled name."),
    ] = None,
    patterns: Annotated[
        Path | None, typer.Option(help="JSON overrides of the metadata regex patterns.")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here.")] = None,
    workers: WorkersOption = None,
) -> None:
    """Ingest PDFs, DOCX, Markdown/text and QMS exports into the index."""
    from retrieval.store.factory import open_store

    settings = Settings()
    options = _options(settings, doc_type, site, mapping, patterns, workers)
    with console.status("loading the embedding model"):
        embedder = _embedder(settings)
    api_key = settings.index_api_key.get_secret_value() if settings.index_api_key else None
    store = open_store(
        settings.index,
        settings.index_dir,
        shards=settings.index_shards,
        replicas=settings.index_replicas,
        api_key=api_key,
    )
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("ingesting", total=None)

            def update(current: str, done: int, total: int) -> None:
                progress.update(
                    task, completed=done, total=total, description=current[-50:] or "done"
                )

            report = ingest_paths(
                paths,
                store=store,
                embedder=embedder,
                options=replace(options, progress=update),
            )
    finally:
        store.close()
    report.print(console)
    if json_path:
        report.write_json(json_path)
    if report.totals["failed"]:
        raise typer.Exit(1)


def bench_ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to ingest.")],
    runs: Annotated[int, typer.Option(min=1, help="Runs (medians are reported).")] = 3,
    mapping: Annotated[Path | None, typer.Option(help="Field mapping for QMS exports.")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the metrics here.")
    ] = None,
    workers: WorkersOption = None,
) -> None:
    """Ingestion throughput per stage (parse, chunk, embed, upsert) into fresh edge indexes."""
    from evals.bench_ingest import run_bench
    from evals.result_file import write_result

    settings = Settings()
    options = _options(settings, "auto", None, mapping, None, workers)
    with console.status("loading the embedding model"):
        embedder = _embedder(settings)
    metrics, details = run_bench(paths, embedder, options, runs=runs, console=console)
    if json_path:
        write_result(json_path, metrics, embedder=embedder.name, **details)
