"""In-process worker for the durable job table (drafts, chat answers, document ingestion).

Threads claim jobs from the database (never from memory), so pending jobs and jobs whose
worker died (stale heartbeat) resume after a restart, and several API processes can share
the table. Concurrency is bounded by the thread count (default 1: one model, one job).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from api.jobs.protocols import (
    ChatRequest,
    ChatResponder,
    ChatTurn,
    DocumentIngestor,
    DraftRequest,
    DraftRunner,
    IngestRequest,
)
from api.records import documents, investigations, jobs
from api.records.db import Database
from api.records.errors import RecordsError
from api.records.models import ChatMessage, Document, Investigation, JobKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobHandlers:
    draft: DraftRunner | None = None
    chat: ChatResponder | None = None
    ingest: DocumentIngestor | None = None
    # Called once when the worker stops: ends in-flight model calls so shutdown is prompt.
    interrupt: Callable[[], None] | None = None

    def kinds(self) -> set[JobKind]:
        configured = {
            JobKind.draft: self.draft,
            JobKind.chat: self.chat,
            JobKind.ingest: self.ingest,
        }
        return {kind for kind, handler in configured.items() if handler is not None}


@dataclass(frozen=True)
class WorkerLimits:
    concurrency: int = 1
    stale_after_s: float = 300.0
    max_attempts: int = 3
    poll_interval_s: float = 1.0


class _LostClaim(Exception):
    """Another worker took the job over (ours looked dead): drop our result."""


class JobWorker:
    def __init__(self, db: Database, handlers: JobHandlers, limits: WorkerLimits) -> None:
        self.db = db
        self.handlers = handlers
        self.limits = limits
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        if not self.handlers.kinds() or self._threads:
            return
        for index in range(max(1, self.limits.concurrency)):
            thread = threading.Thread(
                target=self._loop, name=f"devia-job-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming and interrupt running model calls. A job cut short this way is
        handed back (pending, attempt not counted), so it resumes after a restart."""
        self._stop.set()
        self._wake.set()
        if self.handlers.interrupt is not None:
            self.handlers.interrupt()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the loop must survive a database hiccup
                log.exception("job worker iteration failed")
                worked = False
            if not worked:
                self._wake.wait(self.limits.poll_interval_s)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to claim."""
        with self.db.write() as session:
            exhausted = jobs.fail_exhausted(
                session, self.limits.max_attempts, self.limits.stale_after_s
            )
            for job in exhausted:
                if job.kind == JobKind.draft.value and job.investigation_id:
                    investigations.record_draft_failure(
                        session, job.investigation_id, job.error or "draft job failed"
                    )
            claimed = jobs.claim(
                session,
                self.handlers.kinds(),
                self.worker_id,
                stale_after_s=self.limits.stale_after_s,
                max_attempts=self.limits.max_attempts,
            )
        if claimed is None:
            return False
        with self._heartbeat(claimed.id):
            if claimed.kind is JobKind.draft and claimed.investigation_id:
                self._run_draft(claimed.id, claimed.investigation_id)
            elif claimed.kind is JobKind.chat and claimed.chat_message_id:
                self._run_chat(claimed.id, claimed.chat_message_id)
            elif claimed.kind is JobKind.ingest and claimed.document_id:
                self._run_ingest(claimed.id, claimed.document_id)
            else:
                self._finish_failed(claimed.id, "malformed job row", lambda _s: None)
        return True

    def _heartbeat(self, job_id: int) -> _Heartbeat:
        return _Heartbeat(self, job_id, max(0.5, self.limits.stale_after_s / 4))

    def _hand_back_if_stopping(self, job_id: int) -> bool:
        """During shutdown a failure is the interruption itself: release the claim instead."""
        if not self._stop.is_set():
            return False
        with self.db.write() as session:
            released = jobs.release(session, job_id, self.worker_id)
        log.info("job %s interrupted by shutdown; released=%s", job_id, released)
        return True

    def _finish_failed(
        self, job_id: int, error: str, on_failure: Callable[[Session], None]
    ) -> None:
        with self.db.write() as session:
            if jobs.finish(session, job_id, self.worker_id, ok=False, error=error):
                on_failure(session)

    def _run_draft(self, job_id: int, investigation_id: str) -> None:
        runner = self.handlers.draft
        assert runner is not None
        with self.db.read() as session:
            investigation = session.get(Investigation, investigation_id)
            if investigation is None:
                request = None
            else:
                request = DraftRequest(
                    investigation.id,
                    investigation.site,
                    investigation.source,
                    investigation.payload,
                )
        if request is None:
            self._finish_failed(job_id, "investigation not found", lambda _s: None)
            return
        try:
            result = runner.draft(request)
        except Exception as exc:
            if self._hand_back_if_stopping(job_id):
                return
            log.exception("draft runner failed for %s", investigation_id)
            error = f"draft runner failed: {type(exc).__name__}: {exc}"
        else:
            try:
                with self.db.write() as session:
                    if not jobs.finish(session, job_id, self.worker_id, ok=True):
                        raise _LostClaim
                    investigations.store_ai_draft(
                        session, investigation_id, result.content, result.provenance
                    )
                return
            except _LostClaim:
                return
            except RecordsError as exc:
                error = exc.message
        self._finish_failed(
            job_id,
            error,
            lambda s: investigations.record_draft_failure(s, investigation_id, error),
        )

    def _run_chat(self, job_id: int, message_id: int) -> None:
        responder = self.handlers.chat
        assert responder is not None
        with self.db.read() as session:
            question = session.get(ChatMessage, message_id)
            if question is None:
                request = None
            else:
                investigation = session.get(Investigation, question.investigation_id)
                history = [
                    ChatTurn(m.role, m.content)
                    for m in investigations.chat_messages(session, question.investigation_id)
                    if m.id <= message_id
                ]
                draft = None
                if investigation is not None and investigation.current_version:
                    draft = investigations.get_version(
                        session, investigation.id, investigation.current_version
                    ).content
                request = ChatRequest(
                    question.investigation_id,
                    investigation.site if investigation else "",
                    draft,
                    history,
                )
        if request is None:
            self._finish_failed(job_id, "chat message not found", lambda _s: None)
            return
        try:
            reply = responder.answer(request)
        except Exception as exc:
            if self._hand_back_if_stopping(job_id):
                return
            log.exception("chat responder failed for message %s", message_id)
            self._finish_failed(job_id, f"{type(exc).__name__}: {exc}", lambda _s: None)
            return
        try:
            with self.db.write() as session:
                if not jobs.finish(session, job_id, self.worker_id, ok=True):
                    raise _LostClaim
                investigations.add_assistant_reply(session, message_id, reply)
        except _LostClaim:
            return

    def _run_ingest(self, job_id: int, document_id: str) -> None:
        ingestor = self.handlers.ingest
        assert ingestor is not None
        with self.db.read() as session:
            document = session.get(Document, document_id)
            request = (
                None
                if document is None
                else IngestRequest(
                    document.id,
                    document.site,
                    Path(document.stored_path),
                    document.doc_type,
                )
            )
        if request is None:
            self._finish_failed(job_id, "document not found", lambda _s: None)
            return
        try:
            summary = ingestor.ingest(request)
        except Exception as exc:
            log.exception("ingestion failed for document %s", document_id)
            error = f"{type(exc).__name__}: {exc}"
            self._finish_failed(
                job_id,
                error,
                lambda s: documents.set_status(s, document_id, "failed", error),
            )
            return
        try:
            with self.db.write() as session:
                if not jobs.finish(session, job_id, self.worker_id, ok=True):
                    raise _LostClaim
                documents.set_status(session, document_id, "ingested", summary[:4000])
        except _LostClaim:
            return


class _Heartbeat:
    """Context manager: refreshes the job's heartbeat on a side thread while it runs."""

    def __init__(self, worker: JobWorker, job_id: int, every_s: float) -> None:
        self._worker = worker
        self._job_id = job_id
        self._every_s = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self._every_s):
            try:
                with self._worker.db.write() as session:
                    jobs.heartbeat(session, self._job_id, self._worker.worker_id)
            except Exception:
                log.exception("heartbeat failed for job %s", self._job_id)
