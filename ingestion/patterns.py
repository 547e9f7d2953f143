"""Regex patterns that read document metadata from text: header labels, identifiers, dates.

The defaults fit the demo plant's "Label: value" headers and common GMP numbering; a site
with other conventions passes its own `MetadataPatterns` (or a JSON file of the same shape,
see `load_patterns`) instead of editing code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Header label (lower-cased, without the colon) -> metadata field it fills.
DEFAULT_LABELS: dict[str, str] = {
    "document number": "doc_id",
    "document no": "doc_id",
    "doc no": "doc_id",
    "sop number": "doc_id",
    "capa number": "doc_id",
    "deviation number": "doc_id",
    "batch record": "doc_id",
    "title": "title",
    "revision": "revision",
    "rev": "revision",
    "version": "revision",
    "effective date": "effective_date",
    "status": "status",
    "supersedes": "supersedes",
    "superseded by": "superseded_by",
    "site": "site",
    "equipment": "equipment",
    "products": "products",
    "product": "products",
    "batch": "batch_ids",
    "batches": "batch_ids",
    "batch ids": "batch_ids",
    "document type": "document_type",
    "mbr": "mbr",
    "line": "line",
    "opened": "event_date",
    "date": "event_date",
    "manufacturing start": "event_date",
    "related deviations": "deviation_ids",
    "capa": "capa_ids",
    "capa ids": "capa_ids",
}


@dataclass(frozen=True)
class MetadataPatterns:
    """Everything metadata extraction matches against. Regexes are Python `re` syntax."""

    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    # A header line: "Label: value" at the start of the first page.
    header_line: str = r"^\s*([A-Za-z][A-Za-z /()-]{0,40}?)\s*:\s*(\S.*?)\s*$"
    # Identifiers found anywhere in the text (used when no header label names them).
    equipment_tag: str = r"(?<![A-Z]-)\b[A-Z]{2,4}-\d{3}\b"
    product_code: str = r"\bPRD-\d{4}\b"
    batch_id: str = r"\b[A-Z]\d{2}-\d{4}\b"
    capa_id: str = r"\bCAPA-\d{4}-\d{4}\b"
    deviation_id: str = r"\bDEV-\d{4}-\d{4}\b"
    iso_date: str = r"\b(\d{4})-(\d{2})-(\d{2})\b"
    # Document number prefixes -> document type (checked when no "Document type" label).
    doc_id_types: dict[str, str] = field(
        default_factory=lambda: {
            r"^SOP-": "sop",
            r"^(BR|EBR|MBR)-": "batch_record",
            r"^CAPA-": "capa",
            r"^(DEV|DEVN)-": "deviation",
            r"^(ICH|FDA|EMA|WHO|PICS)-": "guidance",
        }
    )
    # "Document type" label values -> document type (first match wins).
    document_type_values: dict[str, str] = field(
        default_factory=lambda: {
            r"batch record": "batch_record",
            r"\bcapa\b|corrective": "capa",
            r"deviation": "deviation",
            r"\bsop\b|standard operating procedure|procedure": "sop",
            r"guidance|guideline|regulation": "guidance",
        }
    )
    # Content cues on the first pages -> document type, when nothing else decides.
    content_cues: dict[str, str] = field(
        default_factory=lambda: {
            r"Step\s*\n?\s*\|?\s*Instruction": "batch_record",
            r"Executed Batch Record|Batch Manufacturing Record": "batch_record",
            r"Standard Operating Procedure": "sop",
            r"Corrective and Preventive Action|CAPA number": "capa",
            r"Deviation (report|number)": "deviation",
            r"Guidance for Industry|ICH HARMONISED|ICH Harmonised|International Council for "
            r"Harmonisation|International Conference on Harmonisation|\bGuideline\b|"
            r"Food and Drug Administration|Code of Federal Regulations": "guidance",
        }
    )
    # Guidance documents named by their code, e.g. "ICH Q3C(R8)" or "ich_q3c_r8_...".
    guidance_code: str = r"\b(ICH)[\s_-]*([QESM]\d{1,2}[A-Z]?)(?:[\s_(-]*\(?(R\d+)\)?)?"
    revision_in_title: str = r"\((R\d+)\)|[\s_-](R\d+)(?:[\s_.-]|$)"
    # Numbered section headings on their own line: "5 PROCEDURE", "5.3 Drying end point".
    section_heading: str = r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?[ \t]+([A-Z][^\n]{1,100}?)\s*$"
    section_number_only: str = r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s*$"
    # Batch-record step table: its header's first cells.
    step_table_header: tuple[str, ...] = ("step", "instruction")

    def compiled(self, name: str, flags: int = 0) -> re.Pattern[str]:
        return _compile(getattr(self, name), flags)


_CACHE: dict[tuple[str, int], re.Pattern[str]] = {}


def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    key = (pattern, flags)
    if key not in _CACHE:
        _CACHE[key] = re.compile(pattern, flags)
    return _CACHE[key]


def load_patterns(path: Path) -> MetadataPatterns:
    """Read overrides from a JSON object whose keys are `MetadataPatterns` field names;
    `labels` entries are added to (and override) the default labels."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - set(MetadataPatterns.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{path}: unknown pattern keys {sorted(unknown)}")
    if "labels" in data:
        data["labels"] = {**DEFAULT_LABELS, **{k.lower(): v for k, v in data["labels"].items()}}
    for value in data.values():
        if isinstance(value, str):
            re.compile(value)  # fail early, naming the file, rather than mid-ingestion
    if "step_table_header" in data:
        data["step_table_header"] = tuple(data["step_table_header"])
    return MetadataPatterns(**data)
