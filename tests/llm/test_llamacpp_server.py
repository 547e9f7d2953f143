"""The OpenAI backend against a real `python -m llama_cpp.server` running the 0.5B model."""

from __future__ import annotations

import pytest

from assistant.llm.base import user
from assistant.llm.config import LlmConfig, build_chat_model
from assistant.llm.errors import LlmModelNotFoundError
from assistant.llm.openai_backend import OpenAIChatModel
from evals.judge_server import LocalServer
from tests.llm.investigation_schema import CLASSIFY_MESSAGES, SuggestedClassification

pytestmark = pytest.mark.model


def _client(server: LocalServer, model: str | None = None) -> OpenAIChatModel:
    config = LlmConfig(
        backend="openai",
        base_url=server.base_url,
        model=model or server.model_alias,
        max_tokens=48,
        timeout_s=120,
        retries=2,
        retry_backoff_s=0.1,
    )
    client = build_chat_model(config)
    assert isinstance(client, OpenAIChatModel)
    return client


def test_server_returns_a_schema_valid_object(llamacpp_server: LocalServer) -> None:
    client = _client(llamacpp_server)
    completion = client.complete(CLASSIFY_MESSAGES, schema=SuggestedClassification, max_tokens=96)
    assert isinstance(completion.value, SuggestedClassification)
    assert completion.model.backend == "openai"
    assert completion.model.name == llamacpp_server.model_alias
    client.close()


def test_server_streams_real_text(llamacpp_server: LocalServer) -> None:
    client = _client(llamacpp_server)
    with client.stream([user("Name two GMP documents.")], max_tokens=24) as stream:
        chunks = list(stream)
    assert len(chunks) > 2 and "".join(chunks).strip()
    assert stream.result.usage.completion_tokens >= 2
    client.close()


def test_wrong_model_name_is_a_clear_error(llamacpp_server: LocalServer) -> None:
    client = _client(llamacpp_server, model="qwen2.5-7b-instruct")
    with pytest.raises(LlmModelNotFoundError, match=r"does not serve model 'qwen2\.5-7b-instruct'"):
        client.complete([user("hello")], max_tokens=4)
    client.close()
