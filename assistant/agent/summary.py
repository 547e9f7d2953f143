"""The executive summary composed of the other sections' verified statements, with no model call.

The report design asks for "event, root cause, impact, CAPA in <= 1 page". Every statement of
the drafted sections has already been checked against its sources, so the summary takes the
first verified statement of each source section, citations and check included: it cannot say
anything the draft does not already back. On 2 CPU cores this saves one model call (44-208 s
with the 1.5B model, measured on demo scenario 0); drafting it with the model remains possible
(`AgentContext.assemble_summary=False`), and a reviewer's request to change the summary always
redrafts it with the model and the reviewer's comments.
"""

from __future__ import annotations

import copy
from typing import Any

from assistant.agent.report import iter_statements

SUMMARY_SECTION = "executive_summary"
# In the order a reader expects: what happened, what it affects, why, what is done, the batch.
SUMMARY_SOURCES = (
    "event_description",
    "impact_assessment",
    "root_cause_analysis",
    "capa",
    "disposition",
)
ORIGIN = "assembled_from_verified_statements"


def _first_verified(content: dict[str, Any], section: str) -> dict[str, Any] | None:
    statements = iter_statements({section: content})
    if section == "root_cause_analysis":  # the most probable cause before the hypotheses
        statements.sort(key=lambda found: found[1] is not content.get("root_cause_statement"))
    for _, statement in statements:
        if (statement.get("check") or {}).get("verdict") == "verified":
            return statement
    return None


def is_composed(record: dict[str, Any] | None) -> bool:
    """Composed without a model call (here, or from the records: `from_records`), so another
    attempt would give the same record: never redrafted for failing verification."""
    return bool((record or {}).get("origin"))


def compose_summary(sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The summary's section record from verified section records (see `verify_sections`)."""
    statements: list[dict[str, Any]] = []
    sources: list[str] = []
    for name in SUMMARY_SOURCES:
        record = sections.get(name)
        if not record:
            continue
        found = _first_verified(record.get("content") or {}, name)
        if found is not None:
            statements.append(copy.deepcopy(found))
            sources.append(name)
    evidence = list(
        dict.fromkeys(eid for name in sources for eid in sections[name].get("evidence") or [])
    )
    return {
        "section": SUMMARY_SECTION,
        "origin": ORIGIN,
        "composed_from": sources,
        "attempt": 1,
        "prompts": [],
        "prompt_sha256": {},
        "evidence": evidence,
        "reviewer_comments": None,
        "content": {"statements": statements},
        "error": None if statements else "no verified statement to summarise",
        "call": None,
        "seconds": 0.0,
    }
