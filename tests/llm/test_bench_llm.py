"""The LLM benchmark logic and its CLI, on the fake model and the loopback OpenAI stub."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli.llm_cmd import bench_llm
from assistant.llm.fake_backend import FakeChatModel, FakeRequest
from evals.bench_llm import BenchSettings, investigation_messages, run_bench
from tests.llm.openai_stub import OpenAIStub, StubBehaviour


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("llm")(bench_llm)

    @app.command("other")
    def other() -> None:  # a second command keeps `llm` a named subcommand, as when wired
        """Unused."""

    return app


def test_prompt_is_deterministic_sized_and_unique_per_request() -> None:
    first = investigation_messages(3000, 1)
    assert first == investigation_messages(3000, 1)
    second = investigation_messages(3000, 2)
    assert first != second
    assert first[0] == second[0]  # same system prompt
    chars = sum(len(message["content"]) for message in first)
    assert 3000 * 4 <= chars <= 3000 * 4 + 600
    assert "DEV-2026-0412" in first[1]["content"]
    assert len(investigation_messages(500, 1)[1]["content"]) < chars / 4


def test_bench_reports_medians_and_throughput() -> None:
    prompts: list[str] = []

    def responder(request: FakeRequest) -> str:
        prompts.append(request.messages[1]["content"][:14])
        return " ".join(["word"] * 40)

    model = FakeChatModel(responder, token_delay_s=0.0005)
    settings = BenchSettings(runs=2, prompt_tokens=300, output_tokens=30, concurrency=(1, 3))
    report = run_bench(model, settings)
    metrics = report.metrics()
    assert metrics["completion_tokens"] == 30  # capped at output_tokens
    assert metrics["runs"] == 2
    for name in ("ttft_ms", "decode_tok_per_s", "prompt_tok_per_s", "throughput_tok_per_s@c3"):
        assert metrics[name] > 0 and not math.isnan(metrics[name]), name
    assert set(metrics) >= {"throughput_tok_per_s@c1", "ttft_ms@c1", "ttft_ms@c3"}
    # warm-up + 2 single runs + 2 x (1 + 3) concurrent requests, all with distinct prompts
    assert len(prompts) == 1 + 2 + 8
    assert len(set(prompts)) == len(prompts)


def test_bench_without_concurrency_has_no_throughput_metrics() -> None:
    model = FakeChatModel(lambda request: "a b c d e")
    report = run_bench(model, BenchSettings(runs=1, prompt_tokens=100, measure_concurrency=False))
    assert not any(name.startswith("throughput") for name in report.metrics())


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(StubBehaviour(default_reply=" ".join(["token"] * 20))) as server:
        yield server


def test_cli_benchmarks_an_openai_server_and_writes_json(
    stub: OpenAIStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    out = tmp_path / "bench" / "llm.json"
    arguments = [
        "llm", "--backend", "openai", "--base-url", stub.base_url, "--served-model",
        "stub-model", "--runs", "2", "--concurrency", "1,4", "--prompt-tokens", "200",
        "--output-tokens", "16", "--note", "stub", "--json", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(_app(), arguments)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    metrics = document["metrics"]
    assert metrics["completion_tokens"] == 16
    assert metrics["prompt_tokens"] == 42  # as the server reported it
    assert metrics["throughput_tok_per_s@c4"] > 0
    assert document["model"]["model"]["name"] == "stub-model"
    assert document["note"] == "stub"
    assert len(document["runs"]) == 2
    assert "medians" in result.output


def test_cli_reports_a_down_server_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    arguments = ["llm", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                 "--served-model", "x", "--runs", "1"]  # fmt: skip
    result = CliRunner().invoke(_app(), arguments)
    assert result.exit_code == 2
    assert "cannot reach the LLM server" in result.output


def test_cli_reports_a_missing_model_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVIA_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(_app(), ["llm", "--backend", "llamacpp", "--runs", "1"])
    assert result.exit_code == 2
    assert "not installed" in result.output
