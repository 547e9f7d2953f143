"""Stored runs and `devia eval report`: deltas against the previous run, plots, both formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from evals.report import write_report
from evals.result_file import write_result
from evals.run_store import load_runs, new_run_path


def _store(data_dir: Path, suite: str, stamp: str, **metrics: float) -> Path:
    path = data_dir / "eval" / suite / f"{stamp}.json"
    write_result(path, metrics, suite=suite, model={"name": "m", "backend": "fake"})
    document = json.loads(path.read_text())
    document["recorded_at"] = stamp
    path.write_text(json.dumps(document))
    return path


def test_new_run_paths_never_collide(tmp_path: Path) -> None:
    first = new_run_path(tmp_path, "cfr-qa")
    first.parent.mkdir(parents=True)
    first.write_text("{}")
    second = new_run_path(tmp_path, "cfr-qa")
    assert second != first and second.parent == first.parent
    with pytest.raises(ValueError, match="bad suite name"):
        new_run_path(tmp_path, "../escape")


def test_report_shows_delta_against_previous_run(tmp_path: Path) -> None:
    _store(tmp_path, "cfr-qa", "20261101T000000Z", top1=0.80, top3=0.90)
    _store(tmp_path, "cfr-qa", "20261102T000000Z", top1=0.85, top3=0.88)
    _store(tmp_path, "q3c-tables", "20261102T000000Z", answer_accuracy=0.5)
    runs = load_runs(tmp_path)
    assert [r.path.stem for r in runs["cfr-qa"]] == ["20261101T000000Z", "20261102T000000Z"]
    markdown, page = write_report(runs, tmp_path / "report", "now")
    text = markdown.read_text()
    assert "| top1 | 0.85 | 0.8 | +0.05 |" in text
    assert "| top3 | 0.88 | 0.9 | -0.02 |" in text
    assert "previous: none (first stored run)" in text
    assert (tmp_path / "report" / "cfr-qa.png").stat().st_size > 1000
    assert "<img src='cfr-qa.png'" in page.read_text() and "class='n down'" in page.read_text()


def test_unreadable_run_is_an_error_not_skipped(tmp_path: Path) -> None:
    broken = tmp_path / "eval" / "di-qa" / "x.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable run file"):
        load_runs(tmp_path)


def test_report_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["eval", "report", "--runs", str(tmp_path)])
    assert empty.exit_code == 2 and "no stored runs" in empty.output
    _store(tmp_path, "claims", "20261101T000000Z", AUC=0.9)
    done = runner.invoke(app, ["eval", "report", "--runs", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "eval" / "report" / "report.html").exists()
