"""Where eval runs are kept for `devia eval report`: `<data dir>/eval/<suite>/<UTC time>.json`.

Each file is a `write_result` document (evals/result_file.py) with a `"suite"` field. Files
are written whole (temporary file + rename) and never changed afterwards; the report compares
each suite's newest run with the one before it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SUITE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def runs_dir(data_dir: Path) -> Path:
    return data_dir / "eval"


def new_run_path(data_dir: Path, suite: str) -> Path:
    """A fresh path for a run of `suite` (UTC timestamp; a suffix if that second is taken)."""
    if not _SUITE.match(suite):
        raise ValueError(f"bad suite name {suite!r}")
    folder = runs_dir(data_dir) / suite
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"{stamp}.json"
    n = 1
    while path.exists():
        path = folder / f"{stamp}-{n}.json"
        n += 1
    return path


@dataclass(frozen=True)
class StoredRun:
    suite: str
    path: Path
    document: dict[str, Any]

    @property
    def metrics(self) -> dict[str, float | None]:
        return dict(self.document.get("metrics") or {})

    @property
    def recorded_at(self) -> str:
        return str(self.document.get("recorded_at") or self.path.stem)


def load_runs(data_dir: Path) -> dict[str, list[StoredRun]]:
    """Every stored run by suite, oldest first. Unreadable files are reported, not skipped."""
    found: dict[str, list[StoredRun]] = {}
    root = runs_dir(data_dir)
    if not root.exists():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}: not a readable run file ({exc})") from exc
            if not isinstance(document, dict) or not isinstance(document.get("metrics"), dict):
                raise ValueError(f"{path}: no top-level metrics object")
            found.setdefault(folder.name, []).append(StoredRun(folder.name, path, document))
    for runs in found.values():
        runs.sort(key=lambda r: (r.recorded_at, r.path.name))
    return found
