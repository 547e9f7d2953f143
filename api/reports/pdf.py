"""PDF of an approved report with the signature manifestation (Part 11 §11.50): printed name,
date and time (UTC) and meaning of each signature, bound to the signed version's sha256."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pymupdf

from api.records.canonical import iso_utc
from api.records.report_rules import REPORT_SECTIONS

_CSS = """
body { font-family: sans-serif; font-size: 10pt; }
h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 10pt; }
pre { font-family: monospace; font-size: 8pt; }
td, th { border: 1px solid #888; padding: 3pt; font-size: 9pt; }
"""


@dataclass(frozen=True)
class SignatureLine:
    printed_name: str
    signed_at: datetime
    meaning: str
    statement: str


@dataclass(frozen=True)
class ReportDocument:
    investigation_id: str
    title: str
    site: str
    status: str
    version: int
    sha256: str
    content: dict[str, Any]
    signatures: Sequence[SignatureLine]


def _section_html(name: str, value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"text", "citations"} and "text" in value:
        body = f"<p>{html.escape(str(value['text']))}</p>"
        if value.get("citations"):
            cites = json.dumps(value["citations"], indent=1, ensure_ascii=False)
            body += f"<pre>{html.escape(cites)}</pre>"
    else:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
        body = f"<pre>{html.escape(text)}</pre>"
    return f"<h2>{html.escape(name.replace('_', ' ').title())}</h2>{body}"


def render_report_pdf(report: ReportDocument) -> bytes:
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(s.printed_name)}</td>"
        f"<td>{html.escape(iso_utc(s.signed_at))}</td>"
        f"<td>{html.escape(s.meaning)}</td>"
        f"<td>{html.escape(s.statement)}</td>"
        "</tr>"
        for s in report.signatures
    )
    ordered = [k for k in REPORT_SECTIONS if k in report.content]
    ordered += sorted(k for k in report.content if k not in REPORT_SECTIONS)
    sections = "".join(_section_html(k, report.content[k]) for k in ordered)
    document_html = (
        f"<h1>{html.escape(report.title)}</h1>"
        f"<p>Investigation {html.escape(report.investigation_id)} | site "
        f"{html.escape(report.site)} | status {html.escape(report.status)} | version "
        f"{report.version}<br/>sha256 {report.sha256}</p>"
        "<h2>Electronic signatures</h2>"
        "<table><tr><th>Printed name</th><th>Date/time (UTC)</th><th>Meaning</th>"
        f"<th>Statement</th></tr>{rows}</table>"
        f"{sections}"
    )
    story = pymupdf.Story(html=document_html, user_css=_CSS)
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    page_rect = pymupdf.paper_rect("a4")
    frame = pymupdf.Rect(40, 40, page_rect.width - 40, page_rect.height - 50)
    more = True
    pages = 0
    while more:
        device = writer.begin_page(page_rect)
        more, _ = story.place(frame)
        story.draw(device)
        writer.end_page()
        pages += 1
        if pages > 500:
            raise ValueError("report too long to render (over 500 pages)")
    writer.close()
    return _stamp_footer(buffer.getvalue(), report)


def _stamp_footer(pdf: bytes, report: ReportDocument) -> bytes:
    """Every page carries the signed version and hash, so a printed page stays traceable."""
    document = pymupdf.open(stream=pdf, filetype="pdf")
    total = document.page_count
    for number, page in enumerate(document, start=1):
        footer = (
            f"devia investigation {report.investigation_id} v{report.version} "
            f"sha256 {report.sha256[:16]}... page {number}/{total}"
        )
        rect = page.rect
        page.insert_text((40, rect.height - 25), footer, fontsize=7)
    document.set_metadata({"title": report.title, "producer": "devia", "creator": "devia"})
    output = document.tobytes(garbage=3, deflate=True)
    document.close()
    return output
