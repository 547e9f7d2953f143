"""Field mappings: foreign QMS exports read as devia's canonical deviation / CAPA records.

A mapping is a JSON file (format in `ingestion/mappings/README.md`): which source field fills
which canonical field (with constants, value maps, date formats, list splitting), extra
fields kept in the record payload, and row filters. No code per source system.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.records import CANONICAL_FIELDS, LIST_FIELDS, RECORD_TYPES

BUNDLED_DIR = Path(__file__).parent / "mappings"


class MappingError(ValueError):
    """A mapping file that cannot be used (the message names the file and the problem)."""


@dataclass(frozen=True)
class FieldSpec:
    sources: tuple[str, ...] = ()
    const: Any = None
    first: bool = False  # source value is a list: take its first item
    join: str | None = None  # source value is a list: join the items with this
    split: str | None = None  # source value is a string: split it into a list
    value_map: dict[str, Any] = field(default_factory=dict)
    default: Any = None
    date_format: str | None = None  # strptime format of the source value -> ISO 8601

    def value(self, row: dict[str, Any]) -> Any:
        if self.const is not None:
            return self.const
        raw: Any = None
        for source in self.sources:
            candidate = row.get(source)
            if candidate not in (None, "", []):
                raw = candidate
                break
        if raw is None:
            return self.default
        if isinstance(raw, list):
            if self.first:
                raw = raw[0] if raw else None
            elif self.join is not None:
                raw = self.join.join(str(v) for v in raw)
        elif isinstance(raw, str) and self.split is not None:
            raw = [part.strip() for part in raw.split(self.split) if part.strip()]
        if self.value_map and isinstance(raw, str | int | float | bool):
            raw = self.value_map.get(str(raw), self.value_map.get("*", raw))
        if self.date_format and isinstance(raw, str):
            try:
                parsed = datetime.strptime(raw, self.date_format)
            except ValueError:
                return self.default
            raw = parsed.replace(tzinfo=parsed.tzinfo or UTC).isoformat().replace("+00:00", "Z")
        return raw


@dataclass(frozen=True)
class Condition:
    field: str
    equals: Any = None
    one_of: tuple[Any, ...] = ()
    startswith: str | None = None
    regex: str | None = None

    def holds(self, row: dict[str, Any]) -> bool:
        value = row.get(self.field)
        if self.equals is not None and value != self.equals:
            return False
        if self.one_of and value not in self.one_of:
            return False
        if self.startswith is not None and not str(value or "").startswith(self.startswith):
            return False
        return not (self.regex is not None and not re.search(self.regex, str(value or "")))


@dataclass(frozen=True)
class Mapping:
    name: str
    fields: dict[str, FieldSpec]
    extra: dict[str, FieldSpec] = field(default_factory=dict)
    filters: tuple[Condition, ...] = ()
    source: str = ""  # the file it came from

    def accepts(self, row: dict[str, Any]) -> bool:
        return all(condition.holds(row) for condition in self.filters)

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        record = {name: spec.value(row) for name, spec in self.fields.items()}
        extra = {name: spec.value(row) for name, spec in self.extra.items()}
        record["extra"] = {k: v for k, v in extra.items() if v not in (None, "", [])}
        return {k: v for k, v in record.items() if v is not None}


def _spec(name: str, raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(sources=(raw,))
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: field {name!r} must be a source field name or an object")
    allowed = {"from", "const", "first", "join", "split", "map", "default", "date_format"}
    unknown = set(raw) - allowed
    if unknown:
        raise MappingError(f"{where}: field {name!r} has unknown keys {sorted(unknown)}")
    sources = raw.get("from", ())
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    if not sources and "const" not in raw:
        raise MappingError(f"{where}: field {name!r} needs 'from' or 'const'")
    return FieldSpec(
        sources=sources,
        const=raw.get("const"),
        first=bool(raw.get("first", False)),
        join=raw.get("join"),
        split=raw.get("split"),
        value_map=dict(raw.get("map", {})),
        default=raw.get("default"),
        date_format=raw.get("date_format"),
    )


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or "field" not in raw:
        raise MappingError(f"{where}: each filter needs a 'field'")
    unknown = set(raw) - {"field", "equals", "in", "startswith", "regex"}
    if unknown:
        raise MappingError(f"{where}: filter has unknown keys {sorted(unknown)}")
    if raw.get("regex"):
        re.compile(raw["regex"])
    return Condition(
        field=raw["field"],
        equals=raw.get("equals"),
        one_of=tuple(raw.get("in", ())),
        startswith=raw.get("startswith"),
        regex=raw.get("regex"),
    )


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; a bare name finds a bundled mapping
    (`openfda_recall_events` -> ingestion/mappings/openfda_recall_events.json)."""
    if not path.exists() and not path.suffix and (BUNDLED_DIR / f"{path.name}.json").exists():
        path = BUNDLED_DIR / f"{path.name}.json"
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MappingError(f"{where}: cannot read mapping: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
        raise MappingError(f"{where}: a mapping is an object with a 'fields' object")
    fields = {name: _spec(name, raw, where) for name, raw in data["fields"].items()}
    unknown = set(fields) - set(CANONICAL_FIELDS)
    if unknown:
        raise MappingError(
            f"{where}: {sorted(unknown)} are not canonical record fields (put them in 'extra')"
        )
    for required in ("record_type", "id"):
        if required not in fields:
            raise MappingError(f"{where}: the mapping must fill {required!r}")
    record_type = fields["record_type"].const
    if record_type is not None and record_type not in RECORD_TYPES:
        raise MappingError(f"{where}: record_type must be one of {sorted(RECORD_TYPES)}")
    for name in LIST_FIELDS & set(fields):
        spec = fields[name]
        if spec.first or spec.join is not None:
            raise MappingError(f"{where}: list field {name!r} cannot use 'first' or 'join'")
    extra = {name: _spec(name, raw, where) for name, raw in data.get("extra", {}).items()}
    filters = tuple(_condition(raw, where) for raw in data.get("filter", []))
    return Mapping(
        name=str(data.get("name") or path.stem),
        fields=fields,
        extra=extra,
        filters=filters,
        source=where,
    )
