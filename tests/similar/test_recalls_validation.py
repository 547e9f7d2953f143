"""Validation splits inside the historical index (evals.recalls.validation_split): the files
parameters are chosen on, so they must never leak dev events or later index events."""

import json
from pathlib import Path
from typing import Any

from evals.recalls import (
    NON_QUERY_CLASSES,
    QUERIES_PER_FIRM,
    index_events,
    read_jsonl,
    validation_split,
    write_validation_split,
)

NARRATIVE = "Tablets failed dissolution testing at the twelve month stability station"


def _event(
    doc_id: str, date: str, firm: str, mode: str = "DISSOLUTION", **extra: Any
) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "report_date": date,
        "firm_key": firm,
        "failure_mode": mode,
        "split": "index_2012_2021",
        "reason_narrative": NARRATIVE,
        "product_descriptions": [f"Product of {doc_id}"],
        "dosage_form": "tablet",
        **extra,
    }


CORPUS = [
    _event("OLD-1", "20150301", "firm-a"),
    _event("OLD-2", "20171231", "firm-b", "STERILITY"),
    _event("NEW-1", "20180105", "firm-a"),
    _event("NEW-2", "20180210", "firm-a"),
    _event("NEW-3", "20180315", "firm-a"),  # a third query from firm-a: over the cap
    _event("NEW-4", "20190101", "firm-c", "CGMP_GENERAL"),  # catch-all class: no query
    _event("NEW-5", "20190202", "firm-d", reason_narrative="Too short"),
    _event("LATE-1", "20200101", "firm-e"),  # at the end date: outside the window
    _event("DEV-1", "20220301", "firm-f", split="dev_2022_2023H1"),
]


def test_split_keeps_only_older_index_events_and_builds_queries_like_dev() -> None:
    rows, queries = validation_split(CORPUS, "20180101", "20200101")
    kept = [e["doc_id"] for e in index_events(rows)]
    assert kept == ["OLD-1", "OLD-2"]
    splits = {r["doc_id"]: r["split"] for r in rows}
    assert splits["LATE-1"] == splits["DEV-1"] == "unused"
    assert splits["NEW-4"].startswith("validation_")
    assert [q["source_doc_id"] for q in queries] == ["NEW-1", "NEW-2"]
    assert QUERIES_PER_FIRM == 2 and "CGMP_GENERAL" in NON_QUERY_CLASSES
    first = queries[0]
    assert first["query"] == NARRATIVE
    assert first["query_with_product"] == f"{NARRATIVE} | Product: Product of NEW-1"
    assert first["gold_failure_mode"] == "DISSOLUTION"
    assert first["firm_key"] == "firm-a" and first["qid"] == "V-NEW-1"


def test_written_split_reads_back_as_corpus_and_queries(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in CORPUS))
    corpus_path, queries_path = write_validation_split(
        source, "20180101", "20200101", tmp_path / "out"
    )
    assert len(read_jsonl(corpus_path)) == len(CORPUS)
    assert [q["qid"] for q in read_jsonl(queries_path)] == ["V-NEW-1", "V-NEW-2"]
