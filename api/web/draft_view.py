"""Turn a stored draft (JSON report sections) into a tree the investigation page renders.

Every citation gets a number in one deterministic walk of the version's content, so a chip on
the page and the source panel it opens (`citation_at`) agree. Statements carry their
verification verdict; anything not verified, or without a citation, is flagged. Text is never
marked safe here: the templates escape all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.records.report_rules import HUMAN_ONLY_FIELDS, REPORT_SECTIONS

SECTION_TITLES: dict[str, str] = {
    "header": "Header",
    "executive_summary": "Executive summary",
    "classification": "Classification",
    "event_description": "Event description",
    "immediate_actions": "Immediate actions",
    "timeline": "Timeline",
    "impact_assessment": "Impact assessment",
    "history_and_recurrence": "History and recurrence",
    "root_cause_analysis": "Root cause analysis",
    "capa": "CAPA",
    "regulatory_reportability": "Regulatory reportability",
    "disposition": "Disposition",
    "conclusion": "Conclusion",
    "references": "References",
    "ai_provenance": "AI provenance",
}
# Decisions only a person may take, and the values the report allows for each.
DECISION_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("classification", "criticality_final"): ("minor", "major", "critical"),
    ("root_cause_analysis", "conclusion_level"): ("confirmed", "most_probable", "not_determined"),
    ("disposition", "final"): (
        "release",
        "reject",
        "rework",
        "reprocess",
        "additional_testing",
        "pending",
    ),
}
_HIDDEN_KEYS = frozenset({"check", "flag", "quote_start", "quote_end", "human_edited"})
# Shown in their own panels (similar events) or too bulky for the section body.
_PANEL_KEYS = frozenset({"similar_records", "characterisation", "search"})


@dataclass(frozen=True)
class CitationView:
    n: int
    section: str
    chunk_id: str
    doc_id: str
    doc_version: str | None
    doc_type: str
    section_or_step: str | None
    page: int | None
    quote: str
    quote_start: int | None
    quote_end: int | None

    @property
    def label(self) -> str:
        parts = [self.doc_id or self.chunk_id or "source"]
        if self.doc_version:
            parts.append(f"rev {self.doc_version}")
        if self.page:
            parts.append(f"p.{self.page}")
        return " ".join(parts)


@dataclass(frozen=True)
class StatementView:
    text: str
    citations: list[int]
    verdict: str | None
    reasons: list[str]
    flag: str | None
    human_edited: bool

    @property
    def flagged(self) -> bool:
        return bool(self.flag) or not self.citations or self.verdict not in (None, "verified")

    @property
    def flag_text(self) -> str:
        if self.flag:
            return self.flag
        if not self.citations:
            return "no supporting citation"
        return f"{self.verdict}: needs investigator input"


@dataclass
class Node:
    kind: str  # mapping | table | list | scalar | statement | statements | citations | decision
    value: Any = None
    items: list[tuple[str, Node]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Node]] = field(default_factory=list)


@dataclass
class SectionView:
    name: str
    title: str
    body: Node
    raw: Any


@dataclass
class DraftView:
    sections: list[SectionView]
    citations: list[CitationView]
    unsupported: int


def label_of(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _is_statement(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("text"), str) and "citations" in value


class _Builder:
    def __init__(self) -> None:
        self.citations: list[CitationView] = []
        self.unsupported = 0

    def citation(self, section: str, c: dict[str, Any]) -> int:
        n = len(self.citations) + 1
        page = c.get("page")
        self.citations.append(
            CitationView(
                n=n,
                section=section,
                chunk_id=str(c.get("chunk_id") or ""),
                doc_id=str(c.get("doc_id") or ""),
                doc_version=None if c.get("doc_version") is None else str(c["doc_version"]),
                doc_type=str(c.get("doc_type") or ""),
                section_or_step=None
                if c.get("section_or_step") is None
                else str(c["section_or_step"]),
                page=page if isinstance(page, int) else None,
                quote=str(c.get("quote_span") or ""),
                quote_start=c.get("quote_start") if isinstance(c.get("quote_start"), int) else None,
                quote_end=c.get("quote_end") if isinstance(c.get("quote_end"), int) else None,
            )
        )
        return n

    def citations_node(self, section: str, values: list[Any]) -> Node:
        numbers = [self.citation(section, c) for c in values if isinstance(c, dict)]
        return Node("citations", value=numbers)

    def statement(self, section: str, st: dict[str, Any]) -> Node:
        raw_check = st.get("check")
        check: dict[str, Any] = raw_check if isinstance(raw_check, dict) else {}
        view = StatementView(
            text=st["text"],
            citations=[
                self.citation(section, c) for c in st.get("citations") or [] if isinstance(c, dict)
            ],
            verdict=check.get("verdict"),
            reasons=[str(r) for r in check.get("reasons") or []],
            flag=st.get("flag"),
            human_edited=bool(st.get("human_edited")),
        )
        if view.flagged:
            self.unsupported += 1
        return Node("statement", value=view)

    def node(self, section: str, value: Any, key: str = "") -> Node:
        if key == "citations" and isinstance(value, list):
            return self.citations_node(section, value)
        if _is_statement(value):
            return self.statement(section, value)
        if isinstance(value, dict):
            items = []
            for k, v in value.items():
                if k in _HIDDEN_KEYS or k in _PANEL_KEYS:
                    continue
                if (section, k) in HUMAN_ONLY_FIELDS:
                    items.append((label_of(k), Node("decision", value=v)))
                    continue
                items.append((label_of(k), self.node(section, v, k)))
            return Node("mapping", items=items)
        if isinstance(value, list):
            if value and all(_is_statement(v) for v in value):
                return Node("statements", children=[self.statement(section, v) for v in value])
            if value and all(isinstance(v, dict) for v in value):
                columns: list[str] = []
                for row in value:
                    columns += [k for k in row if k not in columns and k not in _HIDDEN_KEYS]
                rows = [[self.node(section, row.get(c), c) for c in columns] for row in value]
                return Node("table", columns=[label_of(c) for c in columns], rows=rows)
            return Node("list", children=[self.node(section, v) for v in value])
        return Node("scalar", value="" if value is None else value)


def build_view(content: dict[str, Any]) -> DraftView:
    builder = _Builder()
    known = [s for s in REPORT_SECTIONS if s in content]
    extra = [s for s in content if s not in REPORT_SECTIONS]
    sections = [
        SectionView(
            name=name,
            title=SECTION_TITLES.get(name, label_of(name)),
            body=builder.node(name, content[name]),
            raw=content[name],
        )
        for name in known + extra
    ]
    return DraftView(sections, builder.citations, builder.unsupported)


def citation_at(content: dict[str, Any], n: int) -> CitationView | None:
    citations = build_view(content).citations
    return citations[n - 1] if 1 <= n <= len(citations) else None


@dataclass(frozen=True)
class Highlighted:
    before: str
    match: str
    after: str
    found: bool


def highlight(
    text: str, quote: str, start: int | None = None, end: int | None = None
) -> Highlighted:
    """Split `text` around the quoted span: the verified offsets first, else an exact search,
    else a case-insensitive search; not found leaves the whole text unmarked."""
    if (
        start is not None
        and end is not None
        and 0 <= start < end <= len(text)
        and (text[start:end] == quote or not quote)
    ):
        return Highlighted(text[:start], text[start:end], text[end:], True)
    if quote:
        at = text.find(quote)
        if at < 0:
            at = text.lower().find(quote.lower())
        if at >= 0:
            stop = at + len(quote)
            return Highlighted(text[:at], text[at:stop], text[stop:], True)
    return Highlighted(text, "", "", False)


def decision_fields(section: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(f, choices) for (s, f), choices in DECISION_CHOICES.items() if s == section]


def statement_paths(value: Any) -> list[tuple[str, ...]]:
    """Paths to every statement in a section value (what the edit form offers as text boxes)."""
    found: list[tuple[str, ...]] = []

    def walk(v: Any, path: tuple[str, ...]) -> None:
        if _is_statement(v):
            found.append(path)
            return
        if isinstance(v, dict):
            for k, child in v.items():
                if k not in _HIDDEN_KEYS and k != "citations":
                    walk(child, (*path, k))
        elif isinstance(v, list):
            for i, child in enumerate(v):
                walk(child, (*path, str(i)))

    walk(value, ())
    return found


def get_path(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value
