"""All failure modes of the plant (the data live in the `failure_modes_*` modules)."""

from __future__ import annotations

from evals.plant.failure_mode_model import CapaPlan, FailureMode
from evals.plant.failure_modes_osd import OSD_MODES
from evals.plant.failure_modes_site import SITE_MODES

FAILURE_MODES: tuple[FailureMode, ...] = OSD_MODES + SITE_MODES
MODES_BY_ID = {mode.id: mode for mode in FAILURE_MODES}

__all__ = ["FAILURE_MODES", "MODES_BY_ID", "CapaPlan", "FailureMode"]
