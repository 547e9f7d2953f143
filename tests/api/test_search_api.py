"""Search and similar-event endpoints: real store + searcher, scope taken from the user only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.evidence import IndexEvidence, readable_sites
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import ChunkKind, DocType, RevisionStatus
from retrieval.search import Searcher
from retrieval.similar import SimilarEventFinder
from retrieval.store.base import IndexStore
from retrieval.store.factory import open_store
from tests.api.conftest import OTHER_SITE, SITE, AppBuilder, Seeded, login, seed
from tests.retrieval.sample_corpus import CHUNKS, Chunk, build_points

DIM = 64
REFERENCE = Chunk(
    "ICH-Q9",
    DocType.GUIDANCE,
    "Quality risk management",
    "R1",
    RevisionStatus.EFFECTIVE,
    "GLOBAL",
    "Quality risk management is a systematic process for the assessment, control, "
    "communication and review of risks to the quality of the drug product.",
    "1",
    3,
)
CANARY = "CANARY-7F3A-SITEB-ONLY"
SITE_B_SECRET = Chunk(
    "DEV-B-CANARY",
    DocType.DEVIATION,
    "Granulator torque alarm",
    "1",
    RevisionStatus.EFFECTIVE,
    OTHER_SITE,
    f"Granulator torque alarm on GR-900 during lot {CANARY}; the impeller seal was worn.",
    "1",
    1,
    (),
    ("GR-900",),
    date(2023, 3, 1),
    ChunkKind.RECORD,
    "equipment_malfunction",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexStore]:
    opened = open_store("edge", tmp_path_factory.mktemp("search-api"))
    opened.ensure_collection(DIM)
    opened.upsert(build_points(HashingEmbedder(DIM), (*CHUNKS, REFERENCE, SITE_B_SECRET)))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def users(db_url: str) -> Seeded:
    return seed(db_url, suffix="-search")


@pytest.fixture
def client(build_client: AppBuilder, store: IndexStore) -> Iterator[TestClient]:
    embedder = HashingEmbedder(DIM)
    evidence = IndexEvidence(Searcher(store, embedder), SimilarEventFinder(store, embedder))
    with build_client(evidence=evidence) as test_client:
        yield test_client


def test_readable_sites_add_the_shared_reference_site() -> None:
    assert readable_sites({"SITE-B", "SITE-A"}) == ("SITE-A", "SITE-B", "GLOBAL")
    assert readable_sites({"GLOBAL"}) == ("GLOBAL",)


def test_search_is_scoped_to_the_users_sites_and_reference_documents(
    client: TestClient, users: Seeded
) -> None:
    login(client, users.investigator)
    response = client.get(
        "/api/v1/search", params={"q": "inlet air temperature dryer", "limit": 20}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sites"] == [SITE, "GLOBAL"]
    sites = {hit["site"] for hit in body["hits"]}
    assert sites and sites <= {SITE, "GLOBAL"}
    assert body["hits"][0]["doc_id"] == "SOP-PRD-031"
    reference = client.get("/api/v1/search", params={"q": "quality risk management"}).json()
    assert "ICH-Q9" in {hit["doc_id"] for hit in reference["hits"]}


def test_other_sites_records_never_reach_a_user_without_that_site(
    client: TestClient, users: Seeded
) -> None:
    login(client, users.investigator)
    for params in ({"q": CANARY}, {"q": "granulator torque alarm GR-900", "limit": 50}):
        response = client.get("/api/v1/search", params=params)
        assert response.status_code == 200
        assert CANARY not in json.dumps(response.json()["hits"])  # the query echoes it
    similar = client.post(
        "/api/v1/similar",
        json={"description": f"Granulator torque alarm on GR-900 lot {CANARY}"},
    )
    assert similar.status_code == 200, similar.text
    assert CANARY not in json.dumps(similar.json()["events"])
    refused = client.get("/api/v1/search", params={"q": "torque", "site": OTHER_SITE})
    assert refused.status_code == 403
    assert OTHER_SITE in refused.json()["detail"]

    login(client, users.other_site_investigator)
    found = client.get("/api/v1/search", params={"q": "granulator torque alarm GR-900"})
    assert CANARY in json.dumps(found.json()["hits"])


def test_filters_and_bad_requests(client: TestClient, users: Seeded) -> None:
    login(client, users.investigator)
    sops = client.get(
        "/api/v1/search",
        params={"q": "drying temperature", "doc_type": "sop", "include_superseded": "true"},
    ).json()
    assert sops["hits"] and {hit["doc_type"] for hit in sops["hits"]} == {"sop"}
    bad_type = client.get("/api/v1/search", params={"q": "x", "doc_type": "memo"})
    assert bad_type.status_code == 422 and "document types are" in bad_type.json()["detail"]
    empty = client.get("/api/v1/search", params={"q": "   "})
    assert empty.status_code == 422
    reversed_dates = client.get(
        "/api/v1/search", params={"q": "x", "date_from": "2024-01-02", "date_to": "2024-01-01"}
    )
    assert reversed_dates.status_code == 422
    assert client.get("/api/v1/search", params={"q": "x", "limit": 0}).status_code == 422


def test_similar_events_carry_shared_factors_and_failure_modes(
    client: TestClient, users: Seeded
) -> None:
    login(client, users.investigator)
    response = client.post(
        "/api/v1/similar",
        json={
            "description": "Inlet air temperature of the fluid bed dryer rose above limit",
            "equipment": ["FBD-101"],
            "product_code": "PARA-500",
            "occurred_at": "2026-11-01T08:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sites"] == [SITE, "GLOBAL"]
    top = body["events"][0]
    assert top["doc_id"] and top["site"] == SITE
    assert top["doc_id"] == "DEV-2023-0042"
    assert {"same equipment FBD-101", "same product PARA-500"} <= set(top["shared_factors"])
    assert body["failure_modes"][0]["failure_mode"] == "equipment_malfunction"
    assert client.post("/api/v1/similar", json={"description": ""}).status_code == 422
    outside = client.post("/api/v1/similar", json={"description": "x", "site": OTHER_SITE})
    assert outside.status_code == 403


def test_unauthenticated_and_unloaded_index(build_client: AppBuilder, users: Seeded) -> None:
    with build_client() as bare:
        assert bare.get("/api/v1/search", params={"q": "x"}).status_code == 401
        login(bare, users.investigator)
        response = bare.get("/api/v1/search", params={"q": "x"})
        assert response.status_code == 503
        assert "not loaded" in response.json()["detail"]
