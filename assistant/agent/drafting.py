"""Draft one section: prompt with its evidence, schema-constrained answer, cited statements.

The model only writes statements, citations (evidence id + quote), hypotheses and proposals.
Identifiers, dates, limits, figures, the similar-event list and recurrence counts are filled
from data elsewhere (`assemble`). A reply that does not fit the schema after the model's own
repair turn leaves the section empty with the error recorded, for the investigator to write.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from assistant.agent.evidence import EvidenceItem, EvidenceSet
from assistant.agent.report import Citation, Statement
from assistant.agent.sections import SectionSpec, answer_schema, format_evidence
from assistant.llm import ChatModel, LlmTimeoutError, StructuredOutputError, system, user
from assistant.prompts import Prompt, load_prompt


@dataclass(frozen=True)
class DraftSettings:
    max_tokens: int = 450
    snippet_chars: int = 600
    timeout_s: float | None = None


def citation_of(item: EvidenceItem, quote: str) -> Citation:
    """A citation of one evidence chunk, labelled with its document, revision, section, page."""
    return Citation(
        chunk_id=item.chunk_id,
        doc_id=item.doc_id,
        doc_version=item.revision,
        doc_type=item.doc_type,
        section_or_step=item.section_id,
        page=item.page,
        quote_span=quote,
    )


def _citations(raw: list[Any], index: dict[str, EvidenceItem]) -> list[dict[str, Any]]:
    out = []
    for cite in raw:
        item = index.get(cite.evidence_id)
        if item is None:  # unreachable with a grammar; kept for servers without one
            out.append(Citation(chunk_id=f"unknown:{cite.evidence_id}", quote_span=cite.quote))
            continue
        out.append(citation_of(item, cite.quote))
    return [c.model_dump(mode="json") for c in out]


def _statement(raw: Any, index: dict[str, EvidenceItem]) -> dict[str, Any]:
    return Statement(text=raw.text.strip(), citations=[]).model_dump(mode="json") | {
        "citations": _citations(raw.citations, index)
    }


def section_content(spec: SectionSpec, answer: BaseModel, ev: EvidenceSet) -> dict[str, Any]:
    """The report section (JSON dict) an answer becomes. Only whitelisted fields are copied:
    whatever else a model emits, human-only decisions included, is never read."""
    index = ev.by_eid()
    a: Any = answer
    content: dict[str, Any] = {}
    if spec.kind == "root_cause":
        content["hypotheses"] = [
            {
                "id": f"H{i}",
                "statement": _statement(h, index),
                "category_6M": h.category_6m,
                "evidence_for": _citations(h.citations, index),
                "evidence_against": [],
                "status": "open",
            }
            for i, h in enumerate([a.most_probable_cause, *a.other_hypotheses], start=1)
        ]
        content["root_cause_statement"] = _statement(a.most_probable_cause, index)
        return content
    content["statements"] = [_statement(s, index) for s in a.statements]
    if spec.kind == "classification":
        content["category"] = a.category
        content["criticality_suggested"] = a.criticality_suggested
    elif spec.kind == "capa":
        content["proposed_actions"] = [
            {"id": f"A{i}", "description": x.description.strip(), "kind": x.kind}
            for i, x in enumerate(a.actions, start=1)
        ]
        content["effectiveness_check"] = {"criteria": a.effectiveness_criterion.strip()}
    elif spec.kind == "disposition":
        content["recommendation_suggested"] = a.recommendation
    return content


def history_facts(ev: EvidenceSet) -> str:
    same_equipment = sum(
        1
        for row in ev.similar
        if any(f.startswith("same equipment") for f in row["shared_factors"])
    )
    modes = ", ".join(f"{m['failure_mode']} ({m['score']:.2f})" for m in ev.failure_modes[:2])
    return (
        f"{len(ev.similar)} similar past deviations found, {same_equipment} on the same "
        f"equipment; most likely failure modes: {modes or 'none'}."
    )


def category_facts(ev: EvidenceSet) -> str:
    """How the similar past deviations were categorised (their records' labels, most common
    first): orientation for the classification suggestion, as the failure modes are."""
    counts = Counter(str(row["category"]) for row in ev.similar if row.get("category"))
    if not counts:
        return "no similar past deviation found."
    listed = ", ".join(f"{name} ({n})" for name, n in counts.most_common())
    return f"categories of the {len(ev.similar)} similar past deviations: {listed}."


def build_messages(
    spec: SectionSpec,
    ev: EvidenceSet,
    event_id: str,
    settings: DraftSettings,
    feedback: str = "",
    reviewer_comments: str = "",
) -> tuple[list[Any], list[Prompt], list[str]]:
    eids = spec.evidence(ev)
    items = ev.get(eids)
    system_prompt = load_prompt("draft_system")
    section_prompt = load_prompt(spec.prompt)
    used = [system_prompt, section_prompt]
    extra = ""
    if feedback:
        fb = load_prompt("draft_feedback")
        used.append(fb)
        extra += fb.render(problems=feedback)
    if reviewer_comments:
        rc = load_prompt("draft_reviewer_comments")
        used.append(rc)
        extra += rc.render(comments=reviewer_comments)
    text = section_prompt.render(
        event_id=event_id,
        evidence=format_evidence(items, settings.snippet_chars),
        feedback=extra,
        max_statements=spec.max_statements,
        history_facts=history_facts(ev),
        category_facts=category_facts(ev),
    )
    return [system(system_prompt.render()), user(text)], used, [i.eid for i in items]


def draft_section(
    spec: SectionSpec,
    model: ChatModel,
    ev: EvidenceSet,
    event_id: str,
    settings: DraftSettings,
    *,
    attempt: int,
    feedback: str = "",
    reviewer_comments: str = "",
) -> dict[str, Any]:
    """One drafting call; returns the section record kept in the graph state."""
    messages, prompts, eids = build_messages(
        spec, ev, event_id, settings, feedback, reviewer_comments
    )
    schema = answer_schema(spec.kind, tuple(eids), spec.max_statements)
    started = time.perf_counter()
    record: dict[str, Any] = {
        "section": spec.name,
        "attempt": attempt,
        "prompts": [p.ref for p in prompts],
        "prompt_sha256": {p.ref: p.sha256 for p in prompts},
        "evidence": eids,
        "reviewer_comments": reviewer_comments or None,
    }
    try:
        completion = model.complete(
            messages, schema=schema, max_tokens=settings.max_tokens, timeout_s=settings.timeout_s
        )
    except StructuredOutputError as exc:
        record.update(
            content={},
            error=f"{exc} (raw reply kept in the call record)",
            truncated=exc.truncated,
            call={"raw_texts": exc.raw_texts, "errors": exc.errors},
            seconds=round(time.perf_counter() - started, 3),
        )
        return record
    except LlmTimeoutError as exc:
        # This section only: the other sections are still drafted, and this one is left for
        # the investigator to write. It is not redrafted (a second call would wait as long).
        record.update(
            content={},
            error=f"the model did not answer in time: {exc}",
            timed_out=True,
            seconds=round(time.perf_counter() - started, 3),
        )
        return record
    record.update(
        content=section_content(spec, completion.value, ev),
        error=None,
        call=completion.provenance(),
        seconds=round(time.perf_counter() - started, 3),
    )
    return record
