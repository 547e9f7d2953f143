"""Markdown rendering of a draft report, citations and verification flags included."""

from __future__ import annotations

from typing import Any

SECTION_TITLES = {
    "executive_summary": "Executive summary",
    "classification": "Classification",
    "event_description": "Event description",
    "timeline": "Timeline",
    "impact_assessment": "Impact assessment",
    "history_and_recurrence": "History and recurrence",
    "root_cause_analysis": "Root cause analysis",
    "capa": "CAPA",
    "disposition": "Disposition",
}


class _Citations:
    """Numbers citations [1], [2] ... in order of first use, for the reference list."""

    def __init__(self) -> None:
        self.order: dict[tuple[str, str], int] = {}
        self.rows: list[dict[str, Any]] = []

    def mark(self, citation: dict[str, Any]) -> str:
        key = (citation["chunk_id"], citation["quote_span"])
        if key not in self.order:
            self.order[key] = len(self.rows) + 1
            self.rows.append(citation)
        return f"[{self.order[key]}]"


def _statement(st: dict[str, Any], cites: _Citations) -> str:
    marks = "".join(cites.mark(c) for c in st.get("citations") or [])
    line = f"{st['text']} {marks}".rstrip()
    check = st.get("check") or {}
    if st.get("flag"):
        line = f"~~{line}~~ **[{st['flag']}: {'; '.join(check.get('reasons') or [])}]**"
    return f"- {line}"


def _statements(section: dict[str, Any], cites: _Citations) -> list[str]:
    return [_statement(st, cites) for st in section.get("statements") or []]


def render_markdown(report: dict[str, Any]) -> str:
    h = report["header"]
    cites = _Citations()
    out = [
        f"# Investigation draft {h['report_id']} (AI draft, not approved)",
        "",
        f"Site {h['site']} | area {h.get('area') or '-'} | line {h.get('line') or '-'} | "
        f"opened {h['dates']['opened_at']} | due {h['dates']['due_at']}",
        "",
    ]
    for name, title in SECTION_TITLES.items():
        section = report.get(name)
        if not section:
            continue
        out += [f"## {title}", ""]
        if name == "timeline":
            out += [f"- {r['timestamp']}: {r['event']} ({r['source_ref']})" for r in section]
        elif name == "event_description":
            out.append(f"What happened: {section['what_happened']}")
            for row in section.get("expected_vs_actual") or []:
                out.append(
                    f"- {row['parameter']}: limits {row['limit_low']} to {row['limit_high']} "
                    f"{row.get('unit') or ''}, observed {row['observed']} ({row.get('duration')})"
                )
            req = section.get("requirement_deviated_from")
            if req:
                out.append(
                    f"- Requirement: {req['doc_id']} rev {req['version']} section {req['section']}"
                )
            for ref in section.get("process_data_refs") or []:
                out.append(f"- Plot: {ref['plot_ref']}")
            out += _statements(section, cites)
        elif name == "classification":
            out.append(
                f"Category (suggested): {section.get('category')}; criticality suggested: "
                f"{section.get('criticality_suggested')}; final: (QA decision)"
            )
            out += _statements(section, cites)
        elif name == "history_and_recurrence":
            out.append(
                f"Recurrence (computed): {section['recurrence_determination']}; counts: "
                + ", ".join(f"{k} {v}" for k, v in section["recurrence_counts"].items())
            )
            out += [
                "",
                "| record | similarity | shared factors | failure mode | CAPAs | CAPA effective |",
                "|---|---|---|---|---|---|",
            ]
            for r in section["similar_records"]:
                out.append(
                    f"| {r['record_id']} | {r['similarity']:.3f} | {', '.join(r['shared_factors'])} | "
                    f"{r.get('failure_mode') or '-'} | {', '.join(r['capa_ids']) or '-'} | {r.get('capa_effective') or '-'} |"
                )
            out.append("")
            out += _statements(section, cites)
        elif name == "root_cause_analysis":
            for hyp in section.get("hypotheses") or []:
                out.append(f"Hypothesis {hyp['id']} ({hyp.get('category_6M')}):")
                out.append(_statement(hyp["statement"], cites))
            if section.get("root_cause_statement"):
                out.append("Most probable cause (suggested):")
                out.append(_statement(section["root_cause_statement"], cites))
            out.append("Conclusion level: (investigator decision)")
        elif name == "capa":
            for capa in section.get("linked_capas") or []:
                out.append(
                    f"- Linked {capa['capa_id']}: {capa.get('title')} (effectiveness: {capa.get('effectiveness_result')})"
                )
            for action in section.get("proposed_actions") or []:
                out.append(
                    f"- Proposed {action['kind']} action {action['id']}: {action['description']}"
                )
            if section.get("effectiveness_check"):
                out.append(
                    f"- Effectiveness criterion: {section['effectiveness_check'].get('criteria')}"
                )
            out += _statements(section, cites)
        elif name == "disposition":
            out.append(
                f"Recommendation (suggested): {section.get('recommendation_suggested')}; final: (QA / QP decision)"
            )
            out += _statements(section, cites)
        else:
            out += _statements(section, cites)
        out.append("")
    out += ["## Sources", ""]
    for number, c in enumerate(cites.rows, start=1):
        where = ", ".join(
            x
            for x in (
                c.get("doc_id"),
                f"rev {c['doc_version']}" if c.get("doc_version") else "",
                f"section {c['section_or_step']}" if c.get("section_or_step") else "",
                f"page {c['page']}" if c.get("page") else "",
            )
            if x
        )
        found = "quote found" if c.get("quote_found") else "QUOTE NOT FOUND"
        out.append(f'[{number}] {where}: "{c["quote_span"]}" ({found}; chunk {c["chunk_id"]})')
    prov = report.get("ai_provenance") or {}
    model = prov.get("model") or {}
    ver = prov.get("verification") or {}
    out += [
        "",
        "## AI provenance",
        "",
        f"Model {model.get('name')} ({model.get('backend')}, sha256 {model.get('file_sha256') or '-'}); "
        f"statements verified {ver.get('n_verified')}/{ver.get('n_statements')}; "
        f"run {prov.get('run_id')}; draft hash {prov.get('draft_hash')}",
    ]
    return "\n".join(out) + "\n"
