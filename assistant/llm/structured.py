"""Structured output: the JSON schema sent to the backend, validation, and the repair turn.

Backends constrain generation with the schema (llama.cpp grammar, vLLM xgrammar); the reply is
still validated here, because a constrained reply can be cut off (finish_reason "length") or
break a constraint the grammar cannot express. A refused reply gets ONE repair turn that shows
the model its errors; a second refusal is a `StructuredOutputError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic

from pydantic import BaseModel, ValidationError

from assistant.llm.base import Message, ParsedT, assistant, user

REPAIR_PROMPT_VERSION = 1
_FENCE = re.compile(r"^```(?:json)?\s*\n(?P<body>.*)\n```$", re.DOTALL)
_MAX_ERRORS_SHOWN = 20


def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


@dataclass(frozen=True)
class Validation(Generic[ParsedT]):
    parsed: ParsedT | None
    errors: tuple[dict[str, Any], ...]
    truncated: bool

    @property
    def ok(self) -> bool:
        return self.parsed is not None


def validate_reply(
    schema: type[ParsedT], text: str, finish_reason: str, max_tokens: int
) -> Validation[ParsedT]:
    """Validate a reply; a reply cut off by the token limit is refused even if it parses."""
    if finish_reason == "length":
        error = {
            "type": "truncated",
            "loc": [],
            "msg": f"reply cut off at the token limit ({max_tokens} tokens)",
        }
        return Validation(None, (error,), truncated=True)
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group("body")
    try:
        return Validation(schema.model_validate_json(body), (), truncated=False)
    except ValidationError as exc:
        # exc.json() is always JSON-able (exc.errors() may carry exception objects in ctx).
        errors = tuple(json.loads(exc.json(include_url=False)))
        return Validation(None, errors, truncated=False)


@cache
def _prompt(name: str) -> str:
    filename = f"{name}.v{REPAIR_PROMPT_VERSION}.txt"
    return resources.files("assistant.llm").joinpath("prompts", filename).read_text("utf-8")


def _describe_errors(errors: tuple[dict[str, Any], ...]) -> str:
    lines = []
    for error in errors[:_MAX_ERRORS_SHOWN]:
        location = ".".join(str(part) for part in error.get("loc", [])) or "(whole object)"
        lines.append(f"- {location}: {error.get('msg', 'invalid')}")
    if len(errors) > _MAX_ERRORS_SHOWN:
        lines.append(f"- ... and {len(errors) - _MAX_ERRORS_SHOWN} more")
    return "\n".join(lines)


def repair_messages(
    messages: list[Message],
    reply: str,
    validation: Validation[Any],
    schema_name: str,
    max_tokens: int,
) -> list[Message]:
    """The conversation for the repair attempt: the refused reply plus what was wrong with it."""
    if validation.truncated:
        instruction = _prompt("structured_repair_truncated").format(
            schema_name=schema_name, max_tokens=max_tokens
        )
    else:
        instruction = _prompt("structured_repair_invalid").format(
            schema_name=schema_name, errors=_describe_errors(validation.errors)
        )
    return [*messages, assistant(reply), user(instruction)]


def repair_prompt_names() -> list[str]:
    return [
        f"structured_repair_invalid.v{REPAIR_PROMPT_VERSION}",
        f"structured_repair_truncated.v{REPAIR_PROMPT_VERSION}",
    ]
