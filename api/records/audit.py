"""Append-only, hash-chained audit trail.

Each entry's hash is sha256 over the canonical JSON of its fields plus the previous entry's
hash, so changing, inserting or deleting an entry breaks every later link. Appends happen in
the caller's transaction: the change and its audit entry commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.records.canonical import canonical_json, iso_utc, sha256_hex, utc_now
from api.records.models import AuditEntry

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it: "user:<username>", "api_key:<id>:<name>", "system", "cli:<os user>"."""

    label: str

    @classmethod
    def user(cls, username: str) -> Actor:
        return cls(f"user:{username}")

    @classmethod
    def api_key(cls, key_id: int, name: str) -> Actor:
        return cls(f"api_key:{key_id}:{name}")


SYSTEM = Actor("system")


def entry_hash(
    *,
    at: datetime,
    actor: str,
    site: str | None,
    entity: str,
    entity_id: str,
    action: str,
    reason: str | None,
    old_value: str | None,
    new_value: str | None,
    prev_hash: str,
) -> str:
    body = {
        "at": iso_utc(at),
        "actor": actor,
        "site": site,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "reason": reason,
        "old_value": old_value,
        "new_value": new_value,
    }
    return sha256_hex(canonical_json(body) + prev_hash)


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: appends (and so the chain order) are serialised.
        session.execute(text("SELECT pg_advisory_xact_lock(7346101)"))
    # SQLite: write transactions start with BEGIN IMMEDIATE, which already serialises writers.


def append(
    session: Session,
    actor: Actor,
    *,
    entity: str,
    entity_id: str,
    action: str,
    site: str | None = None,
    reason: str | None = None,
    old: Any = None,
    new: Any = None,
    at: datetime | None = None,
) -> AuditEntry:
    _lock_chain(session)
    previous = session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = previous or GENESIS_HASH
    moment = at or utc_now()
    old_text = None if old is None else canonical_json(old)
    new_text = None if new is None else canonical_json(new)
    entry = AuditEntry(
        at=moment,
        actor=actor.label,
        site=site,
        entity=entity,
        entity_id=entity_id,
        action=action,
        reason=reason,
        old_value=old_text,
        new_value=new_text,
        prev_hash=prev_hash,
        hash=entry_hash(
            at=moment,
            actor=actor.label,
            site=site,
            entity=entity,
            entity_id=entity_id,
            action=action,
            reason=reason,
            old_value=old_text,
            new_value=new_text,
            prev_hash=prev_hash,
        ),
    )
    # No flush here: the next append's SELECT autoflushes, keeping the chain in order.
    session.add(entry)
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None


def verify_chain(entries: Iterable[AuditEntry]) -> ChainReport:
    """Recompute every link in sequence order; report the first entry that does not verify."""
    expected_prev = GENESIS_HASH
    checked = 0
    for entry in entries:
        if entry.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                entry.seq,
                "previous-hash link does not match the preceding entry "
                "(an entry before it was changed, inserted or deleted)",
            )
        recomputed = entry_hash(
            at=entry.at,
            actor=entry.actor,
            site=entry.site,
            entity=entry.entity,
            entity_id=entry.entity_id,
            action=entry.action,
            reason=entry.reason,
            old_value=entry.old_value,
            new_value=entry.new_value,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return ChainReport(
                False, checked, entry.seq, "entry content does not match its stored hash"
            )
        expected_prev = entry.hash
        checked += 1
    return ChainReport(True, checked)


def verify_all(session: Session, batch_size: int = 5000) -> ChainReport:
    stream = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch_size)
    ).scalars()
    return verify_chain(stream)
