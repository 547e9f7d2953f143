"""Runtime dependencies of the investigation graph, passed as LangGraph's run context.

Nothing here is global: a graph run gets an `AgentContext` (`graph.invoke(..., context=ctx)`),
so tests pass fakes (scripted chat model, hashing embedder, in-memory index) and the API and
CLI pass the real ones. `open_agent_context` builds it from plain values; entry points read
`Settings` and call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.agent.drafting import DraftSettings
from assistant.agent.evidence import EvidenceSources, RecordLookup, StoreRecordLookup
from assistant.agent.from_records import COMPOSED_SECTIONS
from assistant.agent.sections import DEFAULT_SECTIONS, SECTIONS
from assistant.agent.summary import SUMMARY_SECTION
from assistant.llm import ChatModel, LlmConfig, build_chat_model
from assistant.verification.support_scorer import KeywordOverlapScorer, SupportScorer
from assistant.verification.verifier import StatementVerifier
from retrieval.embedding import Embedder
from retrieval.search import Searcher
from retrieval.similar import SimilarEventFinder
from retrieval.store.base import IndexStore
from retrieval.vector_cache import VectorCache


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AgentContext:
    chat_model: ChatModel
    searcher: Searcher
    similar: SimilarEventFinder
    lookup: RecordLookup
    verifier: StatementVerifier
    plot_dir: Path
    clock: Callable[[], datetime] = utc_now
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    draft: DraftSettings = field(default_factory=DraftSettings)
    max_attempts: int = 2  # a section that fails verification is redrafted once
    # "nothing_verified": redraft a section that failed to parse or has no verified statement;
    # in a section with some, the others are flagged at once. "any_unverified": redraft for a
    # single failed statement too; with the 1.5B on a CPU nearly every section has one, which
    # doubles the draft time (demo scenario 0: about 13 min against 6-7).
    redraft_when: Literal["nothing_verified", "any_unverified"] = "nothing_verified"
    assemble_summary: bool = True  # the executive summary from verified statements (summary.py)
    # the event description and the history from the records' own lines (from_records.py)
    compose_from_records: bool = True
    similar_limit: int = 10

    def __post_init__(self) -> None:
        unknown = [s for s in self.sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"unknown report sections {unknown}; known: {list(SECTIONS)}")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @property
    def composed_sections(self) -> tuple[str, ...]:
        """The sections composed from the records before drafting (no model call)."""
        if not self.compose_from_records:
            return ()
        return tuple(s for s in self.sections if s in COMPOSED_SECTIONS)

    @property
    def drafted_sections(self) -> tuple[str, ...]:
        """The sections the model drafts on the first pass."""
        skip = set(self.composed_sections)
        if self.assemble_summary:
            skip.add(SUMMARY_SECTION)
        return tuple(s for s in self.sections if s not in skip)

    @property
    def evidence_sources(self) -> EvidenceSources:
        return EvidenceSources(self.searcher, self.similar, self.lookup, self.similar_limit)


def build_agent_context(
    *,
    store: IndexStore,
    embedder: Embedder,
    chat_model: ChatModel,
    plot_dir: Path,
    scorer: SupportScorer | None = None,
    sections: tuple[str, ...] = DEFAULT_SECTIONS,
    draft: DraftSettings | None = None,
    clock: Callable[[], datetime] = utc_now,
    vector_cache: VectorCache | None = None,
) -> AgentContext:
    """The context from an open index store, an embedder and a chat model; `vector_cache`
    keeps the failure-mode model's training-text vectors on disk between processes."""
    return AgentContext(
        chat_model=chat_model,
        searcher=Searcher(store, embedder),
        similar=SimilarEventFinder(store, embedder, vector_cache=vector_cache),
        lookup=StoreRecordLookup(store),
        verifier=StatementVerifier(scorer or KeywordOverlapScorer()),
        plot_dir=plot_dir,
        clock=clock,
        sections=sections,
        draft=draft or DraftSettings(),
    )


def default_scorer(embedder: Embedder) -> SupportScorer:
    """The fitted hybrid support scorer where its model file ships, else keyword overlap (the
    scorer's name is recorded in every verification report)."""
    from assistant.verification.support_model import SHIPPED_MODEL_PATH
    from assistant.verification.support_scorer import HybridSupportScorer

    if SHIPPED_MODEL_PATH.exists():
        return HybridSupportScorer(embedder)
    return KeywordOverlapScorer()


@contextmanager
def open_agent_context(
    *,
    index: str,
    index_dir: Path,
    data_dir: Path,
    llm: LlmConfig,
    embed_model_path: Path | None = None,
    embed_batch_size: int = 64,
    sections: tuple[str, ...] = DEFAULT_SECTIONS,
    draft: DraftSettings | None = None,
) -> Iterator[AgentContext]:
    """Open the index and load the models named by plain values (what `Settings` holds);
    closes the index on exit. For the CLI, the API and the evals."""
    from retrieval.embedding import SentenceTransformerEmbedder
    from retrieval.store.factory import open_store

    embedder = SentenceTransformerEmbedder(embed_model_path, embed_batch_size)
    store = open_store(index, index_dir)
    try:
        yield build_agent_context(
            store=store,
            embedder=embedder,
            chat_model=build_chat_model(llm),
            plot_dir=data_dir / "plots",
            scorer=default_scorer(embedder),
            sections=sections,
            draft=draft,
            vector_cache=VectorCache.in_data_dir(data_dir),
        )
    finally:
        store.close()
