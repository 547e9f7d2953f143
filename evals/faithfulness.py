"""`devia eval faithfulness`: are the chat answers faithful to what was retrieved?

Samples: the data-integrity questions (or any item file of evals/doc_qa_data.py's formats)
answered by `ChatService` over the ingested PDFs (evals/doc_qa.py). Two kinds of checks:

- deterministic (ours, no model): every citation resolves to a chunk of the index, and every
  quote span is found verbatim (whitespace-normalised) in that chunk;
- RAGAS 0.4.3 with a local judge reached over the OpenAI-compatible API: faithfulness (the
  answer's statements supported by the retrieved contexts), context precision and context
  recall (both against the official answer). A score the judge could not produce (invalid
  JSON, no statements, an error) is NaN: counted in `<metric>_nan` and as a failure (0) in
  `<metric>_mean_nan_as_0`; `<metric>_mean` is over the scored samples only. Never dropped.
  Answers that found nothing ("Not found in the indexed documents.") have no contexts:
  RAGAS cannot score them; they are counted in `n_not_found`, not scored.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.chat import ChatAnswer
from retrieval.store.base import IndexStore

RAGAS_METRICS = ("faithfulness", "context_precision", "context_recall")


def _ws(text: str) -> str:
    return " ".join(text.split())


def deterministic_checks(answer: ChatAnswer, store: IndexStore) -> dict[str, Any]:
    """Citations that resolve to an indexed chunk and quotes found in the chunk text."""
    ids = [c.chunk_id for c in answer.citations]
    chunks = {p.id: str(p.payload.get("text", "")) for p in store.retrieve(ids)} if ids else {}
    resolved = [c.chunk_id in chunks for c in answer.citations]
    quoted = [
        bool(c.quote.strip()) and _ws(c.quote) in _ws(chunks.get(c.chunk_id, ""))
        for c in answer.citations
    ]
    return {
        "n_citations": len(ids),
        "citations_resolved": sum(resolved),
        "quotes_found": sum(quoted),
    }


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str
    model: str
    api_key: str = "not-needed"
    max_tokens: int = 1024
    timeout_s: float = 600.0


def build_ragas_metrics(judge: JudgeConfig) -> dict[str, Any]:
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")  # never phone home, even if unset
    from openai import AsyncOpenAI
    from ragas.llms import llm_factory
    from ragas.metrics.collections import ContextPrecision, ContextRecall, Faithfulness

    client = AsyncOpenAI(
        base_url=judge.base_url, api_key=judge.api_key, timeout=judge.timeout_s, max_retries=0
    )
    llm = llm_factory(
        judge.model, client=client, temperature=0.0, max_tokens=judge.max_tokens, top_p=1.0
    )
    return {
        "faithfulness": Faithfulness(llm=llm),
        "context_precision": ContextPrecision(llm=llm),
        "context_recall": ContextRecall(llm=llm),
    }


async def _score_one(metric_name: str, metric: Any, sample: dict[str, Any]) -> tuple[float, str]:
    try:
        if metric_name == "faithfulness":
            result = await metric.ascore(
                user_input=sample["question"],
                response=sample["answer"],
                retrieved_contexts=sample["contexts"],
            )
        else:
            result = await metric.ascore(
                user_input=sample["question"],
                reference=sample["reference"],
                retrieved_contexts=sample["contexts"],
            )
        value = float(result.value)
        return value, "" if not math.isnan(value) else "the judge produced no score"
    except Exception as exc:  # a weak judge's invalid output is a failure to record
        return float("nan"), f"{type(exc).__name__}: {str(exc)[:300]}"


def ragas_scores(
    samples: Sequence[dict[str, Any]],
    metrics: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per sample: each metric's value (NaN on failure) and the error, in order."""

    async def run_all() -> list[dict[str, Any]]:
        rows = []
        for n, sample in enumerate(samples, start=1):
            row: dict[str, Any] = {}
            for name in RAGAS_METRICS:
                started = time.perf_counter()
                value, error = await _score_one(name, metrics[name], sample)
                row[name] = value
                row[f"{name}_error"] = error
                row[f"{name}_s"] = round(time.perf_counter() - started, 2)
            rows.append(row)
            if progress:
                progress(f"judged {n}/{len(samples)}")
        return rows

    return asyncio.run(run_all())


def faithfulness_metrics(
    rows: Sequence[dict[str, Any]], n_not_found: int
) -> dict[str, float | int]:
    metrics: dict[str, float | int] = {"n_judged": len(rows), "n_not_found": n_not_found}
    for name in RAGAS_METRICS:
        values = [r[name] for r in rows if name in r]
        scored = [v for v in values if not math.isnan(v)]
        metrics[f"{name}_nan"] = len(values) - len(scored)
        metrics[f"{name}_mean"] = sum(scored) / len(scored) if scored else float("nan")
        metrics[f"{name}_mean_nan_as_0"] = sum(scored) / len(values) if values else float("nan")
    return metrics


def check_metrics(checks: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    citations = sum(c["n_citations"] for c in checks)
    return {
        "n_answers": len(checks),
        "n_citations": citations,
        "citation_resolved_rate": (
            sum(c["citations_resolved"] for c in checks) / citations if citations else float("nan")
        ),
        "quote_found_rate": (
            sum(c["quotes_found"] for c in checks) / citations if citations else float("nan")
        ),
    }


def sample_of(answer: ChatAnswer, reference: str) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "contexts": [s.text for s in answer.sources],
        "reference": reference,
    }


def run_faithfulness(
    doc_qa_run: Any,
    judge: JudgeConfig,
    references: dict[str, str],
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, float | int], list[dict[str, Any]]]:
    """RAGAS on the answers of a finished doc-QA run (evals/doc_qa.py `DocQaRun`), with the
    deterministic checks it recorded. `references`: qid -> official answer."""
    rows_by_question = {r["question"]: r for r in doc_qa_run.per_item}
    samples: list[dict[str, Any]] = []
    per_item: list[dict[str, Any]] = []
    n_not_found = 0
    for answer in doc_qa_run.answers:
        row = rows_by_question[answer.question]
        item_row = {"qid": row["qid"], "verdict": answer.verdict, **row["checks"]}
        if answer.verdict == "not_found" or not answer.sources:
            n_not_found += 1
            item_row["ragas"] = "not scored: nothing retrieved"
        else:
            samples.append(sample_of(answer, references[row["qid"]]))
            item_row["ragas"] = "scored"
        per_item.append(item_row)
    started = time.perf_counter()
    judged = ragas_scores(samples, build_ragas_metrics(judge), progress) if samples else []
    judge_s = time.perf_counter() - started
    scored_rows = iter(judged)
    for item_row in per_item:
        if item_row["ragas"] == "scored":
            item_row.update(
                {k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in next(scored_rows).items()}
            )  # fmt: skip
    metrics = {
        **faithfulness_metrics(judged, n_not_found),
        **check_metrics([r["checks"] for r in doc_qa_run.per_item if "checks" in r]),
        "judge_s": judge_s,
        "judge_s_per_sample": judge_s / len(samples) if samples else 0.0,
    }
    return metrics, per_item
