"""Open the index store named by configuration: Qdrant Edge, qdrant-client local mode, an
in-memory qdrant-client (tests) or a Qdrant server."""

from __future__ import annotations

from pathlib import Path

from retrieval.index_contract import COLLECTION
from retrieval.store.base import IndexStore

EDGE_FOLDER = "edge"
LOCAL_FOLDER = "qdrant-local"
MEMORY = ":memory:"


def open_store(
    index: str,
    index_dir: Path,
    *,
    collection: str = COLLECTION,
    shards: int = 1,
    replicas: int = 1,
    api_key: str | None = None,
) -> IndexStore:
    """`index`: "edge" (Qdrant Edge in `index_dir/edge`), "local" (qdrant-client local mode
    in `index_dir/qdrant-local`), ":memory:" (qdrant-client in memory, for tests) or the
    http(s) URL of a Qdrant server / cluster (`shards`, `replicas` and `api_key` apply there).

    Edge and local mode lock their folder to one process: opening it twice raises
    `StoreLockedError` naming the folder. Close the store (or use it as a context manager).
    """
    if index not in ("edge", "local", MEMORY) and not index.startswith(("http://", "https://")):
        raise ValueError(
            f"unknown index {index!r}: expected 'edge', 'local', ':memory:' or an http(s) URL"
        )
    # Backends are imported on use: qdrant-client alone takes seconds to import.
    if index == "edge":
        from retrieval.store.edge_store import EdgeStore

        return EdgeStore(index_dir / EDGE_FOLDER)
    from retrieval.store.qdrant_client_store import QdrantClientStore

    if index == "local":
        return QdrantClientStore.local(index_dir / LOCAL_FOLDER, collection)
    if index == MEMORY:
        return QdrantClientStore.in_memory(collection)
    if shards < 1 or replicas < 1:
        raise ValueError(f"shards and replicas must be >= 1, got {shards} and {replicas}")
    return QdrantClientStore.server(
        index, collection, api_key=api_key, shards=shards, replicas=replicas
    )
