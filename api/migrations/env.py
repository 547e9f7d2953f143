"""Alembic environment: runs on a connection handed in by `api.records.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from api.records.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `devia` (api.records.migrate.upgrade)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
