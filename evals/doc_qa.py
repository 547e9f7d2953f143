"""`devia eval di-qa` and `devia eval q3c-tables`: question answering over ingested PDFs.

The corpus (by default all 19 reference PDFs, distractors included) is ingested by the
ingestion pipeline into a fresh temporary index (site GLOBAL, like any reference document).
Every question is then
- searched (retrieval only, no model): is a chunk of the gold PDF covering a gold page among
  the top k hits (hit@k, MRR@k);
- answered through the product's chat path (`ChatService`: retrieval, the chat prompts, the
  configured model, quote checking), unless `retrieval_only`: is the answer right
  (evals/doc_qa_data.py), does a verified citation point at a gold page of the gold PDF, and
  do negative controls answer "no" / "not found".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chat import ChatAnswer, ChatService
from assistant.llm import ChatModel
from evals.doc_qa_data import (
    DEFAULT_PDF_DIR,
    DI_COSINE_MIN,
    QaItem,
    is_refusal,
    load_items,
    q3c_correct,
    word_overlap,
)
from evals.faithfulness import check_metrics, deterministic_checks
from retrieval.embedding import Embedder
from retrieval.search import Searcher, SearchHit, SearchRequest
from retrieval.store.base import IndexStore

SITE = "GLOBAL"


@dataclass(frozen=True)
class DocQaConfig:
    items: Path
    corpus: tuple[Path, ...] = (DEFAULT_PDF_DIR,)
    pdf_dir: Path = DEFAULT_PDF_DIR  # where the items' source files are looked up
    limit: int | None = None  # a seeded random sample of N items (kept in file order)
    seed: int = 0
    k: int = 5
    retrieval_only: bool = False
    chat_limit: int = 5  # sources given to the model (ChatService default)
    max_tokens: int = 200

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": str(self.items),
            "corpus": [str(p) for p in self.corpus],
            "pdf_dir": str(self.pdf_dir),
            "limit": self.limit,
            "seed": self.seed,
            "k": self.k,
            "retrieval_only": self.retrieval_only,
            "chat_limit": self.chat_limit,
            "max_tokens": self.max_tokens,
            "site": SITE,
        }


@dataclass
class IndexedCorpus:
    store: IndexStore
    doc_ids: dict[str, list[str]]  # corpus file name -> doc ids it produced
    info: dict[str, Any]


@contextmanager
def indexed_corpus(paths: Sequence[Path], embedder: Embedder, work_dir: Path) -> Any:
    """A fresh Qdrant Edge index in `work_dir` holding `paths`, closed on exit."""
    from ingestion.pipeline import IngestOptions, ingest_paths
    from retrieval.store.factory import open_store

    store = open_store("edge", work_dir / "index")
    try:
        started = time.perf_counter()
        report = ingest_paths(
            list(paths),
            store=store,
            embedder=embedder,
            options=IngestOptions(state_path=work_dir / "ingest-state.sqlite"),
        )
        failed = [f"{f.path}: {f.reason}" for f in report.files if f.status.value == "failed"]
        if failed or not report.totals.get("points_added"):
            raise RuntimeError(f"ingestion of the QA corpus failed: {failed or report.totals}")
        doc_ids = {Path(f.path).name: list(f.doc_ids) for f in report.files}
        info = {
            "files": len(report.files),
            "pages": report.totals.get("pages"),
            "chunks": report.totals.get("chunks"),
            "ingest_s": round(time.perf_counter() - started, 1),
        }
        yield IndexedCorpus(store, doc_ids, info)
    finally:
        store.close()


def _covers(
    doc_ids: Sequence[str], pages: Sequence[int], doc_id: str, start: Any, end: Any
) -> bool:
    if doc_id not in doc_ids or start is None:
        return False
    last = end if end is not None else start
    return any(start <= p <= last for p in pages)


def retrieval_rank(item: QaItem, hits: Sequence[SearchHit], doc_ids: Sequence[str]) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if _covers(doc_ids, item.pages, hit.doc_id, hit.page_start, hit.page_end):
            return rank
    return None


@dataclass
class DocQaRun:
    metrics: dict[str, float | int]
    per_item: list[dict[str, Any]]
    config: dict[str, Any]
    timings: dict[str, float]
    model: dict[str, Any] | None = None
    prompts: dict[str, Any] = field(default_factory=dict)
    answers: list[ChatAnswer] = field(default_factory=list)


def prompt_versions() -> dict[str, Any]:
    from assistant.prompts import load_prompt

    return {
        name: {"version": p.version, "sha256": p.sha256}
        for name in ("chat_system", "chat_question")
        for p in [load_prompt(name)]
    }


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def score_answer(
    item: QaItem, answer: ChatAnswer, doc_ids: Sequence[str], similarity: float | None
) -> dict[str, Any]:
    """`content_correct` judges the text alone; `correct` is what the user is told: an
    answer the chat path marks unsupported ("treat it as not found") is not a right answer
    to a positive item, and counts as a decline for a negative control."""
    declined = answer.verdict == "not_found" or is_refusal(answer.text)
    withheld = declined or answer.verdict == "unsupported"
    cited_right = any(
        c.verdict == "verified" and _covers(doc_ids, item.pages, c.doc_id, c.page, c.page)
        for c in answer.citations
    )
    row: dict[str, Any] = {
        "verdict": answer.verdict,
        "declined": declined,
        "cited_page_right": cited_right,
        "citations": [
            {"doc_id": c.doc_id, "page": c.page, "verdict": c.verdict, "quote": c.quote}
            for c in answer.citations
        ],
        "answer": answer.text,
    }
    if item.kind == "q3c":
        row["content_correct"] = q3c_correct(item, answer.text)
    else:
        recall, precision = word_overlap(item.answer, answer.text)
        row["similarity"] = similarity
        row["word_recall"] = recall
        row["word_precision"] = precision
        row["content_correct"] = (
            not declined and similarity is not None and similarity >= DI_COSINE_MIN
        )
    if item.negative:
        row["correct"] = row["content_correct"] or withheld
    else:
        row["correct"] = row["content_correct"] and not withheld
    return row


def run_doc_qa(
    config: DocQaConfig,
    embedder: Embedder,
    work_dir: Path,
    chat_model_factory: Callable[[], ChatModel] | None = None,
    verifier_factory: Callable[[Embedder], Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DocQaRun:
    """Ingest, search and (unless retrieval_only) answer every item; score them."""
    started = time.perf_counter()
    items = load_items(config.items, config.pdf_dir)
    if config.limit is not None and config.limit < len(items):
        if config.limit <= 0:
            raise ValueError("limit must be positive")
        chosen = sorted(random.Random(config.seed).sample(range(len(items)), config.limit))
        items = [items[i] for i in chosen]
    with indexed_corpus(config.corpus, embedder, work_dir) as corpus:
        missing = sorted({i.source_file for i in items} - set(corpus.doc_ids))
        if missing:
            raise ValueError(f"the corpus does not hold the items' source files: {missing}")
        indexed = time.perf_counter()
        searcher = Searcher(corpus.store, embedder)
        rows: list[dict[str, Any]] = []
        for item in items:
            hits = searcher.search(SearchRequest(item.question, sites=[SITE], limit=config.k)).hits
            rank = retrieval_rank(item, hits, corpus.doc_ids[item.source_file])
            rows.append(
                {
                    "qid": item.qid,
                    "question": item.question,
                    "expected": item.answer,
                    "negative": item.negative,
                    "gold_file": item.source_file,
                    "gold_pages": list(item.pages),
                    "retrieval_rank": rank,
                    "top_hits": [
                        {"doc_id": h.doc_id, "pages": h.pages, "score": round(h.score, 4)}
                        for h in hits
                    ],
                }
            )
        searched = time.perf_counter()
        model_info: dict[str, Any] | None = None
        answers: list[ChatAnswer] = []
        if not config.retrieval_only:
            if chat_model_factory is None or verifier_factory is None:
                raise ValueError("answering needs a chat model and a verifier")
            model = chat_model_factory()
            service = ChatService(
                model,
                searcher,
                verifier_factory(embedder),
                limit=config.chat_limit,
                max_tokens=config.max_tokens,
            )
            model_info = model.info.as_dict()
            for n, (item, row) in enumerate(zip(items, rows, strict=True), start=1):
                t0 = time.perf_counter()
                answer = service.ask(item.question, [SITE]).result
                answers.append(answer)
                similarity = None
                if item.kind == "di" and answer.text.strip():
                    vectors = embedder.embed([item.answer, answer.text])
                    similarity = float(vectors[0] @ vectors[1])
                row.update(score_answer(item, answer, corpus.doc_ids[item.source_file], similarity))
                row["checks"] = deterministic_checks(answer, corpus.store)
                row["answer_s"] = round(time.perf_counter() - t0, 2)
                if progress:
                    progress(f"{n}/{len(items)} {item.qid}: correct={row['correct']}")
        answered = time.perf_counter()
        index_info = corpus.info
    metrics = _metrics(items, rows, config)
    metrics["seconds"] = answered - started
    timings = {
        "ingest_s": indexed - started,
        "search_s": searched - indexed,
        "answer_s": answered - searched,
        "answer_s_per_item": (answered - searched) / len(items) if answers else 0.0,
    }
    return DocQaRun(
        metrics,
        rows,
        {**config.as_dict(), "index": index_info, "di_cosine_min": DI_COSINE_MIN},
        timings,
        model_info,
        prompt_versions() if answers else {},
        answers,
    )


def _metrics(
    items: Sequence[QaItem], rows: Sequence[dict[str, Any]], config: DocQaConfig
) -> dict[str, float | int]:
    positives = [r for i, r in zip(items, rows, strict=True) if not i.negative]
    negatives = [r for i, r in zip(items, rows, strict=True) if i.negative]
    ranks = [r["retrieval_rank"] for r in positives]
    k = config.k
    metrics: dict[str, float | int] = {
        "n_items": len(items),
        "n_positive": len(positives),
        "n_negative": len(negatives),
        f"retrieval_hit@{k}": _mean([1.0 if r is not None else 0.0 for r in ranks]),
        "retrieval_hit@1": _mean([1.0 if r == 1 else 0.0 for r in ranks]),
        f"retrieval_mrr@{k}": _mean([1.0 / r if r else 0.0 for r in ranks]),
    }
    if config.retrieval_only:
        return metrics
    metrics.update(
        {
            "answer_accuracy": _mean([float(r["correct"]) for r in positives]),
            "answer_content_accuracy": _mean([float(r["content_correct"]) for r in positives]),
            "cited_page_accuracy": _mean([float(r["cited_page_right"]) for r in positives]),
            "declined_rate_positive": _mean([float(r["declined"]) for r in positives]),
            "unsupported_rate": _mean([float(r["verdict"] == "unsupported") for r in rows]),
            "answer_s_mean": _mean([r["answer_s"] for r in rows]),
        }
    )
    checks = check_metrics([r["checks"] for r in rows])
    metrics["citation_resolved_rate"] = checks["citation_resolved_rate"]
    metrics["quote_found_rate"] = checks["quote_found_rate"]
    if negatives:
        metrics["negative_correct"] = _mean([float(r["correct"]) for r in negatives])
        metrics["negative_declined"] = _mean([float(r["declined"]) for r in negatives])
    similarities = [r["similarity"] for r in positives if r.get("similarity") is not None]
    if any("similarity" in r for r in positives):
        metrics["answer_similarity_mean"] = _mean(similarities)
        metrics["answer_word_recall_mean"] = _mean([r["word_recall"] for r in positives])
        metrics["answer_word_precision_mean"] = _mean([r["word_precision"] for r in positives])
    return metrics
