"""Everything the investigation page shows, gathered in one read transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.evidence import EvidenceIndex
from api.records import investigations, jobs
from api.records.accounts import Principal
from api.records.canonical import utc_now
from api.records.models import (
    ChatMessage,
    DraftVersion,
    Investigation,
    InvestigationStatus,
    Job,
    Review,
    Role,
    SectionEdit,
    Signature,
)
from api.records.report_rules import EDITABLE_SECTIONS, missing_decisions
from api.routers.investigations import username_of
from api.web.draft_view import SECTION_TITLES, DraftView, build_view
from api.web.plot import Plot, build_plot
from api.web.progress import GraphProgress, read_progress
from api.web.section_edit import EditField, edit_fields

S = InvestigationStatus
EDITABLE_STATES = (S.awaiting_review.value, S.changes_requested.value)


@dataclass(frozen=True)
class SimilarRow:
    record_id: str
    title: str
    when: str
    similarity: float | None
    shared_factors: list[str]
    failure_mode: str
    capas: list[str]
    capa_effective: str


@dataclass(frozen=True)
class SimilarPanel:
    rows: list[SimilarRow]
    recurrence: str
    counts: dict[str, Any]
    source: str  # "draft" (as the agent recorded it) or "index" (looked up now)
    note: str = ""


@dataclass
class Page:
    investigation: Investigation
    payload: dict[str, Any]
    days_to_due: int
    versions: list[tuple[DraftVersion, str]]
    shown: DraftVersion | None
    is_current: bool
    view: DraftView | None
    edits_by_section: dict[str, list[tuple[SectionEdit, str]]]
    reviews: list[tuple[Review, str]]
    signatures: list[Signature]
    chat: list[tuple[ChatMessage, str]]
    jobs: list[Job]
    progress: GraphProgress | None
    plot: Plot | None
    similar: SimilarPanel | None
    missing: list[str]
    forms: dict[str, list[EditField]] = field(default_factory=dict)
    can_edit: bool = False
    can_review: bool = False
    can_submit: bool = False
    can_redraft: bool = False
    can_chat: bool = False
    comment_sections: list[tuple[str, str]] = field(default_factory=list)


def days_until(moment: datetime, now: datetime | None = None) -> int:
    return int((moment - (now or utc_now())).total_seconds() // 86400)


def _similar_from_draft(content: dict[str, Any]) -> SimilarPanel | None:
    section = content.get("history_and_recurrence")
    if not isinstance(section, dict):
        return None
    rows = [
        SimilarRow(
            record_id=str(r.get("record_id") or ""),
            title=str(r.get("title") or ""),
            when=str(r.get("occurred_at") or ""),
            similarity=r.get("similarity")
            if isinstance(r.get("similarity"), int | float)
            else None,
            shared_factors=[str(f) for f in r.get("shared_factors") or []],
            failure_mode=str(r.get("failure_mode") or ""),
            capas=[str(c) for c in r.get("capa_ids") or []],
            capa_effective=str(r.get("capa_effective") or ""),
        )
        for r in section.get("similar_records") or []
        if isinstance(r, dict)
    ]
    return SimilarPanel(
        rows=rows,
        recurrence=str(section.get("recurrence_determination") or ""),
        counts=dict(section.get("recurrence_counts") or {}),
        source="draft",
    )


def _similar_from_index(
    index: EvidenceIndex | None, payload: dict[str, Any], site: str
) -> SimilarPanel | None:
    if index is None:
        return None
    from retrieval.similar import EventQuery, SimilarQueryError

    try:
        result = index.similar(EventQuery.from_payload(payload, (site,)), 5)
    except SimilarQueryError as exc:
        return SimilarPanel([], "", {}, "index", f"no similar-event lookup: {exc}")
    except Exception as exc:  # the page still renders when the index fails
        return SimilarPanel([], "", {}, "index", f"the index could not be searched: {exc}")
    rows = [
        SimilarRow(
            record_id=e.doc_id,
            title=e.title or "",
            when=e.event_date or "",
            similarity=round(e.scores.final, 3),
            shared_factors=list(e.shared_factors),
            failure_mode=e.failure_mode or "",
            capas=list(e.capa_ids),
            capa_effective="",
        )
        for e in result.events
    ]
    same_equipment = sum(
        1 for r in rows if any(f.startswith("same equipment") for f in r.shared_factors)
    )
    return SimilarPanel(
        rows,
        "",
        {"similar_found": len(rows), "same_equipment": same_equipment},
        "index",
    )


def build_page(
    session: Session,
    principal: Principal,
    investigation_id: str,
    *,
    version: int | None,
    data_dir: Any,
    index: EvidenceIndex | None,
) -> Page:
    inv = investigations.get_visible(session, principal, investigation_id)
    all_versions = investigations.versions(session, inv.id)
    shown: DraftVersion | None = None
    if all_versions:
        wanted = version or inv.current_version
        shown = next((v for v in all_versions if v.version == wanted), None)
        if shown is None:
            shown = investigations.get_version(session, inv.id, wanted)  # raises NotFound
    is_current = shown is not None and shown.version == inv.current_version
    content = shown.content if shown else {}
    edits: dict[str, list[tuple[SectionEdit, str]]] = {}
    for edit in investigations.section_edits(session, inv.id):
        if shown is not None and edit.to_version <= shown.version:
            edits.setdefault(edit.section, []).append((edit, username_of(session, edit.user_id)))
    status = inv.status
    role = principal.role
    editor = role in (Role.investigator, Role.qa_approver)
    page = Page(
        investigation=inv,
        payload=dict(inv.payload or {}),
        days_to_due=days_until(inv.due_at),
        versions=[(v, username_of(session, v.author_user_id)) for v in all_versions],
        shown=shown,
        is_current=is_current,
        view=build_view(content) if shown else None,
        edits_by_section=edits,
        reviews=[
            (r, username_of(session, r.reviewer_id))
            for r in investigations.reviews(session, inv.id)
        ],
        signatures=investigations.signatures(session, inv.id),
        chat=[
            (m, username_of(session, m.author_user_id) if m.role == "user" else "assistant")
            for m in investigations.chat_messages(session, inv.id)
        ],
        jobs=jobs.jobs_for_investigation(session, inv.id),
        progress=None,
        plot=build_plot(dict(inv.payload or {})),
        similar=None,
        missing=missing_decisions(content) if shown else [],
        can_edit=editor and is_current and status in EDITABLE_STATES,
        can_review=role is Role.qa_approver and is_current and status == S.awaiting_review.value,
        can_submit=editor and is_current and status == S.changes_requested.value,
        can_redraft=role is Role.investigator and status == S.failed.value,
        can_chat=role is not Role.admin,
    )
    if status == S.drafting.value:
        from assistant.agent.checkpoint import checkpoint_path

        page.progress = read_progress(checkpoint_path(data_dir), inv.id)
    if page.can_edit:
        page.forms = {
            name: edit_fields(name, content[name]) for name in content if name in EDITABLE_SECTIONS
        }
    page.comment_sections = [
        (name, SECTION_TITLES.get(name, name)) for name in content if name in EDITABLE_SECTIONS
    ]
    panel = _similar_from_draft(content) if shown else None
    if panel is None or not panel.rows:
        panel = _similar_from_index(index, page.payload, inv.site) or panel
    page.similar = panel
    return page
