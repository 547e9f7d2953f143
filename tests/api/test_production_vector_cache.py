"""The API's production services keep the failure-mode model's training-text vectors under the
data dir (the wiring; that a second process embeds none of them is tested in
tests/retrieval/test_label_model_cache.py). Real embedder and index, fake LLM."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from api.agent_bridge import production_services
from api.settings import Settings
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.similar import EventQuery
from retrieval.store.factory import open_store
from retrieval.vector_cache import CACHE_FILE
from tests.similar.conftest import MES_PAYLOAD, RECORDS, make_points


def _stored_vectors(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


@pytest.mark.embedder
def test_similar_events_through_the_api_services_fill_the_vector_cache(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, index="local", llm_backend="fake", run_worker=False)
    embedder = SentenceTransformerEmbedder()
    store = open_store("local", settings.index_dir)
    try:
        store.ensure_collection(embedder.dim)
        store.upsert(make_points(RECORDS, embedder))
    finally:
        store.close()
    query = EventQuery.from_payload(MES_PAYLOAD)
    with production_services(settings) as services:
        first = services.evidence.similar(query, 3)
    assert _stored_vectors(tmp_path / CACHE_FILE) > 0
    with production_services(settings) as services:  # a restart reads the same cache
        again = services.evidence.similar(query, 3)
    assert [e.doc_id for e in again.events] == [e.doc_id for e in first.events]
