"""Render one SOP revision as a PDF in the canonical layout the ingestion parsers expect."""

from __future__ import annotations

from pathlib import Path

from evals.plant.catalog import SITE_ID
from evals.plant.pdf_layout import PdfBuilder
from evals.plant.sop_catalog import ALL_SOPS
from evals.plant.sop_model import (
    PARAMETER_TABLE_HEADER,
    REVISION_TABLE_HEADER,
    ParamRow,
    Section,
    SopSpec,
)


def sop_file_name(doc_id: str, revision: int) -> str:
    return f"sops/{doc_id}_rev{revision}.pdf"


def header_fields(spec: SopSpec, revision: int) -> list[tuple[str, str]]:
    current = revision == spec.current.number
    fields = [
        ("Document number", spec.doc_id),
        ("Title", spec.title),
        ("Revision", str(revision)),
        ("Effective date", spec.revision(revision).effective),
        ("Status", "Effective" if current else "Superseded"),
    ]
    if revision > 1:
        fields.append(("Supersedes", f"Revision {revision - 1}"))
    fields.append(("Site", SITE_ID))
    if spec.equipment:
        fields.append(("Equipment", ", ".join(spec.equipment)))
    if spec.products:
        fields.append(("Products", ", ".join(spec.products)))
    return fields


def _rows_at(spec: SopSpec, rows: tuple[ParamRow, ...], revision: int) -> list[list[str]]:
    overrides = spec.old_limits.get(revision, {})
    out = []
    for parameter, unit, low, high, comment in rows:
        if parameter in overrides:
            low, high, comment = overrides[parameter]
        out.append([parameter, unit, low, high, comment])
    return out


def _render_section(
    pdf: PdfBuilder, spec: SopSpec, number: str, section: Section, revision: int
) -> None:
    pdf.heading(f"{number} {section.title}", level=number.count(".") + 1)
    pdf.paragraph(section.old_text.get(revision, section.text))
    if section.rows:
        pdf.table(
            PARAMETER_TABLE_HEADER,
            _rows_at(spec, section.rows, revision),
            (3.2, 1.2, 1.1, 1.1, 3.0),
        )
    for index, sub in enumerate(section.subs, start=1):
        _render_section(pdf, spec, f"{number}.{index}", sub, revision)


def render_sop(spec: SopSpec, revision: int, out_dir: Path) -> Path:
    """Write `sops/<doc id>_rev<N>.pdf`; older revisions apply their recorded differences."""
    pdf = PdfBuilder(footer_label=f"{spec.doc_id} Rev {revision}")
    pdf.header_block(header_fields(spec, revision))
    pdf.title(f"{spec.title} - Standard Operating Procedure")
    pdf.heading("1 PURPOSE")
    pdf.paragraph(spec.purpose)
    pdf.heading("2 SCOPE")
    pdf.paragraph(spec.scope)
    pdf.heading("3 RESPONSIBILITIES")
    for role, duty in spec.responsibilities:
        pdf.paragraph(f"{role} - {duty}")
    if spec.definitions:
        pdf.heading("4 DEFINITIONS")
        for term, meaning in spec.definitions:
            pdf.paragraph(f"{term} - {meaning}")
    pdf.heading("5 PROCEDURE")
    for index, section in enumerate(spec.procedure, start=1):
        _render_section(pdf, spec, f"5.{index}", section, revision)
    pdf.heading("6 RECORDS")
    for record in spec.records:
        pdf.paragraph(f"- {record}")
    pdf.heading("7 REVISION HISTORY")
    history_rows = [
        [str(r.number), r.effective, r.change] for r in spec.revisions if r.number <= revision
    ]
    pdf.table(REVISION_TABLE_HEADER, history_rows, (1.0, 1.5, 6.0))
    path = out_dir / sop_file_name(spec.doc_id, revision)
    pdf.save(
        path,
        title=f"{spec.doc_id} Rev {revision} {spec.title}",
        subject="Standard Operating Procedure",
    )
    return path


def render_all_sops(out_dir: Path) -> list[Path]:
    paths = []
    for spec in ALL_SOPS:
        paths.append(render_sop(spec, spec.current.number, out_dir))
        for old in spec.superseded_pdfs:
            paths.append(render_sop(spec, old, out_dir))
    return paths
