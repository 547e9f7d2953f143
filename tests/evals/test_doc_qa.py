"""di-qa / q3c-tables: item loading, gold pages, answer scoring, and the retrieval-only CI
subsets (real ingestion of real PDFs, real embedder) against evals/thresholds_qa.json."""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest

from evals.doc_qa import DocQaConfig, run_doc_qa
from evals.doc_qa_data import (
    DEFAULT_PDF_DIR,
    DI_ITEMS,
    Q3C_ITEMS,
    DocQaDataError,
    QaItem,
    load_items,
    q3c_correct,
    resolve_source,
)

THRESHOLDS = Path(__file__).parents[2] / "evals" / "thresholds_qa.json"
Q3C_PDF = "ich_q3c_r8_residual_solvents.pdf"


def _item(answer: str, negative: bool = False) -> QaItem:
    return QaItem("Q", "q?", answer, Q3C_PDF, (12,), negative, "q3c", "Table 2", "Hexane")


def test_q3c_answers_are_scored_as_numbers_text_yes_and_no() -> None:
    assert q3c_correct(_item("2.9"), "The PDE for hexane is 2.90 mg/day [S1].")
    assert not q3c_correct(_item("2.9"), "The PDE is 29 mg/day.")
    assert not q3c_correct(_item("2"), "The limit is 20 ppm.")
    assert q3c_correct(_item("Carcinogen"), "Its concern: carcinogen.")
    assert q3c_correct(_item("Yes"), "Yes, acetone is listed as a Class 3 solvent.")
    assert not q3c_correct(_item("Yes"), "No, it is not listed.")
    assert not q3c_correct(_item("2.9"), "Not found in the indexed documents.")
    negative = _item("No (it is a Class 2 solvent, Table 2)", negative=True)
    assert q3c_correct(negative, "No, it is a Class 2 solvent.")
    assert q3c_correct(negative, "Not found in the indexed documents.")
    assert not q3c_correct(negative, "Yes, it is in Table 3.")


def test_items_load_with_gold_pages() -> None:
    di = load_items(DI_ITEMS)
    assert len(di) == 18 and di[1].pages == (10,)
    assert di[0].source_file == "fda_data_integrity_qa_guidance_2018.pdf"  # via MANIFEST.json
    q3c = load_items(Q3C_ITEMS)
    assert len(q3c) == 112 and sum(i.negative for i in q3c) == 15
    assert all(i.pages for i in q3c if not i.negative)
    benzene = next(i for i in q3c if i.qid == "Q3C-TAB-000")
    assert benzene.subject == "Benzene" and benzene.pages == (11,)


def test_unknown_source_and_bad_rows_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DocQaDataError, match="not in"):
        resolve_source("elsewhere/unknown.pdf", DEFAULT_PDF_DIR)
    bad = tmp_path / "items.jsonl"
    bad.write_text('{"qid": "X", "question": "q"}\n')
    with pytest.raises(DocQaDataError, match=r"items\.jsonl:1"):
        load_items(bad)


@pytest.mark.embedder
def test_di_qa_retrieval_ci_subset(tmp_path: Path) -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    spec = json.loads(THRESHOLDS.read_text())["di_qa_retrieval_ci_subset"]
    corpus = tuple(DEFAULT_PDF_DIR / name for name in spec["corpus"])
    config = DocQaConfig(items=DI_ITEMS, corpus=corpus, retrieval_only=True)
    run = run_doc_qa(config, SentenceTransformerEmbedder(), tmp_path)
    assert run.metrics["n_items"] == 18 and "answer_accuracy" not in run.metrics
    low = {n: (run.metrics[n], f) for n, f in spec["min"].items() if run.metrics[n] < f}
    assert not low, f"di-qa retrieval below thresholds (value, floor): {low}"


@pytest.mark.embedder
def test_q3c_retrieval_ci_subset(tmp_path: Path) -> None:
    """The first pages of ICH Q3C(R8) (the tables: ingesting all 50 pages takes a minute)."""
    from retrieval.embedding import SentenceTransformerEmbedder

    spec = json.loads(THRESHOLDS.read_text())["q3c_retrieval_ci_subset"]
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    with pymupdf.open(DEFAULT_PDF_DIR / Q3C_PDF) as source, pymupdf.open() as part:
        part.insert_pdf(source, from_page=0, to_page=spec["pages"] - 1)
        part.save(pdfs / Q3C_PDF)
    config = DocQaConfig(
        items=Q3C_ITEMS,
        corpus=(pdfs, DEFAULT_PDF_DIR / "fda_pdma_drug_samples_free_clinics.pdf"),
        pdf_dir=pdfs,
        limit=spec["limit"],
        seed=spec["seed"],
        retrieval_only=True,
    )
    run = run_doc_qa(config, SentenceTransformerEmbedder(), tmp_path)
    assert run.metrics["n_items"] == spec["limit"] and run.metrics["n_negative"] > 0
    low = {n: (run.metrics[n], f) for n, f in spec["min"].items() if run.metrics[n] < f}
    assert not low, f"q3c retrieval below thresholds (value, floor): {low}"
