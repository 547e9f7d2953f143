"""The Alembic migrations build exactly the schema the models describe, and the database
itself refuses to change append-only records."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.records import audit, migrate
from api.records.db import Database
from api.records.models import Base


def test_migrations_match_models_and_protect_append_only_tables(db_url: str) -> None:
    db = Database(db_url)
    migrate.upgrade(db.engine)
    migrate.upgrade(db.engine)  # idempotent
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    with db.write() as session:
        audit.append(session, audit.SYSTEM, entity="test", entity_id="1", action="create")
    for statement in ("UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.read() as session:
        assert audit.verify_all(session).ok
    db.dispose()
