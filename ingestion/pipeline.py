"""`ingest_paths`: files and folders into the index, one document revision at a time.

Per file: size limit, content hash (unchanged files are skipped before parsing), parse,
metadata, chunks, vectors, one atomic write. Every file is screened first (size, hash,
duplicate, unchanged); the documents left are parsed and chunked by a `PreparePool`, in worker
processes ahead of the embedding when there are enough of them (`IngestOptions.workers`), and
taken back in input order, so everything after parsing runs as in a serial run. Guarantees:

- All points of one document revision go to the index in one `store.replace` call, together
  with the re-stamped points of the revision it supersedes: a search sees the old revision
  as current and the new one absent, or the new one current and the old one superseded,
  never a mix. An older revision ingested after a newer one is stored superseded at once.
- QMS exports: each record is a document; its points are written in one call and carry the
  record's content hash, so a restarted run skips the records already stored.
- A file is entered in the registry (`IngestRegistry`) only once all its points are stored.
- One bad file never stops the run: it gets a status and a reason in the report.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.chunking import ChunkingConfig, DocumentChunker
from ingestion.mapping import Mapping
from ingestion.metadata import revision_key
from ingestion.patterns import MetadataPatterns
from ingestion.pdf_parser import ParseError, tesseract_available
from ingestion.points import (
    CONTENT_SHA256,
    SOURCE_ROW,
    chunk_payload,
    document_key,
    make_points,
    record_key,
)
from ingestion.prepare import PrepareSettings
from ingestion.prepare_pool import PreparePool, WorkerCrashed
from ingestion.records import (
    ExportError,
    NotAnExportError,
    read_export,
    record_chunks,
    record_metadata,
)
from ingestion.report import FileOutcome, FileStatus, IngestReport
from ingestion.state import IngestRegistry
from ingestion.tokens import token_counter
from retrieval.embedding import Embedder
from retrieval.index_contract import ChunkKind, Payload, RevisionStatus, point_id
from retrieval.store.base import Filter, IndexPoint, IndexStore

DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx", ".md", ".markdown", ".txt"})
EXPORT_SUFFIXES = frozenset({".json", ".jsonl", ".csv"})
DEFAULT_EXCLUDE = ("README*", "readme*", "MANIFEST.json", "manifest.json", ".*", "~$*")
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
WORKERS_ENV = "DEVIA_INGEST_WORKERS"
DEFAULT_WORKERS = 2
# Worker processes start only when the documents to parse add up to this much: a worker's
# first file waits for its start (forkserver + imports, one to a few seconds), which a few
# small files do not pay back.
DEFAULT_PARALLEL_MIN_BYTES = 2 * 1024 * 1024
ProgressCallback = Callable[[str, int, int], None]  # (current file, done, total)


def default_workers() -> int:
    """`DEVIA_INGEST_WORKERS` (1 = parse in the ingesting process), else 2."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if not value:
        return DEFAULT_WORKERS
    try:
        return max(1, int(value))
    except ValueError as exc:
        raise ValueError(f"{WORKERS_ENV} must be a whole number, not {value!r}") from exc


@dataclass(frozen=True)
class IngestOptions:
    documents_dir: Path | None = None  # content-addressed copies of the sources
    state_path: Path | None = None  # registry SQLite file; None: in memory
    doc_type: Any = None  # a DocType forces the type of every document
    site: str | None = None  # site of documents and records that name none
    # Uploads: `site` is the uploader's and wins over any site the file names (no tenant may
    # write into another site's or the shared part of the index).
    force_site: bool = False
    mapping: Mapping | None = None  # field mapping for foreign QMS exports
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    patterns: MetadataPatterns = field(default_factory=MetadataPatterns)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    ocr: bool = True  # OCR pages without text when Tesseract is installed
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE  # file name patterns skipped in folders
    record_batch: int = 256
    exact_tokens: bool = False  # count tokens with the embedder's tokenizer (parses serially)
    progress: ProgressCallback | None = None
    # Processes that parse and chunk documents ahead of the embedding (1: in this process).
    workers: int = field(default_factory=default_workers)
    parallel_min_bytes: int = DEFAULT_PARALLEL_MIN_BYTES

    @property
    def prepare_settings(self) -> PrepareSettings:
        return PrepareSettings(
            patterns=self.patterns,
            chunking=self.chunking,
            ocr=self.ocr,
            doc_type=self.doc_type,
            site=self.site,
            force_site=self.force_site,
        )

    def workers_for(self, documents: Sequence[Path]) -> int:
        """Workers for parsing `documents`: 1 (serial) for exact token counts (the worker
        processes have no tokenizer) and for too little to parse."""
        if self.exact_tokens or self.workers < 2 or len(documents) < 2:
            return 1
        size = 0
        for path in documents:
            try:
                size += path.stat().st_size
            except OSError:  # gone since it was hashed: its own outcome says so
                continue
        return self.workers if size >= self.parallel_min_bytes else 1


def discover(paths: Sequence[Path], exclude: Sequence[str]) -> list[tuple[Path, str]]:
    """(file, source path shown and stored) for every file under `paths`, sorted.
    Folder contents are relative to the folder; files given directly keep their name."""
    found: list[tuple[Path, str]] = []
    for root in paths:
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if any(fnmatch.fnmatch(name, pattern) for pattern in exclude):
                        continue
                    path = Path(dirpath) / name
                    found.append((path, path.relative_to(root).as_posix()))
        else:
            found.append((root, root.name))
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Ingestor:
    def __init__(self, store: IndexStore, embedder: Embedder, options: IngestOptions) -> None:
        self.store = store
        self.embedder = embedder
        self.options = options
        self.report = IngestReport()
        self.registry = IngestRegistry(options.state_path)
        self.chunker = DocumentChunker(
            options.patterns, options.chunking, token_counter(embedder, options.exact_tokens)
        )
        self.seen: dict[str, str] = {}  # sha256 -> first path of this run
        self.pool = PreparePool([], options.prepare_settings, workers=1, chunker=self.chunker)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.report.add_time(name, time.perf_counter() - start)

    # -- per file ---------------------------------------------------------------------------

    def screen(self, path: Path, shown: str) -> FileOutcome | str:
        """The file's outcome when it needs no parsing, else its sha256 (work to do)."""
        if not path.exists():
            return FileOutcome(shown, FileStatus.FAILED, "no such file")
        suffix = path.suffix.lower()
        if suffix not in DOCUMENT_SUFFIXES | EXPORT_SUFFIXES:
            return FileOutcome(shown, FileStatus.UNSUPPORTED, f"unsupported file type {suffix!r}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            return FileOutcome(shown, FileStatus.FAILED, f"cannot read: {exc.strerror}")
        if size > self.options.max_file_bytes:
            return FileOutcome(
                shown,
                FileStatus.FAILED,
                f"file too large: {size} bytes, limit {self.options.max_file_bytes}",
            )
        if size == 0:
            return FileOutcome(shown, FileStatus.FAILED, "empty file (0 bytes)")
        with self.stage("hash"):
            sha = file_sha256(path)
        if sha in self.seen:
            return FileOutcome(shown, FileStatus.DUPLICATE, f"same content as {self.seen[sha]}")
        self.seen[sha] = shown
        if self.registry.is_complete(sha) and self.store.count(
            Filter(must={Payload.SOURCE_SHA256: sha})
        ):
            return FileOutcome(shown, FileStatus.UNCHANGED, "already ingested")
        return sha

    def ingest(self, path: Path, shown: str, sha: str) -> FileOutcome:
        try:
            if path.suffix.lower() in EXPORT_SUFFIXES:
                return self.ingest_export(path, shown, sha)
            return self.ingest_document(path, shown, sha)
        except NotAnExportError as exc:
            return FileOutcome(shown, FileStatus.UNSUPPORTED, str(exc))
        except (ParseError, ExportError, WorkerCrashed) as exc:
            return FileOutcome(shown, FileStatus.FAILED, str(exc))

    def _copy_source(self, path: Path, sha: str) -> None:
        if self.options.documents_dir is None:
            return
        with self.stage("copy"):
            target = self.options.documents_dir / f"{sha}{path.suffix.lower()}"
            if target.exists():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, partial)
            os.replace(partial, target)

    def ingest_document(self, path: Path, shown: str, sha: str) -> FileOutcome:
        with self.stage("prepare_wait"):
            prepared = self.pool.take(path)
        self.report.add_time("parse", prepared.parse_s)
        self.report.add_time("chunk", prepared.chunk_s)
        meta, chunks = prepared.meta, prepared.chunks
        outcome = FileOutcome(shown, FileStatus.INGESTED, doc_ids=[meta.doc_id])
        outcome.pages = prepared.pages
        outcome.notes = list(prepared.notes)
        outcome.pages_without_text = list(prepared.pages_without_text)
        if outcome.pages_without_text:
            hint = "OCR found no text" if tesseract_available() else "install tesseract-ocr to OCR"
            outcome.notes.append(
                f"{len(outcome.pages_without_text)} pages without a text layer ({hint})"
            )
        if not chunks:
            outcome.status = FileStatus.FAILED
            outcome.reason = (
                "no text layer on any page: nothing indexed"
                if outcome.pages_without_text
                else "no text found"
            )
            return outcome
        outcome.chunks = len(chunks)
        incomplete = bool(outcome.pages_without_text)
        key = document_key(meta.site, meta.doc_id)

        with self.stage("upsert"):
            revisions = self._stored_revisions(meta.site, meta.doc_id)
        same = revisions.get(meta.revision)
        if same and same["content"] == sha and not same["partial"]:
            self.registry.mark_complete(sha, shown, 0, [meta.doc_id])
            outcome.status = FileStatus.UNCHANGED
            outcome.reason = f"{meta.doc_id} rev {meta.revision} already indexed"
            return outcome

        this_key = revision_key(meta.revision, meta.effective_date)
        newer = sorted(
            (
                r
                for r in revisions
                if r != meta.revision and revision_key(r, revisions[r]["date"]) > this_key
            ),
            key=lambda r: revision_key(r, revisions[r]["date"]),
        )
        if newer:
            meta.status = RevisionStatus.SUPERSEDED
            meta.superseded_by = meta.superseded_by or newer[0]
        restamp: list[dict[str, Any]] = []
        if meta.status is RevisionStatus.EFFECTIVE or not newer:
            for revision, info in revisions.items():
                if revision == meta.revision or revision_key(revision, info["date"]) > this_key:
                    continue
                for payload in info["payloads"]:
                    if payload.get(
                        Payload.STATUS
                    ) == RevisionStatus.EFFECTIVE.value or not payload.get(Payload.SUPERSEDED_BY):
                        restamp.append(
                            {
                                **payload,
                                Payload.STATUS: RevisionStatus.SUPERSEDED.value,
                                Payload.SUPERSEDED_BY: meta.revision,
                            }
                        )

        payloads = [
            chunk_payload(
                chunk,
                position,
                meta,
                source_path=shown,
                source_sha256=sha,
                content_sha256=sha,
                incomplete=incomplete,
                pages_without_text=outcome.pages_without_text,
            )
            for position, chunk in enumerate(chunks)
        ]
        self._copy_source(path, sha)
        with self.stage("embed"):
            points = make_points(
                payloads + restamp, self.embedder, doc_keys=[key] * (len(payloads) + len(restamp))
            )
        revisions_written = sorted({meta.revision, *(str(p[Payload.REVISION]) for p in restamp)})
        with self.stage("upsert"):
            self.store.replace(
                Filter(
                    must={
                        Payload.SITE: meta.site,
                        Payload.DOC_ID: meta.doc_id,
                        Payload.REVISION: revisions_written,
                    },
                    must_not={Payload.CHUNK_KIND: ChunkKind.RECORD.value},
                ),
                points,
            )
        self.registry.mark_complete(sha, shown, len(payloads), [meta.doc_id])
        outcome.points_added = len(payloads)
        if incomplete:
            outcome.status = FileStatus.INCOMPLETE
        if restamp:
            outcome.notes.append(
                f"marked rev {', '.join(r for r in revisions_written if r != meta.revision)} superseded"
            )
        if meta.status is RevisionStatus.SUPERSEDED:
            outcome.notes.append(f"stored as superseded (by rev {meta.superseded_by or '?'})")
        return outcome

    def _stored_revisions(self, site: str, doc_id: str) -> dict[str, dict[str, Any]]:
        revisions: dict[str, dict[str, Any]] = {}
        documents_only = Filter(
            must={Payload.SITE: site, Payload.DOC_ID: doc_id},
            must_not={Payload.CHUNK_KIND: ChunkKind.RECORD.value},
        )
        for point in self.store.scroll(documents_only):
            payload = dict(point.payload)
            revision = str(payload.get(Payload.REVISION))
            info = revisions.setdefault(
                revision,
                {
                    "content": payload.get(CONTENT_SHA256),
                    "date": payload.get(Payload.EFFECTIVE_DATE),
                    "payloads": [],
                    "partial": False,
                },
            )
            if payload.get(CONTENT_SHA256) != info["content"]:
                info["partial"] = True  # points of two contents: a replace was interrupted
            info["payloads"].append(payload)
        return revisions

    # -- QMS exports ------------------------------------------------------------------------

    def ingest_export(self, path: Path, shown: str, sha: str) -> FileOutcome:
        with self.stage("parse"):
            rows = read_export(path, self.options.mapping)
        outcome = FileOutcome(shown, FileStatus.INGESTED)
        outcome.rows_rejected = len(rows.errors)
        outcome.rows_filtered = rows.filtered_out
        outcome.notes = list(rows.notes)
        if rows.errors:
            first = rows.errors[0]
            outcome.notes.append(
                f"{len(rows.errors)} rows rejected (row {first.row}: {first.reason})"
            )
        self._copy_source(path, sha)
        doc_ids: list[str] = []
        batch = self.options.record_batch
        for start in range(0, len(rows.records), batch):
            self._ingest_records(rows.records[start : start + batch], shown, sha, outcome, doc_ids)
        outcome.records = len(rows.records)
        outcome.doc_ids = doc_ids
        self.registry.mark_complete(sha, shown, outcome.points_added, doc_ids)
        if not rows.records:
            outcome.reason = "no rows passed the mapping's filter"
        elif outcome.records_unchanged == outcome.records:
            outcome.status = FileStatus.UNCHANGED
            outcome.reason = "every record already indexed with the same content"
        return outcome

    def _ingest_records(
        self,
        records: Sequence[tuple[int, dict[str, Any]]],
        shown: str,
        sha: str,
        outcome: FileOutcome,
        doc_ids: list[str],
    ) -> None:
        with self.stage("chunk"):
            prepared: list[tuple[str, Any, list[dict[str, Any]], list[str]]] = []
            for row, record in records:
                meta = record_metadata(record, self.options.site)
                if self.options.force_site and self.options.site:
                    meta.site = self.options.site
                from llama_index.core import Document as LlamaDocument

                content = LlamaDocument(text=repr(sorted(record.items())), id_=meta.doc_id).hash
                key = record_key(meta.site, meta.doc_id)
                payloads = [
                    {
                        **chunk_payload(
                            chunk,
                            position,
                            meta,
                            source_path=shown,
                            source_sha256=sha,
                            content_sha256=content,
                        ),
                        SOURCE_ROW: row,
                    }
                    for position, chunk in enumerate(record_chunks(record))
                ]
                ids = [point_id(key, meta.revision, i) for i in range(len(payloads))]
                prepared.append((key, meta, payloads, ids))
                doc_ids.append(meta.doc_id)
        with self.stage("upsert"):
            stored = {
                p.id: p.payload.get(CONTENT_SHA256)
                for p in self.store.retrieve([i for _, _, _, ids in prepared for i in ids])
            }
        fresh: list[tuple[str, Any, list[dict[str, Any]]]] = []
        changed: list[tuple[str, Any, list[dict[str, Any]]]] = []
        for key, meta, payloads, ids in prepared:
            record_hash = payloads[0][CONTENT_SHA256] if payloads else None
            if ids and all(stored.get(i) == record_hash for i in ids):
                outcome.records_unchanged += 1
                continue
            (changed if any(i in stored for i in ids) else fresh).append((key, meta, payloads))
        todo = fresh + changed
        with self.stage("embed"):
            flat = [p for _, _, payloads in todo for p in payloads]
            keys = [key for key, _, payloads in todo for _ in payloads]
            points = make_points(flat, self.embedder, doc_keys=keys)
        by_doc: dict[str, list[IndexPoint]] = {}
        for point, key in zip(points, keys, strict=True):
            by_doc.setdefault(key, []).append(point)
        with self.stage("upsert"):
            new_points = [p for key, _, _ in fresh for p in by_doc.get(key, [])]
            if new_points:
                self.store.upsert(new_points)
            for key, meta, _ in changed:
                self.store.replace(
                    Filter(
                        must={
                            Payload.SITE: meta.site,
                            Payload.DOC_ID: meta.doc_id,
                            Payload.CHUNK_KIND: ChunkKind.RECORD.value,
                        }
                    ),
                    by_doc[key],
                )
        outcome.points_added += len(points)
        outcome.chunks += sum(len(payloads) for _, _, payloads, _ in prepared)


def ingest_paths(
    paths: Sequence[Path], *, store: IndexStore, embedder: Embedder, options: IngestOptions
) -> IngestReport:
    """Ingest files and folders (recursively) into `store`; returns the run's report."""
    started = time.perf_counter()
    store.ensure_collection(embedder.dim)
    ingestor = _Ingestor(store, embedder, options)
    try:
        files = discover(paths, options.exclude)
        screened: list[tuple[Path, str, FileOutcome | str, float]] = []
        for path, shown in files:
            file_start = time.perf_counter()
            try:
                screen = ingestor.screen(path, shown)
            except Exception as exc:  # one bad file must not stop the run
                screen = FileOutcome(shown, FileStatus.FAILED, f"{type(exc).__name__}: {exc}")
            screened.append((path, shown, screen, time.perf_counter() - file_start))
        documents = [
            path
            for path, _, screen, _ in screened
            if isinstance(screen, str) and path.suffix.lower() in DOCUMENT_SUFFIXES
        ]
        ingestor.pool = PreparePool(
            documents,
            options.prepare_settings,
            workers=options.workers_for(documents),
            chunker=ingestor.chunker,
        )
        with ingestor.pool:
            for done, (path, shown, screen, screen_s) in enumerate(screened):
                if options.progress:
                    options.progress(shown, done, len(files))
                file_start = time.perf_counter()
                if isinstance(screen, FileOutcome):
                    outcome = screen
                else:
                    try:
                        outcome = ingestor.ingest(path, shown, screen)
                    except Exception as exc:  # one bad file must not stop the run
                        outcome = FileOutcome(
                            shown, FileStatus.FAILED, f"{type(exc).__name__}: {exc}"
                        )
                outcome.seconds = round(screen_s + time.perf_counter() - file_start, 3)
                ingestor.report.files.append(outcome)
        ingestor.report.worker_processes = ingestor.pool.processes
        ingestor.report.worker_restarts = ingestor.pool.restarts
        if options.progress:
            options.progress("", len(files), len(files))
        optimize = getattr(store, "optimize", None)
        if callable(optimize) and ingestor.report.totals["points_added"]:
            with ingestor.stage("optimize"):
                optimize()  # Qdrant Edge: build HNSW + payload indexes now, not at first query
    finally:
        ingestor.registry.close()
    ingestor.report.elapsed_s = time.perf_counter() - started
    return ingestor.report
