"""The graph state: plain JSON-able values only, so any checkpointer can store it and a fresh
process (or another version of the code) can read it back."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: later keys replace earlier ones (one section record per name)."""
    return {**(left or {}), **(right or {})}


class InvestigationInput(TypedDict):
    event: dict[str, Any]  # {"payload": {...MES...}} or {"text": ..., "site": ...}
    sites: list[str]  # the caller's site scope (from their permissions, never from the event)


class InvestigationState(TypedDict, total=False):
    event: dict[str, Any]
    sites: list[str]
    anomaly: dict[str, Any]
    opened_at: str
    characterisation: dict[str, Any] | None
    evidence: dict[str, Any]
    # section name -> {"content", "attempt", "prompts", "call", "error", "verified", ...}
    sections: Annotated[dict[str, dict[str, Any]], merge_dicts]
    pending: list[str]  # sections still to (re)draft, in order
    feedback: dict[str, str]  # verification problems to fix in the next attempt, per section
    comments: dict[str, str]  # reviewer comments for the sections being redrafted
    verification: dict[str, Any]  # the verifier's report of the current draft
    report: dict[str, Any]  # the assembled draft shown for review
    review: dict[str, Any]  # the last review decision
    reviews: Annotated[list[dict[str, Any]], operator.add]
    timings: Annotated[list[dict[str, Any]], operator.add]  # {"node", "seconds", "at"}
    status: str
