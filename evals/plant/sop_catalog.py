"""All SOPs of the plant, and the parameter limits in force on a given day (version awareness)."""

from __future__ import annotations

from datetime import date

from evals.plant.sop_model import SopSpec
from evals.plant.sops_production import PRODUCTION_SOPS
from evals.plant.sops_quality import QUALITY_SOPS

ALL_SOPS: tuple[SopSpec, ...] = QUALITY_SOPS + PRODUCTION_SOPS
SOPS_BY_ID = {spec.doc_id: spec for spec in ALL_SOPS}


def _limit(text: str) -> float | None:
    return None if text == "-" else float(text)


def limits_in_force(parameter: str, day: date) -> tuple[float | None, float | None] | None:
    """Limits of `parameter` on `day` when an older SOP revision then in force had other limits.

    None means the current limits apply. A recorded older limit also holds for the revisions
    before it (the change history only records the revision that last had it).
    """
    for spec in ALL_SOPS:
        in_force = max(r.number for r in spec.revisions if date.fromisoformat(r.effective) <= day)
        if in_force == spec.current.number:
            continue
        for revision in sorted(spec.old_limits):
            if revision >= in_force and parameter in spec.old_limits[revision]:
                low, high, _ = spec.old_limits[revision][parameter]
                return _limit(low), _limit(high)
    return None
