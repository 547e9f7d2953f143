"""The investigation graph, wired in one place.

    intake -> characterise -> gather_evidence (composes the sections written from the records)
      -> draft_section (one section per step, loops)
      -> verify (unsupported sections go back to draft_section once) -> record_provenance
      -> human_review (interrupt) -> END on approve / reject, draft_section on request_changes

No subgraphs: an interrupt inside a subgraph re-runs the subgraph's earlier steps on resume.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from assistant.agent import nodes
from assistant.agent.context import AgentContext
from assistant.agent.state import InvestigationInput, InvestigationState

NodeFn = Callable[..., Any]
NodeWrapper = Callable[[str, NodeFn], NodeFn]

NODE_NAMES: tuple[str, ...] = (
    "intake",
    "characterise",
    "gather_evidence",
    "draft_section",
    "verify",
    "record_provenance",
    "human_review",
)


def timed(name: str, fn: NodeFn) -> NodeFn:
    """Add this node's wall time to the state's `timings` (provenance)."""

    @functools.wraps(fn)
    def run(state: InvestigationState, runtime: Any) -> Any:
        started = time.perf_counter()
        update = fn(state, runtime)
        entry = {
            "node": name,
            "seconds": round(time.perf_counter() - started, 4),
            "at": datetime.now(UTC).isoformat(),
        }
        if isinstance(update, dict):
            return {**update, "timings": [entry]}
        return update

    return run


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    *,
    wrap: NodeWrapper | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the graph. `wrap(name, fn)` may wrap every node (tests inject faults with it)."""

    def node(name: str, fn: NodeFn) -> NodeFn:
        timed_fn = timed(name, fn)
        return wrap(name, timed_fn) if wrap else timed_fn

    graph = StateGraph(
        InvestigationState, context_schema=AgentContext, input_schema=InvestigationInput
    )
    graph.add_node("intake", node("intake", nodes.intake))
    graph.add_node("characterise", node("characterise", nodes.characterise_event))
    graph.add_node("gather_evidence", node("gather_evidence", nodes.gather))
    graph.add_node("draft_section", node("draft_section", nodes.draft_next_section))
    graph.add_node("verify", node("verify", nodes.verify))
    graph.add_node("record_provenance", node("record_provenance", nodes.record_provenance))
    graph.add_node(
        "human_review",
        wrap("human_review", nodes.human_review) if wrap else nodes.human_review,
        destinations=("draft_section", "human_review", END),
    )
    graph.add_edge(START, "intake")
    graph.add_edge("intake", "characterise")
    graph.add_edge("characterise", "gather_evidence")
    graph.add_edge("gather_evidence", "draft_section")
    graph.add_conditional_edges("draft_section", nodes.after_draft, ["draft_section", "verify"])
    graph.add_conditional_edges(
        "verify", nodes.after_verify, ["draft_section", "record_provenance"]
    )
    graph.add_edge("record_provenance", "human_review")
    return graph.compile(checkpointer=checkpointer)
