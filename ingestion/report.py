"""The report of one ingestion run: per-file outcomes, totals and stage timings."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable


class FileStatus(StrEnum):
    INGESTED = "ingested"
    INCOMPLETE = "incomplete"  # ingested, but pages without a text layer are missing
    UNCHANGED = "unchanged"  # already in the index with the same content: skipped
    DUPLICATE = "duplicate"  # same content as a file seen earlier in this run
    UNSUPPORTED = "unsupported"  # not a kind of file devia ingests (or excluded)
    FAILED = "failed"


STAGES = ("hash", "parse", "chunk", "prepare_wait", "embed", "upsert", "copy", "optimize")
# What the stage seconds are (written into the JSON report). With worker processes, parse and
# chunk overlap the other stages, so the stages can add up to more than the elapsed time.
STAGE_MEANING = {
    "parse": "parse + metadata seconds of every document, measured where it ran (this "
    "process or a worker process), summed; QMS exports: reading in this process",
    "chunk": "chunking seconds of every document, measured where it ran, summed; QMS "
    "exports: record chunks in this process",
    "prepare_wait": "wall seconds this process spent getting the next parsed and chunked "
    "document: the parse + chunk itself when serial, waiting for a worker otherwise",
    "other": "hash, embed, upsert, copy, optimize: wall seconds in this process",
}


@dataclass
class FileOutcome:
    path: str
    status: FileStatus
    reason: str = ""
    doc_ids: list[str] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    points_added: int = 0
    records: int = 0
    records_unchanged: int = 0
    rows_rejected: int = 0
    rows_filtered: int = 0
    pages_without_text: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    elapsed_s: float = 0.0
    worker_processes: int = 0  # processes that parsed documents (0: all in this process)
    worker_restarts: int = 0  # times the worker processes were started again after a crash

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] += seconds

    def count(self, *statuses: FileStatus) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def totals(self) -> dict[str, Any]:
        ingested = [
            f for f in self.files if f.status in (FileStatus.INGESTED, FileStatus.INCOMPLETE)
        ]
        return {
            "files_seen": len(self.files),
            "ingested": len(ingested),
            "incomplete": self.count(FileStatus.INCOMPLETE),
            "skipped_unchanged": self.count(FileStatus.UNCHANGED),
            "duplicates": self.count(FileStatus.DUPLICATE),
            "unsupported": self.count(FileStatus.UNSUPPORTED),
            "failed": self.count(FileStatus.FAILED),
            "pages": sum(f.pages for f in ingested),
            "chunks": sum(f.chunks for f in ingested),
            "points_added": sum(f.points_added for f in self.files),
            "records": sum(f.records for f in ingested),
            "pages_without_text": sum(len(f.pages_without_text) for f in self.files),
            "elapsed_s": round(self.elapsed_s, 3),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals,
            "stage_seconds": {s: round(self.stage_seconds.get(s, 0.0), 3) for s in STAGES},
            "stage_meaning": STAGE_MEANING,
            "worker_processes": self.worker_processes,
            "worker_restarts": self.worker_restarts,
            "files": [
                {**asdict(f), "status": f.status.value, "doc_ids": f.doc_ids[:50]}
                for f in self.files
            ],
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2))

    def print(self, console: Console, max_rows: int = 60) -> None:
        table = RichTable(
            "file", "status", "pages", "chunks", "points", "detail", title="Ingestion"
        )
        shown = sorted(self.files, key=lambda f: (f.status is FileStatus.UNCHANGED, f.path))
        for outcome in shown[:max_rows]:
            style = {"failed": "red", "incomplete": "yellow", "unchanged": "dim"}.get(
                outcome.status.value, ""
            )
            detail = outcome.reason
            if outcome.pages_without_text:
                detail = f"pages without text: {outcome.pages_without_text} {detail}".strip()
            if outcome.records:
                detail = (
                    f"{outcome.records} records ({outcome.records_unchanged} unchanged, "
                    f"{outcome.rows_rejected} rows rejected, {outcome.rows_filtered} filtered out)"
                    f" {detail}"
                ).strip()
            if outcome.notes:
                detail = f"{detail} [{'; '.join(outcome.notes)}]".strip()
            table.add_row(
                outcome.path,
                f"[{style}]{outcome.status.value}[/{style}]" if style else outcome.status.value,
                str(outcome.pages),
                str(outcome.chunks),
                str(outcome.points_added),
                detail,
            )
        if len(shown) > max_rows:
            table.caption = f"{len(shown) - max_rows} more files in the JSON report"
        console.print(table)
        totals = self.totals
        console.print(
            " ".join(f"{k}={v}" for k, v in totals.items())
            + " | stages: "
            + " ".join(f"{s}={self.stage_seconds.get(s, 0.0):.2f}s" for s in STAGES)
            + f" | worker processes: {self.worker_processes}"
        )
