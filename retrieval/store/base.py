"""The index store interface: one small protocol over Qdrant Edge and qdrant-client.

Backends translate these plain types to their own API. Both must pass the same tests
(tests/retrieval/test_store_congruence.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class IndexPoint:
    id: str  # a UUID string (retrieval.index_contract.point_id)
    dense: Sequence[float]
    sparse: SparseVector
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Range:
    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class Filter:
    """Conjunction of conditions.

    `must`: field -> value (exact match) or a list/tuple of values (match any).
    `must_not`: the same, negated. `ranges`: numeric range conditions.
    """

    must: Mapping[str, Any] = field(default_factory=dict)
    must_not: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)


class SearchMode(StrEnum):
    HYBRID = "hybrid"  # dense + sparse prefetch fused with RRF inside the engine
    DENSE = "dense"
    SPARSE = "sparse"


@dataclass(frozen=True)
class ScoredPoint:
    id: str
    score: float  # the score of the search mode: fused RRF score for HYBRID
    payload: Mapping[str, Any]
    # Component scores where the engine computed them: always for DENSE / SPARSE; for HYBRID
    # when asked (`component_scores`); a hit with no query term in common has no sparse one.
    dense_score: float | None = None
    sparse_score: float | None = None


class IndexStore(Protocol):
    """What ingestion and retrieval need from a vector engine."""

    def ensure_collection(self, dense_dim: int) -> None:
        """Create the collection (dense + sparse vectors, payload indexes) if missing."""

    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def replace(self, old: Filter, points: Sequence[IndexPoint]) -> None:
        """Swap the points matching `old` for `points`, so that searches see either the old
        set or the new one, never both and never neither."""

    def delete(self, flt: Filter) -> None: ...

    def search(
        self,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: Filter | None = None,
        limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
        prefetch_limit: int = 100,
        component_scores: bool = False,
    ) -> list[ScoredPoint]:
        """`component_scores` (HYBRID only) also fills each hit's dense and sparse score with
        a second, small query restricted to the hits (it costs about as much as the search:
        the sparse side still walks its posting lists)."""
        ...

    def count(self, flt: Filter | None = None) -> int: ...

    def scroll(self, flt: Filter | None = None, batch_size: int = 256) -> Iterator[ScoredPoint]:
        """Every point matching `flt` (score 0), payload included."""
        ...

    def retrieve(self, ids: Sequence[str]) -> list[ScoredPoint]: ...

    def flush(self) -> None:
        """Make every acknowledged write durable on disk."""

    def optimize(self) -> None:
        """Build the search indexes after a bulk load (blocking); cheap when already built."""

    def close(self) -> None: ...
