"""Errors of the chat-model runtime: each says what went wrong and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LlmError(RuntimeError):
    """Base class: the model could not produce the requested completion."""


class LlmUnavailableError(LlmError):
    """The model server cannot be reached (down, wrong URL, network)."""


class LlmModelNotFoundError(LlmError):
    """The server is up but does not serve the requested model name."""


class LlmTimeoutError(LlmError):
    """The completion did not finish within its time limit."""


class LlmCancelledError(LlmError):
    """The caller cancelled the completion (its `cancel` event was set)."""


class StructuredOutputError(LlmError):
    """The model's reply did not validate against the requested schema, even after one repair.

    Carries the raw text of every attempt and the validation errors of the last one, so callers
    can record exactly what the model said; no partial or truncated object is ever returned.
    """

    def __init__(
        self,
        message: str,
        *,
        schema_name: str,
        raw_texts: Sequence[str],
        errors: Sequence[dict[str, Any]],
        truncated: bool,
    ) -> None:
        super().__init__(message)
        self.schema_name = schema_name
        self.raw_texts = list(raw_texts)
        self.errors = list(errors)
        self.truncated = truncated

    @property
    def raw_text(self) -> str:
        """The text of the last attempt."""
        return self.raw_texts[-1] if self.raw_texts else ""
