"""Small generated inputs for the ingestion tests (PDFs drawn with pymupdf, QMS exports)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import llama_index.core
import pymupdf
import pytest

os.environ.setdefault(
    "TIKTOKEN_CACHE_DIR", str(Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache")
)

from ingestion.pipeline import IngestOptions
from retrieval.embedding import HashingEmbedder
from retrieval.store.base import IndexStore
from retrieval.store.factory import open_store

FONT_SIZE = 10
LEFT = 56.0
SHARED_PDFS = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "pdfs"
)  # ../shared beside the repo


class PdfWriter:
    """Writes lines and ruled tables top to bottom, with a footer on every page."""

    def __init__(self, footer: str) -> None:
        self.doc = pymupdf.open()
        self.footer = footer
        self.page: pymupdf.Page | None = None
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.page = self.doc.new_page(width=595, height=842)
        self.y = 60.0

    def _ensure(self, height: float) -> pymupdf.Page:
        if self.page is None or self.y + height > 760:
            self._new_page()
        assert self.page is not None
        return self.page

    def line(self, text: str) -> None:
        page = self._ensure(14)
        page.insert_text((LEFT, self.y), text, fontsize=FONT_SIZE, fontname="helv")
        self.y += 14

    def table(self, rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        height = 16.0
        for row in rows:
            page = self._ensure(height)
            x = LEFT
            top = self.y - 11
            for cell, width in zip(row, widths, strict=True):
                page.draw_rect(pymupdf.Rect(x, top, x + width, top + height), width=0.5)
                page.insert_text((x + 3, self.y), cell, fontsize=FONT_SIZE - 1, fontname="helv")
                x += width
            self.y += height
        self.y += 6

    def save(self, path: Path) -> Path:
        total = self.doc.page_count
        for number, page in enumerate(self.doc, start=1):
            page.insert_text(
                (LEFT, 800),
                f"{self.footer} | Page {number} of {total}",
                fontsize=8,
                fontname="helv",
            )
        self.doc.save(path)
        self.doc.close()
        return path


def write_sop(
    path: Path,
    *,
    doc_id: str = "SOP-PRD-012",
    revision: str = "4",
    status: str = "Effective",
    effective: str = "2025-03-01",
    site: str = "SITE-A",
    drying_limit: str = "65",
    pages: int = 2,
) -> Path:
    pdf = PdfWriter(f"{doc_id} Rev {revision}")
    for line in (
        f"Document number: {doc_id}",
        "Title: Fluid-bed drying of granules",
        f"Revision: {revision}",
        f"Effective date: {effective}",
        f"Status: {status}",
        f"Site: {site}",
        "Equipment: FBD-201, FBD-202",
        "Products: PRD-0042, PRD-0043",
        "Standard Operating Procedure: Fluid-bed drying of granules",
        "1 PURPOSE",
        "To define the fluid-bed drying of wet granules to the specified loss on drying.",
        "5 PROCEDURE",
        "5.1 Preparation",
        "Check filter bags are intact and the correct bag set is fitted.",
        "5.3 Inlet air temperature control",
        "Start drying with a pre-heat ramp of 5 minutes to the set point of 60 C.",
    ):
        pdf.line(line)
    pdf.table(
        [
            ["Parameter", "Unit", "Lower limit", "Upper limit", "Comment"],
            ["Inlet air temperature", "C", "55", drying_limit, "Alarm at 64 C"],
            ["Product temperature", "C", "38", "45", "End point indicator"],
        ],
        [150, 50, 80, 80, 120],
    )
    pdf.line("5.3.1 Excursions")
    for i in range(40 * (pages - 1) + 4):
        pdf.line(
            f"An excursion above the upper limit for more than 1 minute is deviation case {i}."
        )
    pdf.line("6 RECORDS")
    pdf.line("Batch record and dryer trend print-out.")
    return pdf.save(path)


def write_batch_record(path: Path, batch: str = "B26-0810") -> Path:
    pdf = PdfWriter(f"BR-{batch}")
    for line in (
        "Document type: Executed Batch Record",
        f"Batch record: BR-{batch}",
        "Product: PRD-0051 Tramelid 10 mg film-coated tablets",
        f"Batch: {batch}",
        "MBR: MBR-PRD-0051 version 4",
        "Site: SITE-A",
        "Line: L1",
        "Equipment: FBD-101, GR-101",
        "Executed steps",
    ):
        pdf.line(line)
    header = ["Step", "Instruction", "Parameter", "Limits", "Actual", "Unit", "Perf.", "Verif."]
    pdf.table(
        [
            header,
            ["4.2", "Wet massing", "Impeller power", "8 - 12", "12.7", "kW", "CD", "GS"],
            ["6.3", "Drying end point", "Product temp.", "38 - 45", "41.1", "C", "LP", "AK"],
            ["6.3", "Drying end point", "Loss on drying", "1.5 - 2.5", "2.09", "%", "TS", "GS"],
            ["8.1", "Compression", "Room RH", "30 - 55", "44", "%RH", "LP", "KR"],
        ],
        [34, 96, 92, 60, 44, 40, 40, 40],
    )
    pdf.line("Comments")
    pdf.line("Step 4.2: impeller power 12.7 kW out of limits. Deviation DEV-2026-0033 raised.")
    return pdf.save(path)


def write_image_only_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=300)
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pixmap.set_rect(pixmap.irect, (200, 30, 30))
    page.insert_image(pymupdf.Rect(20, 20, 200, 200), pixmap=pixmap)
    doc.save(path)
    doc.close()
    return path


DEVIATION_CSV_HEADER = (
    "record_type,id,title,occurred_at,opened_at,closed_at,site,building,area,line,equipment,"
    "product_code,product_name,batch_ids,category,failure_mode,classification,description,"
    "immediate_actions,root_cause,root_cause_6m,capa_ids,status"
)


def write_deviation_csv(
    path: Path, count: int = 3, title: str = "Inlet air temperature high"
) -> Path:
    lines = [DEVIATION_CSV_HEADER]
    for i in range(1, count + 1):
        lines.append(
            f"deviation,DEV-2021-{i:04d},{title} {i},2021-11-0{i % 9 + 1}T11:33:00Z,"
            f"2021-11-01T14:33:00Z,,SITE-A,B1,Granulation,L2,FBD-201;FBD-202,PRD-0043,"
            f"Norvalex 100 mg,B21-09{i:02d},equipment,fbd_inlet_temp_overshoot,minor,"
            f'"Inlet temperature of FBD-201 rose to 72.1 C, above 70 C (case {i}).",'
            f"Batch quarantined,Worn steam control valve.,machine,CAPA-2021-0002,closed"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def store() -> IndexStore:
    opened = open_store(":memory:", Path("unused"))
    yield opened
    opened.close()


@pytest.fixture()
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=64)


@pytest.fixture()
def options(tmp_path: Path) -> IngestOptions:
    return IngestOptions(
        documents_dir=tmp_path / "documents", state_path=tmp_path / "state" / "ingest.sqlite"
    )
