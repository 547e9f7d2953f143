"""How far a drafting run has got: the stage of the agent's graph, read from its checkpoint.

The drafting agent checkpoints its state after every node (the investigation id is the thread
id) into a SQLite file under the data dir. The page reads the latest checkpoint read-only: the
last node that finished (from the state's `timings`) and the sections still to draft. A
PostgreSQL checkpointer, or no checkpoint yet, gives no stage; the page then shows the job
status alone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STAGE_WORDS: dict[str, str] = {
    "intake": "reading the event",
    "characterise": "characterising the process data",
    "gather_evidence": "searching the site's documents and similar events",
    "draft_section": "drafting sections",
    "verify": "checking every statement against its sources",
    "record_provenance": "recording provenance",
    "human_review": "waiting for review",
}
NEXT_STAGE: dict[str, str] = {
    "intake": "characterise",
    "characterise": "gather_evidence",
    "gather_evidence": "draft_section",
    "record_provenance": "human_review",
}


@dataclass(frozen=True)
class GraphProgress:
    last_node: str
    stage: str  # the node now running (best estimate)
    stage_words: str
    sections_done: int
    sections_pending: list[str]
    seconds_so_far: float


def read_progress(checkpoint_file: Path, investigation_id: str) -> GraphProgress | None:
    if not checkpoint_file.is_file():
        return None
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(f"file:{checkpoint_file}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout=2000")
        latest = SqliteSaver(conn).get_tuple(
            {"configurable": {"thread_id": investigation_id, "checkpoint_ns": ""}}
        )
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if latest is None:
        return None
    return progress_of(latest.checkpoint.get("channel_values") or {})


def progress_of(values: dict[str, Any]) -> GraphProgress | None:
    timings = [t for t in values.get("timings") or [] if isinstance(t, dict) and t.get("node")]
    if not timings:
        return None
    last = str(timings[-1]["node"])
    pending = [str(p) for p in values.get("pending") or []]
    if last in ("draft_section", "verify"):
        stage = "draft_section" if pending else ("verify" if last == "draft_section" else last)
    else:
        stage = NEXT_STAGE.get(last, last)
    return GraphProgress(
        last_node=last,
        stage=stage,
        stage_words=STAGE_WORDS.get(stage, stage),
        sections_done=len(values.get("sections") or {}),
        sections_pending=pending,
        seconds_so_far=round(sum(float(t.get("seconds") or 0.0) for t in timings), 1),
    )
