"""llama.cpp in-process (llama-cpp-python): the embedded default backend.

One `Llama` per process per (model file, context size, threads), loaded once and shared by
every `LlamaCppChatModel` that asks for it; llama.cpp is not re-entrant, so each loaded model
has a lock and requests run one at a time (a waiting request still honours its cancel event
and deadline). `n_threads` should be the number of cores: llama.cpp's default of 1 halves the
speed. JSON output is reliable only with a schema, which llama.cpp compiles into a grammar; greedy
decoding under it tries the grammar on the best token, then the best few, before filtering the
whole vocabulary (`llamacpp_sampler`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.llm import llamacpp_sampler
from assistant.llm.base import Message, ModelInfo, SamplingParams
from assistant.llm.config import LlmConfig
from assistant.llm.errors import LlmError
from assistant.llm.generation import (
    BackendEvent,
    GenerationRequest,
    StreamEnd,
    StreamingChatModel,
    interrupted,
)
from assistant.llm.model_files import get_spec, require_installed


class _TokenMeter:
    """Wraps one `Llama.generate`: exact token counts and a stop between tokens.

    llama-cpp-python's chat API neither reports usage while streaming nor accepts a stopping
    callback, but its completion loop pulls every token from `self.generate(prompt_tokens)`.
    The meter sits there (on our own cached instance): it sees the exact prompt token count
    and each sampled token, and ends generation when the current request is cancelled or out
    of time. Requests are serialized by the model lock, so one meter per model suffices.
    """

    def __init__(self, llama: Any) -> None:
        self._generate = llama.generate
        llama.generate = self.generate
        self.request: GenerationRequest | None = None
        self.prompt_tokens = 0
        self.sampled_tokens = 0
        self.stopped = False

    def start(self, request: GenerationRequest) -> None:
        self.request = request
        self.prompt_tokens = 0
        self.sampled_tokens = 0
        self.stopped = False

    def _should_stop(self) -> bool:
        request = self.request
        if request is None:
            return False
        if interrupted() or (request.cancel is not None and request.cancel.is_set()):
            return True
        remaining = request.remaining_s()
        return remaining is not None and remaining <= 0

    def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
        self.prompt_tokens = len(tokens)
        inner = self._generate(tokens, *args, **kwargs)
        try:
            for token in inner:
                self.sampled_tokens += 1
                if self._should_stop():
                    self.stopped = True
                    return
                yield token
        finally:
            inner.close()


@dataclass
class _LoadedModel:
    llama: Any  # llama_cpp.Llama (untyped library)
    lock: threading.Lock
    meter: _TokenMeter
    path: Path


_loaded: dict[tuple[str, int, int], _LoadedModel] = {}
_loaded_lock = threading.Lock()


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LlmError(
            "llama-cpp-python is not installed; run `make install` (it is compiled from source "
            "with portable CPU flags) or use DEVIA_LLM_BACKEND=openai with a model server"
        ) from exc
    return llama_cpp


def load_llama(path: Path, context_tokens: int, threads: int) -> _LoadedModel:
    """The process-wide `Llama` for this file and settings, loading it on first use."""
    key = (str(path.resolve()), context_tokens, threads)
    with _loaded_lock:
        loaded = _loaded.get(key)
        if loaded is None:
            llama_cpp = _llama_cpp()
            try:
                llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=context_tokens,
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_gpu_layers=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise LlmError(f"llama.cpp could not load {path}: {exc}") from exc
            llamacpp_sampler.install(llama, llama_cpp)
            loaded = _LoadedModel(llama, threading.Lock(), _TokenMeter(llama), path)
            _loaded[key] = loaded
        return loaded


def unload_all() -> None:
    """Drop every loaded model (tests; a long-running process keeps its model)."""
    with _loaded_lock:
        for loaded in _loaded.values():
            with loaded.lock:
                loaded.llama.close()
        _loaded.clear()


class LlamaCppChatModel(StreamingChatModel):
    def __init__(
        self,
        *,
        model_path: Path,
        name: str,
        file_sha256: str | None,
        quantization: str | None,
        revision: str | None,
        context_tokens: int = 8192,
        threads: int | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        seed: int | None = 7,
        timeout_s: float | None = 600.0,
    ) -> None:
        threads = threads or os.cpu_count() or 1
        llama_cpp = _llama_cpp()
        info = ModelInfo(
            name=name,
            backend="llamacpp",
            backend_version=f"llama-cpp-python {llama_cpp.__version__}",
            file_sha256=file_sha256,
            revision=revision,
            quantization=quantization,
            context_tokens=context_tokens,
        )
        super().__init__(info, SamplingParams(temperature, max_tokens, seed), timeout_s)
        self._loaded = load_llama(model_path, context_tokens, threads)
        self.threads = threads

    @classmethod
    def from_config(cls, config: LlmConfig) -> LlamaCppChatModel:
        """The installed, hash-verified model `config.model` from `config.models_dir`."""
        installed = require_installed(config.model, config.models_dir)
        spec = get_spec(config.model)
        return cls(
            model_path=installed.path,
            name=installed.model_id,
            file_sha256=installed.sha256,
            quantization=installed.quantization,
            revision=spec.upstream,
            context_tokens=config.context_tokens,
            threads=config.threads,
            max_tokens=config.max_tokens,
            temperature=config.temperature,
            seed=config.seed,
            timeout_s=config.timeout_s,
        )

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` under this model's tokenizer (no special tokens added)."""
        tokens = self._loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return len(tokens)

    def _generate(
        self, messages: list[Message], request: GenerationRequest
    ) -> Iterator[BackendEvent]:
        request.wait_for(self._loaded.lock)
        try:
            yield from self._generate_locked(messages, request)
        finally:
            self._loaded.lock.release()

    def _generate_locked(
        self, messages: list[Message], request: GenerationRequest
    ) -> Iterator[BackendEvent]:
        llama = self._loaded.llama
        sampling = request.sampling
        meter = self._loaded.meter
        meter.start(request)
        arguments: dict[str, Any] = {
            "messages": messages,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "stop": list(sampling.stop) or None,
            "stream": True,
            # vLLM's defaults, so both backends sample alike from the recorded parameters
            # (llama-cpp-python's own defaults add top-k 40, top-p 0.95, min-p 0.05 and a
            # repeat penalty of 1.1, which bends even greedy decoding and hurts JSON).
            "top_p": 1.0,
            "top_k": 0,
            "min_p": 0.0,
            "repeat_penalty": 1.0,
        }
        if sampling.seed is not None:
            arguments["seed"] = sampling.seed
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object", "schema": request.json_schema}
        try:
            chunks = llama.create_chat_completion(**arguments)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise LlmError(f"llama.cpp refused the request: {exc}") from exc
        finish: str | None = None
        try:
            for chunk in chunks:
                for choice in chunk["choices"]:
                    content = choice["delta"].get("content")
                    if content:
                        yield content
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        except ValueError as exc:
            raise LlmError(f"llama.cpp failed while generating: {exc}") from exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if meter.stopped:
            request.check()  # stopped by the meter: raise the cancel/timeout, not a short reply
        yield StreamEnd(finish or "stop", meter.prompt_tokens, meter.sampled_tokens)
