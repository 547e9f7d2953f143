"""Child process of the multi-worker test: the real `devia worker` loop (`run_worker`, with
its signal handling and health server) over a shared records store, with a draft runner that
logs every completed draft and hangs forever on one investigation, once, so that the test can
SIGKILL the worker holding it.

usage: python -m tests.deploy.worker_child DB_URL LOG_DIR HANG_INVESTIGATION_ID
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from api.cli.worker_cmd import run_worker, stop_on_signals
from api.jobs.protocols import DraftRequest, DraftResult
from api.jobs.worker import JobHandlers, JobWorker, WorkerLimits
from api.records.db import Database
from tests.api.fake_draft_runner import FakeDeterministicDraftRunner

STALE_AFTER_S = 2.0


class LoggingDraftRunner:
    def __init__(self, log_dir: Path, hang_id: str) -> None:
        self._log = log_dir / f"drafted-{os.getpid()}.log"
        self._hang_marker = log_dir / "hang.claimed"
        self._hang_id = hang_id
        self._inner = FakeDeterministicDraftRunner()

    def draft(self, request: DraftRequest) -> DraftResult:
        if request.investigation_id == self._hang_id and self._claim_hang():
            while True:  # a worker stuck on a job (or about to be killed holding it)
                time.sleep(1)
        result = self._inner.draft(request)
        with self._log.open("a") as log:
            log.write(f"{request.investigation_id}\n")
        return result

    def _claim_hang(self) -> bool:
        try:
            fd = os.open(self._hang_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True


def main() -> None:
    db_url, log_dir, hang_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    stop = stop_on_signals()
    db = Database(db_url, pool_size=4)

    def ready(worker: JobWorker, health: object) -> None:
        port = getattr(health, "port", 0)
        (log_dir / f"ready-{os.getpid()}").write_text(f"{worker.worker_id} {port}")

    try:
        run_worker(
            db,
            JobHandlers(draft=LoggingDraftRunner(log_dir, hang_id)),
            WorkerLimits(
                concurrency=1, stale_after_s=STALE_AFTER_S, max_attempts=3, poll_interval_s=0.05
            ),
            host="127.0.0.1",
            port=0,
            stop=stop,
            on_ready=ready,
        )
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
