"""The index on a Qdrant server: the collection is created with the shard count and
replication factor from settings (DEVIA_INDEX_SHARDS, DEVIA_INDEX_REPLICAS) and the API key.
No Qdrant server runs here: qdrant-client's local mode stands in (same API; it accepts and
ignores shards and replicas), so the test checks what devia asks the client for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from api.backends import checkpoint_target, open_index
from api.cli.main import app
from api.settings import Settings
from retrieval.embedding import HashingEmbedder
from retrieval.store import qdrant_client_store
from retrieval.store.factory import open_store
from retrieval.store.qdrant_client_store import QdrantClientStore
from tests.retrieval.sample_corpus import build_points

DIM = 64
URL = "http://qdrant-0.qdrant:6333"


class RecordingClient:
    """A qdrant-client in local mode that records how devia constructs and calls it."""

    def __init__(self, **kwargs: Any) -> None:
        self.constructed = kwargs
        self.created: list[dict[str, Any]] = []
        self._client = QdrantClient(":memory:")

    def create_collection(self, name: str, **kwargs: Any) -> bool:
        self.created.append(kwargs)
        return self._client.create_collection(name, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> list[RecordingClient]:
    clients: list[RecordingClient] = []

    def connect(**kwargs: Any) -> RecordingClient:
        clients.append(RecordingClient(**kwargs))
        return clients[-1]

    monkeypatch.setattr(qdrant_client_store, "QdrantClient", connect)
    return clients


def test_store_asks_for_its_shards_and_replicas() -> None:
    client = RecordingClient()
    store = QdrantClientStore(client, shards=3, replicas=2)  # type: ignore[arg-type]
    store.ensure_collection(DIM)
    store.ensure_collection(DIM)  # exists: not created twice
    assert len(client.created) == 1
    assert client.created[0]["shard_number"] == 3
    assert client.created[0]["replication_factor"] == 2
    assert store.layout() == {"shard_number": None, "replication_factor": None}  # local mode


def test_settings_reach_the_server_collection(
    server: list[RecordingClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVIA_INDEX", URL)
    monkeypatch.setenv("DEVIA_INDEX_SHARDS", "6")
    monkeypatch.setenv("DEVIA_INDEX_REPLICAS", "2")
    monkeypatch.setenv("DEVIA_INDEX_API_KEY", "from-a-secret")
    store = open_index(Settings())
    store.ensure_collection(DIM)
    [client] = server
    assert client.constructed["url"] == URL
    assert client.constructed["api_key"] == "from-a-secret"
    assert client.created[0]["shard_number"] == 6
    assert client.created[0]["replication_factor"] == 2
    store.close()


def test_index_copy_to_a_server_uses_the_configured_layout(
    server: list[RecordingClient], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEVIA_INDEX_SHARDS", "4")
    monkeypatch.setenv("DEVIA_INDEX_REPLICAS", "2")
    edge = open_store("edge", tmp_path / "index")
    edge.ensure_collection(DIM)
    points = build_points(HashingEmbedder(DIM))
    edge.upsert(points)
    edge.close()
    result = CliRunner().invoke(app, ["index", "copy", "--from", "edge", "--to", URL])
    assert result.exit_code == 0, result.output
    [client] = server
    assert client.created[0]["shard_number"] == 4
    assert client.created[0]["replication_factor"] == 2
    assert f"copied {len(points)} points" in result.output
    # --replicas on the command line wins over the setting.
    server.clear()
    result = CliRunner().invoke(
        app, ["index", "copy", "--from", "edge", "--to", URL, "--replicas", "3"]
    )
    assert result.exit_code == 0, result.output
    assert server[0].created[0]["replication_factor"] == 3


def test_checkpoints_follow_the_records_store(tmp_path: Path) -> None:
    assert checkpoint_target(Settings(data_dir=tmp_path)) == tmp_path / "agent-checkpoints.sqlite"
    assert checkpoint_target(Settings(data_dir=tmp_path, db_url="sqlite:///x.db")) == (
        tmp_path / "agent-checkpoints.sqlite"
    )
    postgres = Settings(db_url="postgresql+psycopg://devia:pw@db:5432/devia")
    assert checkpoint_target(postgres) == "postgresql://devia:pw@db:5432/devia"
