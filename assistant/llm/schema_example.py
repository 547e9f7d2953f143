"""A minimal instance of a JSON schema (as pydantic writes them), for the fake model's replies.

Covers what pydantic emits for plain models: objects, arrays, scalars, enums and consts,
`$ref` into `$defs`, `anyOf`/`oneOf`/`allOf`, nullable fields, length and range bounds, and
the usual string formats. Anything it cannot satisfy surfaces as a validation error of the
fake's reply, exactly as a real model's bad reply would.
"""

from __future__ import annotations

from typing import Any

_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "qa@example.com",
    "uri": "https://example.com/",
}


def example_for_schema(schema: dict[str, Any]) -> Any:
    """A value that conforms to `schema` (a JSON schema with optional `$defs`)."""
    return _example(schema, schema.get("$defs", {}), depth=0)


def _resolve(ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise ValueError(f"cannot resolve $ref {ref!r}")
    resolved: dict[str, Any] = defs[ref[len(prefix) :]]
    return resolved


def _example(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    if depth > 32:
        raise ValueError("schema nests too deeply (recursive model without an optional branch?)")
    if "$ref" in schema:
        return _example(_resolve(schema["$ref"], defs), defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            non_null = [option for option in options if option.get("type") != "null"]
            return _example((non_null or options)[0], defs, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part["$ref"], defs) if "$ref" in part else part)
        return _example(merged, defs, depth + 1)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _scalar_or_container(kind, schema, defs, depth)


def _scalar_or_container(
    kind: str, schema: dict[str, Any], defs: dict[str, Any], depth: int
) -> Any:
    if kind == "object":
        properties = schema.get("properties", {})
        required = schema.get("required", list(properties))
        return {name: _example(properties[name], defs, depth + 1) for name in required}
    if kind == "array":
        count = schema.get("minItems", 0)
        if "prefixItems" in schema:
            return [_example(item, defs, depth + 1) for item in schema["prefixItems"]]
        item_schema = schema.get("items", {})
        return [_example(item_schema, defs, depth + 1) for _ in range(count)]
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        text = "placeholder"
        minimum = schema.get("minLength", 0)
        maximum = schema.get("maxLength")
        text = text.ljust(minimum, "x")
        return text[:maximum] if maximum is not None else text
    if kind in ("integer", "number"):
        value = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        value = max(value, 0) if "maximum" not in schema else min(max(value, 0), schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    raise ValueError(f"unsupported JSON schema type {kind!r}")
