"""Benchmark of the MES trigger endpoint: accepted triggers/s and latency percentiles.

A real uvicorn process on loopback (SQLite records store in a temporary folder, no draft
runner, so drafting is excluded) receives `requests` distinct events with `concurrency` in
flight from an asyncio httpx client; each run uses fresh event ids. Medians over runs.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.records import accounts, migrate
from api.records.audit import Actor
from api.records.db import Database

SITE = "BENCH-SITE"


@dataclass
class BenchResult:
    metrics: dict[str, float]
    runs: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _event(n: int, run: int) -> dict[str, Any]:
    return {
        "event_id": f"BENCH-{run}-{n}",
        "site": SITE,
        "area": "Granulation",
        "line": "L2",
        "equipment": ["GR-201"],
        "product_code": "PRD-0042",
        "batch_id": f"B-{n}",
        "mbr_step": {"mbr_id": "MBR-PRD-0042", "version": 7, "step_id": "6.3"},
        "parameter": {
            "name": "Inlet air temperature",
            "unit": "C",
            "limit_low": 55,
            "limit_high": 65,
            "observed_peak": 71.4,
            "duration_s": 420,
        },
        "process_data": {
            "tag": "GR201.TI101",
            "samples": [[f"2026-11-20T08:{m:02d}:00Z", 60.0 + m / 10] for m in range(30)],
        },
        "occurred_at": "2026-11-20T08:07:00Z",
        "description": "Inlet air temperature exceeded upper limit during wet granulation drying.",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _one_run(
    base_url: str, key: str, run: int, requests: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=60, headers={"Authorization": f"Bearer {key}"}
    ) as client:

        async def send(n: int) -> None:
            nonlocal failures
            async with semaphore:
                started = time.perf_counter()
                response = await client.post("/api/v1/events", json=_event(n, run))
                elapsed = time.perf_counter() - started
            if response.status_code == 202:
                latencies.append(elapsed * 1000)
            else:
                failures += 1

        wall = time.perf_counter()
        await asyncio.gather(*(send(n) for n in range(requests)))
        wall = time.perf_counter() - wall
    return {
        "triggers_per_s": len(latencies) / wall,
        "p50_ms": _percentile(latencies, 0.50) if latencies else float("nan"),
        "p95_ms": _percentile(latencies, 0.95) if latencies else float("nan"),
        "failed": float(failures),
    }


def run_bench(
    *,
    requests: int = 2000,
    concurrency: int = 16,
    runs: int = 3,
    echo: Callable[[str], None] = print,
) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="devia-bench-api-") as folder:
        data_dir = Path(folder)
        db_url = f"sqlite:///{data_dir / 'devia.db'}"
        db = Database(db_url, pool_size=1)
        migrate.upgrade(db.engine)
        with db.write() as session:
            key, _ = accounts.create_api_key(session, Actor("bench"), name="bench", site=SITE)
        db.dispose()
        port = _free_port()
        env = {**os.environ, "DEVIA_DATA_DIR": str(data_dir), "DEVIA_DB_URL": db_url}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.app:app_from_environment",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, server)
            asyncio.run(_one_run(base_url, key, -1, min(100, requests), concurrency))  # warm-up
            results = []
            for run in range(runs):
                result = asyncio.run(_one_run(base_url, key, run, requests, concurrency))
                results.append(result)
                echo(
                    f"run {run + 1}/{runs}: {result['triggers_per_s']:.0f} triggers/s, "
                    f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
                    f"failed {result['failed']:.0f}"
                )
        finally:
            server.terminate()
            server.wait(20)
    metrics = {
        name: statistics.median(r[name] for r in results)
        for name in ("triggers_per_s", "p50_ms", "p95_ms")
    }
    metrics["failed"] = sum(r["failed"] for r in results)
    echo(
        "| metric | median of runs |\n|---|---|\n"
        + "\n".join(f"| {name} | {value:.1f} |" for name, value in metrics.items())
    )
    return BenchResult(
        metrics=metrics,
        runs=results,
        config={
            "requests": requests,
            "concurrency": concurrency,
            "runs": runs,
            "db": "sqlite",
            "cpus": os.cpu_count(),
        },
    )


def _wait_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a busy machine can take a while to import the app
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not become healthy within 180 s")
