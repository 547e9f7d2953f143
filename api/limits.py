"""Per-user limits on what costs model time: chat questions (rate) and drafts in flight.

Chat questions go through a token bucket per user (burst `chat_burst`, refilled at
`chat_per_minute`), kept in this process: each API replica limits its own share, which bounds
what one user can make the model do here. Drafts in flight are counted in the records store,
so the limit holds across replicas: a user may have at most `drafts_per_user` investigations
that they opened or restarted still drafting. Both answer 429 with a Retry-After header.
MES events are not limited here: their API key is one site's integration, and the job worker's
concurrency already bounds the model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from api.config import ApiConfig
from api.records.audit import Actor
from api.records.models import AuditEntry, Investigation, InvestigationStatus

# Drafting takes minutes on CPU: ask a client that hit the draft limit to come back in one.
DRAFT_RETRY_AFTER_S = 60


class TooManyRequests(HTTPException):
    def __init__(self, message: str, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(429, message, headers={"Retry-After": str(seconds)})
        self.retry_after_s = seconds


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucket:
    """`burst` requests at once, then `per_minute` a minute, per key (thread-safe)."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")
        self.rate_per_s = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of `key`: 0.0 when allowed, else the seconds until one is free."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate_per_s
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate_per_s


class RequestLimits:
    """The limits one app enforces, built once by the app factory from its configuration."""

    def __init__(self, chat_per_minute: float, chat_burst: int, drafts_per_user: int) -> None:
        if drafts_per_user < 1:
            raise ValueError("drafts_per_user must be at least 1")
        self.chat = TokenBucket(chat_per_minute, chat_burst)
        self.drafts_per_user = drafts_per_user

    @classmethod
    def from_config(cls, config: ApiConfig) -> RequestLimits:
        return cls(config.chat_per_minute, config.chat_burst, config.drafts_per_user)

    def check_chat(self, username: str) -> None:
        wait = self.chat.take(username)
        if wait > 0:
            raise TooManyRequests(
                f"too many chat questions: wait {math.ceil(wait)} s before asking again", wait
            )

    def check_drafts(self, session: Session, actor: Actor) -> None:
        """Call inside the write transaction that starts the draft."""
        in_flight = drafts_in_flight(session, actor)
        if in_flight >= self.drafts_per_user:
            raise TooManyRequests(
                f"you already have {in_flight} draft(s) in progress (limit "
                f"{self.drafts_per_user}); wait until one is ready",
                DRAFT_RETRY_AFTER_S,
            )


def drafts_in_flight(session: Session, actor: Actor) -> int:
    """Investigations still drafting that `actor` opened or restarted (from the audit trail)."""
    drafting = select(Investigation.id).where(
        Investigation.status == InvestigationStatus.drafting.value
    )
    query = select(func.count(distinct(AuditEntry.entity_id))).where(
        AuditEntry.actor == actor.label,
        AuditEntry.entity == "investigation",
        AuditEntry.action.in_(("create", "status")),
        AuditEntry.entity_id.in_(drafting),
    )
    return int(session.execute(query).scalar_one())


def request_limits(request: Request) -> RequestLimits:
    limits: RequestLimits = request.app.state.devia_limits
    return limits


LimitsDep = Annotated[RequestLimits, Depends(request_limits)]
