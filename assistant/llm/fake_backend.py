"""A scripted chat model: the real `ChatModel` semantics without a real model.

Replies come from a queue of texts or from a function of the request. The reply is streamed
word by word (a "token" here is a word with its leading whitespace), honours `max_tokens`
(finish reason "length"), stop sequences, cancellation and timeouts, so the agent, the API
and the unit tests exercise the same paths as with llama.cpp or vLLM.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.llm.base import Message, ModelInfo, SamplingParams
from assistant.llm.errors import LlmError
from assistant.llm.generation import BackendEvent, GenerationRequest, StreamEnd, StreamingChatModel
from assistant.llm.schema_example import example_for_schema

_TOKEN = re.compile(r"\s*\S+|\s+$")


def fake_tokens(text: str) -> list[str]:
    """Split text into the fake backend's tokens; joined back they give the text exactly."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class FakeRequest:
    """What a scripted responder sees."""

    messages: list[Message]
    json_schema: dict[str, Any] | None
    sampling: SamplingParams


Responder = Callable[[FakeRequest], str]


def placeholder_responder(request: FakeRequest) -> str:
    """Default script: a schema-valid placeholder object, else an echo of the last message."""
    if request.json_schema is not None:
        return json.dumps(example_for_schema(request.json_schema))
    return f"(fake model) {request.messages[-1]['content']}"


class FakeChatModel(StreamingChatModel):
    """Scripted replies; records every request in `requests` for assertions."""

    def __init__(
        self,
        responses: Sequence[str] | Responder = placeholder_responder,
        *,
        name: str = "fake",
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = 7,
        timeout_s: float | None = None,
        token_delay_s: float = 0.0,
    ) -> None:
        info = ModelInfo(name=name, backend="fake", backend_version="1")
        super().__init__(info, SamplingParams(temperature, max_tokens, seed), timeout_s)
        self._queue: deque[str] | None = None
        self._responder: Responder | None = None
        if callable(responses):
            self._responder = responses
        else:
            self._queue = deque(responses)
        self._token_delay_s = token_delay_s
        self._lock = threading.Lock()
        self.requests: list[FakeRequest] = []

    @property
    def remaining(self) -> int | None:
        """Scripted replies not used yet (None for a responder function)."""
        return None if self._queue is None else len(self._queue)

    def _next_reply(self, request: FakeRequest) -> str:
        with self._lock:
            self.requests.append(request)
            if self._responder is not None:
                return self._responder(request)
            assert self._queue is not None
            if not self._queue:
                raise LlmError(
                    f"fake model {self._info.name!r}: no scripted reply left "
                    f"(request {len(self.requests)})"
                )
            return self._queue.popleft()

    def _generate(
        self, messages: list[Message], request: GenerationRequest
    ) -> Iterator[BackendEvent]:
        reply = self._next_reply(FakeRequest(list(messages), request.json_schema, request.sampling))
        for stop in request.sampling.stop:
            cut = reply.find(stop)
            if cut >= 0:
                reply = reply[:cut]
        tokens = fake_tokens(reply)
        finish = "stop"
        if len(tokens) > request.sampling.max_tokens:
            tokens = tokens[: request.sampling.max_tokens]
            finish = "length"
        prompt_tokens = sum(len(fake_tokens(m["content"])) for m in messages)
        for token in tokens:
            if self._token_delay_s:
                time.sleep(self._token_delay_s)
            yield token
        yield StreamEnd(finish, prompt_tokens, len(tokens))
