"""`devia eval recalls`: similar-quality-event retrieval on real FDA drug recall events.

The real path: the historical (`index_*`) events are ingested into a fresh temporary index by
the ingestion pipeline (with the bundled openFDA mapping when present, else as canonical
deviation records built here), then the similar-event finder ranks them for each dev query.
Relevance and metrics follow evals/datasets/recalls/PROVENANCE.md exactly.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evals.retrieval_metrics import RankedQuery, evaluate_rankings, label_accuracy, macro_micro
from retrieval.embedding import Embedder
from retrieval.label_model_cache import LabelModelCache
from retrieval.similar import EVENT_DOC_TYPES, EventQuery, SimilarEventFinder
from retrieval.store.base import IndexStore
from retrieval.vector_cache import VectorCache

DATASET_DIR = Path(__file__).parent / "datasets" / "recalls"
DEFAULT_CORPUS = DATASET_DIR / "recall_events_all.jsonl"
DEFAULT_QUERIES = DATASET_DIR / "dev_queries.jsonl"
INDEX_SPLIT_PREFIX = "index_"
EVAL_SITE = "OPENFDA"  # the site the bundled mapping gives every event
MAPPING_NAME = "openfda_recall_events.json"
RANK_DEPTH = 100  # MRR is computed over this many ranked records
FIELDS = ("query", "query_with_product")


class RecallsDataError(ValueError):
    """The corpus or query file cannot be used (names the file and line)."""


@dataclass(frozen=True)
class RecallsConfig:
    corpus: Path = DEFAULT_CORPUS
    queries: Path = DEFAULT_QUERIES
    field: str = "query"
    strict: bool = False
    limit: int | None = None  # first N queries (file order), for a quick run
    depth: int = RANK_DEPTH
    label_model: bool = True  # False: the neighbours' label vote only (the earlier method)


@dataclass
class RecallsRun:
    metrics: dict[str, float]
    per_query: list[dict[str, Any]]
    config: dict[str, Any]
    timings: dict[str, float]
    index_info: dict[str, Any]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecallsDataError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise RecallsDataError(f"{path}:{number}: not a JSON object")
            rows.append(row)
    return rows


def index_events(corpus: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    events = [e for e in corpus if str(e.get("split", "")).startswith(INDEX_SPLIT_PREFIX)]
    for e in events:
        for key in ("doc_id", "failure_mode", "firm_key"):
            if not isinstance(e.get(key), str):
                raise RecallsDataError(f"corpus event {e.get('doc_id')!r} has no {key}")
    if not events:
        raise RecallsDataError("the corpus holds no index_* events")
    return events


def check_queries(queries: Sequence[dict[str, Any]], field: str) -> None:
    if field not in FIELDS:
        raise RecallsDataError(f"field must be one of {', '.join(FIELDS)}, got {field!r}")
    for q in queries:
        for key in (field, "gold_failure_mode", "source_doc_id", "firm_key", "qid"):
            if not isinstance(q.get(key), str) or not q[key].strip():
                raise RecallsDataError(f"query {q.get('qid')!r} has no {key}")


def canonical_record(event: dict[str, Any]) -> dict[str, Any]:
    """A recall event as a canonical deviation record (used when no mapping file exists)."""
    reason = str(event.get("reason_for_recall") or "").strip()
    products = event.get("product_descriptions") or []
    date = str(event.get("recall_initiation_date") or event.get("report_date") or "")
    record: dict[str, Any] = {
        "record_type": "deviation",
        "id": event["doc_id"],
        "title": reason.split(":")[0].strip() or event["doc_id"],
        "description": reason,
        "site": EVAL_SITE,
        "failure_mode": event["failure_mode"],
        "classification": ", ".join(event.get("classification") or []),
    }
    if len(date) == 8 and date.isdigit():
        record["occurred_at"] = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    if products:
        record["product_name"] = str(products[0])[:300]
    return record


def bundled_mapping_path() -> Path | None:
    import ingestion.mapping

    path = ingestion.mapping.BUNDLED_DIR / MAPPING_NAME
    return path if path.exists() else None


def build_index(
    events: Sequence[dict[str, Any]], store: IndexStore, embedder: Embedder, work_dir: Path
) -> dict[str, Any]:
    """Ingest the historical events through the ingestion pipeline into `store`."""
    from ingestion.mapping import load_mapping
    from ingestion.pipeline import IngestOptions, ingest_paths

    mapping_path = bundled_mapping_path()
    export = work_dir / "recall_events_index.jsonl"
    with export.open("w", encoding="utf-8") as fh:
        for event in events:
            row = event if mapping_path else canonical_record(event)
            fh.write(json.dumps(row) + "\n")
    options = IngestOptions(
        site=EVAL_SITE,
        mapping=load_mapping(mapping_path) if mapping_path else None,
        state_path=work_dir / "ingest-state.sqlite",
    )
    started = time.perf_counter()
    report = ingest_paths([export], store=store, embedder=embedder, options=options)
    totals = dict(report.totals)
    if totals.get("points_added", 0) == 0:
        raise RecallsDataError(f"ingestion indexed nothing: {report.files}")
    return {
        "path": "ingestion pipeline",
        "mapping": str(mapping_path) if mapping_path else "canonical records (evals/recalls.py)",
        "events": len(events),
        "points": store.count(),
        "ingest_s": round(time.perf_counter() - started, 1),
        "totals": totals,
    }


def query_event(query: dict[str, Any], field: str) -> EventQuery:
    return EventQuery(
        text=query[field],
        sites=(EVAL_SITE,),
        event_id=query["source_doc_id"],
    )


def run_recalls(
    config: RecallsConfig,
    embedder: Embedder,
    open_index: Callable[[Path], IndexStore],
    progress: Callable[[int, int], None] | None = None,
    vector_cache: VectorCache | None = None,
) -> RecallsRun:
    """Ingest, search and score. `open_index(dir)` opens a fresh store under `dir`;
    `vector_cache` keeps the failure-mode model's training-text vectors between runs."""
    return run_recalls_many([config], embedder, open_index, progress, vector_cache)[0]


def run_recalls_many(
    configs: Sequence[RecallsConfig],
    embedder: Embedder,
    open_index: Callable[[Path], IndexStore],
    progress: Callable[[int, int], None] | None = None,
    vector_cache: VectorCache | None = None,
) -> list[RecallsRun]:
    """Several query settings (field, strict, limit) over one ingested index; every config
    must name the same corpus."""
    if not configs or len({c.corpus for c in configs}) != 1:
        raise RecallsDataError("give one or more configs over the same corpus")
    t_start = time.perf_counter()
    corpus = index_events(read_jsonl(configs[0].corpus))
    by_doc = {e["doc_id"]: e for e in corpus}
    runs: list[RecallsRun] = []
    with tempfile.TemporaryDirectory(prefix="devia-recalls-") as tmp:
        store = open_index(Path(tmp))
        try:
            store.ensure_collection(embedder.dim)
            index_info = build_index(corpus, store, embedder, Path(tmp))
            labels = LabelModelCache(store, embedder, EVENT_DOC_TYPES, vector_cache=vector_cache)
            if any(c.label_model for c in configs):
                index_info["label_model"] = _train_label_model(labels)
            for config in configs:
                runs.append(
                    _evaluate(config, store, embedder, labels, by_doc, index_info, progress)
                )
        finally:
            store.close()
    for run in runs:
        run.timings["total_s"] = round(time.perf_counter() - t_start, 1)
    return runs


def _train_label_model(labels: LabelModelCache) -> dict[str, Any]:
    """Train the failure-mode model at index time (from the indexed events only)."""
    scope = labels.get((EVAL_SITE,))
    return {
        "trained": scope.model is not None,
        "labelled_records": scope.labelled_records,
        "classes": len(scope.model.classes) if scope.model else 0,
        "build_s": round(scope.build_s, 1),
    }


def _evaluate(
    config: RecallsConfig,
    store: IndexStore,
    embedder: Embedder,
    labels: LabelModelCache,
    by_doc: dict[str, dict[str, Any]],
    index_info: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> RecallsRun:
    queries = read_jsonl(config.queries)
    check_queries(queries, config.field)
    if config.limit is not None:
        queries = queries[: config.limit]
    finder = SimilarEventFinder(
        store,
        embedder,
        candidates=config.depth,
        label_models=labels,
        use_label_model=config.label_model,
    )
    t_search = time.perf_counter()
    ranked, per_query = _rank_all(queries, finder, by_doc, config, progress)
    search_s = time.perf_counter() - t_search
    macro, micro, values = evaluate_rankings(ranked)
    fm_values = [{"fm_top1": pq["fm_top1"], "fm_top3": pq["fm_top3"]} for pq in per_query]
    fm_macro, fm_micro = macro_micro(fm_values, [q.query_class for q in ranked])
    metrics: dict[str, float] = {}
    for name, value in {**macro, **fm_macro}.items():
        metrics[name] = round(value, 4)
    for name, value in {**micro, **fm_micro}.items():
        metrics[f"micro_{name}"] = round(value, 4)
    metrics["queries"] = len(ranked)
    metrics["classes"] = len({q.query_class for q in ranked})
    for row, row_values in zip(per_query, values, strict=True):
        row.update({k: round(v, 4) for k, v in row_values.items()})
    timings = {
        "ingest_s": index_info["ingest_s"],
        "label_model_s": index_info.get("label_model", {}).get("build_s", 0.0),
        "search_s": round(search_s, 2),
        "per_query_ms": round(1000 * search_s / max(len(ranked), 1), 1),
    }
    return RecallsRun(metrics, per_query, _config_dict(config, embedder), timings, index_info)


def _rank_all(
    queries: Sequence[dict[str, Any]],
    finder: SimilarEventFinder,
    by_doc: dict[str, dict[str, Any]],
    config: RecallsConfig,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[RankedQuery], list[dict[str, Any]]]:
    ranked: list[RankedQuery] = []
    per_query: list[dict[str, Any]] = []
    for number, query in enumerate(queries):
        gold = query["gold_failure_mode"]
        result = finder.find(query_event(query, config.field), limit=config.depth)
        gains = [_gain(by_doc.get(e.doc_id), query, config.strict) for e in result.events]
        relevant = [_gain(e, query, config.strict) for e in by_doc.values()]
        ranked.append(RankedQuery(gold, gains, [g for g in relevant if g > 0]))
        predicted = [s.failure_mode for s in result.failure_modes]
        per_query.append(
            {
                "qid": query["qid"],
                "gold_failure_mode": gold,
                "predicted_failure_modes": [
                    {"failure_mode": s.failure_mode, "score": round(s.score, 4)}
                    for s in result.failure_modes
                ],
                "fm_top1": label_accuracy(predicted, gold, 1),
                "fm_top3": label_accuracy(predicted, gold, 3),
                "label_source": result.label_source,
                "top5": [e.doc_id for e in result.events[:5]],
                "top5_gains": gains[:5],
            }
        )
        if progress:
            progress(number + 1, len(queries))
    return ranked, per_query


def _gain(event: dict[str, Any] | None, query: dict[str, Any], strict: bool) -> int:
    """README relevance: same failure mode, not the query's own event (strict: other firm);
    gain 2 when the dosage form matches too."""
    if event is None or event["failure_mode"] != query["gold_failure_mode"]:
        return 0
    if event["doc_id"] == query["source_doc_id"]:
        return 0
    if strict and event["firm_key"] == query["firm_key"]:
        return 0
    return 2 if event.get("dosage_form") == query.get("dosage_form") else 1


def _config_dict(config: RecallsConfig, embedder: Embedder) -> dict[str, Any]:
    import retrieval.label_model as label_model
    import retrieval.mode_ranking as mode_ranking
    import retrieval.similar as similar

    out = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    out["embedder"] = embedder.name
    out["method"] = {
        "dense_weight": similar.DENSE_WEIGHT,
        "prior_neighbours": similar.PRIOR_NEIGHBOURS,
        "prior_temperature": similar.PRIOR_TEMPERATURE,
        "prior_weight": similar.PRIOR_WEIGHT,
        "label_model": (
            {
                "svm_c": label_model.C,
                "temperature": label_model.TEMPERATURE,
                "prior_weight": mode_ranking.MODEL_PRIOR_WEIGHT,
                "covered_modes": mode_ranking.COVERED_MODES,
            }
            if config.label_model
            else None
        ),
        "product_term_weight": similar.PRODUCT_TERM_WEIGHT,
        "candidates": config.depth,
        "reranker": None,
    }
    return out


TABLE_METRICS = (
    "P@1", "P@5", "P@10", "Success@5", "MRR", "nDCG@10", "graded_nDCG@10", "fm_top1", "fm_top3",
)  # fmt: skip


def table_rows(metrics: dict[str, float]) -> list[tuple[str, str, str]]:
    """(metric, macro, micro) rows for printing."""
    return [
        (name, f"{metrics[name]:.3f}", f"{metrics.get('micro_' + name, float('nan')):.3f}")
        for name in TABLE_METRICS
        if name in metrics
    ]


# -- validation splits inside the historical index (for choosing parameters, never dev) ------

QUERY_MIN_CHARS = 30  # the shortest dev query has 30 characters and 6 words
QUERY_MIN_WORDS = 6
QUERIES_PER_FIRM = 2
# Catch-all classes that dev_queries.jsonl never uses as a query class (it has 24 of the 29).
NON_QUERY_CLASSES = frozenset({"CGMP_GENERAL", "OTHER", "PROCESS_CONTROL", "QUALITY_SYSTEM_OOS"})


def validation_split(
    corpus: Sequence[dict[str, Any]], cut: str, end: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(corpus, queries) for a temporal split of the *index* events: those reported before
    `cut` (YYYYMMDD) stay `index_*`, those reported in [cut, end) give pseudo-queries built
    like dev_queries.jsonl (the recall narrative without FDA's category prefix, at most two
    per firm, no catch-all class); every other event leaves the index."""
    rows: list[dict[str, Any]] = []
    window: list[dict[str, Any]] = []
    for event in corpus:
        date = str(event.get("report_date", ""))
        historical = str(event.get("split", "")).startswith(INDEX_SPLIT_PREFIX)
        row = dict(event)
        if historical and date < cut:
            row["split"] = f"index_before_{cut}"
        else:
            row["split"] = f"validation_{cut}_{end}" if historical and date < end else "unused"
            if row["split"] != "unused":
                window.append(row)
        rows.append(row)
    queries: list[dict[str, Any]] = []
    per_firm: dict[str, int] = {}
    for event in sorted(window, key=lambda e: str(e["doc_id"])):
        text = str(event.get("reason_narrative") or "").strip()
        firm = str(event.get("firm_key", ""))
        if (
            len(text) < QUERY_MIN_CHARS
            or len(text.split()) < QUERY_MIN_WORDS
            or event.get("failure_mode") in NON_QUERY_CLASSES
            or per_firm.get(firm, 0) >= QUERIES_PER_FIRM
        ):
            continue
        per_firm[firm] = per_firm.get(firm, 0) + 1
        products = event.get("product_descriptions") or [""]
        queries.append(
            {
                "qid": f"V-{event['doc_id']}",
                "query": text,
                "query_with_product": f"{text} | Product: {products[0]}",
                "gold_failure_mode": event["failure_mode"],
                "dosage_form": event.get("dosage_form"),
                "source_doc_id": event["doc_id"],
                "firm_key": firm,
                "date": event.get("report_date"),
            }
        )
    return rows, queries


def write_validation_split(
    corpus_path: Path, cut: str, end: str, out_dir: Path
) -> tuple[Path, Path]:
    """Write a validation split as files `devia eval recalls --corpus/--queries` reads."""
    rows, queries = validation_split(read_jsonl(corpus_path), cut, end)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / f"corpus_{cut}.jsonl", out_dir / f"queries_{cut}_{end}.jsonl")
    for path, items in zip(paths, (rows, queries), strict=True):
        with path.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(item) + "\n" for item in items)
    return paths


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4:
        raise SystemExit("usage: python -m evals.recalls CUT END OUT_DIR   (dates as YYYYMMDD)")
    cut_arg, end_arg, out_arg = sys.argv[1:]
    for written in write_validation_split(DEFAULT_CORPUS, cut_arg, end_arg, Path(out_arg)):
        print(written)
