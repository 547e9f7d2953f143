"""Document metadata and type from header lines, content cues, file names and sidecar
manifests; every guess can be overridden (`--type`, `--site`)."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingestion.model import NO_REVISION, SHARED_SITE, DocMetadata, ParsedDocument
from ingestion.patterns import MetadataPatterns
from retrieval.index_contract import DocType, RevisionStatus

SIDECAR_NAMES = ("MANIFEST.json", "manifest.json")
_JUNK_TITLES = re.compile(r"^(microsoft word|untitled|document\d*$|\s*$)", re.IGNORECASE)
_STATUS_VALUES = {
    "effective": RevisionStatus.EFFECTIVE,
    "current": RevisionStatus.EFFECTIVE,
    "approved": RevisionStatus.EFFECTIVE,
    "superseded": RevisionStatus.SUPERSEDED,
    "obsolete": RevisionStatus.SUPERSEDED,
    "retired": RevisionStatus.SUPERSEDED,
    "withdrawn": RevisionStatus.SUPERSEDED,
}


def iso_date(value: str, patterns: MetadataPatterns) -> str | None:
    match = patterns.compiled("iso_date").search(value)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,;]", value) if item.strip()]


def _ids(value: str, pattern: re.Pattern[str]) -> list[str]:
    found = pattern.findall(value)
    return list(dict.fromkeys(found)) if found else _split_list(value)


@lru_cache(maxsize=64)
def _sidecar_titles(folder: Path) -> dict[str, str]:
    """File name -> title from a MANIFEST.json beside the files (a list of objects with
    `file` and `title`, as in the shared real-PDF set). Missing or other shapes: nothing."""
    for name in SIDECAR_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if isinstance(data, list):
            return {
                str(item["file"]): str(item["title"])
                for item in data
                if isinstance(item, dict) and item.get("file") and item.get("title")
            }
    return {}


def sidecar_title(path: Path) -> str:
    return _sidecar_titles(path.parent.resolve()).get(path.name, "")


def _type_from_value(value: str, patterns: MetadataPatterns) -> DocType | None:
    for regex, doc_type in patterns.document_type_values.items():
        if re.search(regex, value, re.IGNORECASE):
            return DocType(doc_type)
    return None


def _type_from_doc_id(doc_id: str, patterns: MetadataPatterns) -> DocType | None:
    for regex, doc_type in patterns.doc_id_types.items():
        if re.search(regex, doc_id, re.IGNORECASE):
            return DocType(doc_type)
    return None


def _type_from_content(text: str, patterns: MetadataPatterns) -> DocType | None:
    for regex, doc_type in patterns.content_cues.items():
        if re.search(regex, text):
            return DocType(doc_type)
    return None


def _guidance_code(text: str, patterns: MetadataPatterns) -> tuple[str, str] | None:
    match = patterns.compiled("guidance_code", re.IGNORECASE).search(text)
    if not match:
        return None
    revision = (match.group(3) or "").upper()
    return f"{match.group(1).upper()}-{match.group(2).upper()}", revision


def _revision_in_title(text: str, patterns: MetadataPatterns) -> str:
    match = patterns.compiled("revision_in_title", re.IGNORECASE).search(text)
    return (match.group(1) or match.group(2)).upper() if match else ""


def _slug(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").upper() or "DOCUMENT"


def _revision_value(value: str) -> str:
    """ "Revision 3" / "Rev. 04" / "3" -> "3" / "04"; other text is kept as printed."""
    match = re.search(r"(?:rev(?:ision)?\.?\s*)?([0-9A-Z][0-9A-Z.]*)\s*$", value.strip(), re.I)
    return match.group(1) if match else value.strip()


def extract_metadata(
    parsed: ParsedDocument,
    path: Path,
    patterns: MetadataPatterns,
    *,
    doc_type: DocType | None = None,
    default_site: str | None = None,
) -> DocMetadata:
    """`doc_type` forces the type; `default_site` applies where the document names none."""
    fields: dict[str, str] = {}
    for label, value in parsed.header.items():
        name = patterns.labels.get(label)
        if name and name not in fields:
            fields[name] = value
    first_pages = "\n".join(p.text for p in parsed.pages[:2])
    title = (
        fields.get("title")
        or sidecar_title(path)
        or (parsed.embedded_title if not _JUNK_TITLES.match(parsed.embedded_title) else "")
        or path.stem.replace("_", " ")
    ).strip()

    doc_id = fields.get("doc_id", "").strip()
    revision = _revision_value(fields["revision"]) if fields.get("revision") else ""
    code = (
        None if doc_id else (_guidance_code(title, patterns) or _guidance_code(path.stem, patterns))
    )
    if code:
        doc_id, code_revision = code
        revision = revision or code_revision
    if not doc_id:
        doc_id = _slug(path.stem)
    if not revision:
        revision = _revision_in_title(title, patterns) if code else ""

    resolved_type = (
        doc_type
        or (
            _type_from_value(fields["document_type"], patterns)
            if "document_type" in fields
            else None
        )
        or _type_from_doc_id(doc_id, patterns)
        or _type_from_content(first_pages, patterns)
        or DocType.OTHER
    )

    status_value = fields.get("status", "").strip().lower()
    status = _STATUS_VALUES.get(status_value.split()[0] if status_value else "")
    extra: dict[str, Any] = {}
    if status_value and status is None:
        extra["record_status"] = fields["status"]
    for key in ("mbr", "line", "document_type"):
        if key in fields:
            extra[key] = fields[key]

    products = (
        _ids(fields["products"], patterns.compiled("product_code")) if "products" in fields else []
    )
    equipment = _split_list(fields["equipment"]) if "equipment" in fields else []
    batch_ids = (
        _ids(fields["batch_ids"], patterns.compiled("batch_id")) if "batch_ids" in fields else []
    )
    capa_ids = (
        _ids(fields["capa_ids"], patterns.compiled("capa_id")) if "capa_ids" in fields else []
    )
    if resolved_type is DocType.CAPA and doc_id not in capa_ids:
        capa_ids.insert(0, doc_id)
    if resolved_type is not DocType.GUIDANCE and parsed.pages:
        page_one = parsed.pages[0].text
        equipment = equipment or list(
            dict.fromkeys(patterns.compiled("equipment_tag").findall(page_one))
        )
        if resolved_type in (DocType.BATCH_RECORD, DocType.DEVIATION):
            batch_ids = batch_ids or list(
                dict.fromkeys(patterns.compiled("batch_id").findall(page_one))
            )
    if "deviation_ids" in fields:
        extra["deviation_ids"] = _ids(fields["deviation_ids"], patterns.compiled("deviation_id"))

    return DocMetadata(
        doc_id=doc_id,
        doc_type=resolved_type,
        title=title,
        revision=revision or NO_REVISION,
        effective_date=iso_date(fields["effective_date"], patterns)
        if "effective_date" in fields
        else None,
        status=status or RevisionStatus.EFFECTIVE,
        superseded_by=_revision_value(fields["superseded_by"])
        if fields.get("superseded_by")
        else None,
        supersedes=_revision_value(fields["supersedes"]) if fields.get("supersedes") else None,
        site=(fields.get("site") or default_site or SHARED_SITE).strip(),
        products=products,
        equipment=equipment,
        batch_ids=batch_ids,
        capa_ids=capa_ids,
        event_date=iso_date(fields["event_date"], patterns) if "event_date" in fields else None,
        extra=extra,
    )


def revision_key(revision: str, effective_date: str | None = None) -> tuple[int, float, str, str]:
    """Order revisions: numbers numerically ("10" after "9"), then letters; the effective
    date breaks ties between revisions printed alike."""
    cleaned = revision.strip().upper().lstrip("R")
    number = re.match(r"^(\d+(?:\.\d+)?)", cleaned)
    if number:
        return (1, float(number.group(1)), effective_date or "", cleaned)
    return (0, 0.0, effective_date or "", cleaned)
