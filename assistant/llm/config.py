"""Configuration of the chat model and the factory that builds one from it.

Entry points build an `LlmConfig` from `api.settings.Settings` (DEVIA_LLM_*); library code
only ever sees this dataclass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.llm.base import ChatModel
from assistant.llm.model_files import DEFAULT_MODEL

Backend = Literal["llamacpp", "openai", "fake"]
BACKENDS: tuple[Backend, ...] = ("llamacpp", "openai", "fake")


@dataclass(frozen=True)
class LlmConfig:
    backend: Backend = "llamacpp"
    model: str = DEFAULT_MODEL  # installed model id (llamacpp) or served model name (openai)
    base_url: str = ""  # OpenAI-compatible server, e.g. http://gpu-host:8000/v1
    api_key: str = "not-needed"
    context_tokens: int = 8192
    max_tokens: int = 1024
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout_s: float = 600.0
    temperature: float = 0.0
    seed: int | None = 7
    models_dir: Path = Path("var/models")
    # openai backend: attempts per request on connection errors and 5xx, first backoff (doubles)
    retries: int = 3
    retry_backoff_s: float = 0.5

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown LLM backend {self.backend!r}; expected one of {BACKENDS}")
        if self.backend == "openai" and not self.base_url:
            raise ValueError(
                "the openai backend needs a server URL (DEVIA_LLM_BASE_URL, "
                "e.g. http://gpu-host:8000/v1)"
            )
        for name in ("context_tokens", "max_tokens", "threads", "retries"):
            if getattr(self, name) < 1:
                raise ValueError(f"LLM {name} must be at least 1, got {getattr(self, name)}")
        if self.timeout_s <= 0:
            raise ValueError(f"LLM timeout_s must be positive, got {self.timeout_s}")


def build_chat_model(config: LlmConfig) -> ChatModel:
    """The chat model `config` describes. llama.cpp loads (or reuses) the GGUF in-process."""
    if config.backend == "llamacpp":
        from assistant.llm.llamacpp_backend import LlamaCppChatModel

        return LlamaCppChatModel.from_config(config)
    if config.backend == "openai":
        from assistant.llm.openai_backend import OpenAIChatModel

        return OpenAIChatModel.from_config(config)
    from assistant.llm.fake_backend import FakeChatModel

    return FakeChatModel(
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        seed=config.seed,
        timeout_s=config.timeout_s,
    )
