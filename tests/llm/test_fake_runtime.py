"""Streaming, cancellation, timeouts, limits and configuration, through the scripted fake."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from assistant.llm.base import ChatModel, user
from assistant.llm.config import LlmConfig, build_chat_model
from assistant.llm.errors import (
    LlmCancelledError,
    LlmError,
    LlmTimeoutError,
    StructuredOutputError,
)
from assistant.llm.fake_backend import FakeChatModel, fake_tokens

MESSAGES = [user("Summarise the deviation.")]
REPLY = "Tablet weight exceeded the action limit after a feeder speed change."


class Verdict(BaseModel):
    conclusion: str
    evidence_ids: list[str]


@settings(deadline=None)  # the machine is shared: timing is not what is tested here
@given(st.text())
def test_fake_tokens_rebuild_the_text_exactly(text: str) -> None:
    assert "".join(fake_tokens(text)) == text


def test_stream_yields_the_text_and_then_the_completion() -> None:
    model = FakeChatModel([REPLY])
    stream = model.stream(MESSAGES)
    with pytest.raises(RuntimeError):
        _ = stream.result
    chunks = list(stream)
    assert len(chunks) == len(REPLY.split())
    assert "".join(chunks) == REPLY
    result = stream.result
    assert result.text == REPLY
    assert result.usage.completion_tokens == len(chunks)
    assert result.usage.prompt_tokens == 3
    assert result.timings.ttft_s is not None
    assert result.timings.total_s >= result.timings.ttft_s
    assert result.model.backend == "fake"


def test_stream_with_schema_validates_at_the_end() -> None:
    good = json.dumps({"conclusion": "feeder speed", "evidence_ids": ["c-1"]})
    with FakeChatModel([good]).stream(MESSAGES, schema=Verdict) as stream:
        "".join(stream)
    assert stream.result.value.evidence_ids == ["c-1"]

    bad_stream = FakeChatModel(['{"conclusion": 3}']).stream(MESSAGES, schema=Verdict)
    with pytest.raises(StructuredOutputError) as caught:
        list(bad_stream)
    assert caught.value.raw_texts == ['{"conclusion": 3}']


def test_closing_a_stream_early_stops_generation() -> None:
    model = FakeChatModel([REPLY])
    with model.stream(MESSAGES) as stream:
        first = next(stream)
    assert first == "Tablet"
    assert list(stream) == []
    with pytest.raises(RuntimeError):
        _ = stream.result


def test_cancel_from_another_thread_stops_a_completion() -> None:
    model = FakeChatModel([" ".join(["token"] * 500)], token_delay_s=0.01)
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(LlmCancelledError):
        model.complete(MESSAGES, max_tokens=1000, cancel=cancel)
    assert time.monotonic() - started < 2.0
    timer.cancel()


def test_cancel_during_a_stream() -> None:
    model = FakeChatModel([" ".join(["token"] * 50)])
    cancel = threading.Event()
    received = []
    with pytest.raises(LlmCancelledError), model.stream(MESSAGES, cancel=cancel) as stream:
        for chunk in stream:
            received.append(chunk)
            if len(received) == 5:
                cancel.set()
    assert len(received) == 5


def test_already_cancelled_request_never_starts() -> None:
    model = FakeChatModel([REPLY])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LlmCancelledError):
        model.complete(MESSAGES, cancel=cancel)


def test_timeout_bounds_a_slow_completion() -> None:
    model = FakeChatModel([" ".join(["token"] * 500)], token_delay_s=0.01)
    started = time.monotonic()
    with pytest.raises(LlmTimeoutError, match=r"0\.15 s"):
        model.complete(MESSAGES, max_tokens=1000, timeout_s=0.15)
    assert time.monotonic() - started < 2.0


def test_default_timeout_comes_from_the_model() -> None:
    model = FakeChatModel([" ".join(["token"] * 500)], token_delay_s=0.01, timeout_s=0.1)
    with pytest.raises(LlmTimeoutError):
        model.complete(MESSAGES, max_tokens=1000)


def test_stop_sequences_cut_the_reply() -> None:
    model = FakeChatModel(["Root cause: feeder speed.\nEND\nextra text"])
    completion = model.complete(MESSAGES, stop=["\nEND"])
    assert completion.text == "Root cause: feeder speed."
    assert completion.finish_reason == "stop"
    assert completion.sampling.stop == ("\nEND",)


def test_bad_requests_are_refused_clearly() -> None:
    model = FakeChatModel([REPLY])
    with pytest.raises(ValueError, match="at least one message"):
        model.complete([])
    with pytest.raises(ValueError, match="role"):
        model.complete([{"role": "tool", "content": "x"}])  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="max_tokens"):
        model.complete(MESSAGES, max_tokens=0)
    with pytest.raises(ValueError, match="timeout_s"):
        model.complete(MESSAGES, timeout_s=0)
    assert model.requests == []


def test_exhausted_script_is_an_error() -> None:
    model = FakeChatModel([REPLY])
    model.complete(MESSAGES)
    with pytest.raises(LlmError, match="no scripted reply left"):
        model.complete(MESSAGES)


def test_provenance_records_model_and_sampling() -> None:
    model = FakeChatModel([REPLY], name="scripted", seed=11)
    completion = model.complete(MESSAGES, temperature=0.2, max_tokens=64)
    record = completion.provenance()
    json.dumps(record)
    assert record["model"]["name"] == "scripted"
    assert record["sampling"] == {"temperature": 0.2, "max_tokens": 64, "seed": 11, "stop": []}
    assert record["attempts"] == 1
    described = model.describe()
    assert described["model"]["backend"] == "fake"
    assert described["repair_prompts"]


def test_factory_builds_a_fake_from_config() -> None:
    model = build_chat_model(LlmConfig(backend="fake", max_tokens=32, timeout_s=5))
    assert isinstance(model, ChatModel)
    assert model.defaults.max_tokens == 32
    assert model.complete(MESSAGES).text.endswith("Summarise the deviation.")


def test_config_refuses_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="DEVIA_LLM_BASE_URL"):
        LlmConfig(backend="openai", base_url="")
    with pytest.raises(ValueError, match="unknown LLM backend"):
        LlmConfig(backend="ollama")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads"):
        LlmConfig(threads=0)


def test_interrupt_all_cancels_generation_until_cleared() -> None:
    from assistant.llm.errors import LlmCancelledError
    from assistant.llm.generation import clear_interrupt, interrupt_all

    model = FakeChatModel(["first reply", "second reply"])
    interrupt_all()
    try:
        with pytest.raises(LlmCancelledError, match="shutting down"):
            model.complete([user("hello")])
    finally:
        clear_interrupt()
    assert model.complete([user("hello")]).text == "first reply"
