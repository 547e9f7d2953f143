"""Move an index between stores without re-ingesting: Qdrant Edge (the embedded default) to a
Qdrant server / cluster through qdrant-client, or back, directly or through a dump file.

Every point is re-upserted with its dense and sparse vectors and its payload, in batches.
Point ids are deterministic (`index_contract.point_id`), so running a copy again overwrites
the same points: the copy is idempotent. A copy is verified by counts and by searches that
must return the same ids on both sides.

Dump file: gzip'd JSON lines, a header line, one line per point, a trailer line with the
count. It is written to a temporary name and renamed when complete, and checked in full
(header, every line, trailer count) before anything is written to the target.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from retrieval.store.base import IndexPoint, IndexStore, SearchMode, SparseVector

DUMP_FORMAT = "devia-index-dump"
DUMP_VERSION = 1
DEFAULT_BATCH = 256
PROBES = 5
PROBE_LIMIT = 5

Progress = Callable[[int], None]  # called with the number of points written so far


class TransferError(Exception):
    """A copy, dump or import that cannot proceed or does not verify; the message says why."""


class ExportableStore(IndexStore, Protocol):
    """A store that can hand out its points with their vectors (both backends can)."""

    @property
    def dense_dim(self) -> int | None: ...

    def export_points(self, batch_size: int = DEFAULT_BATCH) -> Iterator[IndexPoint]: ...


@dataclass(frozen=True)
class Verification:
    source_count: int
    target_count: int
    probes: int  # searches run on both sides, each returning the same ids


@dataclass(frozen=True)
class CopyReport:
    points: int
    batches: int
    verification: Verification


def upsert_batches(
    points: Iterable[IndexPoint],
    target: IndexStore,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Upsert `points` into `target` in batches; returns (points, batches)."""
    if batch_size < 1:
        raise TransferError(f"batch size must be >= 1, got {batch_size}")
    written = batches = 0
    batch: list[IndexPoint] = []
    for point in points:
        batch.append(point)
        if len(batch) >= batch_size:
            target.upsert(batch)
            written, batches = written + len(batch), batches + 1
            batch = []
            if progress:
                progress(written)
    if batch:
        target.upsert(batch)
        written, batches = written + len(batch), batches + 1
        if progress:
            progress(written)
    return written, batches


def _source_dim(source: ExportableStore) -> int:
    dim = source.dense_dim
    if dim is None:
        raise TransferError("the source index has no collection yet: nothing to copy")
    return dim


def copy_index(
    source: ExportableStore,
    target: IndexStore,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every point of `source` into `target` (created with the source's dimension if
    missing), build the target's indexes, and verify the copy."""
    target.ensure_collection(_source_dim(source))
    points, batches = upsert_batches(source.export_points(batch_size), target, batch_size, progress)
    target.flush()
    target.optimize()
    return CopyReport(points, batches, verify_copy(source, target))


def verify_copy(
    source: ExportableStore, target: IndexStore, *, probes: int = PROBES
) -> Verification:
    """Counts must match, and a dense search with each of the first `probes` points' own
    vector must return the same ids on both sides (compared as sets: engines may order exact
    ties either way)."""
    source_count, target_count = source.count(), target.count()
    if source_count != target_count:
        raise TransferError(
            f"the target holds {target_count} points, the source {source_count}: the copy is "
            f"incomplete, or the target held other points before (copy into an empty index)"
        )
    run = 0
    for point in source.export_points(probes):
        if run >= probes:
            break
        limit = min(PROBE_LIMIT, source_count)
        here = source.search(point.dense, None, limit=limit, mode=SearchMode.DENSE)
        there = target.search(point.dense, None, limit=limit, mode=SearchMode.DENSE)
        if {h.id for h in here} != {h.id for h in there}:
            raise TransferError(
                f"search with point {point.id}'s vector returns different ids: source "
                f"{[h.id for h in here]}, target {[h.id for h in there]}"
            )
        run += 1
    return Verification(source_count, target_count, run)


# -- dump files -------------------------------------------------------------------------------


def _point_line(point: IndexPoint) -> dict[str, Any]:
    return {
        "id": point.id,
        "dense": [float(x) for x in point.dense],
        "sparse": {"indices": list(point.sparse.indices), "values": list(point.sparse.values)},
        "payload": dict(point.payload),
    }


def write_dump(
    source: ExportableStore,
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> int:
    """Write every point of `source` to `path`; returns the number of points. The file
    appears only once complete (written as `<path>.partial`, then renamed)."""
    dim = _source_dim(source)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with gzip.open(partial, "wt", encoding="utf-8") as out:
            header = {"format": DUMP_FORMAT, "version": DUMP_VERSION, "dense_dim": dim}
            out.write(json.dumps(header) + "\n")
            for point in source.export_points(batch_size):
                out.write(json.dumps(_point_line(point), ensure_ascii=False) + "\n")
                count += 1
                if progress and count % batch_size == 0:
                    progress(count)
            out.write(json.dumps({"end": True, "count": count}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if progress:
        progress(count)
    return count


@dataclass(frozen=True)
class DumpInfo:
    dense_dim: int
    count: int


def _parse_point(line: str, number: int, path: Path) -> IndexPoint:
    try:
        raw = json.loads(line)
        sparse = raw["sparse"]
        return IndexPoint(
            id=str(raw["id"]),
            dense=[float(x) for x in raw["dense"]],
            sparse=SparseVector(
                tuple(int(i) for i in sparse["indices"]),
                tuple(float(v) for v in sparse["values"]),
            ),
            payload=dict(raw["payload"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TransferError(f"{path}, line {number}: not a point of a devia dump ({exc})") from exc


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except FileNotFoundError as exc:
        raise TransferError(f"{path}: no such file") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise TransferError(f"{path}: not a readable gzip dump ({exc})") from exc


def check_dump(path: Path) -> DumpInfo:
    """Read the whole dump once: header, every point line, trailer count. Raises
    `TransferError` naming the first problem (a truncated file has no trailer)."""
    lines = _lines(path)
    first = next(lines, None)
    try:
        header = json.loads(first[1]) if first else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != DUMP_FORMAT:
        raise TransferError(f"{path}: not a devia index dump (no {DUMP_FORMAT} header)")
    if header.get("version") != DUMP_VERSION:
        raise TransferError(
            f"{path}: dump version {header.get('version')!r}, this devia reads {DUMP_VERSION}"
        )
    dim = header.get("dense_dim")
    if not isinstance(dim, int) or dim < 1:
        raise TransferError(f"{path}: header has no valid dense_dim")
    points = 0
    trailer: dict[str, Any] | None = None
    for number, line in lines:
        if trailer is not None:
            raise TransferError(f"{path}, line {number}: data after the end marker")
        if line.startswith('{"end"'):
            trailer = json.loads(line)
            continue
        point = _parse_point(line, number, path)
        if len(point.dense) != dim:
            raise TransferError(
                f"{path}, line {number}: {len(point.dense)}-d vector in a {dim}-d dump"
            )
        points += 1
    if trailer is None:
        raise TransferError(f"{path}: truncated (no end marker after {points} points)")
    if trailer.get("count") != points:
        raise TransferError(
            f"{path}: end marker says {trailer.get('count')} points, the file holds {points}"
        )
    return DumpInfo(dim, points)


def read_dump(path: Path) -> Iterator[IndexPoint]:
    """The points of a dump (call `check_dump` first: this reader trusts the file)."""
    for number, line in _lines(path):
        if number == 1 or line.startswith('{"end"'):
            continue
        yield _parse_point(line, number, path)


def import_dump(
    path: Path,
    target: IndexStore,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> tuple[DumpInfo, int]:
    """Check the dump in full, then upsert its points into `target` (idempotent) and verify:
    the target holds at least the dump's points, and a dense search with each of the first
    points' own vector finds that point. Returns the dump's description and the target's
    point count afterwards."""
    info = check_dump(path)
    target.ensure_collection(info.dense_dim)
    upsert_batches(read_dump(path), target, batch_size, progress)
    target.flush()
    target.optimize()
    count = target.count()
    if count < info.count:
        raise TransferError(f"the target holds {count} points after importing {info.count}")
    for number, point in enumerate(read_dump(path)):
        if number >= PROBES:
            break
        hits = target.search(point.dense, None, limit=PROBE_LIMIT, mode=SearchMode.DENSE)
        if point.id not in {h.id for h in hits}:
            raise TransferError(f"point {point.id} is not found by a search with its own vector")
    return info, count
