"""`devia search` through typer, against an Edge index in a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from api.cli import search_cmd
from api.cli.search_cmd import bench_search, search
from retrieval.embedding import HashingEmbedder
from retrieval.store.factory import open_store
from tests.retrieval.sample_corpus import build_points

MINILM_DIM = 384


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("search")(search)
    bench = typer.Typer()
    bench.command("search")(bench_search)
    app.add_typer(bench, name="bench")
    return app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEVIA_INDEX", "edge")
    monkeypatch.setattr(search_cmd, "console", Console(width=250))  # no folding of ids
    store = open_store("edge", tmp_path / "index")
    store.ensure_collection(MINILM_DIM)
    # Hashing vectors of MiniLM's size: keyword-mode searches need no model.
    store.upsert(build_points(HashingEmbedder(MINILM_DIM)))
    store.close()
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_app(), list(args), terminal_width=200)
    return result.exit_code, result.output


def test_keyword_search_prints_scoped_results(data_dir: Path) -> None:
    code, out = invoke(
        "search",
        "swab feed frame cleaning",
        "--site",
        "SITE-A",
        "--mode",
        "sparse",
        "--type",
        "deviation",
        "--type",
        "capa",
    )
    assert code == 0, out
    assert "DEV-2023-0107" in out and "CAPA-2023-0031" in out
    assert "SITE-B" not in out.replace("SITE-B)", "")
    assert "SOP-QA-012" not in out  # --type kept SOPs out


def test_grouped_keyword_search(data_dir: Path) -> None:
    code, out = invoke(
        "search",
        "inlet air temperature drying",
        "--site",
        "SITE-A",
        "--mode",
        "sparse",
        "--group",
        "--limit",
        "3",
    )
    assert code == 0, out
    assert "chunks" in out and "SOP-PRD-031 rev 4" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "dryer", "--mode", "sparse"], "--site"),
        (["search", "dryer", "--site", "SITE-A", "--type", "memo"], "memo"),
        (
            [
                "search",
                "dryer",
                "--site",
                "SITE-A",
                "--mode",
                "sparse",
                "--from",
                "2024-02-01",
                "--to",
                "2024-01-01",
            ],
            "date range is empty",
        ),
        (["search", "dryer", "--site", "SITE-A", "--from", "01/02/2024"], "01/02/2024"),
    ],
)
def test_bad_arguments_exit_2(data_dir: Path, args: list[str], message: str) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert message in out


def test_index_in_use_is_reported(data_dir: Path) -> None:
    holder = open_store("edge", data_dir / "index")
    try:
        code, out = invoke("search", "dryer", "--site", "SITE-A", "--mode", "sparse")
    finally:
        holder.close()
    assert code == 2
    assert "in use" in out and str(data_dir / "index" / "edge") in out


@pytest.mark.embedder
def test_hybrid_search_with_the_real_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEVIA_INDEX", "edge")
    monkeypatch.setattr(search_cmd, "console", Console(width=250))
    store = open_store("edge", tmp_path / "index")
    store.ensure_collection(MINILM_DIM)
    store.upsert(build_points(SentenceTransformerEmbedder()))
    store.close()
    code, out = invoke(
        "search",
        "dryer overheated during drying",
        "--site",
        "SITE-A",
        "--type",
        "deviation",
        "--limit",
        "2",
    )
    assert code == 0, out
    assert "DEV-2023-0042" in out
