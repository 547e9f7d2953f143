import json
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.failure_modes import failure_mode_distribution
from retrieval.rerank import HttpScoreReranker, RerankError
from retrieval.similar import EventQuery, SimilarEventFinder, SimilarQueryError
from retrieval.store.base import IndexStore
from tests.similar.conftest import MES_PAYLOAD


def test_payload_is_read_into_structured_fields() -> None:
    q = EventQuery.from_payload(MES_PAYLOAD)
    assert q.sites == ("SITE-A",)
    assert q.equipment == ("GR-201",) and q.products == ("PRD-0042",)
    assert q.parameter == "Inlet air temperature"
    assert q.event_date == date(2026, 11, 20)
    assert q.event_id == "MES-EX-2026-00417"
    assert "observed 71.4 C" in q.text and "limits 55-65 C" in q.text


def test_bad_queries_are_refused() -> None:
    with pytest.raises(SimilarQueryError):
        EventQuery.from_text("   ", ["SITE-A"])
    with pytest.raises(SimilarQueryError):
        EventQuery.from_text("leak", [])
    with pytest.raises(SimilarQueryError):
        EventQuery.from_payload({"description": "x", "site": "S", "equipment": 5})
    with pytest.raises(SimilarQueryError):
        EventQuery.from_payload({"description": "x", "site": "S", "occurred_at": "yesterday"})


def test_finder_ranks_same_asset_event_first_with_shared_factors(
    history: IndexStore, embedder: HashingEmbedder
) -> None:
    result = SimilarEventFinder(history, embedder).find(EventQuery.from_payload(MES_PAYLOAD))
    ids = [e.doc_id for e in result.events]
    assert ids[0] == "DEV-1"
    assert "DEV-5" not in ids  # other site: never visible
    assert "DEV-6" not in ids  # same day as the event: not history
    assert all(e.doc_type == "deviation" for e in result.events)  # CAPAs are not events
    top = result.events[0]
    assert "same equipment GR-201" in top.shared_factors
    assert "same product PRD-0042" in top.shared_factors
    assert "same parameter inlet air temperature" in top.shared_factors
    assert any(f.startswith("same failure mode OVERHEATING") for f in top.shared_factors)
    s = top.scores
    assert s.final == pytest.approx(s.text + s.field_boost + 0.5 * s.failure_mode_prior)
    assert s.rerank is None
    assert result.failure_modes[0].failure_mode == "OVERHEATING"
    assert sum(x.score for x in result.failure_modes) <= 1.0 + 1e-9
    dev3 = next(e for e in result.events if e.doc_id == "DEV-3")
    assert "same product PRD-0042" in dev3.shared_factors
    assert not any(f.startswith("same equipment") for f in dev3.shared_factors)


def test_own_event_is_excluded(history: IndexStore, embedder: HashingEmbedder) -> None:
    query = EventQuery.from_payload({**MES_PAYLOAD, "event_id": "DEV-1"})
    ids = [e.doc_id for e in SimilarEventFinder(history, embedder).find(query).events]
    assert "DEV-1" not in ids and ids


def test_given_failure_mode_is_compared_as_given(
    history: IndexStore, embedder: HashingEmbedder
) -> None:
    query = EventQuery.from_payload({**MES_PAYLOAD, "failure_mode": "EQUIPMENT_FAILURE"})
    events = SimilarEventFinder(history, embedder).find(query).events
    dev2 = next(e for e in events if e.doc_id == "DEV-2")
    assert "same failure mode EQUIPMENT_FAILURE" in dev2.shared_factors


def test_failure_mode_distribution_weights_by_similarity() -> None:
    ranked = [("A", 0.90), ("B", 0.89), (None, 0.88), ("B", 0.70), ("C", 0.10)]
    out = failure_mode_distribution(ranked, k=3, temperature=0.05)
    assert [s.failure_mode for s in out] == ["A", "B"]  # C beyond k; B's far vote is tiny
    assert out[0].neighbours == 1 and out[1].neighbours == 2
    assert sum(s.score for s in out) == pytest.approx(1.0)
    assert failure_mode_distribution([(None, 1.0)], 3, 0.05) == []
    with pytest.raises(ValueError):
        failure_mode_distribution(ranked, 0, 0.05)


class _ScoreHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    broken = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        texts = body["text_2"]
        data = [
            {"index": i, "object": "score", "score": 1.0 if "motor" in t else 0.1}
            for i, t in enumerate(texts)
        ]
        if type(self).broken:
            data = data[:-1]
        answer = {"id": "score-1", "object": "list", "model": body["model"], "data": data}
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def score_server() -> Iterator[str]:
    _ScoreHandler.requests = []
    _ScoreHandler.broken = False
    server = HTTPServer(("127.0.0.1", 0), _ScoreHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_http_score_reranker_reorders_the_head(
    history: IndexStore, embedder: HashingEmbedder, score_server: str
) -> None:
    reranker = HttpScoreReranker(score_server, model="bge-reranker")
    finder = SimilarEventFinder(history, embedder, reranker=reranker)
    result = finder.find(EventQuery.from_payload(MES_PAYLOAD))
    assert result.events[0].doc_id == "DEV-2"  # the served scorer prefers "motor"
    assert result.events[0].scores.rerank == pytest.approx(1.0)
    assert "rerank_ms" in result.timings_ms
    sent = _ScoreHandler.requests[0]
    assert sent["path"] == "/v1/score"
    assert sent["body"]["model"] == "bge-reranker"
    assert sent["body"]["text_1"] == result.query.text
    assert len(sent["body"]["text_2"]) == len(result.events)
    reranker.close()


def test_http_score_reranker_refuses_a_short_answer(score_server: str) -> None:
    _ScoreHandler.broken = True
    reranker = HttpScoreReranker(score_server, model="m")
    with pytest.raises(RerankError, match="1 scores for 2 texts"):
        reranker.score("q", ["a", "b"])
    assert reranker.score("q", []) == []
    reranker.close()


def test_http_score_reranker_reports_a_dead_service() -> None:
    reranker = HttpScoreReranker("http://127.0.0.1:9", model="m", timeout_s=2)
    with pytest.raises(RerankError, match="failed"):
        reranker.score("q", ["a"])


class _ReverseReranker:
    name = "reverse"

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        return [float(i) for i in range(len(texts))]


def test_any_reranker_protocol_implementation_is_used(
    history: IndexStore, embedder: HashingEmbedder
) -> None:
    plain = SimilarEventFinder(history, embedder).find(EventQuery.from_payload(MES_PAYLOAD))
    reranked = SimilarEventFinder(history, embedder, reranker=_ReverseReranker()).find(
        EventQuery.from_payload(MES_PAYLOAD)
    )
    assert [e.doc_id for e in reranked.events] == [e.doc_id for e in plain.events][::-1]
