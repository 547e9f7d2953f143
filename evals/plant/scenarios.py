"""New anomalies (November 2026) as MES payloads, with the gold labels an investigator should find.

A scenario is one more occurrence of a failure mode that is still active at the end of the
history (its equipment was not fixed by an effective CAPA). Its process data are simulated
around the excursion; `observed_peak` and `duration_s` are computed from those samples.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from evals.plant.batch_records import BatchPlan, Excursion, equipment_for_line
from evals.plant.catalog import EQUIPMENT, PRODUCTS, SITE_ID, MbrParameter, mbr_parameter
from evals.plant.failure_modes import FAILURE_MODES, FailureMode
from evals.plant.history import HISTORY_END, Capa, History, batch_id_for
from evals.plant.sop_catalog import SOPS_BY_ID

SCENARIO_COUNT = 40

_TAG_SUFFIX = {
    "Inlet air temperature": "TI101",
    "Filter differential pressure": "PDI102",
    "Impeller power": "JI101",
    "Tablet weight (mean of 20)": "WT_MEAN",
    "Spray rate": "FI201",
    "WFI conductivity at point of use": "CIT07",
    "Fill volume": "FV_N3",
    "Tunnel hot-zone temperature": "TI401",
    "Label reconciliation difference": "LBL_DIFF",
    "Room relative humidity": "MI301",
}
# Observations an MES or operator adds; they point at the cause without naming it.
_HINTS = {
    "fbd_inlet_temp_overshoot": (
        "Excursion began within minutes of heat-up; steam valve output at 100%."
    ),
    "fbd_filter_blinding": "Filter shaking log shows fewer shake cycles than expected.",
    "granulation_overwetting": (
        "Binder spray rate set point was changed at the HMI during addition."
    ),
    "api_coarse_particle_size": "API lot from the secondary supplier in use.",
    "press_tooling_wear": "Gradual downward drift of tablet weight over the preceding hour.",
    "granule_moisture_high": "Granule LOD at drying end point was 2.4%; hopper bridging reported.",
    "coating_nozzle_clogging": "Atomising air pressure stable; irregular spray pattern on gun 2.",
    "wfi_conductivity_high": "WFI storage tank level was low after high draw-down.",
    "fill_pump_seal_wear": "Low volume on a single needle only.",
    "tunnel_heater_failure": "Heater zone 2 current alarm before the temperature drop.",
    "label_reconciliation_gap": "A label roll change was made during the batch.",
}
_SHAPES = {
    "press_tooling_wear": "drift",
    "fill_pump_seal_wear": "drift",
    "granule_moisture_high": "noisy",
}


@dataclass
class Scenario:
    mode: FailureMode
    equipment: list[str]
    plan: BatchPlan
    step: MbrParameter
    samples: list[tuple[datetime, float]]
    occurred_at: datetime
    observed_peak: float
    duration_s: int
    event_id: str = ""


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def fixed_equipment(mode: FailureMode, capas: list[Capa]) -> set[str]:
    """Equipment on which an effective CAPA of this mode was implemented within the history."""
    fixing = {plan.title for plan in mode.capa_plans if plan.effective}
    fixed: set[str] = set()
    for capa in capas:
        if capa.mode_id == mode.id and capa.title in fixing and capa.due_date <= HISTORY_END:
            fixed.update(capa.equipment)
    return fixed


def _allocate(modes: list[FailureMode]) -> list[FailureMode]:
    total = sum(m.scenario_weight for m in modes)
    shares = [(SCENARIO_COUNT * m.scenario_weight / total, m) for m in modes]
    counts = {m.id: int(share) for share, m in shares}
    by_remainder = sorted(shares, key=lambda s: (-(s[0] - int(s[0])), s[1].id))
    for _, mode in by_remainder[: SCENARIO_COUNT - sum(counts.values())]:
        counts[mode.id] += 1
    return [m for m in modes for _ in range(counts[m.id])]


def _samples(
    mode: FailureMode, step: MbrParameter, occurred: datetime, rng: random.Random
) -> list[tuple[datetime, float]]:
    limit = step.high if mode.direction == "high" else step.low
    assert limit is not None
    sign = 1.0 if mode.direction == "high" else -1.0
    peak = limit + sign * rng.uniform(*mode.excursion)
    nominal, noise = step.nominal, max(step.spread * 0.3, 10 ** -(step.decimals + 1))
    before, after = rng.randint(25, 50), rng.randint(35, 70)
    hold = rng.randint(2, 12)
    shape = _SHAPES.get(mode.id, "step")
    samples = []
    for minute in range(-before, after):
        if shape == "drift" and minute < 0:
            base = nominal + (limit - nominal) * (minute + before) / before
        elif minute < 0 or minute > hold + 6:
            base = nominal
        elif minute < 3:
            base = limit + (peak - limit) * (minute + 1) / 3
        elif minute <= hold:
            base = peak
        else:
            base = peak + (nominal - peak) * (minute - hold) / 6
        jitter = rng.gauss(0, noise * (3 if shape == "noisy" else 1))
        value = base + (jitter if 0 <= minute <= hold else jitter * 0.5)
        if not (0 <= minute <= hold):  # outside the excursion the value stays inside the limit
            value = min(value, limit - 1e-9) if sign > 0 else max(value, limit + 1e-9)
        elif sign * (value - limit) <= 0:
            value = limit + sign * 10**-step.decimals
        samples.append((occurred + timedelta(minutes=minute), round(value, step.decimals + 1)))
    return samples


class _ScenarioBuilder:
    def __init__(self, history: History, rng: random.Random) -> None:
        self.history = history
        self.rng = rng
        self.plans: list[BatchPlan] = []
        self.used_steps: dict[str, set[str]] = {}

    def _plan_for(self, tag: str, line: str, product: str, step_id: str) -> BatchPlan:
        rng = self.rng
        for plan in self.plans:
            compatible = plan.line == line and plan.product_code == product
            compatible = compatible and (tag in plan.equipment.values() or not EQUIPMENT[tag].line)
            if compatible and step_id not in self.used_steps[plan.batch_id] and rng.random() < 0.3:
                return plan
        taken = {p.batch_id for p in self.plans} | {d.batch_id for d in self.history.deviations}
        while True:
            start = datetime(2026, 11, rng.randint(2, 19), rng.choice([6, 7, 14, 22]), 0)
            batch_id = batch_id_for(start.date(), line)
            if batch_id not in taken:
                break
        plan = BatchPlan(
            batch_id, product, line, equipment_for_line(line, rng, required=tag), start
        )
        self.plans.append(plan)
        self.used_steps[batch_id] = set()
        return plan

    def build(self, mode: FailureMode) -> Scenario:
        rng = self.rng
        fixed = fixed_equipment(mode, self.history.capas)
        active = sorted(tag for tag in mode.rates if tag not in fixed)
        tag = rng.choices(active, weights=[mode.rates[t] for t in active])[0]
        line = EQUIPMENT[tag].line or ("L3" if EQUIPMENT[tag].building == "B2" else "L2")
        product = rng.choice(sorted(code for code, p in PRODUCTS.items() if line in p.lines))
        plan = self._plan_for(tag, line, product, mode.step_id)
        self.used_steps[plan.batch_id].add(mode.step_id)
        step = mbr_parameter(product, mode.step_id, mode.parameter)
        nominal_time = plan.step_time(step.step_id, rng.randint(5, 40))
        samples = _samples(mode, step, nominal_time, rng)
        limit = step.high if mode.direction == "high" else step.low
        assert limit is not None
        sign = 1.0 if mode.direction == "high" else -1.0
        outside = [(t, v) for t, v in samples if sign * (v - limit) > 0]
        values = [v for _, v in outside]
        peak = max(values) if mode.direction == "high" else min(values)
        equipment = [tag] + (["CMP-301"] if tag == "WFI-01" else [])
        return Scenario(
            mode, equipment, plan, step, samples, outside[0][0], peak, 60 * len(outside)
        )


def build_scenarios(history: History, rng: random.Random) -> tuple[list[Scenario], list[BatchPlan]]:
    modes = [
        m
        for m in FAILURE_MODES
        if m.scenario_weight and set(m.rates) - fixed_equipment(m, history.capas)
    ]
    builder = _ScenarioBuilder(history, rng)
    scenarios = [builder.build(mode) for mode in _allocate(modes)]
    scenarios.sort(key=lambda s: (s.occurred_at, s.mode.id))
    number = 400
    for scenario in scenarios:
        number += rng.randint(1, 9)
        scenario.event_id = f"MES-EX-2026-{number:05d}"
        step = scenario.step
        scenario.plan.excursions[(step.step_id, step.parameter)] = Excursion(
            scenario.observed_peak,
            f"Step {step.step_id}: {step.parameter} {scenario.observed_peak:g} {step.unit} "
            f"outside limits at {scenario.occurred_at:%H:%M}, MES event {scenario.event_id}. "
            "Supervisor and QA informed; "
            "deviation to be raised.",
            handwritten=rng.random() < 0.2,
        )
    return scenarios, builder.plans


def payload(scenario: Scenario) -> dict[str, Any]:
    step, mode, plan = scenario.step, scenario.mode, scenario.plan
    product = PRODUCTS[plan.product_code]
    tag = scenario.equipment[0]
    direction = "exceeded the upper" if mode.direction == "high" else "fell below the lower"
    description = (
        f"{step.parameter} {direction} limit on {tag} during {step.instruction.lower()} of batch "
        f"{plan.batch_id} (peak {scenario.observed_peak:g} {step.unit}, "
        f"{scenario.duration_s // 60} min "
        f"outside limits). {_HINTS.get(mode.id, '')}"
    ).strip()
    area = (
        EQUIPMENT[tag].area
        if EQUIPMENT[tag].line
        else {"WFI-01": "Compounding"}.get(tag, "Compression")
    )
    return {
        "event_id": scenario.event_id,
        "site": SITE_ID,
        "area": area,
        "line": plan.line,
        "equipment": scenario.equipment,
        "product_code": plan.product_code,
        "batch_id": plan.batch_id,
        "mbr_step": {
            "mbr_id": product.mbr_id,
            "version": product.mbr_version,
            "step_id": step.step_id,
        },
        "parameter": {
            "name": step.parameter,
            "unit": step.unit,
            "limit_low": step.low,
            "limit_high": step.high,
            "observed_peak": scenario.observed_peak,
            "duration_s": scenario.duration_s,
        },
        "process_data": {
            "tag": f"{tag.replace('-', '')}.{_TAG_SUFFIX[step.parameter]}",
            "samples": [[_iso(t), v] for t, v in scenario.samples],
        },
        "occurred_at": _iso(scenario.occurred_at),
        "description": description,
    }


def gold(scenario: Scenario, history: History) -> dict[str, Any]:
    mode = scenario.mode
    related = [d for d in history.deviations if d.mode is mode]
    tag = scenario.equipment[0]
    capas = sorted(
        c.id for c in history.capas if c.mode_id == mode.id and (c.systemic or tag in c.equipment)
    )
    doc_id, section_id = mode.sop
    return {
        "event_id": scenario.event_id,
        "failure_mode": mode.id,
        "related_deviation_ids": sorted(d.id for d in related),
        "same_equipment_deviation_ids": sorted(d.id for d in related if d.equipment == tag),
        "governing_sop": {
            "doc_id": doc_id,
            "revision": SOPS_BY_ID[doc_id].current.number,
            "section_id": section_id,
        },
        "batch_record": {"doc_id": scenario.plan.doc_id, "step_id": scenario.step.step_id},
        "expected_category": mode.category,
        "expected_root_cause_6m": mode.root_cause_6m,
        "expected_root_cause": mode.root_cause,
        "capa_ids": capas,
    }
