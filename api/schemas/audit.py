from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.records.models import AuditEntry


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    site: str | None
    entity: str
    entity_id: str
    action: str
    reason: str | None
    old_value: Any
    new_value: Any
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            site=row.site,
            entity=row.entity,
            entity_id=row.entity_id,
            action=row.action,
            reason=row.reason,
            old_value=None if row.old_value is None else json.loads(row.old_value),
            new_value=None if row.new_value is None else json.loads(row.new_value),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_after_seq: int | None


class ChainVerification(BaseModel):
    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    problem: str | None
