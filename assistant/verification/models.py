"""Inputs and outputs of statement verification (pydantic, so the API can return them as is)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ChunkStatus(StrEnum):
    effective = "effective"
    superseded = "superseded"
    draft = "draft"
    retired = "retired"


class ChunkPayload(BaseModel):
    """What the index holds for a chunk, as far as verification needs it."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    text: str
    doc_id: str
    revision: str | None = None
    status: ChunkStatus = ChunkStatus.effective
    page: int | None = None
    section: str | None = None  # section or step id, as the evidence header shows it
    site: str | None = None


class CitationRef(BaseModel):
    """A citation as the model writes it: the chunk and the words it claims to quote."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    quote_span: str


class DraftStatement(BaseModel):
    statement_id: str
    text: str = Field(min_length=1)
    citations: list[CitationRef] = Field(default_factory=list)
    section: str | None = None


class Verdict(StrEnum):
    verified = "verified"  # every citation valid and the evidence supports the statement
    unsupported = "unsupported"  # citations valid, but they do not back the statement
    citation_invalid = "citation_invalid"  # missing / unknown / not retrieved / superseded
    # chunk, quote not found, or the cited text is instruction-like (never shown as fact)


class QuoteCheck(BaseModel):
    found: bool
    score: float = Field(ge=0.0, le=1.0)
    word_order_score: float = Field(ge=0.0, le=1.0)
    exact: bool
    start: int | None = None  # offsets in the chunk text, for highlighting
    end: int | None = None
    reason: str


class InjectionFlag(BaseModel):
    pattern: str
    excerpt: str


class CitationCheck(BaseModel):
    chunk_id: str
    quote_span: str
    chunk_exists: bool
    in_retrieved: bool
    effective: bool
    doc_id: str | None = None
    revision: str | None = None
    page: int | None = None
    quote: QuoteCheck | None = None  # None when the chunk does not exist
    injection: list[InjectionFlag] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class StatementCheck(BaseModel):
    statement_id: str
    text: str
    section: str | None = None
    verdict: Verdict
    reasons: list[str]
    citations: list[CitationCheck]
    support_score: float | None = None  # None when no valid citation could be scored
    supported: bool | None = None
    unmatched_numbers: list[str] = Field(default_factory=list)
    injection_suspected: bool = False

    @property
    def shown_as_fact(self) -> bool:
        return self.verdict is Verdict.verified


class VerificationReport(BaseModel):
    statements: list[StatementCheck]
    n_statements: int
    n_verified: int
    n_unsupported: int
    n_citation_invalid: int
    n_injection_suspected: int
    n_citations: int
    n_quotes_found: int
    verified_rate: float
    unsupported_rate: float
    citation_invalid_rate: float
    quote_found_rate: float
    mean_support_score: float | None
    scorer: str
    support_threshold: float
