"""`devia eval di-qa`, `devia eval q3c-tables` and `devia eval faithfulness`: questions over
the ingested reference PDFs answered by the product's chat path (evals/doc_qa.py,
evals/faithfulness.py)."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.llm_cmd import llm_config_from_settings
from api.settings import Settings
from evals.doc_qa_data import DEFAULT_PDF_DIR, DI_ITEMS, Q3C_ITEMS, DocQaDataError
from evals.result_file import write_result
from evals.run_store import new_run_path

console = Console()
err = Console(stderr=True)

CorpusOption = Annotated[
    list[Path] | None,
    typer.Option("--corpus", help="PDF files or folders to index (repeatable). Default: all "),
]
LimitOption = Annotated[
    int | None, typer.Option(min=1, help="Score a seeded random sample of N items.")
]
SeedOption = Annotated[int, typer.Option(help="Seed of the --limit sample.")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Write the result JSON here.")]
StoreOption = Annotated[
    bool, typer.Option(help="Also keep the run in DEVIA_DATA_DIR/eval/<suite>/ for reports.")
]
ThreadsOption = Annotated[
    int | None, typer.Option(min=1, help="llama.cpp threads (default DEVIA_LLM_THREADS).")
]
MaxTokensOption = Annotated[int, typer.Option(min=8, help="Answer length limit (tokens).")]
PdfDirOption = Annotated[
    Path, typer.Option("--pdf-dir", help="Where the items' source PDFs are (MANIFEST.json).")
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def _embedder(settings: Settings) -> Any:
    from api.backends import open_embedder

    return open_embedder(settings)


def _verifier(embedder: Any) -> Any:
    from assistant.agent.context import default_scorer
    from assistant.verification.verifier import StatementVerifier

    return StatementVerifier(default_scorer(embedder))


def _write(
    suite: str, settings: Settings, metrics: dict[str, Any], json_out: Path | None, store: bool,
    **extra: Any,
) -> None:  # fmt: skip
    targets = [json_out] if json_out else []
    if store:
        targets.append(new_run_path(settings.data_dir, suite))
    for target in targets:
        write_result(target, metrics, suite=suite, **extra)
        console.print(f"wrote {target}")


def _print_metrics(title: str, metrics: dict[str, Any]) -> None:
    table = Table("metric", "value", title=title)
    for name, value in metrics.items():
        table.add_row(name, _fmt(value))
    console.print(table)


def _run_qa(
    suite: str,
    items: Path,
    corpus: list[Path] | None,
    pdf_dir: Path,
    limit: int | None,
    seed: int,
    k: int,
    retrieval_only: bool,
    max_tokens: int,
    threads: int | None,
    json_out: Path | None,
    store: bool,
) -> None:
    from assistant.llm import build_chat_model
    from evals.doc_qa import DocQaConfig, run_doc_qa

    settings = Settings()
    config = DocQaConfig(
        items=items,
        corpus=tuple(corpus or [pdf_dir]),
        pdf_dir=pdf_dir,
        limit=limit,
        seed=seed,
        k=k,
        retrieval_only=retrieval_only,
        max_tokens=max_tokens,
    )
    llm = llm_config_from_settings(settings, max_tokens=max_tokens, threads=threads)
    try:
        with tempfile.TemporaryDirectory(prefix=f"devia-eval-{suite}-") as tmp:
            run = run_doc_qa(
                config,
                _embedder(settings),
                Path(tmp),
                chat_model_factory=None if retrieval_only else lambda: build_chat_model(llm),
                verifier_factory=_verifier,
                progress=err.print,
            )
    except (DocQaDataError, ValueError, RuntimeError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _print_metrics(f"{suite}: {run.metrics['n_items']} items", run.metrics)
    _write(
        suite,
        settings,
        run.metrics,
        json_out,
        store,
        config=run.config,
        model=run.model,
        llm_config={"backend": llm.backend, "model": llm.model, "threads": llm.threads},
        prompts=run.prompts,
        timings=run.timings,
        per_item=run.per_item,
    )


def eval_di_qa(
    data: Annotated[Path, typer.Option("--data", help="Items (JSONL).")] = DI_ITEMS,
    corpus: CorpusOption = None,
    pdf_dir: PdfDirOption = DEFAULT_PDF_DIR,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    k: Annotated[int, typer.Option(min=1, help="Retrieval depth scored.")] = 5,
    retrieval_only: Annotated[bool, typer.Option(help="Search only; no model.")] = False,
    max_tokens: MaxTokensOption = 200,
    threads: ThreadsOption = None,
    json_out: JsonOption = None,
    store: StoreOption = True,
) -> None:
    """FDA data-integrity Q&A: answer similarity, cited page, retrieval hit@k."""
    _run_qa(
        "di-qa", data, corpus, pdf_dir, limit, seed, k, retrieval_only, max_tokens, threads,
        json_out, store,
    )  # fmt: skip


def eval_q3c_tables(
    data: Annotated[Path, typer.Option("--data", help="Items (JSONL).")] = Q3C_ITEMS,
    corpus: CorpusOption = None,
    pdf_dir: PdfDirOption = DEFAULT_PDF_DIR,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    k: Annotated[int, typer.Option(min=1, help="Retrieval depth scored.")] = 5,
    retrieval_only: Annotated[bool, typer.Option(help="Search only; no model.")] = False,
    max_tokens: MaxTokensOption = 200,
    threads: ThreadsOption = None,
    json_out: JsonOption = None,
    store: StoreOption = True,
) -> None:
    """ICH Q3C(R8) table lookups: value found, cited page, negative controls, hit@k."""
    _run_qa(
        "q3c-tables", data, corpus, pdf_dir, limit, seed, k, retrieval_only, max_tokens,
        threads, json_out, store,
    )  # fmt: skip


@contextmanager
def _served_model(settings: Settings, threads: int | None, work: Path) -> Iterator[Any]:
    """(base_url, served model name, description) of the configured model on the
    OpenAI-compatible path: the configured server, or llama_cpp.server on loopback."""
    if settings.llm_backend == "openai":
        yield settings.llm_base_url, settings.llm_model, {"server": settings.llm_base_url}
        return
    if settings.llm_backend != "llamacpp":
        raise ValueError("the faithfulness judge needs a real model (DEVIA_LLM_BACKEND)")
    from assistant.llm.model_files import require_installed
    from evals.judge_server import local_llama_server

    installed = require_installed(settings.llm_model, settings.models_dir)
    with local_llama_server(
        installed.path,
        installed.model_id,
        threads=threads or settings.llm_threads,
        context_tokens=min(settings.llm_context_tokens, 8192),
        log_path=work / "llama-server.log",
    ) as server:
        yield (
            server.base_url,
            server.model_alias,
            {
                "server": "llama_cpp.server on loopback",
                "file": str(installed.path),
                "sha256": installed.sha256,
            },
        )


def eval_faithfulness(
    data: Annotated[Path, typer.Option("--data", help="Items (JSONL).")] = DI_ITEMS,
    corpus: CorpusOption = None,
    pdf_dir: PdfDirOption = DEFAULT_PDF_DIR,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    max_tokens: MaxTokensOption = 200,
    judge_max_tokens: Annotated[int, typer.Option(min=64, help="Judge reply limit.")] = 1024,
    threads: ThreadsOption = None,
    json_out: JsonOption = None,
    store: StoreOption = True,
) -> None:
    """RAGAS faithfulness / context precision / context recall with the local model as judge
    (NaN counted as failures), and citation / quote-span checks, on chat answers."""
    from assistant.llm import LlmConfig, build_chat_model
    from evals.doc_qa import DocQaConfig, run_doc_qa
    from evals.doc_qa_data import load_items
    from evals.faithfulness import JudgeConfig, run_faithfulness

    settings = Settings()
    config = DocQaConfig(
        items=data,
        corpus=tuple(corpus or [pdf_dir]),
        pdf_dir=pdf_dir,
        limit=limit,
        seed=seed,
        max_tokens=max_tokens,
    )
    try:
        references = {i.qid: i.answer for i in load_items(data, pdf_dir)}
        with (
            tempfile.TemporaryDirectory(prefix="devia-eval-faithfulness-") as tmp,
            _served_model(settings, threads, Path(tmp)) as (base_url, name, served),
        ):
            answer_llm = LlmConfig(
                backend="openai",
                base_url=base_url,
                model=name,
                api_key=settings.llm_api_key.get_secret_value(),
                max_tokens=max_tokens,
                timeout_s=settings.llm_timeout_s,
                temperature=settings.llm_temperature,
                seed=settings.llm_seed,
            )
            chat_factory: Callable[[], Any] = lambda: build_chat_model(answer_llm)  # noqa: E731
            run = run_doc_qa(
                config,
                _embedder(settings),
                Path(tmp),
                chat_model_factory=chat_factory,
                verifier_factory=_verifier,
                progress=err.print,
            )
            judge = JudgeConfig(
                base_url, name, settings.llm_api_key.get_secret_value(), judge_max_tokens,
                settings.llm_timeout_s,
            )  # fmt: skip
            metrics, per_item = run_faithfulness(run, judge, references, progress=err.print)
    except (DocQaDataError, ValueError, RuntimeError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    metrics = {
        **metrics,
        "answer_accuracy": run.metrics.get("answer_accuracy", float("nan")),
        "seconds": run.metrics["seconds"] + float(metrics["judge_s"]),
    }
    _print_metrics(f"faithfulness: {metrics['n_answers']} answers", metrics)
    _write(
        "faithfulness",
        settings,
        metrics,
        json_out,
        store,
        config={**run.config, "judge_max_tokens": judge_max_tokens},
        model=run.model,
        judge={"model": name, "base_url": base_url, **served, "ragas": "0.4.3"},
        prompts=run.prompts,
        timings={**run.timings, "judge_s": metrics["judge_s"]},
        per_item=per_item,
        answers=run.per_item,
    )
