"""Structured output, repair and truncation through the scripted fake model."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from assistant.llm.base import ChatModel, system, user
from assistant.llm.errors import StructuredOutputError
from assistant.llm.fake_backend import FakeChatModel, FakeRequest
from assistant.llm.structured import validate_reply


class Citation(BaseModel):
    chunk_id: str
    quote: str = Field(min_length=3)


class Finding(BaseModel):
    category: Literal["equipment", "process", "material", "personnel_procedure"]
    criticality_suggested: Literal["minor", "major", "critical"]
    summary: str
    citations: list[Citation] = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    note: str | None = None


GOOD = {
    "category": "equipment",
    "criticality_suggested": "major",
    "summary": "Feeder speed raised above its validated range after a low-fill alarm.",
    "citations": [{"chunk_id": "c-3", "quote": "feeder speed set to 38 rpm"}],
    "confidence": 0.7,
}
MESSAGES = [system("You classify deviations."), user("Classify DEV-2026-0412.")]


def test_valid_reply_is_parsed_on_the_first_attempt() -> None:
    model = FakeChatModel([json.dumps(GOOD)])
    completion = model.complete(MESSAGES, schema=Finding)
    assert isinstance(completion.value, Finding)
    assert completion.value.citations[0].chunk_id == "c-3"
    assert completion.attempts == 1
    assert completion.repair_errors == ()
    assert completion.finish_reason == "stop"
    # the backend received the schema to constrain generation
    assert model.requests[0].json_schema == Finding.model_json_schema()


def test_code_fenced_reply_is_accepted() -> None:
    model = FakeChatModel(["```json\n" + json.dumps(GOOD) + "\n```"])
    assert model.complete(MESSAGES, schema=Finding).value.confidence == 0.7


def test_invalid_reply_gets_one_repair_turn_showing_the_errors() -> None:
    bad = {**GOOD, "confidence": 1.7, "citations": []}
    model = FakeChatModel([json.dumps(bad), json.dumps(GOOD)])
    completion = model.complete(MESSAGES, schema=Finding)
    assert completion.attempts == 2
    assert completion.value.confidence == 0.7
    assert {tuple(error["loc"]) for error in completion.repair_errors} == {
        ("citations",),
        ("confidence",),
    }
    repair_turn = model.requests[1].messages
    assert repair_turn[: len(MESSAGES)] == MESSAGES
    assert repair_turn[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert repair_turn[-1]["role"] == "user"
    assert "confidence" in repair_turn[-1]["content"]
    assert "citations" in repair_turn[-1]["content"]
    assert "Finding" in repair_turn[-1]["content"]
    # usage covers both attempts
    first_prompt = sum(len(m["content"].split()) for m in MESSAGES)
    assert completion.usage.prompt_tokens > first_prompt


def test_second_invalid_reply_raises_with_raw_texts_and_errors() -> None:
    model = FakeChatModel(["not json at all", '{"category": "weather"}'])
    with pytest.raises(StructuredOutputError) as caught:
        model.complete(MESSAGES, schema=Finding)
    error = caught.value
    assert error.raw_texts == ["not json at all", '{"category": "weather"}']
    assert error.raw_text == '{"category": "weather"}'
    assert error.schema_name == "Finding"
    assert not error.truncated
    locations = {tuple(e["loc"]) for e in error.errors}
    assert ("category",) in locations and ("summary",) in locations
    json.dumps(error.errors)  # recordable as is
    assert model.remaining == 0  # exactly one repair attempt, no more


def test_truncated_reply_is_a_failure_never_a_partial_object() -> None:
    long_reply = json.dumps({**GOOD, "summary": " ".join(["word"] * 50)})
    model = FakeChatModel([long_reply, long_reply])
    with pytest.raises(StructuredOutputError) as caught:
        model.complete(MESSAGES, schema=Finding, max_tokens=20)
    assert caught.value.truncated
    assert caught.value.errors[0]["type"] == "truncated"
    repair_prompt = model.requests[1].messages[-1]["content"]
    assert "cut off after 20 tokens" in repair_prompt


def test_truncation_repaired_by_a_shorter_reply() -> None:
    long_reply = json.dumps({**GOOD, "summary": " ".join(["word"] * 50)})
    model = FakeChatModel([long_reply, json.dumps(GOOD)])
    completion = model.complete(MESSAGES, schema=Finding, max_tokens=40)
    assert completion.attempts == 2
    assert completion.repair_errors[0]["type"] == "truncated"


def test_reply_cut_at_the_limit_is_refused_even_when_it_parses() -> None:
    verdict = validate_reply(Finding, json.dumps(GOOD), "length", max_tokens=64)
    assert verdict.parsed is None and verdict.truncated


def test_plain_text_truncation_is_flagged_not_raised() -> None:
    model = FakeChatModel(["one two three four five"])
    completion = model.complete(MESSAGES, max_tokens=3)
    assert completion.text == "one two three"
    assert completion.truncated
    assert completion.parsed is None
    with pytest.raises(ValueError):
        _ = completion.value


def test_placeholder_responder_satisfies_nested_schemas() -> None:
    model = FakeChatModel()
    assert isinstance(model, ChatModel)
    completion = model.complete(MESSAGES, schema=Finding)
    assert completion.attempts == 1
    assert len(completion.value.citations) == 1
    assert len(completion.value.citations[0].quote) >= 3


def test_responder_function_sees_messages_schema_and_sampling() -> None:
    seen: list[FakeRequest] = []

    def responder(request: FakeRequest) -> str:
        seen.append(request)
        return json.dumps(GOOD)

    model = FakeChatModel(responder, max_tokens=300, temperature=0.0)
    model.complete(MESSAGES, schema=Finding, temperature=0.3)
    assert seen[0].messages == MESSAGES
    assert seen[0].sampling.temperature == 0.3
    assert seen[0].sampling.max_tokens == 300
    assert seen[0].json_schema is not None
