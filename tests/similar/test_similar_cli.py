import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli.similar_cmd import similar
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.store.factory import open_store
from retrieval.vector_cache import CACHE_FILE
from tests.similar.conftest import MES_PAYLOAD, RECORDS, make_points


@pytest.mark.embedder
def test_similar_command_json_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = SentenceTransformerEmbedder()
    with open_store("edge", tmp_path / "index") as store:
        store.ensure_collection(embedder.dim)
        store.upsert(make_points(RECORDS, embedder))
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEVIA_INDEX", "edge")
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(MES_PAYLOAD))
    app = typer.Typer()
    app.command()(similar)
    runner = CliRunner()
    result = runner.invoke(app, ["--event", str(payload), "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    top = out["similar_events"][0]
    assert top["doc_id"] == "DEV-1"
    assert "same equipment GR-201" in top["shared_factors"]
    assert out["recurrence"]["determination"] == "recurrence_same_root_cause"
    assert len(out["failure_modes"]) <= 3
    # The failure-mode model's training-text vectors were kept under the data dir.
    with sqlite3.connect(tmp_path / CACHE_FILE) as conn:
        assert conn.execute("SELECT count(*) FROM vectors").fetchone()[0] > 0
    table = runner.invoke(app, ["tablet hardness low", "--site", "SITE-A"])
    assert table.exit_code == 0, table.output
    assert "DEV-4" in table.output and "Recurrence" in table.output
    refused = runner.invoke(app, ["tablet hardness low"])
    assert refused.exit_code == 2 and "--site" in refused.output
