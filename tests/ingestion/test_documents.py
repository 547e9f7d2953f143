"""Parsing, metadata and structure-aware chunks of PDFs, Markdown and DOCX."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from ingestion.chunking import ChunkingConfig, DocumentChunker
from ingestion.metadata import extract_metadata
from ingestion.patterns import MetadataPatterns
from ingestion.pdf_parser import read_pdf
from ingestion.text_parser import read_docx, read_text_file
from ingestion.tokens import approximate_tokens
from retrieval.index_contract import ChunkKind, DocType, RevisionStatus

from .conftest import SHARED_PDFS, write_batch_record, write_sop

PATTERNS = MetadataPatterns()


def _chunker() -> DocumentChunker:
    return DocumentChunker(PATTERNS, ChunkingConfig(), approximate_tokens)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_sop_metadata_sections_and_verbatim_offsets(tmp_path: Path) -> None:
    path = write_sop(tmp_path / "sop.pdf", pages=2)
    parsed = read_pdf(path, PATTERNS)
    meta = extract_metadata(parsed, path, PATTERNS)
    assert (meta.doc_id, meta.doc_type, meta.revision) == ("SOP-PRD-012", DocType.SOP, "4")
    assert meta.effective_date == "2025-03-01"
    assert meta.status is RevisionStatus.EFFECTIVE
    assert meta.site == "SITE-A"
    assert meta.equipment == ["FBD-201", "FBD-202"]
    assert meta.products == ["PRD-0042", "PRD-0043"]
    assert len(parsed.pages) == 2

    chunks = _chunker().chunk(parsed)
    texts = [c for c in chunks if c.kind is ChunkKind.TEXT]
    for chunk in texts:
        page = parsed.pages[chunk.page_start - 1]
        assert page.text[chunk.char_start : chunk.char_end] == chunk.text
        assert "Page 1 of 2" not in chunk.text and "Page 2 of 2" not in chunk.text
    by_id = {c.section_id: c for c in texts}
    assert by_id["5.3.1"].section_path == [
        "5 PROCEDURE",
        "5.3 Inlet air temperature control",
        "5.3.1 Excursions",
    ]
    # "5 PROCEDURE" has no text of its own: it is merged into the chunk of 5.1.
    assert by_id["5.1"].text.startswith("5 PROCEDURE\n5.1 Preparation")
    # The long 5.3.1 section crosses the page break: a chunk on each page, same heading path.
    assert {c.page_start for c in texts if c.section_id == "5.3.1"} == {1, 2}
    assert by_id["6"].section_path == ["6 RECORDS"]


def test_ruled_table_is_its_own_chunk_with_findable_cells(tmp_path: Path) -> None:
    parsed = read_pdf(write_sop(tmp_path / "sop.pdf", pages=1), PATTERNS)
    tables = [c for c in _chunker().chunk(parsed) if c.kind is ChunkKind.TABLE]
    assert len(tables) == 1
    table = tables[0]
    assert table.section_id == "5.3"
    assert (
        table.text.splitlines()[0] == "| Parameter | Unit | Lower limit | Upper limit | Comment |"
    )
    assert "| Inlet air temperature | C | 55 | 65 | Alarm at 64 C |" in table.text
    page_text = _squash(parsed.pages[0].text)
    for line in table.text.splitlines()[2:]:
        for cell in line.strip("|").split("|"):
            assert _squash(cell) in page_text
    span = parsed.pages[0].text[table.char_start : table.char_end]
    assert "Inlet air temperature" in span and "End point indicator" in span


def test_batch_record_steps_grouped_per_step_id(tmp_path: Path) -> None:
    path = write_batch_record(tmp_path / "br.pdf")
    parsed = read_pdf(path, PATTERNS)
    meta = extract_metadata(parsed, path, PATTERNS)
    assert meta.doc_type is DocType.BATCH_RECORD
    assert (meta.doc_id, meta.batch_ids, meta.products) == (
        "BR-B26-0810",
        ["B26-0810"],
        ["PRD-0051"],
    )
    assert meta.extra["mbr"] == "MBR-PRD-0051 version 4"
    steps = [c for c in _chunker().chunk(parsed) if c.kind is ChunkKind.STEP]
    assert [s.section_id for s in steps] == ["4.2", "6.3", "8.1"]
    drying = steps[1]
    assert drying.text.startswith("| Step | Instruction |")
    assert "Product temp." in drying.text and "Loss on drying" in drying.text
    assert "Compression" not in drying.text


def test_markdown_headings_tables_and_header(tmp_path: Path) -> None:
    path = tmp_path / "sop.md"
    path.write_text(
        "Document number: SOP-QA-001\nRevision: 2\nSite: SITE-B\n\n# Deviation handling\n\n"
        "## 1 Purpose\nDefine how deviations are raised.\n\n## 2 Limits\n\n"
        "| Class | Days to close |\n|---|---|\n| minor | 30 |\n| major | 60 |\n",
        encoding="utf-8",
    )
    parsed = read_text_file(path, PATTERNS)
    meta = extract_metadata(parsed, path, PATTERNS)
    assert (meta.doc_id, meta.revision, meta.site, meta.doc_type) == (
        "SOP-QA-001", "2", "SITE-B", DocType.SOP,
    )  # fmt: skip
    chunks = _chunker().chunk(parsed)
    table = next(c for c in chunks if c.kind is ChunkKind.TABLE)
    assert "| major | 60 |" in table.text
    assert table.section_path == ["Deviation handling", "2 Limits"]
    purpose = next(c for c in chunks if "raised" in c.text)
    assert parsed.pages[0].text[purpose.char_start : purpose.char_end] == purpose.text


def test_docx_headings_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Document number: SOP-ENG-002")
    document.add_heading("Calibration of balances", level=1)
    document.add_paragraph("Balances are calibrated every day before use.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Balance", "Tolerance"
    table.cell(1, 0).text, table.cell(1, 1).text = "BAL-101", "0.1 mg"
    path = tmp_path / "sop.docx"
    document.save(str(path))
    parsed = read_docx(path, PATTERNS)
    assert extract_metadata(parsed, path, PATTERNS).doc_id == "SOP-ENG-002"
    chunks = _chunker().chunk(parsed)
    table_chunk = next(c for c in chunks if c.kind is ChunkKind.TABLE)
    assert "| BAL-101 | 0.1 mg |" in table_chunk.text
    assert "BAL-101 | 0.1 mg" in parsed.pages[0].text
    assert any(c.section_path == ["Calibration of balances"] for c in chunks)


@pytest.mark.skipif(not SHARED_PDFS.exists(), reason="shared real-PDF set not on this machine")
def test_q3c_unruled_tables_found_and_continued_across_pages() -> None:
    path = SHARED_PDFS / "ich_q3c_r8_residual_solvents.pdf"
    parsed = read_pdf(path, PATTERNS)
    meta = extract_metadata(parsed, path, PATTERNS)
    assert (meta.doc_id, meta.revision, meta.doc_type) == ("ICH-Q3C", "R8", DocType.GUIDANCE)
    table_2 = parsed.pages[11].tables[0]
    assert table_2.caption.startswith("TABLE 2.")
    assert table_2.rows[0] == ["Solvent", "PDE (mg/day)", "Concentration limit (ppm)"]
    assert ["Acetonitrile", "4.1", "410"] in table_2.rows
    continued = parsed.pages[12].tables[0]
    assert continued.header == [table_2.rows[0]] and continued.caption == table_2.caption
    assert ["Pyridine", "2.0", "200"] in continued.rows
    page = parsed.pages[12]
    assert page.line_text(0).strip() == "Impurities: Guideline for Residual Solvents"
    assert 0 in page.boilerplate  # the running header, stripped from chunks


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("", 0),
        ("   \n", 0),
        ("Acetonitrile 410 ppm", 2 + 3 + 1),  # 12 letters: 1 + 11 // 7 pieces
        ("abcdefgh abcdefg", 2 + 1),  # 8 letters cost 2, 7 letters 1
        ("a" * 15 + " " + "b" * 16, 3 + 3),
        ("Größe (ppm) 5.0%", 11),  # Gr ö ß e ( ppm ) 5 . 0 %: non-ASCII letters cost 1
    ],
)
def test_approximate_tokens_counts_letter_runs_digits_and_symbols(text: str, pieces: int) -> None:
    assert approximate_tokens(text) == pieces
