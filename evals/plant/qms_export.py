"""QMS exports (CSV before the 2024 QMS migration, JSONL after) and CAPA PDFs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from evals.plant.catalog import EQUIPMENT, PRODUCTS, SITE_ID
from evals.plant.history import Capa, Deviation, History
from evals.plant.pdf_layout import PdfBuilder

DEVIATION_FIELDS = (
    "record_type",
    "id",
    "title",
    "occurred_at",
    "opened_at",
    "closed_at",
    "site",
    "building",
    "area",
    "line",
    "equipment",
    "product_code",
    "product_name",
    "batch_ids",
    "category",
    "failure_mode",
    "classification",
    "description",
    "immediate_actions",
    "root_cause",
    "root_cause_6m",
    "capa_ids",
    "status",
)
CAPA_FIELDS = (
    "record_type",
    "id",
    "title",
    "opened_at",
    "site",
    "equipment",
    "product_code",
    "deviation_ids",
    "problem",
    "root_cause",
    "actions",
    "owner",
    "due_date",
    "effectiveness_result",
    "effectiveness_checked_at",
    "status",
)
QMS_MIGRATION_YEAR = 2024  # records opened before this year come from the old QMS (CSV)
# Equipment without a line: the room whose conditions it governs.
_AREA_OVERRIDE = {"AHU-B1-02": "Compression"}


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def deviation_record(dev: Deviation) -> dict[str, Any]:
    product = PRODUCTS[dev.product_code]
    equipment = EQUIPMENT[dev.equipment]
    return {
        "record_type": "deviation",
        "id": dev.id,
        "title": dev.title,
        "occurred_at": _iso(dev.occurred_at),
        "opened_at": _iso(dev.opened_at),
        "closed_at": _iso(dev.closed_at),
        "site": SITE_ID,
        "building": equipment.building,
        "area": _AREA_OVERRIDE.get(dev.equipment, equipment.area),
        "line": dev.line,
        "equipment": [dev.equipment],
        "product_code": dev.product_code,
        "product_name": f"{product.name} {product.strength}",
        "batch_ids": [dev.batch_id],
        "category": dev.mode.category,
        "failure_mode": dev.mode.id,
        "classification": dev.classification,
        "description": dev.description,
        "immediate_actions": dev.immediate_actions,
        "root_cause": dev.root_cause,
        "root_cause_6m": dev.root_cause_6m,
        "capa_ids": dev.capa_ids,
        "status": dev.status,
    }


def capa_record(capa: Capa) -> dict[str, Any]:
    return {
        "record_type": "capa",
        "id": capa.id,
        "title": capa.title,
        "opened_at": _day(capa.opened_at),
        "site": SITE_ID,
        "equipment": capa.equipment,
        "product_code": capa.product_code,
        "deviation_ids": capa.deviation_ids,
        "problem": capa.problem,
        "root_cause": capa.root_cause,
        "actions": capa.actions,
        "owner": capa.owner,
        "due_date": _day(capa.due_date),
        "effectiveness_result": capa.effectiveness_result,
        "effectiveness_checked_at": _day(capa.effectiveness_checked_at),
        "status": capa.status,
    }


def _write_csv(path: Path, fields: tuple[str, ...], records: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        for record in records:
            writer.writerow(
                [";".join(v) if isinstance(v, list) else v for v in (record[f] for f in fields)]
            )


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_qms_exports(history: History, out_dir: Path) -> dict[str, int]:
    qms = out_dir / "qms"
    old_devs = [
        deviation_record(d) for d in history.deviations if d.opened_at.year < QMS_MIGRATION_YEAR
    ]
    new_devs = [
        deviation_record(d) for d in history.deviations if d.opened_at.year >= QMS_MIGRATION_YEAR
    ]
    old_capas = [capa_record(c) for c in history.capas if c.opened_at.year < QMS_MIGRATION_YEAR]
    new_capas = [capa_record(c) for c in history.capas if c.opened_at.year >= QMS_MIGRATION_YEAR]
    _write_csv(qms / "deviations_2021-2023.csv", DEVIATION_FIELDS, old_devs)
    write_jsonl(qms / "deviations_2024-2026.jsonl", new_devs)
    _write_csv(qms / "capas.csv", CAPA_FIELDS, old_capas)
    write_jsonl(qms / "capas.jsonl", new_capas)
    return {"deviations": len(old_devs) + len(new_devs), "capas": len(old_capas) + len(new_capas)}


def capa_pdf_selection(history: History) -> list[Capa]:
    """The CAPAs also kept as signed PDF forms: the systemic ones of the 'hidden cause' stories."""
    stories = {"fbd_inlet_temp_overshoot", "gowning_procedure_gap", "label_reconciliation_gap"}
    return [c for c in history.capas if c.systemic and c.mode_id in stories]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def render_capa_pdf(capa: Capa, out_dir: Path) -> Path:
    pdf = PdfBuilder(footer_label=capa.id)
    pdf.header_block(
        [
            ("Document type", "CAPA"),
            ("CAPA number", capa.id),
            ("Title", capa.title),
            ("Site", SITE_ID),
            ("Opened", _day(capa.opened_at)),
            ("Owner", capa.owner),
            ("Due date", _day(capa.due_date)),
            ("Equipment", ", ".join(capa.equipment)),
            ("Product", capa.product_code),
            ("Related deviations", ", ".join(capa.deviation_ids)),
            ("Status", capa.status),
            ("Effectiveness result", capa.effectiveness_result),
            ("Effectiveness checked", _day(capa.effectiveness_checked_at) or "-"),
        ]
    )
    pdf.heading("1 PROBLEM")
    pdf.paragraph(capa.problem)
    pdf.heading("2 ROOT CAUSE")
    pdf.paragraph(capa.root_cause)
    pdf.heading("3 ACTIONS")
    rows = [
        [str(i), _sentence(action), capa.owner, _day(capa.due_date)]
        for i, action in enumerate(capa.actions.split("; "), start=1)
    ]
    pdf.table(("No.", "Action", "Owner", "Due date"), rows, (0.6, 5.5, 2.2, 1.3))
    pdf.heading("4 EFFECTIVENESS CHECK")
    pdf.paragraph(
        "Criterion: no recurrence of the same failure mode on the equipment in scope within 6 "
        "months "
        f"of implementation. Result: {capa.effectiveness_result}."
    )
    path = out_dir / "capas" / f"{capa.id}.pdf"
    pdf.save(path, title=f"{capa.id} {capa.title}", subject="CAPA")
    return path
