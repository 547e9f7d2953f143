"""Generate the whole demo plant corpus into a folder, deterministically from a seed."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from evals.plant.batch_records import BatchPlan, Excursion, equipment_for_line, render_batch_record
from evals.plant.catalog import mbr_parameter
from evals.plant.corpus_readme import readme_text
from evals.plant.history import Deviation, History, batch_id_for, simulate_history
from evals.plant.qms_export import (
    capa_pdf_selection,
    render_capa_pdf,
    write_jsonl,
    write_qms_exports,
)
from evals.plant.scenarios import build_scenarios, gold, payload
from evals.plant.sop_render import render_all_sops

GENERATOR_VERSION = "1"
MANIFEST = "manifest.json"
HISTORICAL_RECORDS = 14  # executed batch records of 2026 batches that had a deviation
CLEAN_RECORDS = 3  # and a few without any excursion


class CorpusError(Exception):
    """The output folder cannot be written safely."""


@dataclass(frozen=True)
class CorpusSummary:
    out_dir: Path
    counts: dict[str, int]
    total_bytes: int


def _historical_plans(history: History, rng: random.Random, taken: set[str]) -> list[BatchPlan]:
    """Batch records of recent batches with a deviation, one failure mode after another."""
    candidates = [
        d
        for d in history.deviations
        if d.occurred_at.year == 2026 and d.mode.parameter and d.batch_id not in taken
    ]
    by_mode: dict[str, list[Deviation]] = {}
    for dev in candidates:
        by_mode.setdefault(dev.mode.id, []).append(dev)
    chosen: list[Deviation] = []
    seen: set[str] = set()
    while len(chosen) < HISTORICAL_RECORDS and any(by_mode.values()):
        for mode_id in sorted(by_mode):
            if by_mode[mode_id] and len(chosen) < HISTORICAL_RECORDS:
                dev = by_mode[mode_id].pop(rng.randrange(len(by_mode[mode_id])))
                if dev.batch_id not in seen:
                    chosen.append(dev)
                    seen.add(dev.batch_id)
    plans = []
    for dev in sorted(chosen, key=lambda d: d.occurred_at):
        step = mbr_parameter(dev.product_code, dev.mode.step_id, dev.mode.parameter)
        plan = BatchPlan(
            dev.batch_id,
            dev.product_code,
            dev.line,
            equipment_for_line(dev.line, rng, dev.equipment),
            dev.occurred_at,
        )
        plan.start = (
            dev.occurred_at - (plan.step_time(step.step_id) - plan.start) - timedelta(minutes=5)
        )
        assert dev.observed is not None
        note = (
            f"Step {step.step_id}: {step.parameter.lower()} {dev.observed:g} {step.unit} "
            "out of limits. "
            f"Supervisor informed. Deviation {dev.id} raised."
        )
        plan.excursions[(step.step_id, step.parameter)] = Excursion(
            dev.observed, note, rng.random() < 0.25
        )
        plans.append(plan)
    busy = taken | seen | {d.batch_id for d in history.deviations}
    for index in range(CLEAN_RECORDS):
        line = ("L1", "L2", "L3")[index]
        start = datetime(2026, 10, 5 + 7 * index, 6, 0)
        while batch_id_for(start.date(), line) in busy:
            start += timedelta(days=1)
        plan = BatchPlan(
            batch_id_for(start.date(), line),
            "PRD-0051" if line == "L1" else ("PRD-0043" if line == "L2" else "PRD-0107"),
            line,
            equipment_for_line(line, rng),
            start,
        )
        plan.notes.append((f"line clearance ok - 2nd check {rng.choice(['AK', 'RB', 'TS'])}", True))
        plans.append(plan)
    return plans


def payload_json(document: dict[str, Any]) -> str:
    """Indented JSON with one process-data sample per line (readable, still plain JSON)."""
    samples = document["process_data"]["samples"]
    shallow = {**document, "process_data": {**document["process_data"], "samples": "@SAMPLES@"}}
    lines = ",\n".join(f"      {json.dumps(sample)}" for sample in samples)
    return json.dumps(shallow, indent=2).replace('"@SAMPLES@"', f"[\n{lines}\n    ]") + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_corpus(out: Path, seed: int) -> dict[str, int]:
    history = simulate_history(random.Random(f"{seed}:history"))
    scenarios, scenario_plans = build_scenarios(history, random.Random(f"{seed}:scenarios"))
    taken = {p.batch_id for p in scenario_plans}
    plans = scenario_plans + _historical_plans(history, random.Random(f"{seed}:batches"), taken)

    sops = render_all_sops(out)
    render_rng = random.Random(f"{seed}:render")
    for plan in sorted(plans, key=lambda p: p.batch_id):
        render_batch_record(plan, render_rng, out)
    capa_pdfs = [render_capa_pdf(capa, out) for capa in capa_pdf_selection(history)]
    qms_counts = write_qms_exports(history, out)
    for scenario in scenarios:
        path = out / "scenarios" / "payloads" / f"{scenario.event_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(payload_json(payload(scenario)), encoding="utf-8")
    write_jsonl(out / "scenarios" / "gold.jsonl", (gold(s, history) for s in scenarios))
    counts = {
        "sop_pdfs": len(sops),
        "sop_documents": len({p.name.split("_rev")[0] for p in sops}),
        "superseded_sop_pdfs": len(sops) - len({p.name.split("_rev")[0] for p in sops}),
        "batch_records": len(plans),
        "capa_pdfs": len(capa_pdfs),
        "scenarios": len(scenarios),
        **qms_counts,
    }
    (out / "README.md").write_text(readme_text(seed, counts), encoding="utf-8")
    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = {
        "generator": "devia demo plant",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "counts": counts,
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in files},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def generate_corpus(out_dir: Path, seed: int = 7, overwrite: bool = False) -> CorpusSummary:
    """Write the corpus to `out_dir` (built in a sibling temp folder, then moved into place).

    An existing non-empty `out_dir` is replaced only with `overwrite=True` and only if it holds a
    corpus made by this generator (its manifest), so nothing else is ever deleted.
    """
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise CorpusError(
                f"{out_dir} is not empty (use overwrite to replace a generated corpus)"
            )
        manifest = out_dir / MANIFEST
        if (
            not manifest.is_file()
            or json.loads(manifest.read_text()).get("generator") != "devia demo plant"
        ):
            raise CorpusError(
                f"{out_dir} does not hold a generated demo corpus; refusing to replace it"
            )
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        counts = _write_corpus(staging, seed)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    total = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return CorpusSummary(out_dir, counts, total)
