"""The LLM judge scorer through a scripted chat callable (the real adapter is one line)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from pydantic import BaseModel

from assistant.verification.judge import JudgeVerdict, LLMJudgeScorer, judge_messages, load_prompt

T = TypeVar("T", bound=BaseModel)


class ScriptedJudge:
    """Answers from a script keyed by a word of the statement; records the prompts it saw."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.prompts: list[str] = []

    def __call__(self, messages: Sequence[dict[str, str]], schema: type[T]) -> T:
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        statement = prompt.split("STATEMENT:", 1)[1].split("EVIDENCE:", 1)[0]
        for key, reply in self.replies.items():
            if key in statement:
                return schema.model_validate_json(reply)
        raise RuntimeError("backend unavailable")


def test_scores_follow_verdicts_and_failures_count_as_unsupported() -> None:
    judge = ScriptedJudge(
        {
            "cleaning": '{"supported": true, "confidence": 0.9, "reason": "same facts"}',
            "training": '{"supported": false, "confidence": 0.8, "reason": "other topic"}',
        }
    )
    scorer = LLMJudgeScorer(judge)
    scores = scorer.score(
        ["cleaning was inadequate", "training was missing", "something else"],
        [["Residues after cleaning."], ["Residues after cleaning."], ["x"]],
    )
    assert np.allclose(scores, [0.9, 0.2, 0.0])
    assert len(scorer.failures) == 1 and "RuntimeError" in scorer.failures[0]
    assert "Residues after cleaning." in judge.prompts[0]


def test_prompt_is_versioned_and_bounded() -> None:
    assert "{statement}" in load_prompt()
    messages = judge_messages("s", ["x" * 10_000])
    assert len(messages[0]["content"]) < 6_000
    assert JudgeVerdict(supported=True, confidence=1.0, reason="ok").supported
