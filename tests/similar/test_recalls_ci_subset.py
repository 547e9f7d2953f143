"""The recalls suite on a fixed small sample, real embedder, real ingestion path: fails when
the metrics drop below evals/thresholds.json (set a safe margin below measured values)."""

import json
from pathlib import Path

import pytest

from evals.recalls import RecallsConfig, run_recalls
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.store.factory import open_store

THRESHOLDS = Path(__file__).parents[2] / "evals" / "thresholds.json"


@pytest.mark.embedder
# Ingests the 3,897 index events and trains the failure-mode model with the real embedder:
# about 6 CPU-minutes (25 min wall under a load average of 8 to 15 on two shared cores, past
# the suite's 900 s hang limit).
@pytest.mark.timeout(2400)
def test_recalls_subset_stays_above_thresholds() -> None:
    spec = json.loads(THRESHOLDS.read_text())["recalls_ci_subset"]
    config = RecallsConfig(field=spec["field"], limit=spec["limit"], strict=spec["strict"])
    run = run_recalls(config, SentenceTransformerEmbedder(), lambda d: open_store("edge", d))
    assert run.metrics["queries"] == spec["limit"]
    assert run.index_info["events"] == 3897
    low = {
        name: (run.metrics[name], floor)
        for name, floor in spec["min"].items()
        if run.metrics[name] < floor
    }
    assert not low, f"recalls metrics below thresholds (value, floor): {low}"
