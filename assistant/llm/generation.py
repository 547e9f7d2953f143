"""What every backend shares: request limits, timing, streaming, structured output and repair.

A backend implements one method, `_generate`, yielding text chunks and then one `StreamEnd`
with the finish reason and token counts. `StreamingChatModel` turns that into `complete()`
and `stream()` with the same semantics on every backend: cancellation and deadline checked
between chunks, wall-clock timings, schema validation, one repair turn on refusal.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, overload

from pydantic import BaseModel

from assistant.llm.base import (
    Completion,
    Message,
    ModelInfo,
    ParsedT,
    SamplingParams,
    Timings,
    Usage,
)
from assistant.llm.errors import (
    LlmCancelledError,
    LlmError,
    LlmTimeoutError,
    StructuredOutputError,
)
from assistant.llm.structured import (
    json_schema_of,
    repair_messages,
    repair_prompt_names,
    validate_reply,
)

_ROLES = frozenset({"system", "user", "assistant"})
_interrupted = threading.Event()


def interrupt_all() -> None:
    """Stop every generation in this process at its next token (shutdown): each running or
    waiting request raises `LlmCancelledError`, and new ones are refused until
    `clear_interrupt()`."""
    _interrupted.set()


def clear_interrupt() -> None:
    _interrupted.clear()


def interrupted() -> bool:
    return _interrupted.is_set()


@dataclass(frozen=True)
class StreamEnd:
    """The last event of a backend generation."""

    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    usage_estimated: bool = False


BackendEvent = str | StreamEnd


@dataclass(frozen=True)
class GenerationRequest:
    """One backend call: sampling, optional JSON schema, and the limits to honour."""

    sampling: SamplingParams
    json_schema: dict[str, Any] | None
    schema_name: str | None
    deadline: float | None  # time.monotonic() value
    timeout_s: float | None
    cancel: threading.Event | None

    def remaining_s(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise if the caller cancelled, the process is shutting down or the deadline passed."""
        if self.cancel is not None and self.cancel.is_set():
            raise LlmCancelledError("completion cancelled by the caller")
        if _interrupted.is_set():
            raise LlmCancelledError("completion interrupted: the process is shutting down")
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            raise LlmTimeoutError(f"completion did not finish within {self.timeout_s:g} s")

    def wait_for(self, lock: threading.Lock, poll_s: float = 0.05) -> None:
        """Acquire `lock`, giving up on cancellation or deadline (for serialized backends)."""
        while True:
            self.check()
            remaining = self.remaining_s()
            wait = poll_s if remaining is None else max(0.0, min(poll_s, remaining))
            if lock.acquire(timeout=wait):
                return


@dataclass(frozen=True)
class AttemptResult:
    text: str
    finish_reason: str
    usage: Usage
    timings: Timings


def _run_attempt(
    events: Iterator[BackendEvent], request: GenerationRequest
) -> Generator[str, None, AttemptResult]:
    started = time.monotonic()
    parts: list[str] = []
    ttft: float | None = None
    end: StreamEnd | None = None
    try:
        request.check()
        for event in events:
            if isinstance(event, StreamEnd):
                end = event
                continue
            request.check()
            if not event:
                continue
            if ttft is None:
                ttft = time.monotonic() - started
            parts.append(event)
            yield event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # stops the backend early (frees the llama.cpp lock, aborts the HTTP stream)
    if end is None:
        raise LlmError("the backend stream ended without a finish reason (connection lost?)")
    total = time.monotonic() - started
    usage = Usage(end.prompt_tokens, end.completion_tokens, end.usage_estimated)
    return AttemptResult(
        "".join(parts), end.finish_reason, usage, Timings.measure(ttft, total, usage)
    )


def _drain(attempt: Generator[str, None, AttemptResult]) -> AttemptResult:
    while True:
        try:
            next(attempt)
        except StopIteration as stop:
            return stop.value


class TokenStream(Generic[ParsedT]):
    """`CompletionStream` implementation over a generator that returns the `Completion`."""

    def __init__(self, generator: Generator[str, None, Completion[ParsedT]]) -> None:
        self._generator = generator
        self._result: Completion[ParsedT] | None = None
        self._closed = False

    def __iter__(self) -> TokenStream[ParsedT]:
        return self

    def __next__(self) -> str:
        if self._result is not None or self._closed:
            raise StopIteration
        try:
            return next(self._generator)
        except StopIteration as stop:
            self._result = stop.value
            raise StopIteration from None

    @property
    def result(self) -> Completion[ParsedT]:
        if self._result is None:
            raise RuntimeError("the stream has not been read to the end (or was closed early)")
        return self._result

    def close(self) -> None:
        self._closed = True
        self._generator.close()

    def __enter__(self) -> TokenStream[ParsedT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _checked_messages(messages: Sequence[Message]) -> list[Message]:
    if not messages:
        raise ValueError("a completion needs at least one message")
    checked: list[Message] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        if role not in _ROLES or not isinstance(content, str):
            raise ValueError(
                f"message {index} must have a role in {sorted(_ROLES)} and string content, "
                f"got role={role!r} content type {type(content).__name__}"
            )
        checked.append({"role": role, "content": content})
    return checked


class StreamingChatModel(ABC):
    """Base of every backend; implements the `ChatModel` protocol on top of `_generate`."""

    def __init__(self, info: ModelInfo, defaults: SamplingParams, timeout_s: float | None) -> None:
        self._info = info
        self._defaults = defaults
        self._timeout_s = timeout_s

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def defaults(self) -> SamplingParams:
        return self._defaults

    def describe(self) -> dict[str, Any]:
        return {
            "model": self._info.as_dict(),
            "sampling": self._defaults.as_dict(),
            "timeout_s": self._timeout_s,
            "repair_prompts": repair_prompt_names(),
        }

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing
        """Release resources; the default has none."""

    @abstractmethod
    def _generate(
        self, messages: list[Message], request: GenerationRequest
    ) -> Iterator[BackendEvent]:
        """Yield text chunks, then exactly one `StreamEnd`. Must stop cleanly when closed."""

    def _request(
        self,
        schema: type[BaseModel] | None,
        max_tokens: int | None,
        temperature: float | None,
        stop: Sequence[str] | None,
        timeout_s: float | None,
        cancel: threading.Event | None,
    ) -> GenerationRequest:
        sampling = SamplingParams(
            temperature=self._defaults.temperature if temperature is None else temperature,
            max_tokens=self._defaults.max_tokens if max_tokens is None else max_tokens,
            seed=self._defaults.seed,
            stop=self._defaults.stop if stop is None else tuple(stop),
        )
        if sampling.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {sampling.max_tokens}")
        if sampling.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {sampling.temperature}")
        limit = self._timeout_s if timeout_s is None else timeout_s
        if limit is not None and limit <= 0:
            raise ValueError(f"timeout_s must be positive, got {limit}")
        return GenerationRequest(
            sampling=sampling,
            json_schema=json_schema_of(schema) if schema is not None else None,
            schema_name=schema.__name__ if schema is not None else None,
            deadline=time.monotonic() + limit if limit is not None else None,
            timeout_s=limit,
            cancel=cancel,
        )

    def _attempt(
        self, messages: list[Message], request: GenerationRequest
    ) -> Generator[str, None, AttemptResult]:
        return _run_attempt(self._generate(messages, request), request)

    def _completion(
        self,
        result: AttemptResult,
        parsed: ParsedT | None,
        request: GenerationRequest,
    ) -> Completion[ParsedT]:
        return Completion(
            text=result.text,
            parsed=parsed,
            finish_reason=result.finish_reason,
            usage=result.usage,
            timings=result.timings,
            model=self._info,
            sampling=request.sampling,
        )

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

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: type[ParsedT] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion[ParsedT]:
        conversation = _checked_messages(messages)
        request = self._request(schema, max_tokens, temperature, stop, timeout_s, cancel)
        started = time.monotonic()
        first = _drain(self._attempt(conversation, request))
        if schema is None:
            return self._completion(first, None, request)
        max_tok = request.sampling.max_tokens
        verdict = validate_reply(schema, first.text, first.finish_reason, max_tok)
        if verdict.parsed is not None:
            return self._completion(first, verdict.parsed, request)

        name = request.schema_name or schema.__name__
        repair = repair_messages(conversation, first.text, verdict, name, max_tok)
        second = _drain(self._attempt(repair, request))
        second_verdict = validate_reply(schema, second.text, second.finish_reason, max_tok)
        if second_verdict.parsed is None:
            reason = "was cut off at the token limit" if second_verdict.truncated else "is invalid"
            raise StructuredOutputError(
                f"the model's reply for schema {name!r} {reason} after one repair attempt "
                f"({len(second_verdict.errors)} error(s))",
                schema_name=name,
                raw_texts=[first.text, second.text],
                errors=second_verdict.errors,
                truncated=second_verdict.truncated,
            )
        timings = Timings(
            ttft_s=first.timings.ttft_s,
            total_s=time.monotonic() - started,
            prompt_tokens_per_s=second.timings.prompt_tokens_per_s,
            decode_tokens_per_s=second.timings.decode_tokens_per_s,
        )
        return Completion(
            text=second.text,
            parsed=second_verdict.parsed,
            finish_reason=second.finish_reason,
            usage=first.usage + second.usage,
            timings=timings,
            model=self._info,
            sampling=request.sampling,
            attempts=2,
            repair_errors=verdict.errors,
        )

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
    ) -> TokenStream[ParsedT]: ...

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
    ) -> TokenStream[Any]: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        schema: type[ParsedT] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> TokenStream[ParsedT]:
        conversation = _checked_messages(messages)
        request = self._request(schema, max_tokens, temperature, stop, timeout_s, cancel)
        return TokenStream(self._stream(conversation, request, schema))

    def _stream(
        self,
        conversation: list[Message],
        request: GenerationRequest,
        schema: type[ParsedT] | None,
    ) -> Generator[str, None, Completion[ParsedT]]:
        result = yield from self._attempt(conversation, request)
        if schema is None:
            return self._completion(result, None, request)
        max_tok = request.sampling.max_tokens
        verdict = validate_reply(schema, result.text, result.finish_reason, max_tok)
        if verdict.parsed is None:
            name = request.schema_name or schema.__name__
            raise StructuredOutputError(
                f"the streamed reply for schema {name!r} is not valid "
                f"({'cut off at the token limit' if verdict.truncated else 'invalid'}); "
                "streams are not repaired: use complete() for a repair attempt",
                schema_name=name,
                raw_texts=[result.text],
                errors=verdict.errors,
                truncated=verdict.truncated,
            )
        return self._completion(result, verdict.parsed, request)
