from __future__ import annotations

from pathlib import Path

from assistant.chat import NOT_FOUND, ChatService
from assistant.llm.fake_backend import FakeChatModel
from assistant.verification.support_scorer import KeywordOverlapScorer
from assistant.verification.verifier import StatementVerifier
from retrieval.embedding import HashingEmbedder
from retrieval.search import Searcher
from retrieval.store.factory import open_store
from tests.agent.corpus import SITE, index_docs, plant_docs


def _service(tmp_path: Path, model: FakeChatModel) -> ChatService:
    store = open_store(":memory:", tmp_path)
    embedder = HashingEmbedder()
    index_docs(store, embedder, plant_docs())
    return ChatService(model, Searcher(store, embedder), StatementVerifier(KeywordOverlapScorer()))


def test_answer_streams_and_cites_the_effective_revision(tmp_path: Path) -> None:
    model = FakeChatModel(
        lambda r: "The impeller power during wet massing must stay between 8.0 and 12.0 kW [S1]."
    )
    service = _service(tmp_path, model)
    stream = service.ask("What are the impeller power limits during wet massing?", [SITE])
    chunks = list(stream)
    answer = stream.result
    assert len(chunks) > 3 and "".join(chunks) == answer.text
    assert answer.verdict == "answered"
    cited = answer.citations[0]
    assert (cited.doc_id, cited.revision, cited.verdict) == ("SOP-PRD-011", "3", "verified")
    assert cited.quote in answer.sources[0].text
    assert all(s.status != "superseded" for s in answer.sources)


def test_nothing_relevant_is_not_found_without_asking_the_model(tmp_path: Path) -> None:
    model = FakeChatModel(["should not be used"])
    stream = _service(tmp_path, model).ask("Who won the football cup in 1998?", [SITE])
    assert "".join(stream) == NOT_FOUND and stream.result.verdict == "not_found"
    assert model.requests == []


def test_an_answer_the_sources_do_not_back_is_marked_unsupported(tmp_path: Path) -> None:
    model = FakeChatModel(lambda r: "The impeller power limit during wet massing is 20 kW [S1].")
    stream = _service(tmp_path, model).ask(
        "What is the impeller power limit during wet massing?", [SITE]
    )
    text = "".join(stream)
    answer = stream.result
    assert answer.verdict == "unsupported" and "unsupported" in text
    assert answer.citations and answer.citations[0].verdict == "unsupported"


def test_other_sites_are_never_searched(tmp_path: Path) -> None:
    model = FakeChatModel(["unused"])
    stream = _service(tmp_path, model).ask("impeller power limits wet massing", ["SITE-B"])
    assert stream.result.verdict == "not_found" and model.requests == []
