"""A site SOP's structure (sections, parameter tables, revisions); how older revisions differ."""

from __future__ import annotations

from dataclasses import dataclass, field

from evals.plant.catalog import OSD_STEPS, STERILE_STEPS, format_limits

PARAMETER_TABLE_HEADER = ("Parameter", "Unit", "Lower limit", "Upper limit", "Comment")
REVISION_TABLE_HEADER = ("Revision", "Effective date", "Description of change")

ParamRow = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    rows: tuple[ParamRow, ...] = ()
    subs: tuple[Section, ...] = ()
    old_text: dict[int, str] = field(default_factory=dict)  # revision -> text it had then


@dataclass(frozen=True)
class Revision:
    number: int
    effective: str
    change: str


@dataclass(frozen=True)
class SopSpec:
    doc_id: str
    title: str
    purpose: str
    scope: str
    responsibilities: tuple[tuple[str, str], ...]
    procedure: tuple[Section, ...]
    records: tuple[str, ...]
    revisions: tuple[Revision, ...]  # oldest first; the last one is current
    equipment: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    superseded_pdfs: tuple[int, ...] = ()  # older revisions also rendered as PDFs
    # revision -> parameter -> (lower, upper, comment) it had then
    old_limits: dict[int, dict[str, tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    def revision(self, number: int) -> Revision:
        for rev in self.revisions:
            if rev.number == number:
                return rev
        raise KeyError(f"{self.doc_id} has no revision {number}")

    def section_ids(self) -> set[str]:
        ids = {"1", "2", "3", "5", "6", "7"} | ({"4"} if self.definitions else set())
        for i, section in enumerate(self.procedure, start=1):
            ids.add(f"5.{i}")
            ids.update(f"5.{i}.{j}" for j in range(1, len(section.subs) + 1))
        return ids

    def section_title(self, section_id: str) -> str:
        parts = [int(p) for p in section_id.split(".")]
        if parts[0] != 5 or len(parts) < 2:
            raise KeyError(section_id)
        section = self.procedure[parts[1] - 1]
        if len(parts) == 3:
            section = section.subs[parts[2] - 1]
        return section.title


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def mbr_row(parameter: str, comment: str = "", sterile: bool = False) -> ParamRow:
    """A parameter-table row whose limits are the MBR's (SOP and MBR agree by construction)."""
    for step in STERILE_STEPS if sterile else OSD_STEPS:
        if step.parameter == parameter:
            return (
                parameter,
                step.unit,
                _fmt(step.low),
                _fmt(step.high),
                comment or f"MBR step {step.step_id}",
            )
    raise KeyError(parameter)


def row(parameter: str, unit: str, low: str, high: str, comment: str = "") -> ParamRow:
    return (parameter, unit, low, high, comment)


def limits_text(parameter: str, sterile: bool = False) -> str:
    for step in STERILE_STEPS if sterile else OSD_STEPS:
        if step.parameter == parameter:
            return f"{format_limits(step.low, step.high, step.unit)} {step.unit}"
    raise KeyError(parameter)


def history(*entries: tuple[str, str]) -> tuple[Revision, ...]:
    return tuple(Revision(i, date, change) for i, (date, change) in enumerate(entries, start=1))
