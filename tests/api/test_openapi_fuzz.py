"""Property-based fuzzing of every documented operation (schemathesis, bounded examples):
whatever is sent, signed in or not, the API never answers with a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from api.evidence import IndexEvidence
from api.jobs.worker import JobHandlers
from api.settings import Settings
from retrieval.embedding import HashingEmbedder
from retrieval.search import Searcher
from retrieval.similar import SimilarEventFinder
from retrieval.store.factory import open_store
from tests.api.conftest import PASSWORD, Seeded, bearer, make_config, mes_event, seed
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner
from tests.retrieval.sample_corpus import build_points


@pytest.fixture(scope="module")
def fuzz_env(db_url: str, data_dir: Path) -> Iterator[dict[str, Any]]:
    # A runner is configured (readyz answers 200) but no worker runs: fuzzed events stay queued.
    # The search endpoints run on a real (in-memory) index with the hashing embedder.
    store = open_store(":memory:", data_dir / "fuzz-index")
    embedder = HashingEmbedder(64)
    store.ensure_collection(embedder.dim)
    store.upsert(build_points(embedder))
    app = create_app(
        Settings(data_dir=data_dir),
        config=make_config(db_url, data_dir, run_worker=False),
        handlers=JobHandlers(draft=FakeDeterministicDraftRunner()),
        probes={},
        evidence=IndexEvidence(Searcher(store, embedder), SimilarEventFinder(store, embedder)),
    )
    with TestClient(app) as client:  # runs the lifespan: migrations, sites
        seeded: Seeded = seed(db_url)
        client.post("/api/v1/events", json=mes_event("FUZZ-1"), headers=bearer(seeded.api_key))
        login = client.post(
            "/api/v1/auth/login", json={"username": seeded.investigator, "password": PASSWORD}
        )
        token = login.cookies.get("devia_session")
    yield {"app": app, "cookie": token, "key": seeded.api_key}
    store.close()


def test_no_server_errors(fuzz_env: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_env["app"])
    # Logout would end the session the other operations are fuzzed with (tested in test_auth).
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())  # type: ignore[union-attr]
        if op.path != "/api/v1/auth/logout"
    ]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                checks=[not_a_server_error],
                headers={"Authorization": f"Bearer {fuzz_env['key']}"},
                cookies={"devia_session": fuzz_env["cookie"]},
            )

        fuzz()
