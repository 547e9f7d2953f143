"""The inline section editor: which fields a section offers, and the new value a form makes.

A section's statements are edited as text (a changed statement is marked `human_edited`, and
its machine check, which was about the old text, is dropped); its plain text fields as text; its
human-only decisions as choices. A section with none of these (a list such as the timeline) is
edited as JSON.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from api.records.errors import Invalid
from api.web.draft_view import (
    DECISION_CHOICES,
    SECTION_TITLES,
    decision_fields,
    get_path,
    label_of,
    statement_paths,
)

_SKIP_FIELDS = frozenset({"text", "citations", "statements"})


@dataclass(frozen=True)
class EditField:
    name: str  # the form field name
    label: str
    kind: str  # text | choice | json
    value: str
    choices: tuple[str, ...] = ()


def edit_fields(section: str, value: Any) -> list[EditField]:
    fields: list[EditField] = []
    title = SECTION_TITLES.get(section, label_of(section))
    for i, path in enumerate(statement_paths(value), start=1):
        where = " / ".join(label_of(p) for p in path if not p.isdigit()) or title
        fields.append(
            EditField(
                "st:" + "/".join(path),
                f"Statement {i} ({where})",
                "text",
                str(get_path(value, path)["text"]),
            )
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if (
                isinstance(item, str)
                and key not in _SKIP_FIELDS
                and (section, key) not in DECISION_CHOICES
            ):
                fields.append(EditField("field:" + key, label_of(key), "text", item))
        # Offered whether or not the draft has the key yet: approval needs every decision.
        for key, choices in decision_fields(section):
            current = value.get(key)
            fields.append(
                EditField(
                    "decision:" + key,
                    f"{label_of(key)} (human decision)",
                    "choice",
                    "" if current is None else str(current),
                    choices,
                )
            )
    if not fields:
        fields.append(
            EditField(
                "json", f"{title} (JSON)", "json", json.dumps(value, indent=2, ensure_ascii=False)
            )
        )
    return fields


def apply_form(section: str, value: Any, form: dict[str, str]) -> Any:
    """The section's new value from the submitted fields (unknown fields are ignored)."""
    if "json" in form and not any(k.startswith(("st:", "field:", "decision:")) for k in form):
        try:
            return json.loads(form["json"])
        except json.JSONDecodeError as exc:
            raise Invalid(
                f"the {section} section is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from exc
    new = copy.deepcopy(value)
    for path in statement_paths(value):
        submitted = form.get("st:" + "/".join(path))
        if submitted is None:
            continue
        statement = get_path(new, path)
        text = submitted.strip()
        if not text:
            raise Invalid("a statement cannot be emptied; say why it no longer applies instead")
        if text != statement["text"]:
            statement["text"] = text
            statement["human_edited"] = True
            statement.pop("check", None)
            statement.pop("flag", None)
    if isinstance(new, dict):
        for key in list(new):
            if isinstance(new[key], str) and "field:" + key in form:
                new[key] = form["field:" + key].strip()
        for key, choices in decision_fields(section):
            if "decision:" + key not in form:
                continue
            choice = form["decision:" + key]
            if choice and choice not in choices:
                raise Invalid(f"{label_of(key)}: {choice!r} is not one of the allowed values")
            if choice or key in new:
                new[key] = choice or None
    return new
