"""`devia index`: move an index between the embedded Qdrant Edge default and a Qdrant server
(or qdrant-client local mode) without re-ingesting, directly or through a dump file.

An index is named as in DEVIA_INDEX: "edge", "local" or the http(s) URL of a Qdrant server.
Edge and local mode live under a folder (DEVIA_DATA_DIR/index unless --*-dir says otherwise);
a server collection is created with DEVIA_INDEX_SHARDS shards and DEVIA_INDEX_REPLICAS
replicas. Stop `devia serve` / `devia worker` first: Edge and local mode lock their folder.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from api.settings import Settings

if TYPE_CHECKING:
    from retrieval.store.transfer import ExportableStore

app = typer.Typer(
    help="Move the index between Qdrant Edge and a Qdrant server (no re-ingestion).",
    no_args_is_help=True,
)
console = Console(stderr=True)

IndexOpt = Annotated[
    str | None, typer.Option(help="'edge', 'local' or a Qdrant URL (default DEVIA_INDEX).")
]
DirOpt = Annotated[
    Path | None, typer.Option(help="Index folder for edge/local (default DEVIA_DATA_DIR/index).")
]
BatchOpt = Annotated[int, typer.Option(min=1, max=10_000, help="Points per upsert batch.")]


def _open(
    settings: Settings,
    index: str,
    index_dir: Path | None,
    shards: int | None = None,
    replicas: int | None = None,
) -> ExportableStore:
    from api.backends import open_index

    store = open_index(settings, index, index_dir, shards=shards, replicas=replicas)
    return store  # type: ignore[return-value]  # both backends implement export_points


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _where(index: str, index_dir: Path | None, settings: Settings) -> str:
    if index.startswith(("http://", "https://")):
        return index
    return f"{index} in {index_dir or settings.index_dir}"


def copy(
    source: Annotated[str, typer.Option("--from", help="'edge', 'local' or a Qdrant URL.")],
    target: Annotated[str, typer.Option("--to", help="'edge', 'local' or a Qdrant URL.")],
    from_dir: DirOpt = None,
    to_dir: DirOpt = None,
    shards: Annotated[int | None, typer.Option(min=1, help="Default DEVIA_INDEX_SHARDS.")] = None,
    replicas: Annotated[
        int | None, typer.Option(min=1, help="Default DEVIA_INDEX_REPLICAS.")
    ] = None,
    batch_size: BatchOpt = 256,
) -> None:
    """Copy every point (vectors and payload) from one index to another, then verify it by
    counts and by searches that must return the same ids on both. Safe to run again."""
    from retrieval.store.errors import StoreError
    from retrieval.store.transfer import TransferError, copy_index

    settings = Settings()
    src_where = _where(source, from_dir, settings)
    dst_where = _where(target, to_dir, settings)
    if src_where == dst_where:
        raise _fail(f"source and target are the same index ({src_where})")
    try:
        with (
            closing(_open(settings, source, from_dir)) as src,
            closing(_open(settings, target, to_dir, shards, replicas)) as dst,
        ):
            report = copy_index(
                src,
                dst,
                batch_size=batch_size,
                progress=lambda n: console.print(f"  {n} points copied", highlight=False),
            )
    except (StoreError, TransferError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    check = report.verification
    console.print(
        f"copied {report.points} points in {report.batches} batches: {src_where} -> "
        f"{dst_where}; verified: {check.target_count} points on both sides, "
        f"{check.probes} searches return the same ids"
    )


def export(
    path: Annotated[Path, typer.Argument(help="Dump file to write (gzip JSON lines).")],
    index: IndexOpt = None,
    index_dir: DirOpt = None,
    batch_size: BatchOpt = 256,
) -> None:
    """Write every point of the index (default DEVIA_INDEX) to a dump file."""
    from retrieval.store.errors import StoreError
    from retrieval.store.transfer import TransferError, write_dump

    settings = Settings()
    name = index or settings.index
    if path.exists():
        raise _fail(f"{path} exists: choose a new file name")
    if not path.parent.is_dir():
        raise _fail(f"folder {path.parent} does not exist")
    try:
        with closing(_open(settings, name, index_dir)) as store:
            count = write_dump(store, path, batch_size=batch_size)
            stored = store.count()
    except (StoreError, TransferError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from exc
    if count != stored:
        raise _fail(f"wrote {count} points but the index holds {stored}: written during export?")
    console.print(f"exported {count} points from {_where(name, index_dir, settings)} to {path}")


def import_(
    path: Annotated[Path, typer.Argument(help="Dump file written by `devia index export`.")],
    index: IndexOpt = None,
    index_dir: DirOpt = None,
    batch_size: BatchOpt = 256,
) -> None:
    """Load a dump file into the index (default DEVIA_INDEX); checked in full first, then
    upserted in batches (safe to run again) and verified."""
    from retrieval.store.errors import StoreError
    from retrieval.store.transfer import TransferError, import_dump

    settings = Settings()
    name = index or settings.index
    try:
        with closing(_open(settings, name, index_dir)) as store:
            info, count = import_dump(path, store, batch_size=batch_size)
    except (StoreError, TransferError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"imported {info.count} points ({info.dense_dim}-d) into "
        f"{_where(name, index_dir, settings)}; it now holds {count}"
    )


def info(index: IndexOpt = None, index_dir: DirOpt = None) -> None:
    """Points, vector size and (for qdrant-client) shards and replication of the index."""
    from retrieval.store.errors import StoreError

    settings = Settings()
    name = index or settings.index
    try:
        with closing(_open(settings, name, index_dir)) as store:
            line = f"{_where(name, index_dir, settings)}: {store.count()} points"
            if store.dense_dim is not None:
                line += f", {store.dense_dim}-d"
            layout = getattr(store, "layout", None)
            if layout is not None and store.dense_dim is not None:
                shape = layout()
                if shape["shard_number"] is None:
                    line += ", no shards (qdrant-client local mode)"
                else:
                    line += (
                        f", {shape['shard_number']} shard(s), "
                        f"replication factor {shape['replication_factor']}"
                    )
    except (StoreError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(line)


app.command("copy")(copy)
app.command("export")(export)
app.command("import")(import_)
app.command("info")(info)
