"""Report sections composed from the records' own text, with no model call.

The event description and the history section state facts that are already written in the
evidence: the event's figures (E0, built from the MES payload and the characterisation), the
governing SOP requirement, the batch-record step, the similar past deviations and the
effectiveness of the CAPAs raised for them. Each statement here is a line (or a table row) of
one evidence chunk, cited with that line as its quote, so the quote is verbatim by construction;
the statements are still verified like any drafted one. On 2 CPU cores this saves two model
calls per draft (70-260 s each with the 1.5B model, measured on demo scenario 0). Drafting
them with the model remains possible (`AgentContext.compose_from_records=False`), and a
reviewer's request to change such a section redrafts it with the model and the comments.
"""

from __future__ import annotations

import re
from itertools import zip_longest
from typing import Any

from assistant.agent.drafting import citation_of
from assistant.agent.evidence import EVENT_DOC_TYPE, EvidenceItem, EvidenceSet
from assistant.agent.report import Statement
from assistant.agent.sections import STATEMENT_MAX_CHARS

ORIGIN = "composed_from_records"
COMPOSED_SECTIONS: tuple[str, ...] = ("event_description", "history_and_recurrence")
SIMILAR_STATED = 2  # past deviations written out (all of them are listed in the section's table)
CAPAS_STATED = 2
# Event lines (evidence.event_text) that state what happened against the requirement.
_EVENT_FACTS = ("Parameter ", "Peak ", "Time outside limits ")
_HEADING = re.compile(r"^\d+(\.\d+)*\s+\S.{0,80}$")  # "5.3 Wet massing end point"


def _usable(items: list[EvidenceItem]) -> list[EvidenceItem]:
    """Chunks a composed statement may quote: never one holding instruction-like text (it is
    shown to the model as flagged data, and a statement citing it is never verified)."""
    return [item for item in items if not item.injection]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _field(item: EvidenceItem, name: str) -> str | None:
    """The value of the line `name: value` of a QMS record chunk."""
    prefix = f"{name}:"
    line = next((line for line in _lines(item.text) if line.startswith(prefix)), None)
    return line[len(prefix) :].strip() or None if line else None


def _statement(text: str, item: EvidenceItem, quote: str) -> dict[str, Any]:
    if len(text) > STATEMENT_MAX_CHARS:
        text = text[: STATEMENT_MAX_CHARS - 3].rstrip() + "..."
    return Statement(text=text, citations=[citation_of(item, quote)]).model_dump(mode="json")


def _record_description(item: EvidenceItem) -> str | None:
    """What happened, in the record's words: its Description field, else the line after the
    chunk's title line ("Deviation DEV-... - what happened")."""
    found = _field(item, "Description")
    if found:
        return found
    lines = _lines(item.text)
    return lines[1] if len(lines) > 1 else None


def _table_rows(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The markdown table rows of `text`: (the row's line, [(header, cell), ...]); the header
    is "" for a chunk holding rows without their header row."""
    lines = [line for line in _lines(text) if line.startswith("|") and line.endswith("|")]

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip("|").split("|")]

    has_header = len(lines) >= 2 and not set(lines[1]) - set("|-: ")
    header = cells(lines[0]) if has_header else []
    body = lines[2:] if has_header else lines
    return [
        (line, [(name, cell) for name, cell in zip_longest(header, cells(line), fillvalue="")])
        for line in body
    ]


def _event_statement(event: EvidenceItem) -> dict[str, Any] | None:
    facts = [line for line in _lines(event.text) if line.startswith(_EVENT_FACTS)]
    if facts:
        quote = next((f for f in facts if f.startswith("Peak ")), facts[0])
        return _statement(" ".join(facts), event, quote)
    description = _field(event, "Description")
    if description:
        return _statement(description, event, description)
    return None


def _requirement_statement(ev: EvidenceSet, parameter: str | None) -> dict[str, Any] | None:
    """The governing SOP section: the first retrieved one naming the parameter, else the first."""
    sops = _usable(ev.get(ev.sop_eids))
    if not sops:
        return None
    named = [s for s in sops if parameter and _names(s.text, parameter)]
    sop = (named or sops)[0]
    lines = [line for line in _lines(sop.text) if not line.startswith("|")]
    heading = lines[0] if len(lines) > 1 and _HEADING.match(lines[0]) else None
    # PDF text wraps lines inside a sentence: split the joined paragraph, not each line (the
    # verifier folds whitespace, so a quote spanning a line break is still found)
    paragraph = " ".join(line for line in lines if line != heading)
    sentences = [
        sentence
        for sentence in re.split(r"(?<=[.;])\s+", paragraph)
        if len(sentence) > 12  # not a bare section number
    ]
    if sentences:  # the sentence naming the parameter, else the first
        quote = next((x for x in sentences if parameter and _names(x, parameter)), sentences[0])
    else:  # a table chunk: the row of the parameter, or the first row
        rows = [line for line, _ in _table_rows(sop.text)]
        if not rows:
            return None
        quote = next((r for r in rows if parameter and _names(r, parameter)), rows[0])
    # The requirement in the SOP's own words; the citation names the document, revision and
    # section (a label in the text would only dilute the support score).
    return _statement(quote, sop, quote)


def _names(text: str, parameter: str) -> bool:
    return parameter.lower() in text.lower()


def _step_statement(ev: EvidenceSet, step_id: str | None) -> dict[str, Any] | None:
    """The batch-record row of the event's step, cell by cell."""
    for item in _usable(ev.get(ev.batch_record_eids)):
        rows = _table_rows(item.text)
        line, pairs = next(
            (row for row in rows if step_id and step_id in (cell for _, cell in row[1])),
            rows[0] if rows else ("", []),
        )
        if not line:
            continue
        cells = "; ".join(f"{name}: {cell}" if name else cell for name, cell in pairs if cell)
        return _statement(f"Batch record {item.doc_id}: {cells}.", item, line)
    return None


def compose_event_description(ev: EvidenceSet, anomaly: dict[str, Any]) -> list[dict[str, Any]]:
    event = next((i for i in ev.items if i.doc_type == EVENT_DOC_TYPE), None)
    parameter = (anomaly.get("parameter") or {}).get("name")
    step = (anomaly.get("mbr_step") or {}).get("step_id")
    found = [
        _event_statement(event) if event else None,
        _requirement_statement(ev, parameter),
        _step_statement(ev, step),
    ]
    return [s for s in found if s is not None]


def compose_history(ev: EvidenceSet) -> list[dict[str, Any]]:
    index = ev.by_eid()
    statements = []
    for row in ev.similar[:SIMILAR_STATED]:
        found = _usable([index[row["eid"]]] if row.get("eid") in index else [])
        item = found[0] if found else None
        description = _record_description(item) if item else None
        if item is None or description is None:
            continue
        # only what the cited chunk itself says: the shared factors and the date come from the
        # record's metadata and are listed in the section's table of similar events
        text = f"{row['record_id']}: {description}"
        statements.append(_statement(text, item, description))
    for capa in ev.capas[:CAPAS_STATED]:
        chunks = _usable([index[e] for e in capa.get("eids") or [] if e in index])
        item = next((c for c in chunks if _field(c, "Effectiveness result")), None)
        if item is None:
            continue
        result = _field(item, "Effectiveness result") or ""
        checked = _field(item, "Effectiveness checked")
        text = f"Related CAPA {capa['capa_id']}: effectiveness result {result}"
        text += f", checked {checked}." if checked else "."
        statements.append(_statement(text, item, f"Effectiveness result: {result}"))
    return statements


def compose_section(name: str, ev: EvidenceSet, anomaly: dict[str, Any]) -> dict[str, Any]:
    """The section record (as `draft_section` returns) of a section composed from records."""
    if name == "event_description":
        statements = compose_event_description(ev, anomaly)
    elif name == "history_and_recurrence":
        statements = compose_history(ev)
    else:
        raise ValueError(f"{name!r} is not composed from records; composed: {COMPOSED_SECTIONS}")
    cited = {c["chunk_id"] for s in statements for c in s["citations"]}
    return {
        "section": name,
        "origin": ORIGIN,
        "attempt": 1,
        "prompts": [],
        "prompt_sha256": {},
        "evidence": [i.eid for i in ev.items if i.chunk_id in cited],
        "reviewer_comments": None,
        "content": {"statements": statements},
        "error": None if statements else "no record line to compose this section from",
        "call": None,
        "seconds": 0.0,
    }
