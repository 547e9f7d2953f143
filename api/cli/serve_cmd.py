"""`devia serve` (the API with its job worker) and `devia bench api`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.records import accounts
from api.records.models import Role
from api.settings import Settings

console = Console(stderr=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default DEVIA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DEVIA_PORT).")] = None,
) -> None:
    """Migrate the records store and serve the API (one process; drafting runs in-process)."""
    import uvicorn

    from api.agent_bridge import production_services
    from api.app import create_app
    from api.cli.users_cmd import open_database

    settings = Settings()
    db = open_database(settings)
    try:
        with db.read() as session:
            admins = accounts.count_users(session, Role.admin)
            users = accounts.count_users(session)
    finally:
        db.dispose()
    if admins == 0:
        console.print(
            "[yellow]no admin account yet.[/yellow] devia ships no default password; create one:\n"
            "  devia users add NAME --role admin --site SITE --printed-name 'Full Name'"
        )
    if users == 0:
        console.print("Create an MES key with: devia users api-key mes --site SITE")
    console.print("loading the index, the embedding model and the language model…")
    with production_services(settings) as services:
        uvicorn.run(
            create_app(settings, handlers=services.handlers, evidence=services.evidence),
            host=host or settings.host,
            port=port or settings.port,
            proxy_headers=False,
            log_level="info",
        )


def migrate_db() -> None:
    """Bring the records store to the latest schema (serve also does it at startup)."""
    from api.cli.users_cmd import open_database

    settings = Settings()
    open_database(settings).dispose()
    console.print(f"records store at the latest schema: {_redacted(settings.database_url)}")


def _redacted(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def bench_api(
    json_out: Annotated[Path, typer.Option("--json", help="Write the metrics file here.")],
    requests: Annotated[int, typer.Option(help="MES triggers per run.")] = 2000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.")] = 16,
    runs: Annotated[int, typer.Option(help="Runs (medians are reported).")] = 3,
) -> None:
    """Accepted MES triggers per second and latency of POST /api/v1/events (real uvicorn,
    loopback, SQLite, no draft runner so drafting is excluded)."""
    from evals.bench_api import run_bench
    from evals.result_file import write_result

    result = run_bench(requests=requests, concurrency=concurrency, runs=runs, echo=console.print)
    write_result(json_out, result.metrics, runs=result.runs, config=result.config)
    console.print(f"wrote {json_out}")
