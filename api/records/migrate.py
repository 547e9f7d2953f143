"""Bring the records schema to the latest Alembic revision (run at startup and by the CLI)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several API replicas may start at once: one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(7346100)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
