"""The engines named by Settings, opened the same way by every entry point: the index store
(Qdrant Edge, or a Qdrant server / cluster with its shards, replicas and API key) and where the
agent's checkpoints live (a SQLite file under the data dir, or the PostgreSQL records server,
so that any worker process can resume any investigation)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url

from api.settings import Settings
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.store.base import IndexStore


def open_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured embedding model (DEVIA_EMBED_MODEL_PATH, _BATCH_SIZE, _PRECISION)."""
    return SentenceTransformerEmbedder(
        settings.embed_model_path, settings.embed_batch_size, settings.embed_precision
    )


def open_index(
    settings: Settings,
    index: str | None = None,
    index_dir: Path | None = None,
    *,
    shards: int | None = None,
    replicas: int | None = None,
) -> IndexStore:
    """The configured index (DEVIA_INDEX, DEVIA_INDEX_SHARDS, ..), or the one named here."""
    from retrieval.store.factory import open_store  # qdrant-client takes seconds to import

    api_key = settings.index_api_key.get_secret_value() if settings.index_api_key else None
    return open_store(
        index or settings.index,
        index_dir or settings.index_dir,
        shards=shards or settings.index_shards,
        replicas=replicas or settings.index_replicas,
        api_key=api_key,
    )


def checkpoint_target(settings: Settings) -> Path | str:
    """PostgreSQL records store: its libpq URL (LangGraph's PostgresSaver); otherwise the
    SQLite checkpoint file under the data dir."""
    from assistant.agent.checkpoint import checkpoint_path

    if settings.db_url:
        url = make_url(settings.db_url)
        if url.get_backend_name() == "postgresql":
            return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return checkpoint_path(settings.data_dir)
