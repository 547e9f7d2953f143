"""Entry point of the `devia` console script."""

from __future__ import annotations

import typer

from api.cli import models_cmd

app = typer.Typer(
    name="devia",
    help="devia: assistant for GMP deviation investigations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models_cmd.app, name="models")


def main() -> None:
    app()
