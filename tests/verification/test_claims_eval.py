"""The claims eval: a fast CLI run with the keyword verifier, and the CI subset with the real
MiniLM embedder whose AUC must stay above evals/thresholds_claims.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli.claims_cmd import eval_claims
from evals.claims import DEFAULT_PAIRS, ClaimsDataError, load_pairs, run_claims_eval

THRESHOLDS = Path(__file__).resolve().parents[2] / "evals" / "thresholds_claims.json"


def _tiny_pairs(path: Path) -> Path:
    lines = DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines()[:60]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_keyword_run_writes_metrics(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(eval_claims)
    out = tmp_path / "claims.json"
    data = _tiny_pairs(tmp_path / "pairs.jsonl")
    result = CliRunner().invoke(
        app, ["--data", str(data), "--verifier", "keyword", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["n_pairs"] == 60
    assert metrics["AUC"] == metrics["baseline_keyword_AUC"]
    assert 0.5 < metrics["AUC"] <= 1.0
    assert {"AUC_hard", "accuracy", "seconds"} <= set(metrics)
    assert "keyword" in result.output


def test_bad_pairs_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"pair_id": "x#1/pos", "claim": "c"}\n')
    with pytest.raises(ClaimsDataError, match=r"bad.jsonl:1"):
        load_pairs(bad)


@pytest.mark.embedder
def test_ci_subset_auc_stays_above_threshold() -> None:
    limits = json.loads(THRESHOLDS.read_text())
    report = run_claims_eval(
        verifiers=("hybrid",), limit=limits["sample_size"], seed=limits["seed"]
    )
    m = report.metrics
    assert report.details["protocols"]["hybrid"] == "grouped_cv_by_letter"
    assert m["n_pairs"] == limits["sample_size"]
    assert m["AUC"] >= limits["min_AUC"], m
    assert m["AUC_hard"] >= limits["min_AUC_hard"], m
    assert m["accuracy"] >= limits["min_accuracy"], m
    assert m["AUC"] > m["baseline_keyword_AUC"]
