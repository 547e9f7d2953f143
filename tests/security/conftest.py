"""Fixtures of the security tests: one two-site installation (tests/security/world.py) shared
by the session (building it drafts two investigations and ingests four uploads), and one walk
of every route x actor x own/other site over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.routes import Outcome, walk_all
from tests.security.world import World, build_world

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "security"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with its cheapest parameters in tests only (production keeps the defaults)."""
    from argon2 import PasswordHasher, profiles

    from api.auth import secrets as auth_secrets

    original = auth_secrets._HASHER
    auth_secrets._HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    auth_secrets._HASHER = original


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with build_world(tmp_path_factory.mktemp("security")) as built:
        yield built


@pytest.fixture(scope="session")
def walk(world: World) -> list[Outcome]:
    return walk_all(world)


def record_figures(name: str, figures: dict[str, int]) -> None:
    """The figures the issue asks for, printed and kept as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "figures.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current[name] = figures
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    print(f"\n[security] {name}: {json.dumps(figures, sort_keys=True)}")
