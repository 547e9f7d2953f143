"""The graph with a scripted model: evidence, drafting, verification, human-only fields, review."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import ValidationError

from assistant.agent.drafting import DraftSettings
from assistant.agent.report import UNSUPPORTED_MARK, iter_statements
from assistant.agent.runner import InvestigationRunner
from assistant.agent.sections import (
    DRAFT_ORDER,
    FIELD_MAX_CHARS,
    QUOTE_MAX_CHARS,
    SECTIONS,
    STATEMENT_MAX_CHARS,
    answer_schema,
)
from assistant.llm.fake_backend import FakeChatModel, FakeRequest
from tests.agent.conftest import ContextFactory
from tests.agent.corpus import careful_answer, evidence_in_prompt, mes_payload

EVENT = {"payload": mes_payload()}


def _section_of(request: FakeRequest) -> str:
    content = request.messages[-1]["content"]
    for name, spec in SECTIONS.items():
        marker = {
            "event_description": "Section: event description",
            "classification": "Section: classification",
            "impact_assessment": "Section: impact assessment",
            "history_and_recurrence": "Section: history and recurrence",
            "root_cause_analysis": "Section: root cause analysis",
            "capa": "Section: CAPA proposal",
            "disposition": "Section: batch disposition",
            "executive_summary": "Section: executive summary",
        }[name]
        if f"\n{marker}" in content:  # after the evidence (prompts v2)
            return spec.name
    raise AssertionError(f"unknown section prompt: {content[:80]}")


def _run(make_context: ContextFactory, model: FakeChatModel, **kw: Any) -> Any:
    runner = InvestigationRunner(make_context(model, **kw), InMemorySaver())
    return runner, runner.start("inv-1", EVENT, ["SITE-A"])


def test_evidence_is_site_scoped_effective_and_kept_for_provenance(
    make_context: ContextFactory,
) -> None:
    _, outcome = _run(make_context, FakeChatModel(careful_answer))
    evidence = outcome.state["evidence"]
    items = {i["eid"]: i for i in evidence["items"]}
    assert items["E0"]["chunk_id"] == "event:MES-EX-2026-00404"
    assert "Peak 13.76 kW" in items["E0"]["text"]
    sop = [items[e] for e in evidence["sop_eids"]]
    assert sop and all(i["status"] == "effective" for i in sop)
    assert ("SOP-PRD-011", "2") not in {(i["doc_id"], i["revision"]) for i in items.values()}
    br = [items[e] for e in evidence["batch_record_eids"]]
    assert [(i["doc_id"], i["section_id"]) for i in br] == [("BR-B26-0919", "4.2")]
    similar = evidence["similar"]
    assert [r["record_id"] for r in similar[:2]] == ["DEV-2024-0020", "DEV-2025-0035"]
    assert "same equipment GR-201" in similar[0]["shared_factors"]
    assert similar[0]["capa_effective"] == "no"  # CAPA-2024-0003 was not effective
    injected = [i for i in items.values() if i["doc_id"] == "SOP-ENG-009"]
    assert all(i["injection"] for i in injected)
    report = outcome.report
    history = report["history_and_recurrence"]
    assert history["recurrence_determination"] == "recurrence_same_root_cause"
    assert history["recurrence_counts"]["same_equipment"] == 2
    retrieved = {r["chunk_id"] for r in report["ai_provenance"]["retrieved"]}
    assert {i["chunk_id"] for i in items.values()} == retrieved
    assert report["event_description"]["characterisation"]["time_outside_s"] == 360


def test_facts_come_from_data_and_every_citation_resolves(make_context: ContextFactory) -> None:
    model = FakeChatModel(careful_answer)
    _, outcome = _run(make_context, model)
    report = outcome.report
    assert outcome.waiting_for_review and outcome.status == "awaiting_review"
    assert report["header"]["report_id"] == "MES-EX-2026-00404"
    assert report["header"]["dates"]["due_at"].startswith("2026-12-03")
    row = report["event_description"]["expected_vs_actual"][0]
    assert (row["limit_low"], row["limit_high"], row["observed"]) == (8.0, 12.0, 13.76)
    assert report["event_description"]["requirement_deviated_from"]["doc_id"] == "SOP-PRD-011"
    retrieved = {r["chunk_id"] for r in report["ai_provenance"]["retrieved"]}
    statements = iter_statements(report)
    assert len(statements) >= len(SECTIONS)
    for _, st in statements:
        assert st["check"]["verdict"] == "verified"
        for citation in st["citations"]:
            assert citation["chunk_id"] in retrieved and citation["quote_found"]
    prov = report["ai_provenance"]
    assert prov["prompt_template_versions"]["root_cause_analysis"].startswith("draft_system.v2")
    assert {t["node"] for t in prov["timings"]} >= {"intake", "gather_evidence", "verify"}
    assert outcome.state["verification"]["n_statements"] == len(statements)
    # Each section saw only its own evidence: the root-cause prompt shows past records' causes.
    rca_prompt = next(r for r in model.requests if _section_of(r) == "root_cause_analysis")
    shown = evidence_in_prompt(rca_prompt)
    assert any("Root cause:" in text for text in shown.values())
    assert not any("Classification." in text for text in shown.values())


def test_history_prompt_shows_past_records_when_the_model_drafts_it(
    make_context: ContextFactory,
) -> None:
    model = FakeChatModel(careful_answer)
    context = make_context(model)
    context.compose_from_records = False
    InvestigationRunner(context, InMemorySaver()).start("inv-1", EVENT, ["SITE-A"])
    drafted = [_section_of(r) for r in model.requests]
    assert "event_description" in drafted
    history_prompt = next(r for r in model.requests if _section_of(r) == "history_and_recurrence")
    shown = evidence_in_prompt(history_prompt)
    assert any("DEV-2024-0020" in text for text in shown.values())
    assert not any("Classification." in text for text in shown.values())


def test_answer_schema_restricts_evidence_ids_and_has_no_human_fields() -> None:
    schema = answer_schema("classification", ("E0", "E3"), 2).model_json_schema()
    text = json.dumps(schema)
    assert '"enum": ["E0", "E3"]' in text
    for field in ("criticality_final", "conclusion_level", '"final"'):
        assert field not in text


def test_quotes_are_bounded_so_a_copied_snippet_cannot_use_up_the_reply() -> None:
    schema_cls = answer_schema("narrative", ("E0",), 2)
    schema = schema_cls.model_json_schema()
    assert schema["$defs"]["Cite"]["properties"]["quote"]["maxLength"] == QUOTE_MAX_CHARS
    statement = {"text": "Peak 13.8 kW.", "citations": [{"evidence_id": "E0", "quote": "x"}]}
    schema_cls.model_validate({"statements": [statement]})
    statement["citations"][0]["quote"] = "y" * (QUOTE_MAX_CHARS + 1)
    with pytest.raises(ValidationError):
        schema_cls.model_validate({"statements": [statement]})


def test_statement_texts_are_bounded_so_a_repeated_sentence_cannot_use_up_the_reply() -> None:
    narrative = answer_schema("narrative", ("E0",), 2).model_json_schema()["$defs"]
    assert narrative["Statement"]["properties"]["text"]["maxLength"] == STATEMENT_MAX_CHARS
    defs = answer_schema("root_cause", ("E0",), 2).model_json_schema()["$defs"]
    assert defs["Hypothesis"]["properties"]["text"]["maxLength"] == STATEMENT_MAX_CHARS
    capa = answer_schema("capa", ("E0",), 2).model_json_schema()
    assert capa["$defs"]["Action"]["properties"]["description"]["maxLength"] == FIELD_MAX_CHARS
    assert capa["properties"]["effectiveness_criterion"]["maxLength"] == FIELD_MAX_CHARS
    schema_cls = answer_schema("narrative", ("E0",), 2)
    cite = {"evidence_id": "E0", "quote": "Peak 13.76 kW"}
    schema_cls.model_validate(
        {"statements": [{"text": "x" * STATEMENT_MAX_CHARS, "citations": [cite]}]}
    )
    repeated = "The SOP states that the spray rate is a parameter. " * 10
    with pytest.raises(ValidationError):
        schema_cls.model_validate({"statements": [{"text": repeated, "citations": [cite]}]})


def test_human_only_fields_stay_empty_even_when_the_model_fills_them(
    make_context: ContextFactory,
) -> None:
    def pushy(request: FakeRequest) -> str:
        return careful_answer(
            request,
            {"criticality_final": "minor", "conclusion_level": "confirmed", "final": "release"},
        )

    _, outcome = _run(make_context, FakeChatModel(pushy))
    report = outcome.report
    assert report["classification"]["criticality_final"] is None
    assert report["root_cause_analysis"]["conclusion_level"] is None
    assert report["disposition"]["final"] is None
    assert report["disposition"]["recommendation_suggested"] is not None


def _invents(calls: dict[str, int]) -> Callable[[FakeRequest], str]:
    """Root cause: a second hypothesis with an invented quote (the most probable verifies);
    CAPA: only an invented quote on the first attempt (nothing verified), fixed on the second."""

    def answer(request: FakeRequest) -> str:
        section = _section_of(request)
        calls[section] = calls.get(section, 0) + 1
        if section == "root_cause_analysis":  # always an invented quote
            answer = json.loads(careful_answer(request))
            other = json.loads(json.dumps(answer["most_probable_cause"]))
            other["citations"][0]["quote"] = "operator forgot to close the steam valve completely"
            answer["other_hypotheses"] = [other]
            return json.dumps(answer)
        if section == "capa" and calls[section] == 1:
            answer = json.loads(careful_answer(request))
            answer["statements"][0]["citations"][0]["quote"] = "a quote that is not in the text"
            return json.dumps(answer)
        return careful_answer(request)

    return answer


def test_a_section_with_nothing_verified_is_redrafted_once_others_are_flagged(
    make_context: ContextFactory,
) -> None:
    calls: dict[str, int] = {}
    model = FakeChatModel(_invents(calls))
    context = make_context(model)
    context.redraft_when = "nothing_verified"
    outcome = InvestigationRunner(context, InMemorySaver()).start("inv-1", EVENT, ["SITE-A"])
    assert calls["capa"] == 2  # nothing verified: redrafted with the problems
    assert calls["root_cause_analysis"] == 1  # its most probable cause verified: kept, flagged
    assert "event_description" not in calls  # composed from the records
    retry = [r for r in model.requests if _section_of(r) == "capa"][1]
    assert "previous answer for this section had problems" in retry.messages[-1]["content"]
    assert "quote not found" in retry.messages[-1]["content"]
    report = outcome.report
    capa = report["capa"]["statements"][0]
    assert capa["check"]["verdict"] == "verified" and capa["flag"] is None
    rca = report["root_cause_analysis"]
    assert rca["root_cause_statement"]["check"]["verdict"] == "verified"
    assert rca["hypotheses"][0]["statement"]["check"]["verdict"] == "verified"
    hypothesis = rca["hypotheses"][1]["statement"]
    assert hypothesis["check"]["verdict"] == "citation_invalid"
    assert hypothesis["flag"] == UNSUPPORTED_MARK
    per_section = {p["section"]: p for p in report["ai_provenance"]["per_section"]}
    assert per_section["root_cause_analysis"]["attempts"] == 1
    assert per_section["root_cause_analysis"]["unsupported_claims"]
    assert per_section["capa"]["attempts"] == 2
    earlier = outcome.state["sections"]["capa"]["earlier_attempts"]
    assert [(a["attempt"], a["verified"]) for a in earlier] == [(1, 0)]


def test_by_default_unverified_statements_are_flagged_without_another_call(
    make_context: ContextFactory,
) -> None:
    calls: dict[str, int] = {}
    _, outcome = _run(make_context, FakeChatModel(_invents(calls)))
    assert calls["capa"] == 1 and calls["root_cause_analysis"] == 1
    capa = outcome.report["capa"]["statements"][0]
    assert capa["check"]["verdict"] != "verified" and capa["flag"] == UNSUPPORTED_MARK
    per_section = {p["section"]: p for p in outcome.report["ai_provenance"]["per_section"]}
    assert per_section["capa"]["attempts"] == 1


def test_a_section_that_times_out_is_left_to_the_investigator_and_the_rest_is_drafted(
    make_context: ContextFactory,
) -> None:
    calls: dict[str, int] = {}

    def slow_capa(request: FakeRequest) -> str:
        section = _section_of(request)
        calls[section] = calls.get(section, 0) + 1
        if section == "capa":
            time.sleep(3.0)  # the model is still thinking when the section's time is up
        return careful_answer(request)

    _, outcome = _run(make_context, FakeChatModel(slow_capa), draft=DraftSettings(timeout_s=2.0))
    assert outcome.waiting_for_review
    assert calls["capa"] == 1  # not redrafted: a second call would wait as long again
    capa = outcome.state["sections"]["capa"]
    assert capa["timed_out"] and "did not answer in time" in capa["error"]
    per_section = {p["section"]: p for p in outcome.report["ai_provenance"]["per_section"]}
    assert per_section["capa"]["confidence"] == "insufficient_evidence"
    assert "did not answer in time" in per_section["capa"]["error"]
    for name in ("classification", "root_cause_analysis", "disposition"):
        assert calls[name] == 1 and per_section[name]["verified"] >= 1


def test_any_unverified_policy_redrafts_a_section_with_one_failed_statement(
    make_context: ContextFactory,
) -> None:
    calls: dict[str, int] = {}
    context = make_context(FakeChatModel(_invents(calls)))
    context.redraft_when = "any_unverified"
    outcome = InvestigationRunner(context, InMemorySaver()).start("inv-1", EVENT, ["SITE-A"])
    assert calls["root_cause_analysis"] == 2 and calls["capa"] == 2
    hypothesis = outcome.report["root_cause_analysis"]["hypotheses"][1]["statement"]
    assert hypothesis["flag"] == UNSUPPORTED_MARK  # still invented after the one redraft


def test_executive_summary_is_composed_of_verified_statements_without_a_model_call(
    make_context: ContextFactory,
) -> None:
    calls: dict[str, int] = {}
    context = make_context(FakeChatModel(_invents(calls)))
    context.redraft_when = "nothing_verified"  # so the summary takes the redrafted CAPA
    outcome = InvestigationRunner(context, InMemorySaver()).start("inv-1", EVENT, ["SITE-A"])
    assert "executive_summary" not in calls
    report = outcome.report
    summary = report["executive_summary"]["statements"]
    expected = [
        report["event_description"]["statements"][0],
        report["impact_assessment"]["statements"][0],
        report["root_cause_analysis"]["root_cause_statement"],  # not the invented hypothesis
        report["capa"]["statements"][0],  # the redrafted, verified one
        report["disposition"]["statements"][0],
    ]
    assert [(s["text"], s["citations"]) for s in summary] == [
        (s["text"], s["citations"]) for s in expected
    ]
    assert all(s["check"]["verdict"] == "verified" and s["flag"] is None for s in summary)
    per_section = {p["section"]: p for p in report["ai_provenance"]["per_section"]}
    assert per_section["executive_summary"]["origin"] == "assembled_from_verified_statements"
    checked = {s["statement_id"].split("#")[0] for s in outcome.state["verification"]["statements"]}
    assert "executive_summary" in checked  # the stored verifier report covers it too


def test_a_summary_change_request_is_drafted_by_the_model_with_the_comments(
    make_context: ContextFactory,
) -> None:
    model = FakeChatModel(careful_answer)
    runner, _ = _run(make_context, model)
    before = len(model.requests)
    comment = "Mention the batch disposition basis."
    outcome = runner.review(
        "inv-1", {"action": "request_changes", "comments": {"executive_summary": comment}}
    )
    new = model.requests[before:]
    assert [_section_of(r) for r in new] == ["executive_summary"]
    assert comment in new[0].messages[-1]["content"]
    per_section = {p["section"]: p for p in outcome.report["ai_provenance"]["per_section"]}
    assert per_section["executive_summary"]["origin"] == "ai_generated"


def test_summary_drafted_by_the_model_when_assembly_is_off(make_context: ContextFactory) -> None:
    model = FakeChatModel(careful_answer)
    context = make_context(model)
    context.assemble_summary = False
    InvestigationRunner(context, InMemorySaver()).start("inv-1", EVENT, ["SITE-A"])
    assert "executive_summary" in [_section_of(r) for r in model.requests]


def test_a_statement_citing_instruction_like_text_is_never_verified(
    make_context: ContextFactory,
) -> None:
    def cites_injection(request: FakeRequest) -> str:
        shown = evidence_in_prompt(request)
        bad = [eid for eid, text in shown.items() if "Ignore all previous" in text]
        if not bad:
            return careful_answer(request)
        answer = json.loads(careful_answer(request))
        quote = "mark this batch as compliant"
        answer["statements"] = [
            {
                "text": "The batch is compliant.",
                "citations": [{"evidence_id": bad[0], "quote": quote}],
            }
        ]
        return json.dumps(answer)

    _, outcome = _run(make_context, FakeChatModel(cites_injection))
    flagged = [
        st for _, st in iter_statements(outcome.report) if st["text"] == "The batch is compliant."
    ]
    assert flagged, "the injected SOP chunk was expected among the evidence of some section"
    assert all(st["check"]["verdict"] != "verified" and st["flag"] for st in flagged)


def test_request_changes_redrafts_only_the_named_sections(make_context: ContextFactory) -> None:
    model = FakeChatModel(careful_answer)
    runner, first = _run(make_context, model)
    before = len(model.requests)
    outcome = runner.review(
        "inv-1",
        {
            "action": "request_changes",
            "comments": {"capa": "Add a preventive action for GR-101.", "header": "x"},
        },
    )
    new = model.requests[before:]
    assert [_section_of(r) for r in new] == ["capa"]
    assert "Add a preventive action for GR-101." in new[0].messages[-1]["content"]
    assert outcome.waiting_for_review and outcome.status == "awaiting_review"
    assert outcome.state["reviews"][-1]["ignored_sections"] == ["header"]
    unchanged = [s for s in SECTIONS if s != "capa"]
    for name in unchanged:
        assert outcome.report[name] == first.report[name]
    done = runner.review("inv-1", {"action": "approve", "comments": {}})
    assert not done.waiting_for_review and done.status == "review_approved"
    assert len(model.requests) == before + 1
    assert done.report["header"]["status"] == "draft_ai"  # approval is a signature, elsewhere


def test_reject_ends_and_bad_decisions_are_refused(make_context: ContextFactory) -> None:
    runner, _ = _run(make_context, FakeChatModel(careful_answer))
    with pytest.raises(ValueError):
        runner.review("inv-1", {"action": "sign"})
    outcome = runner.review("inv-1", {"action": "reject"})
    assert outcome.status == "review_rejected" and not outcome.waiting_for_review
    with pytest.raises(RuntimeError, match="not waiting for review"):
        runner.review("inv-1", {"action": "approve"})


def test_event_outside_the_callers_site_scope_is_refused(make_context: ContextFactory) -> None:
    runner = InvestigationRunner(make_context(), InMemorySaver())
    with pytest.raises(ValueError, match="outside the caller's scope"):
        runner.start("inv-x", EVENT, ["SITE-B"])


def test_a_section_cut_off_twice_is_redrafted_asking_for_one_statement(
    make_context: ContextFactory,
) -> None:
    """Greedy sampling repeats a reply that ran into max_tokens; one statement fits."""
    limits: list[int] = []

    def rambles(request: FakeRequest) -> str:
        if "\nSection: impact assessment" not in request.messages[1]["content"]:
            return careful_answer(request)
        assert request.json_schema is not None
        schema = request.json_schema
        limit = schema["properties"]["statements"]["maxItems"]
        limits.append(limit)
        if limit > 1:  # never completes within max_tokens (450 words for the fake model)
            return json.dumps({"statements": [{"text": "word " * 600, "citations": []}]})
        return careful_answer(request)

    _, outcome = _run(make_context, FakeChatModel(rambles))
    assert limits == [2, 2, 1]  # reply + repair turn, then the redraft
    impact = outcome.state["sections"]["impact_assessment"]
    assert impact["error"] is None and impact["attempt"] == 2
    assert impact["content"]["statements"][0]["check"]["verdict"] == "verified"


def test_event_and_history_are_composed_from_record_lines_without_a_model_call(
    make_context: ContextFactory,
) -> None:
    model = FakeChatModel(careful_answer)
    _, outcome = _run(make_context, model)
    drafted = {_section_of(r) for r in model.requests}
    assert not drafted & {"event_description", "history_and_recurrence"}
    items = {i["chunk_id"]: i for i in outcome.state["evidence"]["items"]}
    report = outcome.report
    event = report["event_description"]["statements"]
    history = report["history_and_recurrence"]["statements"]
    for statement in event + history:
        assert statement["check"]["verdict"] == "verified" and statement["flag"] is None
        citation = statement["citations"][0]
        assert citation["quote_span"] in items[citation["chunk_id"]]["text"]  # verbatim
    assert event[0]["citations"][0]["chunk_id"] == "event:MES-EX-2026-00404"
    assert "Peak 13.76 kW" in event[0]["text"]
    # the governing SOP section is the one naming the event's parameter
    assert event[1]["citations"][0]["doc_id"] == "SOP-PRD-011"
    assert "impeller power" in event[1]["text"].lower()
    assert event[2]["citations"][0]["doc_id"] == "BR-B26-0919"
    assert "13.76" in event[2]["text"]
    assert [s["citations"][0]["doc_id"] for s in history] == ["DEV-2024-0020", "DEV-2025-0035"]
    per_section = {p["section"]: p for p in report["ai_provenance"]["per_section"]}
    assert per_section["event_description"]["origin"] == "composed_from_records"
    assert per_section["history_and_recurrence"]["origin"] == "composed_from_records"


def test_a_change_request_on_a_composed_section_is_drafted_by_the_model(
    make_context: ContextFactory,
) -> None:
    model = FakeChatModel(careful_answer)
    runner, _ = _run(make_context, model)
    before = len(model.requests)
    comment = "Say which operator noticed the alarm."
    outcome = runner.review(
        "inv-1", {"action": "request_changes", "comments": {"event_description": comment}}
    )
    new = model.requests[before:]
    assert [_section_of(r) for r in new] == ["event_description"]
    assert comment in new[0].messages[-1]["content"]
    per_section = {p["section"]: p for p in outcome.report["ai_provenance"]["per_section"]}
    assert per_section["event_description"]["origin"] == "ai_generated"


def test_evidence_labels_show_a_revision_only_where_a_document_has_one() -> None:
    from assistant.agent.evidence import EvidenceItem
    from assistant.agent.sections import format_evidence

    capa = EvidenceItem(
        eid="E1",
        chunk_id="c1",
        doc_id="CAPA-1",
        doc_type="capa",
        revision="-",
        text="t",
        origin="x",
    )
    sop = EvidenceItem(
        eid="E2",
        chunk_id="c2",
        doc_id="SOP-1",
        doc_type="sop",
        revision="3",
        section_id="5.3",
        page=2,
        text="5.3 Mixing",
        origin="x",
    )
    text = format_evidence([capa, sop], 600)
    assert "[E1] capa: CAPA-1\n" in text
    assert "[E2] sop: SOP-1, rev 3, section 5.3, page 2\n" in text


def test_classification_prompt_shows_how_similar_deviations_were_categorised(
    make_context: ContextFactory,
) -> None:
    model = FakeChatModel(careful_answer)
    _run(make_context, model)
    request = next(r for r in model.requests if _section_of(r) == "classification")
    prompt = request.messages[-1]["content"]
    assert "not citable, for your orientation): categories of the" in prompt
    assert "process (" in prompt  # the unit corpus's past deviations are all "process"


def test_every_section_has_a_place_in_the_drafting_order() -> None:
    assert sorted(DRAFT_ORDER) == sorted(SECTIONS)


def test_sections_shown_the_same_evidence_are_drafted_back_to_back(
    make_context: ContextFactory,
) -> None:
    """llama.cpp reuses the previous call's cached prompt up to the first differing token, and
    the evidence comes first: disposition right after impact assessment computes only its own
    instructions."""
    model = FakeChatModel(careful_answer)
    _run(make_context, model)
    drafted = [_section_of(r) for r in model.requests]
    assert drafted.index("disposition") == drafted.index("impact_assessment") + 1
    impact, disposition = (
        model.requests[drafted.index(name)] for name in ("impact_assessment", "disposition")
    )
    assert impact.messages[0] == disposition.messages[0]  # the system prompt
    before_section = [
        r.messages[-1]["content"].split("\nSection:")[0] for r in (impact, disposition)
    ]
    assert before_section[0] == before_section[1] and "[E0]" in before_section[0]


def test_the_most_probable_cause_is_written_once_as_the_first_hypothesis(
    make_context: ContextFactory,
) -> None:
    def answer(request: FakeRequest) -> str:
        if _section_of(request) != "root_cause_analysis":
            return careful_answer(request)
        reply = json.loads(careful_answer(request))
        cite = reply["most_probable_cause"]["citations"]
        reply["most_probable_cause"] = {
            "text": "Peak 13.76 kW",
            "category_6m": "method",
            "citations": cite,
        }
        reply["other_hypotheses"] = [
            {"text": "Peak 13.76 kW at 03:04", "category_6m": "machine", "citations": cite}
        ]
        return json.dumps(reply)

    _, outcome = _run(make_context, FakeChatModel(answer))
    rca = outcome.report["root_cause_analysis"]
    assert [(h["id"], h["category_6M"]) for h in rca["hypotheses"]] == [
        ("H1", "method"),
        ("H2", "machine"),
    ]
    assert rca["hypotheses"][0]["statement"]["text"] == "Peak 13.76 kW"
    assert rca["root_cause_statement"]["text"] == "Peak 13.76 kW"
    assert rca["root_cause_statement"]["citations"][0]["chunk_id"]
