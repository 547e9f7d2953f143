"""The API's own configuration, built once from `Settings` in the app factory and passed down.

Settings fields the lead has not added yet are read with a default (see `from_settings`), so
the API runs with today's Settings and picks up the new knobs once they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.settings import Settings


@dataclass(frozen=True)
class ApiConfig:
    database_url: str
    data_dir: Path
    max_upload_bytes: int = 100 * 1024 * 1024
    max_request_body_bytes: int = 1024 * 1024
    # N consecutive failed password checks (login or signature) lock the account.
    max_failed_attempts: int = 3
    session_ttl_s: int = 8 * 3600
    cookie_secure: bool = False
    cookie_samesite: str = "lax"
    # Sites registered at startup, beside those registered by `devia users` commands.
    sites: tuple[str, ...] = ()
    worker_concurrency: int = 1
    job_stale_after_s: float = 300.0
    job_max_attempts: int = 3
    job_poll_interval_s: float = 1.0
    run_worker: bool = True
    investigation_due_days: int = 30
    # Per-user limits (api/limits.py): chat questions (token bucket) and drafts in flight.
    chat_per_minute: float = 10.0
    chat_burst: int = 5
    drafts_per_user: int = 3

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ApiConfig:
        values: dict[str, Any] = {
            "database_url": settings.database_url,
            "data_dir": settings.data_dir,
            "max_upload_bytes": settings.max_upload_bytes,
            "max_request_body_bytes": settings.max_request_body_bytes,
            "max_failed_attempts": settings.max_failed_attempts,
            "session_ttl_s": settings.session_ttl_s,
            "cookie_secure": settings.cookie_secure,
            "cookie_samesite": settings.cookie_samesite,
            "sites": tuple(s.strip() for s in settings.sites.split(",") if s.strip()),
            "worker_concurrency": settings.worker_concurrency,
            "run_worker": settings.run_worker,
            "job_stale_after_s": settings.job_stale_after_s,
            "job_max_attempts": settings.job_max_attempts,
            "chat_per_minute": settings.chat_rate_per_minute,
            "chat_burst": settings.chat_burst,
            "drafts_per_user": settings.max_drafts_in_flight_per_user,
        }
        values.update(overrides)
        return cls(**values)
