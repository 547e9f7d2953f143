"""Five years of deviations and CAPAs simulated from the failure modes' causal structure.

Occurrences are drawn per (failure mode, equipment, month) from a Poisson rate (with a summer
factor for weather-driven modes), then walked in time order: a CAPA plan opens after N
occurrences in its scope (or on a fixed date); once an effective plan is implemented (its due
date) the occurrences on its equipment stop; an ineffective plan lets them continue and its
effectiveness check finds a recurrence. Local CAPAs for single major events top the count up.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from evals.plant.catalog import EQUIPMENT, PRODUCTS, mbr_parameter
from evals.plant.failure_modes import FAILURE_MODES, CapaPlan, FailureMode
from evals.plant.sop_catalog import limits_in_force
from evals.plant.wording import operator_style, qa_style

HISTORY_START = date(2021, 11, 1)
HISTORY_END = date(2026, 10, 31)
EFFECTIVENESS_WINDOW_DAYS = 182
TARGET_CAPA_COUNT = 60
RATE_SCALE = 1.85  # calibrates the failure modes' relative rates to ~400 deviations in 5 years


@dataclass(eq=False)
class Deviation:
    mode: FailureMode
    equipment: str
    line: str
    product_code: str
    batch_id: str
    occurred_at: datetime
    opened_at: datetime
    closed_at: datetime | None
    classification: str
    observed: float | None
    title: str
    description: str
    immediate_actions: str
    root_cause: str
    root_cause_6m: str
    capas: list[Capa] = field(default_factory=list)
    id: str = ""  # numbered in opening order once the whole history exists

    @property
    def status(self) -> str:
        return "closed" if self.closed_at else "open"

    @property
    def capa_ids(self) -> list[str]:
        return [capa.id for capa in self.capas]


@dataclass(eq=False)
class Capa:
    title: str
    opened_at: date
    equipment: list[str]
    product_code: str
    sources: list[Deviation]
    problem: str
    root_cause: str
    actions: str
    owner: str
    due_date: date
    mode_id: str
    systemic: bool
    effectiveness_result: str = "pending"
    effectiveness_checked_at: date | None = None
    id: str = ""

    @property
    def status(self) -> str:
        return "closed" if self.effectiveness_checked_at else "open"

    @property
    def deviation_ids(self) -> list[str]:
        return [dev.id for dev in self.sources]

    @property
    def check_due(self) -> date:
        return self.due_date + timedelta(days=EFFECTIVENESS_WINDOW_DAYS)


@dataclass
class History:
    deviations: list[Deviation]
    capas: list[Capa]


def batch_id_for(day: date, line: str) -> str:
    """One batch per line and day: B<yy>-<day of year * 3 + line index>."""
    index = {"L1": 0, "L2": 1, "L3": 2}[line]
    return f"B{day.year % 100:02d}-{day.timetuple().tm_yday * 3 + index:04d}"


def _poisson(rng: random.Random, rate: float) -> int:
    threshold, count, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months() -> list[date]:
    months, current = [], HISTORY_START
    while current <= HISTORY_END:
        months.append(current)
        current = _next_month(current)
    return months


def _random_time_in(rng: random.Random, start: date, days: int) -> datetime:
    day = start + timedelta(days=rng.randrange(days))
    return datetime(day.year, day.month, day.day, rng.randrange(6, 22), rng.randrange(60), 0)


def _candidate_times(mode: FailureMode, rng: random.Random) -> list[tuple[datetime, str]]:
    events: list[tuple[datetime, str]] = []
    for tag in sorted(mode.rates):
        for month in _months():
            summer = 6 <= month.month <= 9
            if mode.summer_only and not summer:
                continue
            rate = RATE_SCALE * mode.rates[tag] * (mode.summer_factor if summer else 1.0)
            for _ in range(_poisson(rng, rate)):
                days = (_next_month(month) - month).days
                events.append((_random_time_in(rng, month, days), tag))
    return sorted(events)


def _line_and_product(tag: str, rng: random.Random) -> tuple[str, str]:
    if tag in {"HPLC-07", "BAL-12"}:
        product = rng.choice(sorted(PRODUCTS))
        return PRODUCTS[product].lines[0], product
    line = EQUIPMENT[tag].line or (
        "L3" if EQUIPMENT[tag].building == "B2" else rng.choice(["L1", "L2"])
    )
    return line, rng.choice(sorted(code for code, p in PRODUCTS.items() if line in p.lines))


def observed_value(
    mode: FailureMode, product: str, day: date, rng: random.Random
) -> tuple[float | None, str]:
    """An out-of-limit value for the mode's parameter and the limit (in force that day) it broke."""
    if not mode.parameter:
        if mode.category == "documentation":
            return float(rng.randint(1, 21)), ""
        if mode.category == "laboratory_OOS":
            return round(rng.uniform(91.5, 94.9), 1), "95.0"
        return None, ""
    step = mbr_parameter(product, mode.step_id, mode.parameter)
    low, high = limits_in_force(mode.parameter, day) or (step.low, step.high)
    limit = high if mode.direction == "high" else low
    if limit is None:
        raise ValueError(f"{mode.id}: parameter {mode.parameter} has no {mode.direction} limit")
    delta = rng.uniform(*mode.excursion)
    value = limit + delta if mode.direction == "high" else limit - delta
    if step.decimals == 0:
        value = float(math.ceil(value) if mode.direction == "high" else math.floor(value))
    return round(value, step.decimals), f"{limit:g}"


class _Simulator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.deviations: list[Deviation] = []
        self.capas: list[Capa] = []

    def run_mode(self, mode: FailureMode) -> None:
        rng = self.rng
        fixed_since: dict[str, date] = {}
        trigger_plans = [p for p in mode.capa_plans if p.trigger_count]
        dated_plans = sorted((p for p in mode.capa_plans if p.open_on), key=lambda p: p.open_on)
        since_plan: list[Deviation] = []
        mode_devs: list[Deviation] = []
        opened_plans: list[tuple[Capa, CapaPlan]] = []
        cause = (mode.masked_cause, mode.masked_6m) if mode.masked_cause else None
        if trigger_plans and not cause:
            cause = (trigger_plans[0].root_cause, mode.root_cause_6m)

        def open_plan(plan: CapaPlan, opened: date, sources: list[Deviation]) -> None:
            nonlocal cause
            capa = self._open_capa(mode, plan, opened, sources)
            opened_plans.append((capa, plan))
            if plan.effective or not mode.masked_cause:
                cause = (plan.root_cause, mode.root_cause_6m)
            if plan.effective:
                for eq in plan.scope:
                    fixed_since[eq] = capa.due_date

        def open_dated_plans(until: date) -> None:
            while dated_plans and date.fromisoformat(dated_plans[0].open_on) <= until:
                plan = dated_plans.pop(0)
                opened = date.fromisoformat(plan.open_on)
                recent = [
                    d
                    for d in mode_devs
                    if d.equipment in plan.scope and (opened - d.opened_at.date()).days < 400
                ]
                open_plan(plan, opened, recent)

        for when, tag in _candidate_times(mode, rng):
            open_dated_plans(when.date())
            if tag in fixed_since and when.date() >= fixed_since[tag]:
                continue
            dev = self._make_deviation(mode, tag, when, cause)
            mode_devs.append(dev)
            for capa, _ in opened_plans:  # a recurrence is linked to the CAPA still being checked
                if tag in capa.equipment and capa.opened_at <= when.date() <= capa.check_due:
                    dev.capas.append(capa)
            if trigger_plans and tag in trigger_plans[0].scope:
                since_plan.append(dev)
                if len(since_plan) >= trigger_plans[0].trigger_count:
                    opened = dev.opened_at.date() + timedelta(days=rng.randint(3, 20))
                    if opened <= HISTORY_END:
                        open_plan(trigger_plans.pop(0), opened, since_plan)
                        since_plan = []
        open_dated_plans(HISTORY_END)
        for capa, plan in opened_plans:
            self._check_effectiveness(mode, capa, plan, mode_devs, cause)

    def _make_deviation(
        self, mode: FailureMode, tag: str, when: datetime, cause: tuple[str, str] | None
    ) -> Deviation:
        rng = self.rng
        line, product = _line_and_product(tag, rng)
        batch = batch_id_for(when.date(), line)
        observed, limit = observed_value(mode, product, when.date(), rng)
        unit = mbr_parameter(product, mode.step_id, mode.parameter).unit if mode.parameter else ""
        values = {
            "eq": tag,
            "val": f"{observed:g}" if observed is not None else "",
            "lim": limit,
            "unit": unit,
            "param": mode.parameter,
            "batch": batch,
        }
        terse = rng.random() < 0.45
        description = rng.choice(mode.terse if terse else mode.prose).format(**values)
        description = operator_style(description, rng) if terse else qa_style(description, rng)
        opened = when + timedelta(hours=rng.randint(1, 30))
        if opened.date() > HISTORY_END:
            opened = when + timedelta(minutes=30)
        closed_at = opened + timedelta(days=rng.randint(8, 45), hours=rng.randint(0, 8))
        closed = closed_at if closed_at.date() <= HISTORY_END else None
        root_cause, six_m = cause if cause else (mode.root_cause, mode.root_cause_6m)
        dev = Deviation(
            mode=mode,
            equipment=tag,
            line=line,
            product_code=product,
            batch_id=batch,
            occurred_at=when,
            opened_at=opened,
            closed_at=closed,
            classification=rng.choices(("minor", "major", "critical"), weights=mode.weights)[0],
            observed=observed,
            title=rng.choice(mode.titles).format(**values),
            description=description,
            immediate_actions=rng.choice(mode.immediate),
            root_cause=root_cause if closed else "Investigation ongoing.",
            root_cause_6m=six_m,
        )
        self.deviations.append(dev)
        return dev

    def _open_capa(
        self, mode: FailureMode, plan: CapaPlan, opened: date, sources: list[Deviation]
    ) -> Capa:
        capa = Capa(
            title=plan.title,
            opened_at=opened,
            equipment=list(plan.scope),
            product_code=sources[-1].product_code if sources else "",
            sources=list(sources),
            problem=(
                f"Recurring events: {mode.titles[0]} on {', '.join(plan.scope)} "
                f"({len(sources)} deviations)."
            ),
            root_cause=plan.root_cause,
            actions=plan.actions,
            owner=plan.owner,
            due_date=opened + timedelta(days=plan.lead_days),
            mode_id=mode.id,
            systemic=True,
        )
        for dev in sources:
            dev.capas.append(capa)
        self.capas.append(capa)
        return capa

    def _check_effectiveness(
        self,
        mode: FailureMode,
        capa: Capa,
        plan: CapaPlan,
        mode_devs: list[Deviation],
        cause: tuple[str, str] | None,
    ) -> None:
        if capa.check_due > HISTORY_END:
            return  # stays pending
        if not plan.effective:
            window = [
                d
                for d in mode_devs
                if d.equipment in plan.scope
                and capa.due_date < d.occurred_at.date() <= capa.check_due
            ]
            if not window:  # an ineffective fix shows itself: the check window holds a recurrence
                start = capa.due_date + timedelta(days=1)
                when = _random_time_in(self.rng, start, EFFECTIVENESS_WINDOW_DAYS - 10)
                dev = self._make_deviation(mode, plan.scope[0], when, cause)
                dev.capas.append(capa)
                mode_devs.append(dev)
        capa.effectiveness_result = "effective" if plan.effective else "not_effective"
        capa.effectiveness_checked_at = capa.check_due

    def _later_recurrences(self, dev: Deviation, after: date) -> list[Deviation]:
        """Same failure mode on the same equipment, occurring after a date."""
        return [
            d
            for d in self.deviations
            if d.mode is dev.mode and d.equipment == dev.equipment and d.occurred_at.date() > after
        ]

    def add_local_capas(self) -> None:
        """CAPAs for single major/critical events (about a fifth still in their check window)."""
        rng = self.rng
        wanted = max(0, TARGET_CAPA_COUNT - len(self.capas))
        recent: list[Deviation] = []
        older: list[Deviation] = []
        for dev in sorted(self.deviations, key=lambda d: d.opened_at):
            if dev.classification == "minor" or dev.capas or dev.closed_at is None:
                continue
            check = dev.closed_at.date() + timedelta(days=60 + EFFECTIVENESS_WINDOW_DAYS)
            (recent if check > HISTORY_END else older).append(dev)
        chosen = rng.sample(recent, min(round(wanted * 0.2), len(recent)))
        chosen += rng.sample(older, min(wanted - len(chosen), len(older)))
        for dev in sorted(chosen, key=lambda d: d.opened_at):
            self.capas.append(self._local_capa(dev))

    def _local_capa(self, dev: Deviation) -> Capa:
        rng = self.rng
        assert dev.closed_at is not None
        opened = dev.closed_at.date() - timedelta(days=rng.randint(0, 5))
        capa = Capa(
            title=f"{dev.mode.titles[0]}: corrective action for {dev.equipment}",
            opened_at=opened,
            equipment=[dev.equipment],
            product_code=dev.product_code,
            sources=[dev],
            problem=f"{dev.title} ({dev.classification} deviation, batch {dev.batch_id}).",
            root_cause=dev.root_cause,
            actions=(
                f"Correct the condition on {dev.equipment}; add a check to the preventive "
                "maintenance "
                f"or inspection checklist; brief the shift teams on {dev.mode.sop[0]}."
            ),
            owner=rng.choice(
                ["Area owner B1", "Area owner B2", "Maintenance lead, B1", "QA operations"]
            ),
            due_date=opened + timedelta(days=rng.choice([30, 45, 60])),
            mode_id=dev.mode.id,
            systemic=False,
        )
        dev.capas.append(capa)
        if capa.check_due > HISTORY_END:
            return capa  # pending
        # A single-event CAPA is judged on its 6-month window only (SOP-QA-002 5.3).
        window = [
            d
            for d in self._later_recurrences(dev, capa.due_date)
            if d.occurred_at.date() <= capa.check_due
        ]
        capa.effectiveness_result = "not_effective" if window else "effective"
        capa.effectiveness_checked_at = capa.check_due
        for d in window:
            d.capas.append(capa)
        return capa

    def number(self) -> None:
        self.deviations.sort(key=lambda d: (d.opened_at, d.equipment))
        counters: dict[int, int] = {}
        for dev in self.deviations:
            counters[dev.opened_at.year] = counters.get(dev.opened_at.year, 0) + 1
            dev.id = f"DEV-{dev.opened_at.year}-{counters[dev.opened_at.year]:04d}"
        self.capas.sort(key=lambda c: (c.opened_at, c.title))
        counters = {}
        for capa in self.capas:
            counters[capa.opened_at.year] = counters.get(capa.opened_at.year, 0) + 1
            capa.id = f"CAPA-{capa.opened_at.year}-{counters[capa.opened_at.year]:04d}"


def simulate_history(rng: random.Random) -> History:
    simulator = _Simulator(rng)
    for mode in FAILURE_MODES:
        simulator.run_mode(mode)
    simulator.add_local_capas()
    simulator.number()
    return History(simulator.deviations, simulator.capas)
