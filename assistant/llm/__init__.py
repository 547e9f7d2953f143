"""The chat-model runtime: one `ChatModel` interface over llama.cpp, OpenAI-compatible servers
(vLLM) and a scripted fake. Build one with `build_chat_model(LlmConfig(...))`."""

from assistant.llm.base import (
    ChatModel,
    Completion,
    CompletionStream,
    Message,
    ModelInfo,
    SamplingParams,
    Timings,
    Usage,
    assistant,
    system,
    user,
)
from assistant.llm.config import LlmConfig, build_chat_model
from assistant.llm.errors import (
    LlmCancelledError,
    LlmError,
    LlmModelNotFoundError,
    LlmTimeoutError,
    LlmUnavailableError,
    StructuredOutputError,
)

__all__ = [
    "ChatModel",
    "Completion",
    "CompletionStream",
    "LlmCancelledError",
    "LlmConfig",
    "LlmError",
    "LlmModelNotFoundError",
    "LlmTimeoutError",
    "LlmUnavailableError",
    "Message",
    "ModelInfo",
    "SamplingParams",
    "StructuredOutputError",
    "Timings",
    "Usage",
    "assistant",
    "build_chat_model",
    "system",
    "user",
]
