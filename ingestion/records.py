"""QMS exports (JSON / JSONL / CSV) of deviations and CAPAs: rows to canonical records, and
records to chunks, one per field group.

Canonical fields are read directly (the demo plant writes exactly these; CSV lists are joined
with ";"); foreign exports go through a mapping file (`ingestion.mapping`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.model import NO_REVISION, SHARED_SITE, Chunk, DocMetadata
from ingestion.text_parser import decode_text
from retrieval.index_contract import ChunkKind, DocType

if TYPE_CHECKING:
    from ingestion.mapping import Mapping

RECORD_TYPES = frozenset({"deviation", "capa"})
DEVIATION_FIELDS = (
    "record_type", "id", "title", "occurred_at", "opened_at", "closed_at", "site", "building",
    "area", "line", "equipment", "product_code", "product_name", "batch_ids", "category",
    "failure_mode", "classification", "description", "immediate_actions", "root_cause",
    "root_cause_6m", "capa_ids", "status",
)  # fmt: skip
CAPA_FIELDS = (
    "record_type", "id", "title", "opened_at", "site", "equipment", "product_code",
    "deviation_ids", "problem", "root_cause", "actions", "owner", "due_date",
    "effectiveness_result", "effectiveness_checked_at", "status",
)  # fmt: skip
CANONICAL_FIELDS = tuple(dict.fromkeys(DEVIATION_FIELDS + CAPA_FIELDS))
LIST_FIELDS = frozenset({"equipment", "batch_ids", "capa_ids", "deviation_ids"})
TEXT_FIELDS = ("title", "description", "problem", "immediate_actions", "root_cause", "actions")
CSV_LIST_SEPARATOR = ";"
REQUIRED_COLUMNS = ("record_type", "id")

LABELS = {
    "title": "Title", "description": "Description", "occurred_at": "Occurred",
    "site": "Site", "area": "Area", "line": "Line", "equipment": "Equipment",
    "product_code": "Product", "product_name": "Product name", "batch_ids": "Batches",
    "classification": "Classification", "immediate_actions": "Immediate actions",
    "root_cause": "Root cause", "root_cause_6m": "Root cause category (6M)",
    "capa_ids": "CAPAs", "problem": "Problem", "deviation_ids": "Deviations",
    "actions": "Actions", "owner": "Owner", "due_date": "Due date",
    "effectiveness_result": "Effectiveness result",
    "effectiveness_checked_at": "Effectiveness checked", "status": "Status",
}  # fmt: skip
# Field groups: one chunk each (name, fields). The first field group of a record always
# yields a chunk; the others only when one of their text fields has a value.
FIELD_GROUPS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "deviation": (
        ("what happened", ("title", "description", "occurred_at", "area", "line", "equipment",
                           "product_code", "product_name", "batch_ids", "classification")),
        ("immediate actions", ("immediate_actions",)),
        ("root cause and CAPA", ("root_cause", "root_cause_6m", "capa_ids")),
    ),
    "capa": (
        ("problem", ("title", "problem", "deviation_ids", "equipment", "product_code")),
        ("root cause and actions", ("root_cause", "actions", "owner", "due_date")),
        ("effectiveness", ("effectiveness_result", "effectiveness_checked_at", "status")),
    ),
}  # fmt: skip
_GROUP_TEXT = {"immediate_actions", "root_cause", "actions", "effectiveness_result"}


class ExportError(ValueError):
    """The whole file cannot be read as a QMS export (user-facing reason)."""


class NotAnExportError(ExportError):
    """A JSON / CSV file that is not a QMS export at all (no record rows, no mapping)."""


@dataclass
class RowError:
    row: int  # 1-based row / line number in the file
    reason: str


@dataclass
class ExportRows:
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    filtered_out: int = 0
    notes: list[str] = field(default_factory=list)


def _raw_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(row number, row or None, error) for every row of a JSON / JSONL / CSV file."""
    suffix = path.suffix.lower()
    text, note = decode_text(path.read_bytes())
    if note:
        yield 0, None, f"note: {note}"
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield number, None, f"invalid JSON: {exc}"
                continue
            yield (
                (number, value, "") if isinstance(value, dict) else (number, None, "not an object")
            )
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ExportError(f"invalid JSON: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("records", [data])
        if not isinstance(data, list):
            raise ExportError("JSON export must be a list of records or {'records': [...]}")
        for number, value in enumerate(data, start=1):
            yield (
                (number, value, "") if isinstance(value, dict) else (number, None, "not an object")
            )
    else:
        reader = csv.DictReader(io.StringIO(text))
        for number, row in enumerate(reader, start=2):
            yield number, dict(row), ""


def _canonical_from_csv(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue
        if key in LIST_FIELDS and isinstance(value, str):
            out[key] = [v.strip() for v in value.split(CSV_LIST_SEPARATOR) if v.strip()]
        else:
            out[key] = value
    return out


def read_export(path: Path, mapping: Mapping | None) -> ExportRows:
    rows = ExportRows()
    is_csv = path.suffix.lower() == ".csv"
    if is_csv and mapping is None:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle), [])
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ExportError(f"CSV is missing required columns: {', '.join(missing)}")
        if not any(c in header for c in TEXT_FIELDS):
            raise ExportError(f"CSV has none of the text columns {', '.join(TEXT_FIELDS)}")
    for number, raw, error in _raw_rows(path):
        if raw is None:
            if error.startswith("note: "):
                rows.notes.append(error[6:])
            else:
                rows.errors.append(RowError(number, error))
            continue
        if mapping is not None:
            if not mapping.accepts(raw):
                rows.filtered_out += 1
                continue
            record = mapping.apply(raw)
        else:
            record = _canonical_from_csv(raw) if is_csv else dict(raw)
        problem = validate_record(record)
        if problem:
            rows.errors.append(RowError(number, problem))
        else:
            rows.records.append((number, record))
    if not rows.records and not rows.filtered_out and rows.errors:
        first = rows.errors[0]
        if mapping is None and all("record_type" in e.reason for e in rows.errors):
            raise NotAnExportError(
                "not a QMS export of devia records (rows have no record_type deviation/capa); "
                "give a mapping file for a foreign export"
            )
        raise ExportError(
            f"no usable rows ({len(rows.errors)} bad; row {first.row}: {first.reason})"
        )
    return rows


def validate_record(record: dict[str, Any]) -> str:
    record_type = record.get("record_type")
    if record_type not in RECORD_TYPES:
        return f"record_type must be one of {sorted(RECORD_TYPES)}, got {record_type!r}"
    if not str(record.get("id") or "").strip():
        return "missing id"
    if not any(str(record.get(f) or "").strip() for f in TEXT_FIELDS):
        return f"no text in any of {', '.join(TEXT_FIELDS)}"
    for name in LIST_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, list):
            return f"{name} must be a list"
    return ""


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record_metadata(record: dict[str, Any], default_site: str | None) -> DocMetadata:
    record_type = str(record["record_type"])
    doc_id = str(record["id"]).strip()
    when = _timestamp(record.get("occurred_at")) or _timestamp(record.get("opened_at"))
    capa_ids = list(record.get("capa_ids") or [])
    if record_type == "capa":
        capa_ids = [doc_id, *capa_ids]
    extra: dict[str, Any] = {"record": record}
    if when is not None:
        extra["event_ts"] = int(when.timestamp())
    product = record.get("product_code")
    return DocMetadata(
        doc_id=doc_id,
        doc_type=DocType.DEVIATION if record_type == "deviation" else DocType.CAPA,
        title=str(record.get("title") or record.get("problem") or doc_id)[:300],
        revision=NO_REVISION,
        site=str(record.get("site") or default_site or SHARED_SITE),
        products=[str(product)] if product else [],
        equipment=[str(e) for e in record.get("equipment") or []],
        batch_ids=[str(b) for b in record.get("batch_ids") or []],
        capa_ids=capa_ids,
        event_date=when.date().isoformat() if when else None,
        extra=extra,
    )


def _format(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def record_chunks(record: dict[str, Any]) -> list[Chunk]:
    """One chunk per field group with a value; text is "Label: value" lines of the record's
    own values, so a quote from it is a quote of the record."""
    record_type = str(record["record_type"])
    chunks: list[Chunk] = []
    for position, (group, names) in enumerate(FIELD_GROUPS[record_type]):
        present = [n for n in names if record.get(n) not in (None, "", [])]
        if position > 0 and not any(n in _GROUP_TEXT for n in present):
            continue
        if not present:
            continue
        kind = "Deviation" if record_type == "deviation" else "CAPA"
        lines = [f"{kind} {record['id']} - {group}"]
        lines += [f"{LABELS.get(n, n)}: {_format(record[n])}" for n in present]
        text = "\n".join(lines)
        chunks.append(
            Chunk(
                text=text,
                kind=ChunkKind.RECORD,
                page_start=None,
                page_end=None,
                char_start=0,
                char_end=len(text),
                section_path=[group],
                section_id=group,
                caption=group,
            )
        )
    return chunks
