"""Liveness (`/healthz`) and readiness (`/readyz`: database, probes, job handlers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.auth.deps import StateDep
from api.state import AppState, ProbeResult

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def readiness(state: AppState) -> tuple[bool, dict[str, dict[str, Any]]]:
    checks: dict[str, ProbeResult] = {}
    try:
        state.db.ping()
        checks["database"] = ProbeResult(True, f"{state.db.dialect} reachable")
    except Exception as exc:
        checks["database"] = ProbeResult(False, f"{type(exc).__name__}: {exc}")
    if state.handlers.draft is None:
        checks["draft_runner"] = ProbeResult(
            False, "no draft runner configured: draft jobs stay pending"
        )
    else:
        alive = state.worker.running or not state.config.run_worker
        checks["draft_runner"] = ProbeResult(
            alive, "worker running" if alive else "job worker is not running"
        )
    for name, probe in state.probes.items():
        try:
            checks[name] = probe()
        except Exception as exc:
            checks[name] = ProbeResult(False, f"probe failed: {type(exc).__name__}: {exc}")
    ready = all(c.ok for c in checks.values())
    return ready, {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()}


@router.get("/readyz", responses={503: {"description": "not ready (see checks)"}})
def readyz(state: StateDep) -> JSONResponse:
    ready, checks = readiness(state)
    kinds = sorted(k.value for k in state.handlers.kinds())
    body = {"status": "ready" if ready else "not_ready", "checks": checks, "job_kinds": kinds}
    return JSONResponse(body, status_code=200 if ready else 503)
