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
from assistant.agent.sections import DEFAULT_SECTIONS, DRAFT_ORDER, SECTIONS
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
    max_attempts: int = 2  # a section redrafted (see `redraft_when`) gets one more call
    # When a section gets another model call, with the problems as feedback:
    # "failed_reply" (default): only when the reply did not fit the schema or was cut off;
    # statements that do not verify are flagged for the investigator at once. Measured with
    # the 1.5B model on 2 CPU cores (demo scenario 0, `devia bench draft --runs 3`): redrafting
    # the 4 sections with nothing verified cost 190 s of a 457 s draft and verified 1 more
    # statement (CAPA); classification, impact and disposition verified nothing either time.
    # "nothing_verified": also a section with no verified statement. "any_unverified": also
    # a section with a single failed statement (doubles the draft time on a CPU).
    redraft_when: Literal["failed_reply", "nothing_verified", "any_unverified"] = "failed_reply"
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
        return tuple(sorted((s for s in self.sections if s not in skip), key=DRAFT_ORDER.index))

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
