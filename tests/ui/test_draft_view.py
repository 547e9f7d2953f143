"""The draft tree, citation numbering, quote highlighting and the section editor's rules."""

from __future__ import annotations

from typing import Any

import pytest

from api.records.errors import Invalid
from api.web.draft_view import build_view, citation_at, highlight
from api.web.section_edit import apply_form, edit_fields


def report() -> dict[str, Any]:
    cite = {"chunk_id": "c1", "doc_id": "SOP-1", "doc_version": "2", "quote_span": "must stay"}
    return {
        "executive_summary": {
            "statements": [
                {"text": "Verified.", "citations": [cite], "check": {"verdict": "verified"}},
                {"text": "No source.", "citations": []},
                {
                    "text": "Rejected.",
                    "citations": [dict(cite, chunk_id="c2")],
                    "check": {"verdict": "unsupported", "reasons": ["off topic"]},
                    "flag": "unsupported: needs investigator input",
                },
            ]
        },
        "classification": {"category": "equipment", "criticality_suggested": "major"},
        "timeline": [{"timestamp": "t1", "event": "e1"}],
    }


def test_citations_are_numbered_in_one_walk_and_unsupported_statements_counted() -> None:
    view = build_view(report())
    assert [c.chunk_id for c in view.citations] == ["c1", "c2"]
    assert view.unsupported == 2  # no citation, and rejected by the verifier
    assert citation_at(report(), 2) is not None and citation_at(report(), 2).chunk_id == "c2"  # type: ignore[union-attr]
    assert citation_at(report(), 3) is None
    assert [s.name for s in view.sections] == ["executive_summary", "classification", "timeline"]


def test_highlight_prefers_verified_offsets_then_searches() -> None:
    text = "Start. The temperature must stay in range. End."
    at = text.index("must stay")
    marked = highlight(text, "must stay", at, at + len("must stay"))
    assert (marked.before, marked.match, marked.found) == (text[:at], "must stay", True)
    assert highlight(text, "MUST STAY").match == "must stay"
    assert highlight(text, "must stay", 0, 4).match == "must stay"  # stale offsets ignored
    missing = highlight(text, "not there")
    assert not missing.found and missing.before == text


def test_section_editor_marks_human_edits_and_checks_decisions() -> None:
    content = report()
    fields = {f.name: f for f in edit_fields("classification", content["classification"])}
    assert fields["decision:criticality_final"].choices == ("minor", "major", "critical")
    assert fields["field:category"].value == "equipment"
    new = apply_form(
        "classification", content["classification"], {"decision:criticality_final": "critical"}
    )
    assert (
        new["criticality_final"] == "critical"
        and "criticality_final" not in content["classification"]
    )
    with pytest.raises(Invalid, match="not one of the allowed values"):
        apply_form("classification", content["classification"], {"decision:criticality_final": "x"})
    summary = content["executive_summary"]
    edited = apply_form("executive_summary", summary, {"st:statements/2": "Rewritten by QA."})
    statement = edited["statements"][2]
    assert statement["human_edited"] and "check" not in statement and "flag" not in statement
    assert summary["statements"][2]["text"] == "Rejected."  # the stored value is untouched
    with pytest.raises(Invalid, match="cannot be emptied"):
        apply_form("executive_summary", summary, {"st:statements/0": "  "})
    assert [f.kind for f in edit_fields("timeline", content["timeline"])] == ["json"]
    with pytest.raises(Invalid, match="not valid JSON"):
        apply_form("timeline", content["timeline"], {"json": "[{"})
    assert apply_form("timeline", content["timeline"], {"json": "[]"}) == []
