"""End to end with the real 0.5B model: a demo-plant scenario, ingested with the real embedder,
drafted, verified, killed after drafting and resumed in a fresh runner."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.context import build_agent_context
from assistant.agent.drafting import DraftSettings
from assistant.agent.graph import NodeFn
from assistant.agent.report import iter_statements
from assistant.agent.runner import InvestigationRunner
from assistant.llm import LlmConfig, build_chat_model
from assistant.llm.model_files import TEST_MODEL, get_spec
from evals.plant.generator import generate_corpus
from evals.plant_eval import ingest_corpus, load_scenarios, write_subset
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.store.factory import open_store
from tests.model_location import small_model_dir

pytestmark = [pytest.mark.model, pytest.mark.embedder]


class CountingModel:
    """Delegates to a chat model and counts completions."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.complete(*args, **kwargs)


def test_real_model_draft_is_cited_verified_and_survives_a_crash(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    plant = tmp_path / "plant"
    generate_corpus(plant, seed=7)
    scenario = load_scenarios(plant)[0]
    subset = write_subset(plant, tmp_path / "subset", scenario, others=20)
    embedder = SentenceTransformerEmbedder()
    store = open_store(":memory:", tmp_path / "index")
    report = ingest_corpus([subset], store, embedder)
    assert report.totals["failed"] == 0
    llm = LlmConfig(
        backend="llamacpp",
        model=TEST_MODEL,
        models_dir=small_model_dir(tmp_path_factory),
        context_tokens=4096,
        max_tokens=400,
        threads=min(2, os.cpu_count() or 1),
        timeout_s=400,
    )
    model = CountingModel(build_chat_model(llm))
    context = build_agent_context(
        store=store,
        embedder=embedder,
        chat_model=model,  # type: ignore[arg-type]
        plot_dir=tmp_path / "plots",
        # the event description is composed from the records; the model drafts the other two
        sections=("event_description", "disposition", "root_cause_analysis"),
        draft=DraftSettings(max_tokens=400, snippet_chars=450),
    )
    context.max_attempts = 1  # keep the run short: unsupported statements are flagged at once

    def crash_in_verify(name: str, fn: NodeFn) -> NodeFn:
        if name != "verify":
            return fn

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("killed in verify")

        return run

    checkpoints = tmp_path / "checkpoints.sqlite"
    with (
        open_checkpointer(checkpoints) as saver,
        pytest.raises(RuntimeError, match="killed in verify"),
    ):
        InvestigationRunner(context, saver, wrap=crash_in_verify).start(
            "e2e", {"payload": scenario.payload}, ["SITE-A"]
        )
    drafted_calls = model.calls
    assert drafted_calls >= 2
    with open_checkpointer(checkpoints) as saver:
        outcome = InvestigationRunner(context, saver).continue_run("e2e")
    assert model.calls == drafted_calls, "resuming after drafting must not call the model again"
    assert outcome.waiting_for_review
    draft = outcome.report
    assert draft is not None
    retrieved = {r["chunk_id"] for r in draft["ai_provenance"]["retrieved"]}
    statements = iter_statements(draft)
    assert [st for name, st in statements if name != "event_description"], (
        "the model produced no statement"
    )
    assert outcome.state["sections"]["event_description"]["origin"] == "composed_from_records"
    for _, statement in statements:
        assert statement["check"]["verdict"] in ("verified", "unsupported", "citation_invalid")
        for citation in statement["citations"]:
            assert citation["chunk_id"] in retrieved
    verification = outcome.state["verification"]
    assert verification["n_statements"] == len(statements)
    assert draft["ai_provenance"]["model"]["file_sha256"] == get_spec(TEST_MODEL).sha256
    assert draft["root_cause_analysis"]["conclusion_level"] is None
    store.close()
