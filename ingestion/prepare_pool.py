"""Documents prepared (parsed, chunked) ahead of the ingesting process, in worker processes.

`PreparePool(paths, settings, workers=..., chunker=...)` is given the document files a run
will ingest, in order; `take(path)` returns each one's `PreparedDocument`, in that order.

- workers <= 1 (or a single file): each file is prepared in this process when it is taken.
- workers >= 2: the first file is prepared in this process while a thread starts the
  workers, the others by a `ProcessPoolExecutor`, at most `ahead` files beyond the one being
  taken: the workers parse file N+1... while the caller embeds file N, and memory stays
  bounded. Worker processes come from a "forkserver" that has imported the parser and
  llama-index once (a fork of the ingesting process itself would copy torch's threads
  mid-flight; a plain spawn imports everything again in every worker), and they do not
  import the main script again (see `_main_script_not_rerun`). If the workers cannot be
  started at all, the files are prepared in this process.
- An exception of the job (`ParseError` for a corrupt or encrypted file, ...) is raised by
  `take` for that file only.
- A worker that dies (a crash inside MuPDF, the OOM killer) breaks the executor for every
  pending file. The pool starts a new executor and runs the file being taken there alone;
  only if that run dies too does `take` raise `WorkerCrashed` for it. The other pending
  files are submitted again.
- A file skipped by the caller (taken out of order) is dropped, its job cancelled.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import types
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ingestion.chunking import DocumentChunker
from ingestion.prepare import (
    PreparedDocument,
    PrepareSettings,
    prepare_document,
    prepare_in_worker,
    worker_chunker,
)

log = logging.getLogger(__name__)
Job = Callable[[Path, PrepareSettings], PreparedDocument]
# Imported once by the forkserver and inherited by every worker.
PRELOAD = ["ingestion.prepare", "llama_index.core.node_parser"]


class WorkerCrashed(Exception):
    """The worker process died while preparing this file, also when it ran alone."""


@dataclass
class _Submitted:
    path: Path
    future: Future[PreparedDocument]


class PreparePool:
    def __init__(
        self,
        paths: Sequence[Path],
        settings: PrepareSettings,
        *,
        workers: int,
        chunker: DocumentChunker | None = None,
        ahead: int | None = None,
        job: Job = prepare_in_worker,
    ) -> None:
        """`chunker`: for the files prepared in this process (default: a worker's chunker).
        `job`: what a worker runs per file (a module-level function: it is pickled)."""
        self.settings = settings
        self._chunker = chunker
        self._job = job
        parallel = workers >= 2 and len(paths) >= 2
        # Worker processes (0: everything in this process); the first file is prepared here.
        self.processes = min(workers, len(paths) - 1) if parallel else 0
        self.ahead = max(1, ahead if ahead is not None else 2 * self.processes)
        self.restarts = 0  # executors started again after a worker died
        self._local: Path | None = None  # the file prepared here while the workers start
        self._waiting: deque[Path] = deque(paths)  # not submitted yet
        self._submitted: deque[_Submitted] = deque()
        self._executor: ProcessPoolExecutor | None = None
        self._starter: threading.Thread | None = None
        if parallel:
            self._local = self._waiting.popleft()
            self._starter = threading.Thread(
                target=self._start_and_fill, name="prepare-pool-start", daemon=True
            )
            self._starter.start()

    def __enter__(self) -> PreparePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._started()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._submitted.clear()
        self._waiting.clear()

    # -- taking results ---------------------------------------------------------------------

    def take(self, path: Path) -> PreparedDocument:
        """`path` prepared; files given before it and not taken are dropped."""
        if self._local is not None:
            local, self._local = self._local, None
            if local == path:
                return self._prepare_here(path)
        self._started()
        if self._executor is None:
            self._drop_waiting_until(path)
            return self._prepare_here(path)
        while True:
            self._fill()
            if not self._submitted:
                raise KeyError(f"{path} is not among the files still to prepare")
            entry = self._submitted.popleft()
            if entry.path == path:
                break
            entry.future.cancel()
        self._fill()  # keep the workers busy while this one is awaited
        return self._result(entry)

    def _prepare_here(self, path: Path) -> PreparedDocument:
        if self._chunker is None:
            self._chunker = worker_chunker(self.settings)
        return prepare_document(path, self.settings, self._chunker)

    def _drop_waiting_until(self, path: Path) -> None:
        while self._waiting:
            if self._waiting.popleft() == path:
                return

    # -- worker processes -------------------------------------------------------------------

    def _start_and_fill(self) -> None:
        try:
            self._executor = self._start()
            self._fill()
        except Exception as exc:  # no processes to be had (limits, no /dev/shm): prepare here
            log.warning("cannot start parse workers (%s): parsing in this process", exc)
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._waiting.extendleft(reversed([entry.path for entry in self._submitted]))
            self._submitted.clear()
            self.processes = 0

    def _started(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
        with _main_script_not_rerun():
            _start_every_worker(executor, self.processes)
        return executor

    def _fill(self) -> None:
        assert self._executor is not None
        while self._waiting and len(self._submitted) < self.ahead:
            path = self._waiting.popleft()
            self._submitted.append(_Submitted(path, self._submit(path)))

    def _submit(self, path: Path) -> Future[PreparedDocument]:
        assert self._executor is not None
        try:
            with _main_script_not_rerun():  # in case submit starts a worker process
                return self._executor.submit(self._job, path, self.settings)
        except BrokenProcessPool as exc:  # a worker died since the last result: resubmitted
            future: Future[PreparedDocument] = Future()  # once the executor is started again
            future.set_exception(exc)
            return future

    def _result(self, entry: _Submitted) -> PreparedDocument:
        try:
            return entry.future.result()
        except BrokenProcessPool:
            pass
        self._restart()
        try:
            return self._alone(entry.path)
        finally:
            self._resubmit()

    def _alone(self, path: Path) -> PreparedDocument:
        """Run one file with no other in flight: if its worker dies, this file did it."""
        future = self._submit(path)
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._restart()
            raise WorkerCrashed(
                "the parser process died while reading this file (a crash or out of memory)"
            ) from exc

    def _restart(self) -> None:
        assert self._executor is not None
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.restarts += 1
        self._executor = self._start()

    def _resubmit(self) -> None:
        """Jobs of the broken executor that have no result again, in the new one."""
        for entry in self._submitted:
            future = entry.future
            if not future.done() or future.cancelled() or _broken(future):
                entry.future = self._submit(entry.path)


def _start_every_worker(executor: ProcessPoolExecutor, processes: int) -> None:
    """Start all the executor's worker processes now, and wait until each one runs.

    CPython 3.11 starts forkserver workers on demand, inside `submit`. When a worker dies, the
    executor's manager thread terminates the other workers and then joins every process it
    knows of; a `submit` racing with it can add a new worker after the terminations, and the
    join then waits forever for a process nobody stopped. It happened in CI (the run timed
    out in test_a_dying_worker_fails_only_its_file) and in 1 of 6 local runs of that test in
    a loop (0 of 40 with this). Once all `max_workers` processes exist, `submit` never starts
    another one. The hook is private (`_launch_processes`, what the executor does itself for
    "fork"); where it is missing, workers start on demand as before. The no-op jobs start
    the manager thread, without which `shutdown` would leave the workers of an executor that
    never got a job waiting for one."""
    launch = getattr(executor, "_launch_processes", None)
    if callable(launch):
        launch()
    for ready in [executor.submit(_worker_ready) for _ in range(processes)]:
        ready.result()


def _worker_ready() -> int:
    return os.getpid()


def _broken(future: Future[PreparedDocument]) -> bool:
    return isinstance(future.exception(), BrokenProcessPool)


@contextmanager
def _main_script_not_rerun() -> Iterator[None]:
    """While worker processes start: a new forkserver or spawn process imports the parent's
    main script again (`__main__.__file__`) before it runs anything, and the `devia` script
    imports the whole CLI (over ten seconds of imports, per worker). The workers need nothing
    from it (jobs are module-level functions of importable modules), so they are started
    while `__main__` is a bare stand-in module without a file."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__file__", None) is None:
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main
