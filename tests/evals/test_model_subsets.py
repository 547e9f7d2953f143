"""The model-based suites on a few items with the small 0.5B model (one llama.cpp thread):
di-qa answers through ChatService, served by `llama_cpp.server` on loopback (the
OpenAI-compatible path), then RAGAS judged by the same server. Gates: every answer and every
judged sample is accounted for (NaN counted, never dropped), citations resolve and quotes
are found, and the floors of evals/thresholds_qa.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm import LlmConfig, build_chat_model
from assistant.llm.model_files import TEST_MODEL, get_spec, install_model
from assistant.verification.support_scorer import KeywordOverlapScorer
from assistant.verification.verifier import StatementVerifier
from evals.doc_qa import DocQaConfig, run_doc_qa
from evals.doc_qa_data import DEFAULT_PDF_DIR, DI_ITEMS, load_items
from evals.faithfulness import RAGAS_METRICS, JudgeConfig, run_faithfulness
from evals.judge_server import LocalServer, local_llama_server

pytestmark = pytest.mark.model
THRESHOLDS = Path(__file__).parents[2] / "evals" / "thresholds_qa.json"
THREADS = 2  # the server has the cores to itself while the test waits on it (CI runs serially)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    installed = install_model(get_spec(TEST_MODEL), tmp_path_factory.mktemp("models"))
    log = tmp_path_factory.mktemp("judge") / "server.log"
    with local_llama_server(
        installed.path, installed.model_id, threads=THREADS, context_tokens=4096, log_path=log
    ) as running:
        yield running


def test_di_qa_answers_and_ragas_judge_on_a_small_subset(
    server: LocalServer, tmp_path: Path
) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    spec = json.loads(THRESHOLDS.read_text())["faithfulness_model_ci_subset"]
    llm = LlmConfig(
        backend="openai",
        base_url=server.base_url,
        model=server.model_alias,
        max_tokens=spec["max_tokens"],
        timeout_s=300,
    )
    config = DocQaConfig(
        items=DI_ITEMS,
        corpus=(DEFAULT_PDF_DIR / "fda_data_integrity_qa_guidance_2018.pdf",),
        limit=spec["limit"],
        seed=spec["seed"],
        max_tokens=spec["max_tokens"],
        chat_limit=2,
    )
    run = run_doc_qa(
        config,
        SentenceTransformerEmbedder(),
        tmp_path,
        chat_model_factory=lambda: build_chat_model(llm),
        verifier_factory=lambda _: StatementVerifier(KeywordOverlapScorer()),
    )
    assert len(run.answers) == spec["limit"]
    assert run.model is not None and run.model["name"] == server.model_alias
    assert set(run.prompts) == {"chat_system", "chat_question"}
    for row in run.per_item:
        assert row["verdict"] in ("answered", "unsupported", "not_found")
        assert row["checks"]["citations_resolved"] == row["checks"]["n_citations"]
        assert row["checks"]["quotes_found"] == row["checks"]["n_citations"]

    references = {i.qid: i.answer for i in load_items(DI_ITEMS)}
    judge = JudgeConfig(server.base_url, server.model_alias, max_tokens=spec["judge_max_tokens"])
    metrics, per_item = run_faithfulness(run, judge, references)
    assert metrics["n_judged"] + metrics["n_not_found"] == spec["limit"] == len(per_item)
    for name in RAGAS_METRICS:
        # every judged sample is either scored or counted as NaN
        scored = [r[name] for r in per_item if r["ragas"] == "scored" and r[name] is not None]
        assert len(scored) + metrics[f"{name}_nan"] == metrics["n_judged"]
    low = {n: (metrics[n], f) for n, f in spec["min"].items() if metrics[n] < f}
    assert not low, f"faithfulness subset below thresholds (value, floor): {low}"
