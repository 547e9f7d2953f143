"""Optional LLM judge of claim support, through a chat model of the caller's choosing.

The verification package defines only what it needs: a `JudgeChat` callable that takes chat
messages and a pydantic schema and returns a validated instance of that schema. Any chat
runtime can be adapted in one line, e.g. for devia's `ChatModel`:

    judge_chat = lambda messages, schema: chat_model.complete(messages, schema=schema).value

The prompt is a versioned file (prompts/support_judge.v1.txt). The score is the judge's
confidence mapped to "probability supported"; a reply that fails counts as unsupported
(score 0), never as a dropped pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from assistant.verification.support_features import join_evidence

PROMPT_NAME = "support_judge"
PROMPT_VERSION = 1
MAX_EVIDENCE_CHARS = 4000  # keeps the prompt inside a small model's context

SchemaT = TypeVar("SchemaT", bound=BaseModel)


class JudgeVerdict(BaseModel):
    supported: bool
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(max_length=400)


class JudgeChat(Protocol):
    def __call__(self, messages: Sequence[dict[str, str]], schema: type[SchemaT]) -> SchemaT: ...


@cache
def load_prompt(name: str = PROMPT_NAME, version: int = PROMPT_VERSION) -> str:
    package = resources.files("assistant.verification") / "prompts" / f"{name}.v{version}.txt"
    return package.read_text(encoding="utf-8")


def judge_messages(statement: str, evidence: Sequence[str]) -> list[dict[str, str]]:
    text = join_evidence(evidence)
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + " [...]"
    return [{"role": "user", "content": load_prompt().format(statement=statement, evidence=text)}]


def verdict_score(verdict: JudgeVerdict) -> float:
    """Probability-like support score: confidence when supported, 1 - confidence when not."""
    return verdict.confidence if verdict.supported else 1.0 - verdict.confidence


class LLMJudgeScorer:
    name = "llm"

    def __init__(self, chat: JudgeChat, threshold: float = 0.5) -> None:
        self._chat = chat
        self.threshold = threshold
        self.failures: list[str] = []

    def score(
        self, statements: Sequence[str], evidence: Sequence[Sequence[str]]
    ) -> NDArray[np.float64]:
        if len(statements) != len(evidence):
            raise ValueError(f"{len(statements)} statements but {len(evidence)} evidence lists")
        scores = np.zeros(len(statements), dtype=np.float64)
        for i, (statement, texts) in enumerate(zip(statements, evidence, strict=True)):
            try:
                verdict = self._chat(judge_messages(statement, texts), JudgeVerdict)
            except Exception as exc:  # any backend failure is a failed check, recorded
                self.failures.append(f"{i}: {type(exc).__name__}: {exc}")
                continue
            scores[i] = verdict_score(verdict)
        return scores
