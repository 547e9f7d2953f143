"""Executed batch records: a batch plan (product, line, equipment, start, excursions), its PDF."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from evals.plant.catalog import (
    ALTERNATES,
    LINE_ROLES,
    PRODUCTS,
    SITE_ID,
    MbrParameter,
    format_limits,
    steps_for,
)
from evals.plant.pdf_layout import SCRIPT_FONT, PdfBuilder, TableStyle

STEP_TABLE_HEADER = (
    "Step",
    "Instruction",
    "Parameter",
    "Limits",
    "Actual",
    "Unit",
    "Performed",
    "Verified",
    "Timestamp",
)
# Hours from manufacturing start to each MBR step (by the step's major number).
_OSD_OFFSET_H = {1: 0, 2: 1.5, 3: 4, 4: 4.5, 6: 6, 7: 9, 8: 22, 9: 46, 10: 54, 11: 70}
_STERILE_OFFSET_H = {1: 0, 2: 1, 3: 3, 4: 4.5, 5: 5, 6: 7, 7: 14, 8: 16}
_OPERATORS = ("JM", "AK", "RB", "TS", "LP", "MW", "HN", "CD", "FO", "GS")
_VERIFIERS = ("EL", "SV", "PD", "KR")


@dataclass(frozen=True)
class Excursion:
    value: float
    comment: str
    handwritten: bool = False


@dataclass
class BatchPlan:
    batch_id: str
    product_code: str
    line: str
    equipment: dict[str, str]  # role -> equipment tag
    start: datetime
    excursions: dict[tuple[str, str], Excursion] = field(default_factory=dict)
    notes: list[tuple[str, bool]] = field(default_factory=list)  # (text, handwritten)

    @property
    def doc_id(self) -> str:
        return f"BR-{self.batch_id}"

    @property
    def file_name(self) -> str:
        return f"batch_records/{self.doc_id}.pdf"

    def step_time(self, step_id: str, minute: int = 0) -> datetime:
        offsets = (
            _STERILE_OFFSET_H
            if PRODUCTS[self.product_code].dosage_form == "parenteral"
            else _OSD_OFFSET_H
        )
        major, minor = (int(part) for part in step_id.split("."))
        return self.start + timedelta(hours=offsets[major], minutes=10 * (minor - 1) + minute)

    @property
    def end(self) -> datetime:
        last = steps_for(self.product_code)[-1]
        return self.step_time(last.step_id, 45)


def equipment_for_line(line: str, rng: random.Random, required: str = "") -> dict[str, str]:
    """The line's equipment by role; on L2 a batch uses one of the two dryers and presses."""
    roles = dict(LINE_ROLES[line])
    for role, tag in roles.items():
        alternate = ALTERNATES.get(tag)
        if alternate and (required == alternate or (required != tag and rng.random() < 0.4)):
            roles[role] = alternate
    return roles


def _actual(step: MbrParameter, rng: random.Random) -> str:
    if step.unit == "-":
        return "Pass"
    value = rng.gauss(step.nominal, step.spread)
    if step.low is not None:
        value = max(value, step.low + step.spread * 0.2)
    if step.high is not None:
        value = min(value, step.high - step.spread * 0.2)
    if step.low is None and step.spread:  # counts and bioburden: non-negative integers
        value = max(0.0, value)
    return f"{value:.{step.decimals}f}"


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")


def step_rows(plan: BatchPlan, rng: random.Random) -> list[list[str]]:
    rows = []
    seen: dict[str, int] = {}  # rows already written per step: later parameters come later
    for step in steps_for(plan.product_code):
        position = seen[step.step_id] = seen.get(step.step_id, -1) + 1
        excursion = plan.excursions.get((step.step_id, step.parameter))
        actual = f"{excursion.value:g}" if excursion else _actual(step, rng)
        performed = rng.choice(_OPERATORS)
        verified = rng.choice([v for v in _VERIFIERS + _OPERATORS if v != performed])
        rows.append(
            [
                step.step_id,
                step.instruction,
                step.parameter,
                format_limits(step.low, step.high, step.unit),
                actual,
                step.unit,
                performed,
                verified,
                _stamp(plan.step_time(step.step_id, 1 + 4 * position)),
            ]
        )
    return rows


def header_fields(plan: BatchPlan) -> list[tuple[str, str]]:
    product = PRODUCTS[plan.product_code]
    return [
        ("Document type", "Executed Batch Record"),
        ("Batch record", plan.doc_id),
        ("Product", f"{product.code} {product.name} {product.strength}"),
        ("Batch", plan.batch_id),
        ("MBR", f"{product.mbr_id} version {product.mbr_version}"),
        ("Site", SITE_ID),
        ("Line", plan.line),
        ("Equipment", ", ".join(sorted(set(plan.equipment.values())))),
        ("Batch size", product.batch_size),
        ("Manufacturing start", _stamp(plan.start)),
        ("Manufacturing end", _stamp(plan.end)),
    ]


def render_batch_record(plan: BatchPlan, rng: random.Random, out_dir: Path) -> Path:
    pdf = PdfBuilder(footer_label=plan.doc_id)
    pdf.header_block(header_fields(plan))
    pdf.heading("Executed steps")
    pdf.table(
        STEP_TABLE_HEADER,
        step_rows(plan, rng),
        (0.6, 2.2, 2.0, 1.2, 0.9, 0.9, 0.9, 0.9, 1.5),
        TableStyle(font_size=6.8),
    )
    pdf.heading("Comments")
    comments = [(exc.comment, exc.handwritten) for exc in plan.excursions.values()] + plan.notes
    if not comments:
        comments = [("No comments.", False)]
    for text, handwritten in comments:
        if handwritten:
            pdf.paragraph(text, font=SCRIPT_FONT, size=11.0, indent=8)
        else:
            pdf.paragraph(text)
    pdf.paragraph(
        f"Batch record reviewed by production: {rng.choice(_VERIFIERS)}   QA review: pending"
    )
    path = out_dir / plan.file_name
    pdf.save(path, title=f"{plan.doc_id} executed batch record", subject="Executed Batch Record")
    return path
