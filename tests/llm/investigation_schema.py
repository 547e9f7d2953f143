"""A small structured-output schema shaped like one step of an investigation draft."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.llm.base import Message, system, user


class SuggestedClassification(BaseModel):
    category: Literal["equipment", "process", "material", "personnel_procedure"]
    criticality_suggested: Literal["minor", "major", "critical"]
    rationale: str = Field(min_length=1, max_length=160)


CLASSIFY_MESSAGES: list[Message] = [
    system(
        "You classify GMP deviations. Reply with a JSON object with the keys category, "
        "criticality_suggested and rationale (one short sentence)."
    ),
    user(
        "Deviation: during tablet compression the feeder speed was raised from 30 to 38 rpm "
        "after a low-fill alarm, outside the validated range 25-35 rpm, without QA approval. "
        "An individual tablet weight of 531 mg exceeded the action limit of 525 mg."
    ),
]
