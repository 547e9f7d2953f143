"""Durable state: a run killed at any node resumes where it stopped without redoing finished
work; a run waiting for review survives a restart; the known LangGraph pitfalls are pinned."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from assistant.agent.checkpoint import open_checkpointer
from assistant.agent.from_records import COMPOSED_SECTIONS
from assistant.agent.graph import NODE_NAMES, NodeFn
from assistant.agent.runner import InvestigationRunner
from assistant.agent.sections import SECTIONS
from assistant.agent.summary import SUMMARY_SECTION
from tests.agent.conftest import ContextFactory
from tests.agent.corpus import careful_model, mes_payload

EVENT = {"payload": mes_payload()}
# the model drafts the rest: the summary is assembled, two sections composed from the records
N_SECTIONS = len([s for s in SECTIONS if s != SUMMARY_SECTION and s not in COMPOSED_SECTIONS])


class Crash(RuntimeError):
    """Stands in for a process dying inside a node."""


def crash_once(node: str, on_call: int = 1) -> Any:
    calls = {"n": 0}

    def wrap(name: str, fn: NodeFn) -> NodeFn:
        if name != node:
            return fn

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == on_call:
                raise Crash(f"killed in {name}")
            return fn(*args, **kwargs)

        return run

    return wrap


@pytest.mark.parametrize("node", NODE_NAMES)
def test_a_crash_in_any_node_resumes_without_redoing_work(
    node: str, make_context: ContextFactory, checkpoint_file: Path
) -> None:
    model = careful_model()
    context = make_context(model)
    on_call = 3 if node == "draft_section" else 1  # die after two sections were drafted
    with open_checkpointer(checkpoint_file) as saver:
        crashing = InvestigationRunner(context, saver, wrap=crash_once(node, on_call))
        with pytest.raises(Crash):
            crashing.start("inv-1", EVENT, ["SITE-A"])
    drafted_before = len(model.requests)
    # A fresh process: new connection, new graph object, same checkpoint file.
    with open_checkpointer(checkpoint_file) as saver:
        outcome = InvestigationRunner(context, saver).continue_run("inv-1")
    assert outcome.waiting_for_review and outcome.status == "awaiting_review"
    assert len(model.requests) == N_SECTIONS, "each section drafted exactly once in all"
    if node == "draft_section":
        assert drafted_before == 2
    nodes_run = [t["node"] for t in outcome.state["timings"]]
    assert nodes_run.count("gather_evidence") == 1 and nodes_run.count("intake") == 1
    assert nodes_run.count("draft_section") == N_SECTIONS


def test_restart_while_waiting_for_review(
    make_context: ContextFactory, checkpoint_file: Path
) -> None:
    model = careful_model()
    with open_checkpointer(checkpoint_file) as saver:
        first = InvestigationRunner(make_context(model), saver).start("inv-1", EVENT, ["SITE-A"])
    assert first.waiting_for_review
    with open_checkpointer(checkpoint_file) as saver:
        runner = InvestigationRunner(make_context(model), saver)
        waiting = runner.outcome("inv-1")
        assert waiting.waiting_for_review and waiting.report == first.report
        # Starting the same id again continues it, it does not draft a second time.
        again = runner.start("inv-1", EVENT, ["SITE-A"])
        assert again.report == first.report and len(model.requests) == N_SECTIONS
        done = runner.review(
            "inv-1",
            {
                "action": "request_changes",
                "comments": {"disposition": "Consider additional testing."},
            },
        )
        assert len(model.requests) == N_SECTIONS + 1 and done.waiting_for_review
        finished = runner.review("inv-1", {"action": "approve"})
    assert finished.status == "review_approved"


def test_resume_by_thread_does_not_replay_but_an_explicit_checkpoint_id_does(
    make_context: ContextFactory, saver: Any
) -> None:
    """Pins the upstream pitfall: invoking with an explicit checkpoint_id re-executes from that
    checkpoint (a replay); our runner resumes by thread id only."""
    model = careful_model()
    runner = InvestigationRunner(make_context(model), saver)
    runner.start("inv-1", EVENT, ["SITE-A"])
    config = {"configurable": {"thread_id": "inv-1"}}
    history = list(runner.graph.get_state_history(config))
    before_drafting = next(
        s
        for s in history
        if s.next == ("draft_section",)
        and set(s.values.get("sections") or {}) == set(COMPOSED_SECTIONS)  # nothing drafted yet
    )
    count = len(model.requests)
    runner.review("inv-1", {"action": "approve"})
    assert len(model.requests) == count  # a resume runs nothing but the review node
    replay_config = before_drafting.config
    runner.graph.invoke(None, replay_config, context=runner.context)
    assert len(model.requests) == count + N_SECTIONS  # a replay drafts everything again


def test_no_subgraphs_and_nothing_runs_before_the_review_interrupt(
    make_context: ContextFactory, saver: Any
) -> None:
    model = careful_model()
    runner = InvestigationRunner(make_context(model), saver)
    assert list(runner.graph.get_subgraphs()) == []
    runner.start("inv-1", EVENT, ["SITE-A"])
    timings = len(runner.outcome("inv-1").state["timings"])
    # An invalid answer re-enters the review: no node before it runs again.
    runner.graph.invoke(
        Command(resume={"action": "sign"}),
        {"configurable": {"thread_id": "inv-1"}},
        context=runner.context,
    )
    outcome = runner.outcome("inv-1")
    assert outcome.waiting_for_review and outcome.state["reviews"][-1]["action"] == "invalid"
    assert len(outcome.state["timings"]) == timings and len(model.requests) == N_SECTIONS


def test_concurrent_writers_on_one_checkpoint_file(
    make_context: ContextFactory, checkpoint_file: Path
) -> None:
    """Separate connections (as separate processes have) write at the same time: no
    "database is locked"."""
    errors: list[BaseException] = []
    results: list[str] = []

    def work(i: int) -> None:
        try:
            with open_checkpointer(checkpoint_file) as saver:
                outcome = InvestigationRunner(make_context(careful_model()), saver).start(
                    f"inv-{i}", EVENT, ["SITE-A"]
                )
                results.append(outcome.status)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert results == ["awaiting_review"] * 4
    with sqlite3.connect(checkpoint_file) as conn:
        threads_stored = conn.execute(
            "SELECT COUNT(DISTINCT thread_id) FROM checkpoints"
        ).fetchone()
    assert threads_stored == (4,)


def test_a_killed_process_resumes_in_a_new_one(
    make_context: ContextFactory, checkpoint_file: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.agent.child_run",
            str(checkpoint_file),
            str(tmp_path / "child"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        drafted = 0
        while time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.5)
            if checkpoint_file.exists():
                with open_checkpointer(checkpoint_file) as saver:
                    state = InvestigationRunner(make_context(), saver).outcome("inv-killed").state
                drafted = len(set(state.get("sections") or {}) - set(COMPOSED_SECTIONS))
                if drafted >= 2:
                    break
        assert child.poll() is None, child.stdout.read().decode() if child.stdout else ""
        assert drafted >= 2, "the child never got to drafting"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    model = careful_model()
    with open_checkpointer(checkpoint_file) as saver:
        outcome = InvestigationRunner(make_context(model), saver).continue_run("inv-killed")
    assert outcome.waiting_for_review
    assert len(model.requests) <= N_SECTIONS - drafted + 1  # at most the section in flight again
    assert set(outcome.report) >= set(SECTIONS)
