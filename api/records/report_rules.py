"""Shape rules the records layer enforces on draft content (see investigation-report.md).

A draft is a JSON object whose top-level keys are report sections. The model drafts; people
decide: the AI may never fill the human-only decision fields, and a report cannot be approved
until a person has filled them.
"""

from __future__ import annotations

from typing import Any

REPORT_SECTIONS: tuple[str, ...] = (
    "header",
    "executive_summary",
    "classification",
    "event_description",
    "immediate_actions",
    "timeline",
    "impact_assessment",
    "history_and_recurrence",
    "root_cause_analysis",
    "capa",
    "regulatory_reportability",
    "disposition",
    "conclusion",
    "references",
    "ai_provenance",
)

# Sections people edit; ai_provenance records what the machine did and is never hand-edited.
EDITABLE_SECTIONS = tuple(s for s in REPORT_SECTIONS if s != "ai_provenance")

# (section, field): decisions only a person may take.
HUMAN_ONLY_FIELDS: tuple[tuple[str, str], ...] = (
    ("classification", "criticality_final"),
    ("root_cause_analysis", "conclusion_level"),
    ("disposition", "final"),
)


def ai_content_problems(content: Any) -> list[str]:
    """Why an AI draft cannot be stored as is (empty list: it can)."""
    if not isinstance(content, dict):
        return ["draft content must be a JSON object of report sections"]
    problems = [f"unknown section {key!r}" for key in content if key not in REPORT_SECTIONS]
    for section, field in HUMAN_ONLY_FIELDS:
        value = content.get(section)
        if isinstance(value, dict) and value.get(field) not in (None, ""):
            problems.append(f"{section}.{field} is a human-only decision; the AI may not set it")
    return problems


def missing_decisions(content: dict[str, Any]) -> list[str]:
    """Human-only decision fields still empty (approval needs all of them)."""
    missing = []
    for section, field in HUMAN_ONLY_FIELDS:
        value = content.get(section)
        if not isinstance(value, dict) or value.get(field) in (None, ""):
            missing.append(f"{section}.{field}")
    return missing
