"""`devia bench llm`: speed of the configured chat model on an investigation-sized request.

Also home of `llm_config_from_settings`, the one place that turns `Settings` (DEVIA_LLM_*)
into the runtime's `LlmConfig`; other entry points should use it too.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from assistant.llm.base import ChatModel
from assistant.llm.config import BACKENDS, Backend, LlmConfig, build_chat_model
from assistant.llm.errors import LlmError
from assistant.llm.model_files import ModelError
from evals.bench_llm import BenchReport, BenchSettings, run_bench
from evals.result_file import write_result

console = Console()


def llm_config_from_settings(settings: Settings, **overrides: object) -> LlmConfig:
    """The runtime configuration from DEVIA_LLM_* settings, with explicit overrides."""
    values: dict[str, object] = {
        "backend": settings.llm_backend,
        "model": settings.llm_model,
        "base_url": settings.llm_base_url,
        "api_key": settings.llm_api_key.get_secret_value(),
        "context_tokens": settings.llm_context_tokens,
        "max_tokens": settings.llm_max_tokens,
        "threads": settings.llm_threads,
        "timeout_s": settings.llm_timeout_s,
        "temperature": settings.llm_temperature,
        "seed": settings.llm_seed,
        "models_dir": settings.models_dir,
    }
    values.update({name: value for name, value in overrides.items() if value is not None})
    return LlmConfig(**values)  # type: ignore[arg-type]


def _parse_levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None
    if not levels or any(level < 1 for level in levels):
        raise typer.BadParameter(f"concurrency levels must be positive integers, got {text!r}")
    return levels


def _format(value: float, unit: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:,.1f} {unit}".strip()


def _print_report(report: BenchReport, metrics: dict[str, float]) -> None:
    model = report.model["model"]
    title = f"{model['name']} via {model['backend']} ({model.get('backend_version') or '?'})"
    runs = Table(title=f"LLM bench: {title}")
    for column in ("run", "prompt tok", "out tok", "TTFT ms", "prompt tok/s", "decode tok/s"):
        runs.add_column(column, justify="right")
    for number, run in enumerate(report.runs, start=1):
        runs.add_row(
            str(number),
            f"{run.prompt_tokens}{'~' if run.usage_estimated else ''}",
            str(run.completion_tokens),
            _format(run.ttft_s * 1000 if run.ttft_s is not None else math.nan, ""),
            _format(run.prompt_tok_per_s or math.nan, ""),
            _format(run.decode_tok_per_s or math.nan, ""),
        )
    console.print(runs)
    summary = Table(title="medians")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for name, value in metrics.items():
        summary.add_row(name, _format(value, ""))
    console.print(summary)


def bench_llm(
    backend: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(BACKENDS)}; default DEVIA_LLM_BACKEND.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Installed model id (llamacpp); default DEVIA_LLM_MODEL.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server, e.g. http://host:8000/v1.")
    ] = None,
    served_model: Annotated[
        str | None, typer.Option(help="Model name on the server (openai backend).")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, help="Runs; medians are reported.")] = 3,
    concurrency: Annotated[
        str, typer.Option(help="Requests in flight at once, for server backends.")
    ] = "1,4,16",
    prompt_tokens: Annotated[int, typer.Option(min=50, help="Prompt size (approx.).")] = 3000,
    output_tokens: Annotated[int, typer.Option(min=2, help="Max tokens generated.")] = 800,
    threads: Annotated[int | None, typer.Option(help="llama.cpp threads (default: cores).")] = None,
    timeout_s: Annotated[
        float | None, typer.Option(help="Per-request limit (default DEVIA_LLM_TIMEOUT_S).")
    ] = None,
    note: Annotated[str, typer.Option(help="Free text stored with the result.")] = "",
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
) -> None:
    """Time to first token, prompt and decode tokens/s, and server throughput under load."""
    settings = Settings()
    chosen: str = backend or settings.llm_backend
    if chosen not in BACKENDS:
        raise typer.BadParameter(f"--backend must be one of {BACKENDS}, got {chosen!r}")
    chosen_backend: Backend = chosen
    name = (served_model or model) if chosen_backend == "openai" else model
    needed_context = prompt_tokens + output_tokens + 512
    config = llm_config_from_settings(
        settings,
        backend=chosen_backend,
        model=name,
        base_url=base_url,
        threads=threads,
        timeout_s=timeout_s,
        max_tokens=output_tokens,
        context_tokens=max(settings.llm_context_tokens, needed_context),
    )
    bench = BenchSettings(
        runs=runs,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        concurrency=_parse_levels(concurrency),
        measure_concurrency=chosen_backend == "openai",
    )
    chat_model: ChatModel | None = None
    try:
        with console.status("loading the model") as status:
            started = time.monotonic()
            chat_model = build_chat_model(config)
            load_s = time.monotonic() - started
            report = run_bench(chat_model, bench, progress=lambda text: status.update(text))
    except (LlmError, ModelError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    finally:
        if chat_model is not None:
            chat_model.close()
    metrics = {**report.metrics(), "load_s": load_s}
    _print_report(report, metrics)
    if chosen_backend != "openai":
        console.print("concurrency not measured: in-process llama.cpp serves one request at a time")
    if json_path is not None:
        extra = {"threads": config.threads} if chosen_backend == "llamacpp" else {}
        write_result(json_path, metrics, bench="llm", note=note, **report.as_dict(), **extra)
        console.print(f"wrote {json_path}")
