"""The investigation agent: a LangGraph graph from an anomaly to a cited, verified draft that
waits for a person's review, with durable state (see graph.py for the wiring).

Entry points: `InvestigationRunner` (runner.py) over a checkpointer (`open_checkpointer`) and
an `AgentContext` (context.py: `build_agent_context` / `open_agent_context`).
"""
