"""Fixtures of the agent tests: the small indexed plant, scripted models, checkpointers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.context import AgentContext
from assistant.llm.fake_backend import FakeChatModel
from tests.agent.corpus import careful_model, unit_context

ContextFactory = Callable[..., AgentContext]


@pytest.fixture
def make_context(tmp_path: Path) -> ContextFactory:
    def make(model: FakeChatModel | None = None, **kwargs: Any) -> AgentContext:
        return unit_context(tmp_path, model or careful_model(), **kwargs)

    return make


@pytest.fixture
def checkpoint_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "agent-checkpoints.sqlite"


@pytest.fixture
def saver(checkpoint_file: Path) -> Iterator[Any]:
    with open_checkpointer(checkpoint_file) as checkpointer:
        yield checkpointer
