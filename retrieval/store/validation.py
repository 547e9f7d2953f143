"""Checks and normal forms shared by the backends, so both refuse the same bad input.

Every write is validated in full before the engine sees any of it: a bad point in a batch
leaves the index untouched.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.index_contract import Payload
from retrieval.store.base import Filter, IndexPoint, Range, SearchMode, SparseVector
from retrieval.store.errors import InvalidInputError

MatchScalar = str | int | bool
RRF_K = 60  # the constant of the original RRF paper; both backends fuse with the same one

# Payload fields whose values get their own HNSW links (filterable HNSW): the filters nearly
# every search carries (site scope, effective revisions, document type). Other indexed fields
# are filtered through their payload index only: their values select few points, which the
# engine then scores exactly, and building HNSW links per value (per equipment tag, product,
# page, ...) made optimize() several times slower.
HNSW_FILTER_FIELDS: frozenset[str] = frozenset({Payload.SITE, Payload.STATUS, Payload.DOC_TYPE})


@dataclass(frozen=True)
class CheckedPoint:
    id: str
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass(frozen=True)
class Match:
    field: str
    values: tuple[MatchScalar, ...]
    any: bool  # True: the field matches any of `values`; False: exactly values[0]


@dataclass(frozen=True)
class NormalFilter:
    must: tuple[Match, ...] = ()
    must_not: tuple[Match, ...] = ()
    ranges: tuple[tuple[str, Range], ...] = ()
    exclude_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.must or self.must_not or self.ranges or self.exclude_ids)


def check_point_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"point id must be a UUID string, got {value!r}") from exc


def check_dense(values: Sequence[float], dim: int, what: str) -> list[float]:
    array = np.asarray(values, dtype=np.float32)
    if array.shape != (dim,):
        raise InvalidInputError(f"{what}: dense vector has shape {array.shape}, expected ({dim},)")
    if not np.isfinite(array).all():
        raise InvalidInputError(f"{what}: dense vector has NaN or infinite values")
    if not np.any(array):
        raise InvalidInputError(f"{what}: dense vector is all zeros (no cosine direction)")
    return [float(x) for x in array.tolist()]


def check_sparse(vector: SparseVector, what: str) -> SparseVector:
    if len(vector.indices) != len(vector.values):
        raise InvalidInputError(
            f"{what}: sparse vector has {len(vector.indices)} indices "
            f"but {len(vector.values)} values"
        )
    if len(set(vector.indices)) != len(vector.indices):
        raise InvalidInputError(f"{what}: sparse vector has duplicate indices")
    for index in vector.indices:
        if not isinstance(index, int) or not 0 <= index < 2**32:
            raise InvalidInputError(f"{what}: sparse index {index!r} is not a uint32")
    if not all(math.isfinite(v) for v in vector.values):
        raise InvalidInputError(f"{what}: sparse vector has NaN or infinite values")
    return vector


def check_points(points: Sequence[IndexPoint], dim: int) -> list[CheckedPoint]:
    """Validate a whole batch; raise on the first bad point, before anything is written."""
    checked: list[CheckedPoint] = []
    seen: set[str] = set()
    for point in points:
        point_id = check_point_id(point.id)
        if point_id in seen:
            raise InvalidInputError(f"point {point_id} appears twice in one batch")
        seen.add(point_id)
        what = f"point {point_id}"
        site = point.payload.get(Payload.SITE)
        if not isinstance(site, str) or not site:
            # Site scope is the tenant filter of every search: a point without one would be
            # invisible to scoped searches, or visible to all if a filter were ever dropped.
            raise InvalidInputError(
                f"{what}: payload field {Payload.SITE!r} must be a non-empty str"
            )
        payload = dict(point.payload)
        for key, value in payload.items():
            _check_json(value, f"{what}: payload field {key!r}")
        checked.append(
            CheckedPoint(
                id=point_id,
                dense=check_dense(point.dense, dim, what),
                sparse=check_sparse(point.sparse, what),
                payload=payload,
            )
        )
    return checked


def _check_json(value: Any, what: str) -> None:
    """Payloads must be plain JSON, the same for every backend (qdrant-client would turn a
    `date` into a string, Edge refuses it): convert dates to ISO strings before indexing."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{what} is {value!r}: not a JSON number")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item, what)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{what} has a non-string key {key!r}")
            _check_json(item, f"{what}.{key}")
        return
    raise InvalidInputError(f"{what} has a {type(value).__name__} value; use JSON types")


def _match(field: str, value: Any) -> Match:
    if isinstance(value, list | tuple | set | frozenset):
        values = tuple(value)
        if not values:
            raise InvalidInputError(f"filter on {field!r}: empty list of values matches nothing")
        for item in values:
            _check_scalar(field, item)
        return Match(field, values, any=True)
    _check_scalar(field, value)
    return Match(field, (value,), any=False)


def _check_scalar(field: str, value: Any) -> None:
    if not isinstance(value, str | int | bool):
        raise InvalidInputError(
            f"filter on {field!r}: match values must be str, int or bool, got {value!r}"
        )


def normalize_filter(flt: Filter | None, exclude_ids: Sequence[str] = ()) -> NormalFilter:
    if flt is None:
        return NormalFilter(exclude_ids=tuple(exclude_ids))
    ranges: list[tuple[str, Range]] = []
    for field, rng in flt.ranges.items():
        if rng.gte is None and rng.lte is None:
            raise InvalidInputError(f"range filter on {field!r} has neither gte nor lte")
        for bound in (rng.gte, rng.lte):
            if bound is not None and not math.isfinite(bound):
                raise InvalidInputError(f"range filter on {field!r}: bound {bound!r}")
        ranges.append((field, rng))
    return NormalFilter(
        must=tuple(_match(f, v) for f, v in flt.must.items()),
        must_not=tuple(_match(f, v) for f, v in flt.must_not.items()),
        ranges=tuple(ranges),
        exclude_ids=tuple(exclude_ids),
    )


def normalize_selector(flt: Filter, what: str, exclude_ids: Sequence[str] = ()) -> NormalFilter:
    """A filter that selects points to remove: an empty one would select the whole index."""
    normal = normalize_filter(flt, exclude_ids)
    if not (normal.must or normal.must_not or normal.ranges):
        raise InvalidInputError(f"{what}: refusing an empty filter (it would match every point)")
    return normal


def payload_dict(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(payload) if payload else {}


def effective_mode(mode: SearchMode, has_dense: bool, has_sparse: bool) -> SearchMode:
    """HYBRID degrades to the one side the query has (a query of stopwords has no sparse
    terms); DENSE and SPARSE need their vector."""
    if mode is SearchMode.HYBRID:
        if has_dense and has_sparse:
            return SearchMode.HYBRID
        if has_dense:
            return SearchMode.DENSE
        if has_sparse:
            return SearchMode.SPARSE
        raise InvalidInputError("hybrid search needs a dense or a sparse query vector")
    if mode is SearchMode.DENSE and not has_dense:
        raise InvalidInputError("dense search needs a dense query vector")
    if mode is SearchMode.SPARSE and not has_sparse:
        raise InvalidInputError("sparse search needs a sparse query vector with terms")
    return mode
