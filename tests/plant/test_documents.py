"""PDFs round-trip through pymupdf: rendered page, header lines, headings and ruled tables."""

from __future__ import annotations

import json
from typing import Any

import pymupdf

from evals.plant.batch_records import STEP_TABLE_HEADER
from evals.plant.generator import CorpusSummary
from evals.plant.sop_model import PARAMETER_TABLE_HEADER


def _tables(page: pymupdf.Page) -> list[list[list[str | None]]]:
    return [table.extract() for table in page.find_tables().tables]


def test_sop_page_one_round_trips(corpus: CorpusSummary) -> None:
    with pymupdf.open(corpus.out_dir / "sops" / "SOP-PRD-012_rev4.pdf") as doc:
        page = doc[0]
        png = page.get_pixmap(dpi=72).tobytes("png")
        assert png.startswith(b"\x89PNG") and len(png) > 5000
        lines = page.get_text().splitlines()
        for expected in (
            "Document number: SOP-PRD-012",
            "Title: Fluid-bed drying of granules",
            "Revision: 4",
            "Effective date: 2025-03-01",
            "Status: Effective",
            "Supersedes: Revision 3",
            "Site: SITE-A",
            "5 PROCEDURE",
            "5.3 Inlet air temperature control",
        ):
            assert expected in lines
        assert lines[0] == "Document number: SOP-PRD-012"
        tables = _tables(page)
        parameter_tables = [t for t in tables if tuple(t[0]) == PARAMETER_TABLE_HEADER]
        assert ["Inlet air temperature", "C", "55", "65"] in [
            row[:4] for t in parameter_tables for row in t
        ]
        assert (
            doc[-1]
            .get_text()
            .strip()
            .endswith(f"SOP-PRD-012 Rev 4 | Page {doc.page_count} of {doc.page_count}")
        )


def test_superseded_revision_keeps_its_old_limits(corpus: CorpusSummary) -> None:
    with pymupdf.open(corpus.out_dir / "sops" / "SOP-PRD-012_rev3.pdf") as doc:
        lines = doc[0].get_text().splitlines()
        assert "Status: Superseded" in lines and "Revision: 3" in lines
        rows = [row[:4] for t in _tables(doc[0]) for row in t]
        assert ["Inlet air temperature", "C", "50", "70"] in rows


def test_batch_record_step_table_holds_the_excursion(
    corpus: CorpusSummary, gold: list[dict[str, Any]]
) -> None:
    labels = gold[0]
    payload = json.loads(
        (corpus.out_dir / "scenarios" / "payloads" / f"{labels['event_id']}.json").read_text()
    )
    with pymupdf.open(
        corpus.out_dir / "batch_records" / f"{labels['batch_record']['doc_id']}.pdf"
    ) as doc:
        page = doc[0]
        assert page.get_pixmap(dpi=72).tobytes("png").startswith(b"\x89PNG")
        lines = page.get_text().splitlines()
        assert "Document type: Executed Batch Record" in lines
        assert f"Batch: {payload['batch_id']}" in lines
        rows = []
        for number in range(doc.page_count):
            for table in _tables(doc[number]):
                assert tuple(table[0]) == STEP_TABLE_HEADER
                rows += table[1:]
        name = payload["parameter"]["name"]
        hit = [
            r
            for r in rows
            if r[0] == labels["batch_record"]["step_id"] and (r[2] or "").replace("\n", " ") == name
        ]
        assert len(hit) == 1
        assert hit[0][4] == f"{payload['parameter']['observed_peak']:g}"
        assert payload["event_id"] in doc[doc.page_count - 1].get_text().replace("\n", " ")
