"""`devia investigate`, `devia chat`, `devia eval plant` and `devia bench draft`."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.llm_cmd import llm_config_from_settings
from api.settings import Settings

console = Console()
err = Console(stderr=True)
app = typer.Typer(help="Investigation drafts and questions.", no_args_is_help=True)


@contextmanager
def _context(settings: Settings, **kwargs: Any) -> Iterator[Any]:
    from assistant.agent.context import open_agent_context

    with open_agent_context(
        index=settings.index,
        index_dir=settings.index_dir,
        data_dir=settings.data_dir,
        llm=llm_config_from_settings(settings),
        embed_model_path=settings.embed_model_path,
        embed_batch_size=settings.embed_batch_size,
        **kwargs,
    ) as context:
        yield context


@app.command("investigate")
def investigate(
    event: Annotated[
        Path, typer.Option("--event", exists=True, dir_okay=False, help="MES payload JSON.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the draft: .md or .json.")
    ] = None,
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Site scope (default: the event's site).")
    ] = None,
    investigation_id: Annotated[
        str | None, typer.Option("--id", help="Investigation id (default: a new one).")
    ] = None,
) -> None:
    """Draft an investigation report for an anomaly, up to the human review point."""
    from assistant.agent.anomaly import AnomalyError
    from assistant.agent.checkpoint import checkpoint_path, open_checkpointer
    from assistant.agent.render import render_markdown
    from assistant.agent.runner import InvestigationRunner

    settings = Settings()
    try:
        payload = json.loads(event.read_text())
    except json.JSONDecodeError as exc:
        err.print(f"[red]{event} is not valid JSON: {exc}[/red]")
        raise typer.Exit(2) from exc
    raw = payload if "payload" in payload or "text" in payload else {"payload": payload}
    sites = site or [str((raw.get("payload") or raw).get("site", ""))]
    thread = investigation_id or f"inv-{uuid.uuid4().hex[:12]}"
    try:
        with (
            _context(settings) as context,
            open_checkpointer(checkpoint_path(settings.data_dir)) as saver,
        ):
            outcome = InvestigationRunner(context, saver).start(thread, raw, sites)
    except AnomalyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    assert outcome.report is not None
    markdown = render_markdown(outcome.report)
    if out is not None:
        text = json.dumps(outcome.report, indent=2) if out.suffix == ".json" else markdown
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    console.print(markdown, markup=False, highlight=False)
    err.print(f"investigation {thread}: {outcome.status} (resume with the API review endpoint)")


@app.command("chat")
def chat(
    question: Annotated[str, typer.Argument(help="Your question.")],
    site: Annotated[list[str], typer.Option("--site", help="Site scope (required).")],
    investigation: Annotated[
        str | None, typer.Option("--investigation", help="Ask in the context of this draft.")
    ] = None,
) -> None:
    """Ask the indexed documents (or one investigation); the answer cites checked quotes."""
    from assistant.agent.checkpoint import checkpoint_path, open_checkpointer
    from assistant.agent.runner import InvestigationRunner
    from assistant.chat import ChatService

    settings = Settings()
    with _context(settings) as context:
        state = None
        if investigation:
            with open_checkpointer(checkpoint_path(settings.data_dir)) as saver:
                state = InvestigationRunner(context, saver).outcome(investigation).state
            if not state:
                err.print(f"[red]no investigation {investigation!r}[/red]")
                raise typer.Exit(2)
        service = ChatService(context.chat_model, context.searcher, context.verifier)
        stream = service.ask(question, site, investigation=state)
        for chunk in stream:
            console.print(chunk, end="", markup=False, highlight=False)
        console.print()
        for c in stream.result.citations:
            console.print(
                f"[{c.sid}] {c.doc_id} rev {c.revision or '-'} section {c.section_id or '-'}: "
                f'"{c.quote}" ({c.verdict})',
                markup=False,
                highlight=False,
            )


def _plant(plant_dir: Path | None, seed: int, work: Path) -> Path:
    if plant_dir is not None:
        return plant_dir
    from evals.plant.generator import generate_corpus

    target = work / "plant"
    generate_corpus(target, seed=seed)
    return target


@contextmanager
def _plant_context(
    settings: Settings, plant: Path, work: Path, sections: str | None
) -> Iterator[Any]:
    from api.backends import open_embedder
    from assistant.agent.context import build_agent_context, default_scorer
    from assistant.agent.sections import DEFAULT_SECTIONS
    from assistant.llm import build_chat_model
    from evals.plant_eval import ingest_corpus, plant_paths
    from retrieval.store.factory import open_store

    embedder = open_embedder(settings)
    store = open_store("edge", work / "index")
    try:
        err.print("indexing the demo plant ...")
        ingest_corpus(plant_paths(plant), store, embedder)
        yield build_agent_context(
            store=store,
            embedder=embedder,
            chat_model=build_chat_model(llm_config_from_settings(settings)),
            plot_dir=work / "plots",
            scorer=default_scorer(embedder),
            sections=tuple(sections.split(",")) if sections else DEFAULT_SECTIONS,
        )
    finally:
        store.close()


def eval_plant(
    json_out: Annotated[Path, typer.Option("--json", help="Write the metrics here.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Scenarios to run.")] = 40,
    plant_dir: Annotated[
        Path | None, typer.Option("--plant", help="A generated plant (default: generate one).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    sections: Annotated[str | None, typer.Option("--sections", help="Comma-separated.")] = None,
    retrieval_only: Annotated[
        bool,
        typer.Option(
            "--retrieval-only", help="Score the similar-event step only (no model loaded)."
        ),
    ] = False,
) -> None:
    """The agent over the demo-plant scenarios: citations, quotes, recall, SOP, 6M."""
    from langgraph.checkpoint.memory import InMemorySaver

    from assistant.agent.runner import InvestigationRunner
    from evals.plant_eval import load_scenarios, run_plant_eval
    from evals.result_file import write_result

    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="devia-eval-plant-") as tmp:
        work = Path(tmp)
        plant = _plant(plant_dir, seed, work)
        scenarios = load_scenarios(plant)[:limit]
        if retrieval_only:
            metrics, rows = _plant_retrieval(settings, plant, work, scenarios)
            _print_metrics(metrics)
            write_result(json_out, metrics, model=None, scenarios=rows)
            return
        with _plant_context(settings, plant, work, sections) as context:
            runner = InvestigationRunner(context, InMemorySaver())

            def run(scenario: Any) -> dict[str, Any]:
                return runner.start(
                    scenario.event_id, {"payload": scenario.payload}, ["SITE-A"]
                ).state

            metrics, rows = run_plant_eval(scenarios, run, progress=err.print)
            model = context.chat_model.info.as_dict()
    _print_metrics(metrics)
    write_result(json_out, metrics, model=model, scenarios=rows)


def _print_metrics(metrics: dict[str, float]) -> None:
    table = Table("metric", "value")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.3f}")
    console.print(table)


def _plant_retrieval(
    settings: Settings, plant: Path, work: Path, scenarios: list[Any]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The similar-event step as the agent runs it (same payload normalisation and query)."""
    from api.backends import open_embedder
    from assistant.agent.anomaly import normalise_event
    from evals.plant_eval import ingest_corpus, plant_paths, score_retrieval
    from retrieval.similar import EventQuery, SimilarEventFinder
    from retrieval.store.factory import open_store
    from retrieval.vector_cache import VectorCache

    embedder = open_embedder(settings)
    store = open_store("edge", work / "index")
    try:
        err.print("indexing the demo plant ...")
        ingest_corpus(plant_paths(plant), store, embedder)
        vectors = VectorCache.in_data_dir(settings.data_dir)
        finder = SimilarEventFinder(store, embedder, vector_cache=vectors)

        def rank(scenario: Any) -> list[str]:
            anomaly = normalise_event({"payload": scenario.payload})
            query = EventQuery.from_payload(anomaly.as_payload(), ["SITE-A"])
            return [event.doc_id for event in finder.find(query, limit=10).events]

        return score_retrieval(scenarios, rank)
    finally:
        store.close()


def bench_draft(
    json_out: Annotated[Path, typer.Option("--json", help="Write the metrics here.")],
    runs: Annotated[int, typer.Option("--runs", min=1)] = 3,
    plant_dir: Annotated[Path | None, typer.Option("--plant")] = None,
    scenario: Annotated[int, typer.Option("--scenario", min=0, help="Scenario index.")] = 0,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    sections: Annotated[str | None, typer.Option("--sections", help="Comma-separated.")] = None,
) -> None:
    """Time from an MES payload to a draft at review (median of N runs)."""
    from langgraph.checkpoint.memory import InMemorySaver

    from assistant.agent.runner import InvestigationRunner
    from evals.bench_draft import bench_draft as run_bench
    from evals.plant_eval import load_scenarios
    from evals.result_file import write_result

    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="devia-bench-draft-") as tmp:
        work = Path(tmp)
        plant = _plant(plant_dir, seed, work)
        chosen = load_scenarios(plant)[scenario]
        with _plant_context(settings, plant, work, sections) as context:
            runner = InvestigationRunner(context, InMemorySaver())

            def run(thread: str) -> dict[str, Any]:
                return runner.start(thread, {"payload": chosen.payload}, ["SITE-A"]).state

            metrics, timings = run_bench(run, runs)
            model = context.chat_model.info.as_dict()
    _print_metrics(metrics)
    per_run = [{"seconds": t.seconds, "sections": t.sections} for t in timings]
    write_result(json_out, metrics, model=model, scenario=chosen.event_id, runs=per_run)
