"""The graph's nodes: plain functions of (state, runtime) returning a state update.

Each node is safe to re-run after a crash: it reads only the state of the last checkpoint,
its only side effect outside the state is the plot file (written atomically to a path fixed
by the event), and a section already drafted is never drafted again on resume.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ValidationError

from assistant.agent.anomaly import Anomaly, AnomalyError, normalise_event
from assistant.agent.assemble import assemble_report
from assistant.agent.characterise import characterise, render_plot
from assistant.agent.context import AgentContext
from assistant.agent.drafting import draft_section as run_draft
from assistant.agent.evidence import EvidenceSet, gather_evidence
from assistant.agent.from_records import compose_section
from assistant.agent.provenance import build_provenance
from assistant.agent.sections import SECTIONS
from assistant.agent.state import InvestigationState
from assistant.agent.summary import SUMMARY_SECTION, compose_summary, is_composed
from assistant.agent.verify import mark_unsupported, needs_redraft, verify_sections

Update = dict[str, Any]


def intake(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    anomaly = normalise_event(state["event"])
    sites = [s.strip() for s in state.get("sites") or [] if s.strip()]
    if not sites:
        raise AnomalyError("a site scope is required (the sites the caller may see)")
    if anomaly.site not in sites:
        raise AnomalyError(f"event site {anomaly.site!r} is outside the caller's scope {sites}")
    return {
        "anomaly": anomaly.model_dump(mode="json"),
        "sites": sites,
        "opened_at": runtime.context.clock().isoformat(),
        "pending": list(runtime.context.drafted_sections),
        "feedback": {},
        "comments": {},
        "status": "characterising",
    }


def characterise_event(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    anomaly = Anomaly.model_validate(state["anomaly"])
    figures = characterise(anomaly)
    if figures is None:
        return {"characterisation": None, "status": "gathering_evidence"}
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in anomaly.event_id)
    path = runtime.context.plot_dir / safe_id / f"{anomaly.payload_sha256[:12]}.png"
    render_plot(anomaly, figures, path)
    data = figures.as_dict() | {"plot_path": str(path)}
    return {"characterisation": data, "status": "gathering_evidence"}


def gather(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    anomaly = Anomaly.model_validate(state["anomaly"])
    from assistant.agent.characterise import Characterisation

    raw = state.get("characterisation")
    figures = Characterisation(**raw) if raw else None
    ctx = runtime.context
    evidence = gather_evidence(anomaly, figures, ctx.evidence_sources, state["sites"])
    composed = {
        name: compose_section(name, evidence, state["anomaly"]) for name in ctx.composed_sections
    }
    return {
        "evidence": evidence.model_dump(mode="json"),
        "sections": composed,
        "status": "drafting",
    }


def draft_next_section(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    """Draft the first pending section (one per step, so each is checkpointed on its own)."""
    pending = list(state.get("pending") or [])
    if not pending:
        return {}
    name = pending[0]
    ctx = runtime.context
    previous = (state.get("sections") or {}).get(name)
    feedback = (state.get("feedback") or {}).get(name, "")
    comments = (state.get("comments") or {}).get(name, "")
    attempt = previous["attempt"] + 1 if previous and feedback else 1
    spec = SECTIONS[name]
    if previous and feedback and previous.get("truncated"):
        # Cut off at max_tokens even after the repair turn: asking for the same number of
        # statements again (greedy sampling) gets the same reply; one statement fits.
        spec = replace(spec, max_statements=1)
    record = run_draft(
        spec,
        ctx.chat_model,
        EvidenceSet.model_validate(state["evidence"]),
        state["anomaly"]["event_id"],
        ctx.draft,
        attempt=attempt,
        feedback=feedback,
        reviewer_comments=comments,
    )
    if previous and feedback:
        record["previous_attempt"] = {
            k: previous.get(k) for k in ("content", "verified", "n_statements", "attempt", "error")
        }
        # every attempt's outcome stays on the record (provenance, `devia bench draft`)
        record["earlier_attempts"] = [
            *(previous.get("earlier_attempts") or []),
            {
                k: previous.get(k)
                for k in ("attempt", "verified", "n_statements", "seconds", "error")
            },
        ]
    return {"sections": {name: record}, "pending": pending[1:]}


def verify(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    ctx = runtime.context
    evidence = EvidenceSet.model_validate(state["evidence"])
    checked, _ = verify_sections(state.get("sections") or {}, evidence, ctx.verifier)
    chosen = {name: _best_attempt(record) for name, record in checked.items()}
    checked, report = verify_sections(chosen, evidence, ctx.verifier)
    retry = [
        name
        for name in ctx.sections
        if name in checked
        and not is_composed(checked[name])
        and needs_redraft(checked[name], ctx.redraft_when)
        and checked[name]["attempt"] < ctx.max_attempts
    ]
    if retry:
        feedback = {
            name: "\n".join(checked[name]["failed"]) or str(checked[name].get("error"))
            for name in retry
        }
        return {"sections": checked, "pending": retry, "feedback": feedback, "status": "redrafting"}
    summary = checked.get(SUMMARY_SECTION)
    if (
        ctx.assemble_summary
        and SUMMARY_SECTION in ctx.sections
        and (summary is None or is_composed(summary))
    ):  # composed again after every redraft, so it follows the sections it summarises
        chosen = {**checked, SUMMARY_SECTION: compose_summary(checked)}
        checked, report = verify_sections(chosen, evidence, ctx.verifier)
    final = {name: mark_unsupported(record) for name, record in checked.items()}
    return {
        "sections": final,
        "pending": [],
        "feedback": {},
        "comments": {},
        "verification": report.model_dump(mode="json"),
        "status": "assembling",
    }


def _best_attempt(record: dict[str, Any]) -> dict[str, Any]:
    """After a retry keep the attempt with more verified statements (ties: the newer)."""
    previous = record.get("previous_attempt")
    if not previous:
        return record
    if (previous.get("verified") or 0) > (record.get("verified") or 0):
        return {**record, **previous, "kept": "previous_attempt", "previous_attempt": None}
    return {**record, "previous_attempt": None}


def record_provenance(state: InvestigationState, runtime: Runtime[AgentContext]) -> Update:
    ctx = runtime.context
    anomaly = Anomaly.model_validate(state["anomaly"])
    evidence = EvidenceSet.model_validate(state["evidence"])
    sections = state.get("sections") or {}
    provenance = build_provenance(
        run_id=_thread_id(runtime),
        model=ctx.chat_model,
        sections=sections,
        evidence=evidence,
        verification=state.get("verification") or {},
        timings=state.get("timings") or [],
        reviews=state.get("reviews") or [],
    )
    report = assemble_report(
        anomaly=anomaly,
        figures=state.get("characterisation"),
        ev=evidence,
        sections=sections,
        opened_at=datetime.fromisoformat(state["opened_at"]),
        provenance=provenance,
    )
    return {"report": report, "status": "awaiting_review"}


def _thread_id(runtime: Runtime[AgentContext]) -> str | None:
    info = getattr(runtime, "execution_info", None)
    return getattr(info, "thread_id", None)


class ReviewDecision(BaseModel):
    action: Literal["approve", "request_changes", "reject"]
    comments: dict[str, str] = {}
    reviewer: str | None = None


def human_review(state: InvestigationState) -> Command[str]:
    """Pause for a person. Nothing runs before `interrupt()`: on resume LangGraph re-enters
    this node from its start, so any work placed before it would be done twice."""
    raw = interrupt(
        {
            "report": state["report"],
            "actions": ["approve", "request_changes", "reject"],
            "redraftable_sections": [s for s in state.get("sections") or {} if s in SECTIONS],
        }
    )
    try:
        decision = ReviewDecision.model_validate(raw)
    except ValidationError as exc:
        return Command(
            goto="human_review",  # ask again
            update={"reviews": [{"action": "invalid", "error": str(exc), "raw": str(raw)[:500]}]},
        )
    entry = decision.model_dump(mode="json")
    if decision.action != "request_changes":
        status = "review_approved" if decision.action == "approve" else "review_rejected"
        return Command(goto=END, update={"review": entry, "reviews": [entry], "status": status})
    drafted = state.get("sections") or {}
    redraft = [s for s in drafted if s in decision.comments]
    entry["ignored_sections"] = [s for s in decision.comments if s not in drafted]
    if not redraft:
        entry["error"] = "no AI-drafted section named in the comments; nothing to redraft"
        return Command(goto="human_review", update={"review": entry, "reviews": [entry]})
    return Command(
        goto="draft_section",
        update={
            "review": entry,
            "reviews": [entry],
            "pending": redraft,
            "comments": {s: decision.comments[s] for s in redraft},
            "feedback": {},
            "status": "redrafting",
        },
    )


def after_draft(state: InvestigationState) -> Literal["draft_section", "verify"]:
    return "draft_section" if state.get("pending") else "verify"


def after_verify(state: InvestigationState) -> Literal["draft_section", "record_provenance"]:
    return "draft_section" if state.get("pending") else "record_provenance"
