"""Document upload: streamed to disk with a size limit, hashed, handed to an ingestor seam."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.jobs.protocols import IngestRequest
from api.jobs.worker import JobHandlers
from api.web.csrf import token_for_session
from tests.api.conftest import OTHER_SITE, SITE, AppBuilder, Seeded, count_rows, login, seed


class RecordingIngestor:
    def __init__(self) -> None:
        self.seen: list[IngestRequest] = []

    def ingest(self, request: IngestRequest) -> str:
        self.seen.append(request)
        return f"{request.path.stat().st_size} bytes indexed"


@pytest.fixture(scope="module")
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture(scope="module")
def ingestor() -> RecordingIngestor:
    return RecordingIngestor()


@pytest.fixture(scope="module")
def client(
    build_client: AppBuilder, seeded: Seeded, ingestor: RecordingIngestor
) -> Iterator[TestClient]:
    with build_client(handlers=JobHandlers(ingest=ingestor), max_upload_bytes=10_000) as c:
        login(c, seeded.investigator)
        # A raw-body upload with the session cookie needs the page's CSRF token (api_csrf).
        c.headers["X-CSRF-Token"] = token_for_session(c.cookies["devia_session"])
        yield c


def test_upload_is_stored_ingested_and_downloadable(
    client: TestClient, ingestor: RecordingIngestor, data_dir: Path
) -> None:
    content = b"SOP-GR-001 v3\n6.3 Drying: inlet air 55-65 C\n"
    response = client.post(
        "/api/v1/documents",
        params={"site": SITE, "filename": "../../SOP GR-001.txt", "doc_type": "SOP"},
        content=content,
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["filename"] == "SOP_GR-001.txt"
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    deadline = time.monotonic() + 20
    while client.get(f"/api/v1/documents/{document['id']}").json()["status"] != "ingested":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stored = ingestor.seen[-1].path
    assert stored.is_relative_to(data_dir / "uploads") and stored.read_bytes() == content
    download = client.get(f"/api/v1/documents/{document['id']}/source")
    assert download.status_code == 200 and download.content == content


def test_oversized_upload_is_refused_and_leaves_nothing(
    client: TestClient, db_url: str, data_dir: Path
) -> None:
    before = count_rows(db_url, "documents")
    big = client.post(
        "/api/v1/documents", params={"site": SITE, "filename": "big.pdf"}, content=b"x" * 10_001
    )
    assert big.status_code == 413 and "over the limit" in big.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 1000

    streamed = client.post(
        "/api/v1/documents", params={"site": SITE, "filename": "big2.pdf"}, content=chunks()
    )
    assert streamed.status_code == 413
    assert count_rows(db_url, "documents") == before
    leftovers = [p for p in (data_dir / "uploads").rglob("big*")]
    assert leftovers == []


def test_upload_needs_site_assignment_and_a_body(client: TestClient) -> None:
    other = client.post(
        "/api/v1/documents", params={"site": OTHER_SITE, "filename": "a.txt"}, content=b"a"
    )
    assert other.status_code == 403
    empty = client.post(
        "/api/v1/documents", params={"site": SITE, "filename": "a.txt"}, content=b""
    )
    assert empty.status_code == 422 and "empty upload" in empty.json()["detail"]
