"""The OpenAI-compatible backend against a scripted loopback server (fast, no model)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from assistant.llm.base import user
from assistant.llm.config import LlmConfig, build_chat_model
from assistant.llm.errors import (
    LlmCancelledError,
    LlmError,
    LlmModelNotFoundError,
    LlmTimeoutError,
    LlmUnavailableError,
)
from assistant.llm.openai_backend import OpenAIChatModel
from tests.llm.openai_stub import OpenAIStub, StubBehaviour

MESSAGES = [user("Classify the deviation.")]


class Classification(BaseModel):
    category: str
    criticality_suggested: str


GOOD = json.dumps({"category": "equipment", "criticality_suggested": "major"})


@pytest.fixture
def behaviour() -> StubBehaviour:
    return StubBehaviour()


@pytest.fixture
def stub(behaviour: StubBehaviour) -> Iterator[OpenAIStub]:
    with OpenAIStub(behaviour) as server:
        yield server


def _model(stub: OpenAIStub, **overrides: object) -> OpenAIChatModel:
    arguments: dict[str, object] = {
        "base_url": stub.base_url,
        "model": "stub-model",
        "retries": 3,
        "retry_backoff_s": 0.01,
        "timeout_s": 10.0,
    }
    arguments.update(overrides)
    return OpenAIChatModel(**arguments)  # type: ignore[arg-type]


def test_structured_completion_uses_json_schema_and_server_usage(
    stub: OpenAIStub, behaviour: StubBehaviour
) -> None:
    behaviour.replies.extend([GOOD])
    model = _model(stub)
    completion = model.complete(MESSAGES, schema=Classification, max_tokens=50)
    assert completion.value.category == "equipment"
    sent = behaviour.chat_requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == Classification.model_json_schema()
    assert sent["stream"] is True and sent["max_tokens"] == 50 and sent["seed"] == 7
    assert completion.usage.prompt_tokens == 42 and not completion.usage.estimated
    assert completion.usage.completion_tokens == len(GOOD.split(" "))
    info = completion.model
    assert info.backend == "openai" and info.name == "stub-model"
    assert info.revision == "org/stub-model-7b" and info.context_tokens == 4096
    assert info.backend_version == "vllm 0.33.0"
    assert info.base_url == stub.base_url


def test_factory_builds_the_openai_backend(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.replies.extend(["hello there"])
    config = LlmConfig(backend="openai", base_url=stub.base_url + "/", model="stub-model")
    model = build_chat_model(config)
    assert model.complete(MESSAGES).text == "hello there"
    model.close()


def test_llamacpp_server_response_format_is_used_when_json_schema_is_refused(
    stub: OpenAIStub, behaviour: StubBehaviour
) -> None:
    behaviour.refuse_json_schema = True
    behaviour.version = None
    behaviour.replies.extend([GOOD, GOOD])
    model = _model(stub)
    assert model.complete(MESSAGES, schema=Classification).value.category == "equipment"
    assert model.complete(MESSAGES, schema=Classification).attempts == 1
    formats = [request["response_format"] for request in behaviour.chat_requests]
    assert [entry["type"] for entry in formats] == ["json_schema", "json_object", "json_object"]
    assert formats[1]["schema"] == Classification.model_json_schema()
    assert model.info.backend_version is None


def test_transient_server_errors_are_retried(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.failures_before_success = 2
    behaviour.replies.extend(["recovered"])
    assert _model(stub).complete(MESSAGES).text == "recovered"
    assert len(behaviour.chat_requests) == 3


def test_persistent_server_errors_give_up_after_the_configured_attempts(
    stub: OpenAIStub, behaviour: StubBehaviour
) -> None:
    behaviour.failures_before_success = 10
    with pytest.raises(LlmUnavailableError, match="503 after 3 attempt"):
        _model(stub).complete(MESSAGES)
    assert len(behaviour.chat_requests) == 3


def test_client_errors_are_not_retried(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.bad_request = True
    with pytest.raises(LlmError, match=r"400.*longer than the context"):
        _model(stub).complete(MESSAGES)
    assert len(behaviour.chat_requests) == 1


def test_wrong_model_name_is_a_clear_error_before_any_generation(
    stub: OpenAIStub, behaviour: StubBehaviour
) -> None:
    model = _model(stub, model="Qwen/Qwen2.5-7B-Instruct")
    with pytest.raises(LlmModelNotFoundError) as caught:
        model.complete(MESSAGES)
    message = str(caught.value)
    assert "'Qwen/Qwen2.5-7B-Instruct'" in message and "['stub-model']" in message
    assert "DEVIA_LLM_MODEL" in message
    assert behaviour.chat_requests == []


def test_server_down_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    model = OpenAIChatModel(base_url=base_url, model="m", retries=2, retry_backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(LlmUnavailableError) as caught:
        model.complete(MESSAGES)
    assert base_url in str(caught.value) and "is it running" in str(caught.value)
    assert time.monotonic() - started < 10


def test_missing_usage_is_estimated_and_flagged(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.send_usage = False
    behaviour.replies.extend(["one two three"])
    completion = _model(stub).complete(MESSAGES)
    assert completion.usage.estimated
    assert completion.usage.completion_tokens == 3
    assert completion.usage.prompt_tokens >= 1


def test_truncated_stream_reports_length(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.replies.extend(["a b c d e f"])
    completion = _model(stub).complete(MESSAGES, max_tokens=3)
    assert completion.text == "a b c" and completion.truncated


def test_stream_cancellation_closes_the_connection(
    stub: OpenAIStub, behaviour: StubBehaviour
) -> None:
    behaviour.replies.extend([" ".join(["word"] * 200)])
    behaviour.token_delay_s = 0.005
    cancel = threading.Event()
    received: list[str] = []
    with (
        pytest.raises(LlmCancelledError),
        _model(stub).stream(MESSAGES, max_tokens=500, cancel=cancel) as stream,
    ):
        for chunk in stream:
            received.append(chunk)
            if len(received) == 3:
                cancel.set()
    assert len(received) == 3


def test_slow_server_hits_the_timeout(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.replies.extend([" ".join(["word"] * 200)])
    behaviour.token_delay_s = 0.02
    started = time.monotonic()
    with pytest.raises(LlmTimeoutError):
        _model(stub).complete(MESSAGES, max_tokens=500, timeout_s=0.3)
    assert time.monotonic() - started < 5


def test_models_are_checked_once(stub: OpenAIStub, behaviour: StubBehaviour) -> None:
    behaviour.replies.extend(["a", "b"])
    model = _model(stub)
    model.complete(MESSAGES)
    model.complete(MESSAGES)
    assert behaviour.model_list_calls == 1
    assert behaviour.replies == deque()
