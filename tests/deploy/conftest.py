"""A fresh records database per test module: SQLite by default, PostgreSQL when
DEVIA_TEST_DB_URL points at a server (CI's second leg, `make test-postgres`)."""

from __future__ import annotations

from tests.api.conftest import db_url

__all__ = ["db_url"]
