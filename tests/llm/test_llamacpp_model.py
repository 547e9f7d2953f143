"""llama.cpp in-process with the real 0.5B model: real text, schema-valid objects, limits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.base import ChatModel, user
from assistant.llm.config import LlmConfig, build_chat_model
from assistant.llm.errors import LlmCancelledError
from assistant.llm.llamacpp_backend import LlamaCppChatModel
from assistant.llm.model_files import InstalledModel
from tests.llm.conftest import TEST_THREADS
from tests.llm.investigation_schema import CLASSIFY_MESSAGES, SuggestedClassification

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def chat_model(small_model: InstalledModel) -> Iterator[LlamaCppChatModel]:
    config = LlmConfig(
        backend="llamacpp",
        model=small_model.model_id,
        models_dir=small_model.path.parent,
        context_tokens=2048,
        threads=TEST_THREADS,
        max_tokens=48,
        timeout_s=120,
    )
    model = build_chat_model(config)
    assert isinstance(model, LlamaCppChatModel)
    yield model


def test_generates_real_text_with_usage_timings_and_provenance(
    chat_model: LlamaCppChatModel, small_model: InstalledModel
) -> None:
    assert isinstance(chat_model, ChatModel)
    completion = chat_model.complete(
        [user("In one sentence, what is a GMP deviation?")], max_tokens=32
    )
    assert len(completion.text.split()) >= 3
    assert completion.finish_reason in ("stop", "length")
    assert 10 < completion.usage.prompt_tokens < 100
    assert 3 <= completion.usage.completion_tokens <= 32
    assert not completion.usage.estimated
    assert completion.timings.ttft_s is not None and completion.timings.ttft_s > 0
    assert completion.timings.decode_tokens_per_s is not None
    info = completion.model
    assert info.backend == "llamacpp" and info.name == small_model.model_id
    assert info.file_sha256 == small_model.sha256
    assert info.quantization == "Q4_K_M" and info.context_tokens == 2048
    assert info.backend_version is not None and "0.3.36" in info.backend_version


def test_completion_tokens_match_the_tokenizer(chat_model: LlamaCppChatModel) -> None:
    completion = chat_model.complete([user("Count from one to ten in words.")], max_tokens=40)
    retokenized = chat_model.count_tokens(completion.text)
    # the end-of-turn token is sampled but not part of the text
    assert completion.usage.completion_tokens - retokenized in (0, 1)


def test_returns_a_schema_valid_object(chat_model: LlamaCppChatModel) -> None:
    completion = chat_model.complete(
        CLASSIFY_MESSAGES, schema=SuggestedClassification, max_tokens=96
    )
    classification = completion.value
    assert isinstance(classification, SuggestedClassification)
    assert classification.category in ("equipment", "process", "material", "personnel_procedure")
    assert completion.attempts in (1, 2)


def test_stream_yields_real_chunks(chat_model: LlamaCppChatModel) -> None:
    with chat_model.stream([user("Name three GMP documents.")], max_tokens=24) as stream:
        chunks = list(stream)
    assert len(chunks) > 2
    assert "".join(chunks) == stream.result.text
    assert stream.result.usage.completion_tokens >= len(chunks)


def test_cancel_stops_generation_and_frees_the_model(chat_model: LlamaCppChatModel) -> None:
    cancel = threading.Event()
    received: list[str] = []
    with (
        pytest.raises(LlmCancelledError),
        chat_model.stream(
            [user("Write a long essay about tablet compression.")], max_tokens=200, cancel=cancel
        ) as stream,
    ):
        for chunk in stream:
            received.append(chunk)
            cancel.set()
    assert len(received) == 1
    # the lock was released: the next request runs
    assert chat_model.complete([user("Say OK.")], max_tokens=4).text


def test_concurrent_requests_are_serialized_not_corrupted(chat_model: LlamaCppChatModel) -> None:
    prompt = [user("Reply with the single word: yes")]
    expected = chat_model.complete(prompt, max_tokens=6).text
    results: list[str] = []

    def work() -> None:
        results.append(chat_model.complete(prompt, max_tokens=6).text)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [expected] * 3  # greedy decoding: identical when not interleaved


def test_one_llama_per_model_file(
    chat_model: LlamaCppChatModel, small_model: InstalledModel
) -> None:
    again = LlamaCppChatModel(
        model_path=Path(small_model.path),
        name=small_model.model_id,
        file_sha256=small_model.sha256,
        quantization=small_model.quantization,
        revision=None,
        context_tokens=2048,
        threads=TEST_THREADS,
    )
    assert again._loaded is chat_model._loaded
