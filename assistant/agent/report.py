"""The investigation report the agent drafts (docs: investigation-report.md), as pydantic models.

Only what the agent fills is modelled here; the records layer stores the report as JSON with
these section keys. Human-only decisions (`criticality_final`, `conclusion_level`,
`disposition.final`) exist so the shape is complete, and `clear_human_only` empties them in
code before a draft is stored: the model is never asked for them and never trusted with them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["verified", "unsupported", "citation_invalid"]
Category = Literal[
    "equipment",
    "process",
    "material",
    "environment",
    "documentation",
    "laboratory_OOS",
    "personnel_procedure",
    "utilities",
    "supplier",
    "data_integrity",
]
Criticality = Literal["minor", "major", "critical"]
SixM = Literal["man", "machine", "method", "material", "measurement", "mother_nature"]
Disposition = Literal["release", "reject", "rework", "reprocess", "additional_testing", "pending"]
Recurrence = Literal["new", "recurrence_same_root_cause", "related_different_cause"]

UNSUPPORTED_MARK = "unsupported: needs investigator input"
INSUFFICIENT_EVIDENCE = "insufficient evidence"

# (section, field): decisions only a person may take (mirrors the records layer's rule).
HUMAN_ONLY_FIELDS: tuple[tuple[str, str], ...] = (
    ("classification", "criticality_final"),
    ("root_cause_analysis", "conclusion_level"),
    ("disposition", "final"),
)


class Citation(BaseModel):
    chunk_id: str
    doc_id: str = ""
    doc_version: str | None = None
    doc_type: str = ""
    section_or_step: str | None = None
    page: int | None = None
    quote_span: str
    quote_start: int | None = None  # offsets of the quote in the chunk text, once verified
    quote_end: int | None = None
    quote_found: bool | None = None


class StatementCheck(BaseModel):
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)
    support_score: float = 0.0


class Statement(BaseModel):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    check: StatementCheck | None = None
    flag: str | None = None  # UNSUPPORTED_MARK when the draft could not back it

    @property
    def needs_input(self) -> bool:
        return self.check is not None and self.check.verdict != "verified"


class Hypothesis(BaseModel):
    id: str
    statement: Statement
    category_6M: SixM | None = None
    evidence_for: list[Citation] = Field(default_factory=list)
    evidence_against: list[Citation] = Field(default_factory=list)
    status: Literal["confirmed", "probable", "ruled_out", "open"] = "open"


class ExpectedVsActual(BaseModel):
    parameter: str
    unit: str | None = None
    limit_type: str = "spec"
    limit_low: float | None = None
    limit_high: float | None = None
    observed: float | None = None
    duration: str | None = None


class SimilarRecord(BaseModel):
    record_id: str
    type: str = "deviation"
    similarity: float
    occurred_at: str | None = None
    title: str | None = None
    shared_factors: list[str] = Field(default_factory=list)
    failure_mode: str | None = None
    root_cause: str | None = None
    capa_ids: list[str] = Field(default_factory=list)
    capa_effective: Literal["yes", "no", "pending"] | None = None
    chunk_id: str = ""


class CapaLink(BaseModel):
    capa_id: str
    title: str | None = None
    equipment: list[str] = Field(default_factory=list)
    effectiveness_result: str | None = None
    status: str | None = None
    chunk_id: str = ""


class ProposedAction(BaseModel):
    id: str
    description: str
    kind: Literal["corrective", "preventive"]
    origin: Literal["ai_generated"] = "ai_generated"


class Reference(BaseModel):
    doc_id: str
    title: str | None = None
    version: str | None = None
    type: str


class NarrativeSection(BaseModel):
    """A section made of cited statements (executive summary, impact, ...)."""

    statements: list[Statement] = Field(default_factory=list)


class Header(BaseModel):
    report_id: str
    version: int = 1
    status: Literal["draft_ai"] = "draft_ai"
    site: str
    area: str | None = None
    line: str | None = None
    products: list[dict[str, Any]] = Field(default_factory=list)
    batches: list[dict[str, Any]] = Field(default_factory=list)
    equipment: list[dict[str, Any]] = Field(default_factory=list)
    process_step: dict[str, Any] | None = None
    source_event: dict[str, Any]
    dates: dict[str, str | None]


class Classification(BaseModel):
    type: Literal["unplanned", "planned"] = "unplanned"
    category: Category | None = None
    criticality_suggested: Criticality | None = None
    criticality_final: Criticality | None = None  # human only
    statements: list[Statement] = Field(default_factory=list)  # rationale


class EventDescription(BaseModel):
    what_happened: str
    requirement_deviated_from: dict[str, Any] | None = None
    expected_vs_actual: list[ExpectedVsActual] = Field(default_factory=list)
    where: str | None = None
    when: str | None = None
    how_detected: str | None = None
    process_data_refs: list[dict[str, Any]] = Field(default_factory=list)
    characterisation: dict[str, Any] | None = None
    statements: list[Statement] = Field(default_factory=list)


class HistoryAndRecurrence(BaseModel):
    search: dict[str, Any]
    similar_records: list[SimilarRecord] = Field(default_factory=list)
    recurrence_determination: Recurrence
    recurrence_counts: dict[str, int] = Field(default_factory=dict)
    failure_mode_suggestions: list[dict[str, Any]] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)  # rationale and trend note


class RootCauseAnalysis(BaseModel):
    methods: list[str] = Field(default_factory=lambda: ["ishikawa_6M"])
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    root_cause_statement: Statement | None = None
    conclusion_level: Literal["confirmed", "most_probable", "not_determined"] | None = None
    contributing_factors: list[str] = Field(default_factory=list)


class Capa(BaseModel):
    linked_capas: list[CapaLink] = Field(default_factory=list)
    proposed_actions: list[ProposedAction] = Field(default_factory=list)
    effectiveness_check: dict[str, Any] | None = None
    statements: list[Statement] = Field(default_factory=list)


class DispositionSection(BaseModel):
    recommendation_suggested: Disposition | None = None
    final: Disposition | None = None  # QA / QP only
    statements: list[Statement] = Field(default_factory=list)


class SectionProvenance(BaseModel):
    section: str
    origin: Literal[
        "ai_generated",
        "assembled_from_verified_statements",  # the executive summary (agent/summary.py)
        "data",
        "ai_edited_by_human",
        "human_written",
    ]
    prompt: str | None = None
    attempts: int = 0
    statements: int = 0
    verified: int = 0
    unsupported_claims: list[str] = Field(default_factory=list)
    confidence: Literal["high", "medium", "low", "insufficient_evidence"] = "insufficient_evidence"


class InvestigationReport(BaseModel):
    header: Header
    executive_summary: NarrativeSection | None = None
    classification: Classification | None = None
    event_description: EventDescription
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    impact_assessment: NarrativeSection | None = None
    history_and_recurrence: HistoryAndRecurrence
    root_cause_analysis: RootCauseAnalysis | None = None
    capa: Capa | None = None
    disposition: DispositionSection | None = None
    references: list[Reference] = Field(default_factory=list)
    ai_provenance: dict[str, Any] = Field(default_factory=dict)


def clear_human_only(content: dict[str, Any]) -> dict[str, Any]:
    """Empty every human-only decision field of a report (as a JSON dict), in place."""
    for section, field in HUMAN_ONLY_FIELDS:
        value = content.get(section)
        if isinstance(value, dict) and field in value:
            value[field] = None
    return content


def iter_statements(content: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(section, statement dict) for every cited statement of a report dict."""
    found: list[tuple[str, dict[str, Any]]] = []
    for section, value in content.items():
        if not isinstance(value, dict):
            continue
        for statement in value.get("statements") or []:
            found.append((section, statement))
        if value.get("root_cause_statement"):
            found.append((section, value["root_cause_statement"]))
        for hypothesis in value.get("hypotheses") or []:
            found.append((section, hypothesis["statement"]))
    return found
