"""`devia bench draft`: time from an MES payload to a draft at the review point.

Each run is a fresh investigation (new thread, in-memory checkpoints) on an already loaded
model and index, so the figure is the agent's own time: characterisation, retrieval, every
drafting call and verification. Reported as the median of N runs with min and max.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DraftTiming:
    seconds: float
    llm_calls: int  # drafting calls, redrafts included (a call's repair turn is not counted)
    per_node: dict[str, float]
    redrafted: int  # sections drafted more than once
    statements: int
    verified: int
    model_statements: int  # in the sections the model drafted (not composed from records)
    model_verified: int
    prompt_tokens: int  # of the calls kept in the final records (an earlier attempt's are not)
    completion_tokens: int
    sections: list[dict[str, Any]]  # per section: origin, attempts, kept, verified, seconds, tokens


def time_draft(run: Callable[[str], dict[str, Any]], run_id: str) -> DraftTiming:
    """`run(thread_id)` drafts one investigation and returns its state at review."""
    started = time.perf_counter()
    state = run(run_id)
    seconds = time.perf_counter() - started
    per_node: dict[str, float] = {}
    for entry in state.get("timings") or []:
        per_node[entry["node"]] = per_node.get(entry["node"], 0.0) + entry["seconds"]
    sections = list((state.get("sections") or {}).values())
    drafted = [r for r in sections if r.get("prompts")]
    usage = [((r.get("call") or {}).get("usage") or {}) for r in drafted]
    return DraftTiming(
        seconds,
        llm_calls=sum(int(r.get("attempt") or 1) for r in drafted),
        per_node=per_node,
        redrafted=sum(int(r.get("attempt") or 1) > 1 for r in drafted),
        statements=sum(int(r.get("n_statements") or 0) for r in sections),
        verified=sum(int(r.get("verified") or 0) for r in sections),
        model_statements=sum(int(r.get("n_statements") or 0) for r in drafted),
        model_verified=sum(int(r.get("verified") or 0) for r in drafted),
        prompt_tokens=sum(int(u.get("prompt_tokens") or 0) for u in usage),
        completion_tokens=sum(int(u.get("completion_tokens") or 0) for u in usage),
        sections=[_section_row(name, r) for name, r in (state.get("sections") or {}).items()],
    )


def _section_row(name: str, record: dict[str, Any]) -> dict[str, Any]:
    usage = (record.get("call") or {}).get("usage") or {}
    return {
        "section": name,
        "origin": record.get("origin") or "model",
        "attempts": record.get("attempt"),
        "kept": record.get("kept") or "last_attempt",
        "verified": record.get("verified"),
        "statements": record.get("n_statements"),
        "seconds": record.get("seconds"),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "error": record.get("error"),
        "earlier_attempts": record.get("earlier_attempts") or [],
        "failed": record.get("failed") or [],  # statements that did not verify, with reasons
    }


def bench_draft(
    run: Callable[[str], dict[str, Any]], runs: int, warmup: int = 0
) -> tuple[dict[str, float], list[DraftTiming]]:
    if runs < 1:
        raise ValueError("runs must be at least 1")
    for i in range(warmup):
        run(f"bench-warmup-{i}-{time.time_ns()}")
    timings = [time_draft(run, f"bench-{i}-{time.time_ns()}") for i in range(runs)]
    seconds = [t.seconds for t in timings]
    nodes = sorted({n for t in timings for n in t.per_node})
    metrics = {
        "draft_s_median": statistics.median(seconds),
        "draft_s_min": min(seconds),
        "draft_s_max": max(seconds),
        "runs": float(runs),
        "llm_calls_median": statistics.median(t.llm_calls for t in timings),
        "sections_redrafted_median": statistics.median(t.redrafted for t in timings),
        "verified_share_median": statistics.median(
            t.verified / t.statements if t.statements else 0.0 for t in timings
        ),
        "verified_share_model_median": statistics.median(
            t.model_verified / t.model_statements if t.model_statements else 0.0 for t in timings
        ),
        "prompt_tokens_median": statistics.median(t.prompt_tokens for t in timings),
        "completion_tokens_median": statistics.median(t.completion_tokens for t in timings),
        **{
            f"node_{n}_s_median": statistics.median(t.per_node.get(n, 0.0) for t in timings)
            for n in nodes
        },
    }
    return metrics, timings
