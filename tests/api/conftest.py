"""Fixtures for the API tests: a fresh records database per test module (SQLite file by
default; PostgreSQL when DEVIA_TEST_DB_URL points at a server), app builders, seeded users."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from api.app import create_app
from api.config import ApiConfig
from api.evidence import EvidenceIndex
from api.jobs.worker import JobHandlers
from api.records import accounts
from api.records.audit import Actor
from api.records.db import Database
from api.settings import Settings

TEST_DB_ENV = "DEVIA_TEST_DB_URL"
PASSWORD = "correct horse battery"
SITE = "SITE-A"
OTHER_SITE = "SITE-B"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get(TEST_DB_ENV)
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('records') / 'devia.db'}"
        return
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"devia_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def make_config(db_url: str, data_dir: Path, **overrides: Any) -> ApiConfig:
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "sites": (SITE, OTHER_SITE),
        "job_poll_interval_s": 0.05,
    }
    values.update(overrides)
    return ApiConfig(**values)


AppBuilder = Callable[..., TestClient]


@pytest.fixture(scope="module")
def build_client(db_url: str, data_dir: Path) -> AppBuilder:
    """Returns a function building a TestClient (use it as a context manager: lifespan runs)."""

    def build(
        handlers: JobHandlers | None = None,
        evidence: EvidenceIndex | None = None,
        **overrides: Any,
    ) -> TestClient:
        config = make_config(db_url, data_dir, **overrides)
        app = create_app(
            Settings(data_dir=data_dir),
            config=config,
            handlers=handlers,
            probes={},
            evidence=evidence,
        )
        return TestClient(app)

    return build


@dataclass(frozen=True)
class Seeded:
    investigator: str
    investigator2: str
    approver: str
    approver2: str
    admin: str
    other_site_investigator: str
    api_key: str
    other_site_key: str


def seed(db_url: str, suffix: str = "") -> Seeded:
    """Users of each role and MES keys (created straight in the records store)."""
    db = Database(db_url)
    from api.records import migrate

    migrate.upgrade(db.engine)
    actor = Actor("test:seed")
    names = {
        "investigator": ("investigator", [SITE]),
        "investigator2": ("investigator", [SITE]),
        "approver": ("qa_approver", [SITE]),
        "approver2": ("qa_approver", [SITE]),
        "admin": ("admin", [SITE, OTHER_SITE]),
        "other_site_investigator": ("investigator", [OTHER_SITE]),
    }
    created: dict[str, str] = {}
    with db.write() as session:
        for field, (role, sites) in names.items():
            username = f"{field}{suffix}"
            accounts.create_user(
                session,
                actor,
                username=username,
                printed_name=f"{field.title()} Person{suffix}",
                role=role,
                password=PASSWORD,
                sites=sites,
            )
            created[field] = username
        key, _ = accounts.create_api_key(session, actor, name=f"mes{suffix}", site=SITE)
        other, _ = accounts.create_api_key(session, actor, name=f"mes-b{suffix}", site=OTHER_SITE)
    db.dispose()
    return Seeded(**created, api_key=key, other_site_key=other)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text


def mes_event(event_id: str = "MES-EX-2026-00417", **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": event_id,
        "site": SITE,
        "area": "Granulation",
        "line": "L2",
        "equipment": ["GR-201"],
        "product_code": "PRD-0042",
        "batch_id": "B26-0815",
        "mbr_step": {"mbr_id": "MBR-PRD-0042", "version": 7, "step_id": "6.3"},
        "parameter": {
            "name": "Inlet air temperature",
            "unit": "C",
            "limit_low": 55,
            "limit_high": 65,
            "observed_peak": 71.4,
            "duration_s": 420,
        },
        "process_data": {
            "tag": "GR201.TI101",
            "samples": [
                ["2026-11-20T08:01:00Z", 61.2],
                ["2026-11-20T08:07:00Z", 71.4],
                ["2026-11-20T08:14:00Z", 63.0],
            ],
        },
        "occurred_at": "2026-11-20T08:07:00Z",
        "description": "Inlet air temperature exceeded upper limit during wet granulation drying.",
    }
    event.update(changes)
    return event


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def count_rows(db_url: str, table: str) -> int:
    db = Database(db_url)
    try:
        with db.read() as session:
            return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        db.dispose()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with its cheapest parameters in tests only (production keeps the defaults)."""
    from argon2 import PasswordHasher, profiles

    from api.auth import secrets as auth_secrets

    original = auth_secrets._HASHER
    auth_secrets._HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    auth_secrets._HASHER = original
