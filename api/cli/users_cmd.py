"""`devia users`: accounts (roles, sites, printed names) and MES API keys."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.records import accounts, migrate
from api.records.audit import Actor
from api.records.db import Database
from api.records.errors import RecordsError
from api.records.models import Role
from api.settings import Settings

app = typer.Typer(help="Manage users and MES API keys.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(f"cli:{who}")


def open_database(settings: Settings) -> Database:
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, pool_size=1)
    migrate.upgrade(db.engine)
    return db


def _fail(exc: RecordsError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(2)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (login).")],
    role: Annotated[Role, typer.Option(help="investigator, qa_approver or admin.")],
    site: Annotated[
        list[str] | None, typer.Option(help="Site the user works for (repeat).")
    ] = None,
    printed_name: Annotated[
        str | None, typer.Option(help="Full name shown on signatures (default: the user name).")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Password (prompted, hidden, when not given).")
    ] = None,
) -> None:
    """Create a user; the password is hashed with argon2 (never stored in clear)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = open_database(Settings())
    try:
        with db.write() as session:
            user = accounts.create_user(
                session,
                _cli_actor(),
                username=name,
                printed_name=printed_name or name,
                role=role.value,
                password=password,
                sites=site or [],
            )
            console.print(
                f"created {user.username} ({user.role}), sites: {', '.join(site or []) or '-'}"
            )
    except RecordsError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


@app.command("list")
def list_users() -> None:
    """Show users, roles, sites and account state."""
    db = open_database(Settings())
    try:
        with db.read() as session:
            table = Table("user", "printed name", "role", "sites", "state")
            for user, sites in accounts.list_users(session):
                state = "disabled" if user.disabled else "locked" if user.locked else "active"
                table.add_row(
                    user.username, user.printed_name, user.role, ", ".join(sorted(sites)), state
                )
        console.print(table)
    finally:
        db.dispose()


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Disable a user (records and signatures are kept; open sessions end)."""
    db = open_database(Settings())
    try:
        with db.write() as session:
            accounts.set_disabled(session, _cli_actor(), name, disabled=True)
        console.print(f"disabled {name}")
    except RecordsError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


@app.command("unlock")
def unlock(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Unlock an account locked after failed password attempts."""
    db = open_database(Settings())
    try:
        with db.write() as session:
            accounts.unlock(session, _cli_actor(), name)
        console.print(f"unlocked {name}")
    except RecordsError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


@app.command("api-key")
def api_key(
    name: Annotated[str, typer.Argument(help="Name of the client, e.g. mes-site-a.")],
    site: Annotated[str, typer.Option(help="The one site this key may post events for.")],
) -> None:
    """Create an MES API key for POST /api/v1/events. It is printed once; only its hash is kept."""
    db = open_database(Settings())
    try:
        with db.write() as session:
            plaintext, key = accounts.create_api_key(session, _cli_actor(), name=name, site=site)
        err.print(f"API key {key.name} for site {key.site_code} (shown once, store it now):")
        print(plaintext)
    except RecordsError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
