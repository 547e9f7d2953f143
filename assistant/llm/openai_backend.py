"""Any OpenAI-compatible chat server: vLLM in production, `python -m llama_cpp.server` here.

Structured output is requested as `response_format={"type": "json_schema", ...}` (OpenAI,
vLLM with xgrammar). llama-cpp-python's server only knows `{"type": "json_object",
"schema": ...}`; when a server refuses the first shape for its `response_format`, the request
is sent again in the second shape and the client keeps using it.

Connection errors and 5xx answers are retried with exponential backoff (tenacity) before any
text has arrived; 4xx answers are not. Before the first request the client checks
`/v1/models`, so a server that is down or serves another model gives a clear error.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

import httpx
import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential,
)
from tenacity.stop import stop_base

from assistant.llm.base import Message, ModelInfo, SamplingParams
from assistant.llm.config import LlmConfig
from assistant.llm.errors import (
    LlmError,
    LlmModelNotFoundError,
    LlmTimeoutError,
    LlmUnavailableError,
)
from assistant.llm.generation import BackendEvent, GenerationRequest, StreamEnd, StreamingChatModel

T = TypeVar("T")
SchemaStyle = Literal["json_schema", "json_object_schema"]
_CHARS_PER_TOKEN_ESTIMATE = 4


def _refuses_response_format(exc: openai.APIStatusError) -> bool:
    # llama-cpp-python's server answers 500 (vLLM/OpenAI: 400/422) naming the field.
    return exc.status_code in (400, 422, 500) and "response_format" in _error_text(exc)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError):
        return False  # the caller's deadline governs; a retry would only overrun it
    if isinstance(exc, openai.InternalServerError):
        return not _refuses_response_format(exc)
    return isinstance(exc, openai.APIConnectionError)


class _StopForRequest(stop_base):
    """Stop retrying once the caller cancelled or its deadline is too close for a backoff."""

    def __init__(self, request: GenerationRequest | None, margin_s: float) -> None:
        self._request = request
        self._margin_s = margin_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self._request is None:
            return False
        if self._request.cancel is not None and self._request.cancel.is_set():
            return True
        remaining = self._request.remaining_s()
        return remaining is not None and remaining <= self._margin_s


class OpenAIChatModel(StreamingChatModel):
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "not-needed",
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = 7,
        timeout_s: float = 600.0,
        retries: int = 3,
        retry_backoff_s: float = 0.5,
    ) -> None:
        base_url = base_url.rstrip("/")
        info = ModelInfo(name=model, backend="openai", base_url=base_url)
        super().__init__(info, SamplingParams(temperature, max_tokens, seed), timeout_s)
        self._base_url = base_url
        self._model = model
        self._retries = retries
        self._retry_backoff_s = retry_backoff_s
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,  # tenacity does the retrying, with the rules above
            timeout=timeout_s,
        )
        self._ready = False
        self._ready_lock = threading.Lock()
        self._schema_style: SchemaStyle = "json_schema"

    @classmethod
    def from_config(cls, config: LlmConfig) -> OpenAIChatModel:
        return cls(
            base_url=config.base_url,
            model=config.model,
            api_key=config.api_key,
            max_tokens=config.max_tokens,
            temperature=config.temperature,
            seed=config.seed,
            timeout_s=config.timeout_s,
            retries=config.retries,
            retry_backoff_s=config.retry_backoff_s,
        )

    def close(self) -> None:
        self._client.close()

    # -- readiness ---------------------------------------------------------------------------

    def check_ready(self) -> list[str]:
        """Ask the server which models it serves; fail clearly if it is down or lacks ours.

        Returns the served model ids and records what the server says about our model
        (its root/revision and context length, and the server version where exposed).
        """
        try:
            page = self._with_retries(lambda: self._client.models.list(timeout=10.0), None)
        except openai.APIConnectionError as exc:
            raise LlmUnavailableError(
                f"cannot reach the LLM server at {self._base_url} ({exc.__class__.__name__}: "
                f"{exc}); is it running, and is DEVIA_LLM_BASE_URL right (it must end in /v1)?"
            ) from exc
        except openai.APIStatusError as exc:
            raise LlmUnavailableError(
                f"the LLM server at {self._base_url} answered {exc.status_code} to GET /models: "
                f"{_error_text(exc)}"
            ) from exc
        served = {entry.id: entry for entry in page.data}
        if self._model not in served:
            raise LlmModelNotFoundError(
                f"the LLM server at {self._base_url} does not serve model {self._model!r}; "
                f"it serves {sorted(served)}. Set DEVIA_LLM_MODEL to one of them."
            )
        entry = served[self._model]
        extra = entry.model_extra or {}
        max_len = extra.get("max_model_len")
        self._info = dataclasses.replace(
            self._info,
            revision=str(extra["root"]) if extra.get("root") else None,
            context_tokens=int(max_len) if isinstance(max_len, int) else None,
            backend_version=self._server_version(),
        )
        return sorted(served)

    def _server_version(self) -> str | None:
        """vLLM serves GET /version at its root; other servers may not (then None)."""
        root = self._base_url.removesuffix("/v1")
        try:
            answer = httpx.get(f"{root}/version", timeout=2.0)
            if answer.status_code == 200:
                version = answer.json().get("version")
                return f"vllm {version}" if version else None
        except (httpx.HTTPError, ValueError):
            return None
        return None

    def _ensure_ready(self) -> None:
        with self._ready_lock:
            if not self._ready:
                self.check_ready()
                self._ready = True

    # -- generation --------------------------------------------------------------------------

    def _response_format(self, request: GenerationRequest) -> dict[str, Any] | None:
        if request.json_schema is None:
            return None
        if self._schema_style == "json_object_schema":
            return {"type": "json_object", "schema": request.json_schema}
        return {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name or "reply",
                "schema": request.json_schema,
            },
        }

    def _open_stream(
        self, messages: list[Message], request: GenerationRequest
    ) -> openai.Stream[Any]:
        sampling = request.sampling
        remaining = request.remaining_s()

        def create() -> openai.Stream[Any]:
            arguments: dict[str, Any] = {
                "model": self._model,
                "messages": messages,
                "max_tokens": sampling.max_tokens,
                "temperature": sampling.temperature,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
            if sampling.seed is not None:
                arguments["seed"] = sampling.seed
            if sampling.stop:
                arguments["stop"] = list(sampling.stop)
            response_format = self._response_format(request)
            if response_format is not None:
                arguments["response_format"] = response_format
            if remaining is not None:
                arguments["timeout"] = max(0.1, min(remaining, self._timeout_s or remaining))
            stream: openai.Stream[Any] = self._client.chat.completions.create(**arguments)
            return stream

        try:
            return self._with_retries(create, request)
        except openai.APIStatusError as exc:
            if (
                request.json_schema is not None
                and self._schema_style == "json_schema"
                and _refuses_response_format(exc)
            ):
                self._schema_style = "json_object_schema"  # llama-cpp-python's server
                return self._open_stream(messages, request)
            raise self._translate(exc) from exc
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc

    def _generate(
        self, messages: list[Message], request: GenerationRequest
    ) -> Iterator[BackendEvent]:
        self._ensure_ready()
        stream = self._open_stream(messages, request)
        finish: str | None = None
        content_chunks = 0
        text_chars = 0
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens = chunk.usage.prompt_tokens
                    completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    content = choice.delta.content if choice.delta is not None else None
                    if content:
                        content_chunks += 1
                        text_chars += len(content)
                        yield content
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except openai.OpenAIError as exc:
            raise self._translate(exc) from exc
        except Exception as exc:
            # The SDK lets transport errors through while streaming; its HTTP library differs
            # between SDK major versions (httpx, httpx2), so they are recognised by module.
            if not type(exc).__module__.startswith("httpx"):
                raise
            raise LlmUnavailableError(
                f"connection to {self._base_url} lost mid-reply: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            stream.close()  # closing the response makes vLLM abort the request
        if finish is None:
            raise LlmError(f"the reply stream from {self._base_url} ended without a finish reason")
        estimated = prompt_tokens is None or completion_tokens is None
        if prompt_tokens is None or completion_tokens is None:
            # The server ignored stream_options.include_usage (llama-cpp-python's does): one
            # streamed chunk per token, prompt size estimated from its length.
            completion_tokens = content_chunks
            prompt_chars = sum(len(message["content"]) for message in messages)
            prompt_tokens = max(1, prompt_chars // _CHARS_PER_TOKEN_ESTIMATE)
        yield StreamEnd(finish, prompt_tokens, completion_tokens, estimated)

    # -- errors and retries ------------------------------------------------------------------

    def _with_retries(self, call: Callable[[], T], request: GenerationRequest | None) -> T:
        retrying = Retrying(
            stop=stop_any(
                stop_after_attempt(self._retries),
                _StopForRequest(request, margin_s=self._retry_backoff_s),
            ),
            wait=wait_exponential(multiplier=self._retry_backoff_s, max=10.0),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        return retrying(call)

    def _translate(self, exc: openai.OpenAIError) -> LlmError:
        where = f"the LLM server at {self._base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return LlmTimeoutError(f"{where} did not answer in time ({exc})")
        if isinstance(exc, openai.APIConnectionError):
            return LlmUnavailableError(
                f"cannot reach {where} after {self._retries} attempt(s): {exc}; is it running?"
            )
        if isinstance(exc, openai.InternalServerError):
            return LlmUnavailableError(
                f"{where} failed with {exc.status_code} after {self._retries} attempt(s): "
                f"{_error_text(exc)}"
            )
        if isinstance(exc, openai.NotFoundError):
            return LlmModelNotFoundError(
                f"{where} answered 404 for model {self._model!r}: {_error_text(exc)}"
            )
        if isinstance(exc, openai.APIStatusError):
            return LlmError(f"{where} refused the request ({exc.status_code}): {_error_text(exc)}")
        return LlmError(f"{where}: {exc}")


def _error_text(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text[:2000]
    except Exception:  # a streamed response whose body was not read
        return str(exc)
