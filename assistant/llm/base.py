"""The one chat-model interface of devia, used by the agent, the chat endpoint and the evals.

A `ChatModel` turns a list of chat messages into a `Completion`: the text, the validated
pydantic object when a schema was requested, token usage, timings and the model's provenance.
`stream()` yields the text as it is generated and exposes the same `Completion` at the end.
Backends: llama.cpp in-process, any OpenAI-compatible server (vLLM), and a scripted fake.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import (
    Any,
    Generic,
    Literal,
    Protocol,
    TypedDict,
    TypeVar,
    overload,
    runtime_checkable,
)

from pydantic import BaseModel

ParsedT = TypeVar("ParsedT", bound=BaseModel)

Role = Literal["system", "user", "assistant"]
FinishReason = str  # "stop" or "length" in practice; servers may add others


class Message(TypedDict):
    role: Role
    content: str


def system(content: str) -> Message:
    return {"role": "system", "content": content}


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def assistant(content: str) -> Message:
    return {"role": "assistant", "content": content}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # True when the server did not report usage and the counts were estimated (see backend)
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.estimated or other.estimated,
        )


@dataclass(frozen=True)
class Timings:
    """Wall-clock timings seen by the caller, the same definitions for every backend.

    ttft_s: request start to the first generated text (queueing + prompt processing);
    prompt_tokens_per_s: prompt tokens / ttft_s; decode_tokens_per_s: tokens after the first
    / time after the first. None where undefined (no text, or a single token).
    """

    ttft_s: float | None
    total_s: float
    prompt_tokens_per_s: float | None
    decode_tokens_per_s: float | None

    @classmethod
    def measure(cls, ttft_s: float | None, total_s: float, usage: Usage) -> Timings:
        prompt_rate = None
        decode_rate = None
        if ttft_s is not None and ttft_s > 0 and usage.prompt_tokens > 0:
            prompt_rate = usage.prompt_tokens / ttft_s
        decode_time = total_s - ttft_s if ttft_s is not None else 0.0
        if usage.completion_tokens > 1 and decode_time > 0:
            decode_rate = (usage.completion_tokens - 1) / decode_time
        return cls(ttft_s, total_s, prompt_rate, decode_rate)


@dataclass(frozen=True)
class ModelInfo:
    """What produced a completion, recorded with every draft for provenance."""

    name: str  # installed model id (llamacpp) or served model name (openai)
    backend: str  # "llamacpp" | "openai" | "fake"
    backend_version: str | None = None  # llama-cpp-python version, server version
    file_sha256: str | None = None  # GGUF file hash (llamacpp)
    revision: str | None = None  # upstream repository / served model root
    quantization: str | None = None
    context_tokens: int | None = None
    base_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    max_tokens: int
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stop": list(self.stop)}


@dataclass(frozen=True)
class Completion(Generic[ParsedT]):
    """One finished completion. `parsed` is set exactly when a schema was requested."""

    text: str
    parsed: ParsedT | None
    finish_reason: FinishReason
    usage: Usage  # summed over every attempt (a structured repair makes two)
    timings: Timings  # ttft of the first attempt, total over all, rates of the last
    model: ModelInfo
    sampling: SamplingParams
    attempts: int = 1
    repair_errors: tuple[dict[str, Any], ...] = field(default=())  # why attempt 1 was refused

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @property
    def value(self) -> ParsedT:
        """The validated object; an error if this completion was not a structured one."""
        if self.parsed is None:
            raise ValueError("this completion was requested without a schema")
        return self.parsed

    def provenance(self) -> dict[str, Any]:
        """A JSON-able record of what produced this completion (for drafts and eval files)."""
        return {
            "model": self.model.as_dict(),
            "sampling": self.sampling.as_dict(),
            "usage": asdict(self.usage),
            "timings": asdict(self.timings),
            "finish_reason": self.finish_reason,
            "attempts": self.attempts,
            "repair_errors": list(self.repair_errors),
        }


@runtime_checkable
class CompletionStream(Protocol[ParsedT]):
    """Text chunks as they are generated; `result` is the `Completion` once iteration ended.

    Iterating to the end validates the schema (if any) and raises `StructuredOutputError` on
    failure (no repair: the text was already shown). `close()` (or leaving a `with` block)
    stops generation early and frees the model.
    """

    def __iter__(self) -> CompletionStream[ParsedT]: ...

    def __next__(self) -> str: ...

    @property
    def result(self) -> Completion[ParsedT]: ...

    def close(self) -> None: ...

    def __enter__(self) -> CompletionStream[ParsedT]: ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class ChatModel(Protocol):
    """The interface every caller uses; see the module docstring.

    Arguments left as None take the model's configured defaults. `timeout_s` bounds the whole
    call (repair included); `cancel`, when set by another thread, stops it with
    `LlmCancelledError`. Both are checked between generated tokens.
    """

    @property
    def info(self) -> ModelInfo: ...

    @property
    def defaults(self) -> SamplingParams: ...

    def describe(self) -> dict[str, Any]: ...

    @overload
    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: type[ParsedT],
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion[ParsedT]: ...

    @overload
    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion[Any]: ...

    @overload
    def stream(
        self,
        messages: Sequence[Message],
        *,
        schema: type[ParsedT],
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> CompletionStream[ParsedT]: ...

    @overload
    def stream(
        self,
        messages: Sequence[Message],
        *,
        schema: None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> CompletionStream[Any]: ...

    def close(self) -> None: ...
