"""The `--json PATH` file every `devia eval ...` and `devia bench ...` command writes.

Top level: `"metrics"`, a flat name -> number object that scripts and people compare runs by
(keep the names stable), beside whatever else the command records.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_result(path: Path, metrics: Mapping[str, float | int], **extra: Any) -> None:
    for name, value in metrics.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"metric {name!r} must be a number, got {value!r}")
    document = {
        "metrics": {
            name: (None if isinstance(v, float) and math.isnan(v) else v)
            for name, v in metrics.items()
        },
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False, default=str))
    os.replace(tmp, path)
