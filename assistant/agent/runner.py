"""Run investigations on the graph: start one, resume after a crash, answer the review.

The investigation id is the LangGraph thread id. Resuming always goes by thread id alone,
never by an explicit `checkpoint_id`: LangGraph replays (re-runs) from a given checkpoint
instead of resuming the pending interrupt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from assistant.agent.context import AgentContext
from assistant.agent.graph import NodeWrapper, build_graph
from assistant.agent.nodes import ReviewDecision


@dataclass(frozen=True)
class RunOutcome:
    investigation_id: str
    status: str  # awaiting_review | review_approved | review_rejected | ...
    report: dict[str, Any] | None
    waiting_for_review: bool
    state: dict[str, Any]


class InvestigationRunner:
    def __init__(
        self,
        context: AgentContext,
        checkpointer: BaseCheckpointSaver[Any],
        *,
        wrap: NodeWrapper | None = None,
    ) -> None:
        self.context = context
        self.graph = build_graph(checkpointer, wrap=wrap)

    @staticmethod
    def _config(investigation_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": investigation_id}}

    def start(self, investigation_id: str, event: dict[str, Any], sites: list[str]) -> RunOutcome:
        """Run a new investigation to the review point. An id with a run already stored is
        continued instead (idempotent start: a retried request does not draft twice)."""
        if self.graph.get_state(self._config(investigation_id)).values:
            return self.continue_run(investigation_id)
        self.graph.invoke(
            {"event": event, "sites": sites},
            self._config(investigation_id),
            context=self.context,
        )
        return self.outcome(investigation_id)

    def continue_run(self, investigation_id: str) -> RunOutcome:
        """Resume a run that stopped (crash, kill) from its last checkpoint."""
        snapshot = self.graph.get_state(self._config(investigation_id))
        if not snapshot.values:
            raise KeyError(f"no investigation {investigation_id!r} in the checkpoint store")
        if snapshot.next and not snapshot.interrupts:
            self.graph.invoke(None, self._config(investigation_id), context=self.context)
        return self.outcome(investigation_id)

    def review(self, investigation_id: str, decision: dict[str, Any]) -> RunOutcome:
        """Answer the pending review: approve / reject end the run, request_changes redrafts
        the sections named in `comments` and stops at the review point again."""
        ReviewDecision.model_validate(decision)  # fail here, not inside the graph
        outcome = self.outcome(investigation_id)
        if not outcome.waiting_for_review:
            raise RuntimeError(
                f"investigation {investigation_id!r} is not waiting for review ({outcome.status})"
            )
        self.graph.invoke(
            Command(resume=decision), self._config(investigation_id), context=self.context
        )
        return self.outcome(investigation_id)

    def outcome(self, investigation_id: str) -> RunOutcome:
        snapshot = self.graph.get_state(self._config(investigation_id))
        values = dict(snapshot.values or {})
        return RunOutcome(
            investigation_id=investigation_id,
            status=str(values.get("status", "unknown")),
            report=values.get("report"),
            waiting_for_review=bool(snapshot.interrupts),
            state=values,
        )
