"""`devia worker`: a job worker process without the HTTP API (scale-out).

`devia serve` runs the API and a job worker in one process (the default, one machine).
Scaled out, API replicas run with DEVIA_RUN_WORKER=false (they only enqueue) and any number
of `devia worker` processes claim jobs from the shared records store (PostgreSQL: `FOR UPDATE
SKIP LOCKED`; a worker that dies is replaced after DEVIA_JOB_STALE_AFTER_S). Every worker
opens the index, so the index must be a Qdrant server (DEVIA_INDEX=http://...): Qdrant Edge
locks its folder to one process.

A worker answers `/healthz` and `/readyz` (database reachable, claim threads alive) on
DEVIA_HOST:DEVIA_PORT, for container health checks and Kubernetes probes.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import typer
from rich.console import Console

from api.jobs.worker import JobHandlers, JobWorker, WorkerLimits
from api.records.db import Database
from api.settings import Settings

console = Console(stderr=True)
log = logging.getLogger(__name__)

Readiness = Callable[[], tuple[bool, dict[str, Any]]]


def worker_readiness(db: Database, worker: JobWorker) -> Readiness:
    def check() -> tuple[bool, dict[str, Any]]:
        checks: dict[str, dict[str, Any]] = {}
        try:
            db.ping()
            checks["database"] = {"ok": True, "detail": f"{db.dialect} reachable"}
        except Exception as exc:
            checks["database"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        alive = worker.running
        checks["job_worker"] = {
            "ok": alive,
            "detail": f"claiming {sorted(k.value for k in worker.handlers.kinds())} as "
            f"{worker.worker_id}"
            if alive
            else "job worker is not running",
        }
        ready = all(c["ok"] for c in checks.values())
        return ready, {"status": "ready" if ready else "not_ready", "checks": checks}

    return check


class HealthServer:
    """`/healthz` (the process answers) and `/readyz` (the readiness check) over plain HTTP,
    on a background thread."""

    def __init__(self, host: str, port: int, readiness: Readiness) -> None:
        check = readiness

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._send(200, {"status": "ok"})
                elif self.path == "/readyz":
                    ready, body = check()
                    self._send(200 if ready else 503, body)
                else:
                    self._send(404, {"detail": "not found"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("health: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def limits_from_settings(settings: Settings) -> WorkerLimits:
    return WorkerLimits(
        concurrency=settings.worker_concurrency,
        stale_after_s=settings.job_stale_after_s,
        max_attempts=settings.job_max_attempts,
    )


def run_worker(
    db: Database,
    handlers: JobHandlers,
    limits: WorkerLimits,
    *,
    host: str,
    port: int,
    stop: threading.Event,
    on_ready: Callable[[JobWorker, HealthServer], None] | None = None,
) -> None:
    """Claim and run jobs until `stop` is set, answering health checks meanwhile. A job still
    running at stop keeps its claim: another worker takes it over once it goes stale."""
    if not handlers.kinds():
        raise ValueError("no job handlers: this worker would claim nothing")
    worker = JobWorker(db, handlers, limits)
    health = HealthServer(host, port, worker_readiness(db, worker))
    health.start()
    try:
        worker.start()
        if on_ready is not None:
            on_ready(worker, health)
        stop.wait()
    finally:
        worker.stop()
        health.stop()


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (container stop) or SIGINT (Ctrl-C)."""
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def worker(
    host: Annotated[
        str | None, typer.Option(help="Health-check interface (default DEVIA_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Health-check port (default DEVIA_PORT).")
    ] = None,
) -> None:
    """Run drafting, chat and ingestion jobs from the records store (no HTTP API); run as
    many as the model servers can feed. Stops cleanly on SIGTERM."""
    from api.agent_bridge import production_services
    from api.cli.users_cmd import open_database
    from retrieval.store.errors import StoreLockedError

    settings = Settings()
    stop = stop_on_signals()
    with ExitStack() as stack:
        db = open_database(settings)
        stack.callback(db.dispose)
        console.print("loading the index, the embedding model and the language model…")
        try:
            services = stack.enter_context(production_services(settings))
        except StoreLockedError as exc:
            console.print(
                f"[red]error:[/red] {exc}\nQdrant Edge belongs to one process: separate "
                "workers need a Qdrant server (DEVIA_INDEX=http://...), or run the worker "
                "inside `devia serve` (the default)."
            )
            raise typer.Exit(2) from exc
        run_worker(
            db,
            services.handlers,
            limits_from_settings(settings),
            host=host or settings.host,
            port=port or settings.port,
            stop=stop,
            on_ready=lambda w, h: console.print(
                f"worker {w.worker_id} claiming jobs; health on :{h.port}/readyz"
            ),
        )
