"""Pluggable reranking of similar-event candidates.

No reranker with weights ships offline here, so none is on by default. A caller may pass any
`Reranker`: the assistant can wrap its chat model in one (retrieval never imports the
assistant), or `HttpScoreReranker` calls a served cross-encoder through vLLM's score API
(`POST {base_url}/score` with `{"model", "text_1", "text_2": [...]}`, answered with
`{"data": [{"index": i, "score": s}, ...]}`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import httpx


class RerankError(RuntimeError):
    """The reranker could not score the candidates (service down, bad answer)."""


class Reranker(Protocol):
    name: str

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text (higher is more relevant), in the order given."""
        ...


class HttpScoreReranker:
    """A cross-encoder served by vLLM (`vllm serve <model> --task score`) or anything that
    speaks the same `/score` API."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = f"score-api:{model}"
        self._url = base_url.rstrip("/") + "/score"
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout_s, headers=headers)

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        body = {"model": self._model, "text_1": query, "text_2": list(texts)}
        try:
            response = self._client.post(self._url, json=body)
            response.raise_for_status()
            answer: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RerankError(f"score API at {self._url} failed: {exc}") from exc
        return _scores_from(answer, len(texts))

    def close(self) -> None:
        self._client.close()


def _scores_from(answer: Any, expected: int) -> list[float]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise RerankError("score API answer has no 'data' list")
    scores: list[float | None] = [None] * expected
    for item in data:
        if not isinstance(item, dict):
            raise RerankError("score API answer item is not an object")
        index, value = item.get("index"), item.get("score")
        if not isinstance(index, int) or not 0 <= index < expected:
            raise RerankError(f"score API answer has a bad index {index!r}")
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise RerankError(f"score API answer has a bad score {value!r}")
        scores[index] = float(value)
    if any(s is None for s in scores):
        raise RerankError(f"score API answered {len(data)} scores for {expected} texts")
    return [s for s in scores if s is not None]
