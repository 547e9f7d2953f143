"""What the app factory builds once and every request reaches through `request.app.state`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from api.config import ApiConfig
from api.evidence import EvidenceIndex
from api.jobs.worker import JobHandlers, JobWorker
from api.records.db import Database


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


Probe = Callable[[], ProbeResult]


@dataclass
class AppState:
    config: ApiConfig
    db: Database
    handlers: JobHandlers
    worker: JobWorker
    probes: dict[str, Probe] = field(default_factory=dict)
    evidence: EvidenceIndex | None = None  # the index, where this process has loaded it
