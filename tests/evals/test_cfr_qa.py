"""cfr-qa: parsing, the leave-firm-out rule, and the CI subset against evals/thresholds_qa.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.cfr_qa import (
    CfrQaDataError,
    firm_of,
    load_items,
    load_knowledge,
    run_cfr_qa,
    section_of,
)
from retrieval.embedding import HashingEmbedder

THRESHOLDS = Path(__file__).parents[2] / "evals" / "thresholds_qa.json"
PREFIX = "Which 21 CFR requirement is violated by the following observation? "


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_sections_and_firms_are_parsed() -> None:
    assert section_of("211.84(d)(1)") == "211.84"
    assert section_of("211.192") == "211.192"
    assert section_of("Part 11") is None
    assert firm_of("AACE Pharmaceuticals Inc._517") == "AACE Pharmaceuticals Inc."
    assert firm_of("Firm_2_12") == "Firm_2"


def test_bad_files_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": "CFRQA-A_1#1", "question": "q", "gold_cfr": ["211.22"]}\nnot json\n')
    with pytest.raises(CfrQaDataError, match=r"bad\.jsonl:2: not JSON"):
        load_items(bad)
    missing = _write(tmp_path / "m.jsonl", [{"qid": "CFRQA-A_1#1", "question": "q"}])
    with pytest.raises(CfrQaDataError, match="no gold_cfr"):
        load_items(missing)
    with pytest.raises(CfrQaDataError, match="file not found"):
        load_knowledge(tmp_path / "nope.jsonl")


def test_an_item_is_never_answered_from_its_own_firm(tmp_path: Path) -> None:
    """The item's text is verbatim a record of its own firm (other letter) citing 211.100;
    other firms' records on the same words cite 211.192. Only the latter may vote."""
    words = "batch record deviation was not investigated thoroughly"
    items = _write(
        tmp_path / "items.jsonl",
        [{"qid": "CFRQA-Acme Labs_7#1", "question": PREFIX + words, "gold_cfr": ["211.192"]}],
    )
    knowledge = _write(
        tmp_path / "records.jsonl",
        [
            {"letter_id": "Acme Labs_3", "evidence": words, "cfr_section": "211.100"},
            {"letter_id": "Acme Labs_7", "evidence": words, "cfr_section": "211.100"},
            {"letter_id": "Other_1", "evidence": words + " again", "cfr_section": "211.192"},
            {"letter_id": "Third_2", "evidence": "cleaning of equipment", "cfr_section": "211.67"},
            {"letter_id": "Third_2", "evidence": "no heading citation", "cfr_section": None},
        ],
    )
    for method in ("knn", "logreg"):
        run = run_cfr_qa(lambda: HashingEmbedder(), items, knowledge, method=method, k=3)
        assert run.per_item[0]["predicted"][0]["section"] == "211.192", method
        assert run.metrics["top1"] == 1.0
        assert run.metrics["n_knowledge_records"] == 4  # the record citing no section is left out


def test_two_gold_sections_either_counts(tmp_path: Path) -> None:
    items = _write(
        tmp_path / "items.jsonl",
        [{"qid": "CFRQA-A_1#1", "question": PREFIX + "stability program absent",
          "gold_cfr": ["211.166(a)", "211.42(b)"], "gold_section": "211.166"}],
    )  # fmt: skip
    knowledge = _write(
        tmp_path / "records.jsonl",
        [{"letter_id": "B_1", "evidence": "stability program absent", "cfr_section": "211.42"},
         {"letter_id": "C_1", "evidence": "water system", "cfr_section": "211.48"}],
    )  # fmt: skip
    run = run_cfr_qa(lambda: HashingEmbedder(), items, knowledge, k=1)
    assert run.per_item[0]["hit_rank"] == 1


@pytest.mark.embedder
def test_cfr_qa_ci_subset_stays_above_thresholds() -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    spec = json.loads(THRESHOLDS.read_text())["cfr_qa_ci_subset"]
    run = run_cfr_qa(SentenceTransformerEmbedder, limit=spec["limit"], seed=spec["seed"])
    assert run.metrics["n_items"] == spec["limit"]
    low = {n: (run.metrics[n], f) for n, f in spec["min"].items() if run.metrics[n] < f}
    assert not low, f"cfr-qa below thresholds (value, floor): {low}"
    assert run.metrics["top1"] > run.metrics["baseline_majority_top1"] + 0.3
