"""What a failure mode is: the causal ground truth behind the deviation history.

Each mode says where it happens (monthly rate per equipment), what it looks like (the MBR
parameter that goes out of limits), what really causes it, which SOP section governs it and how
the site reacted (CAPA plans: opened after N recurrences or on a fixed date; an effective plan
stops the recurrences on the equipment in its scope, an ineffective one does not).

Some modes share a symptom (tablet weight out of limits from worn tooling or from wet granules;
impeller power out of limits from over-wetting or from coarse API), and two modes are recorded as
"operator error" until a CAPA finds the procedure gap behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CapaPlan:
    title: str
    root_cause: str  # as the CAPA team understood it
    actions: str
    owner: str
    effective: bool
    scope: tuple[str, ...]  # equipment whose recurrences stop if effective
    trigger_count: int = 0  # open after this many occurrences in scope since the previous plan
    open_on: str = ""  # or on this fixed date (YYYY-MM-DD)
    lead_days: int = 90  # opened -> due (implemented)


@dataclass(frozen=True)
class FailureMode:
    id: str
    category: str
    root_cause_6m: str
    root_cause: str  # the real cause (gold)
    titles: tuple[str, ...]
    terse: tuple[str, ...]  # operator shorthand; {eq} {val} {lim} {unit} {param} {batch}
    prose: tuple[str, ...]  # QA prose
    immediate: tuple[str, ...]
    rates: dict[str, float]  # equipment tag -> expected occurrences per month
    sop: tuple[str, str]  # (doc id, section id)
    product_kind: str  # "osd", "sterile" or "any"
    step_id: str = ""
    parameter: str = ""
    direction: str = "high"
    excursion: tuple[float, float] = (0.0, 0.0)  # beyond the limit, in parameter units
    summer_factor: float = 1.0  # rate multiplier June-September
    summer_only: bool = False  # no occurrences October-May
    weights: tuple[int, int, int] = (6, 3, 1)  # minor / major / critical
    masked_cause: str = ""  # what the QMS recorded before the real cause was found
    masked_6m: str = ""
    capa_plans: tuple[CapaPlan, ...] = field(default_factory=tuple)
    scenario_weight: int = 0  # share of the new MES scenarios (0 = none)
