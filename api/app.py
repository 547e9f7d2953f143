"""The ASGI app factory: `create_app(settings)` builds everything once and passes it down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.auth.api_csrf import require_api_csrf
from api.config import ApiConfig
from api.evidence import EvidenceIndex
from api.jobs.worker import JobHandlers, JobWorker, WorkerLimits
from api.limits import RequestLimits
from api.middleware import BodySizeLimit
from api.probes import default_probes
from api.records import accounts, migrate
from api.records.audit import Actor
from api.records.db import Database
from api.records.errors import RecordsError, Unauthenticated
from api.routers import (
    audit,
    auth,
    documents,
    events,
    exports,
    health,
    investigations,
    pages,
    reviews,
    search,
)
from api.settings import Settings
from api.state import AppState, Probe

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def create_app(
    settings: Settings,
    *,
    config: ApiConfig | None = None,
    handlers: JobHandlers | None = None,
    probes: dict[str, Probe] | None = None,
    evidence: EvidenceIndex | None = None,
) -> FastAPI:
    """Build the app. `handlers` are the seams (draft runner, chat responder, ingestor) the
    lead wires; `probes` replace the default readiness probes; `config` overrides the
    configuration derived from `settings` (tests); `evidence` serves search and similar events."""
    api_config = config or ApiConfig.from_settings(settings)
    db = Database(api_config.database_url)
    job_handlers = handlers or JobHandlers()
    worker = JobWorker(
        db,
        job_handlers,
        WorkerLimits(
            concurrency=api_config.worker_concurrency,
            stale_after_s=api_config.job_stale_after_s,
            max_attempts=api_config.job_max_attempts,
            poll_interval_s=api_config.job_poll_interval_s,
        ),
    )
    state = AppState(
        config=api_config,
        db=db,
        handlers=job_handlers,
        worker=worker,
        probes=default_probes(settings) if probes is None else probes,
        evidence=evidence,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        prepare_database(db, api_config)
        if api_config.run_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            db.dispose()

    app = FastAPI(
        title="devia",
        version="0.1.0",
        description="Assistant for GMP deviation investigations: MES triggers, AI drafts, "
        "human review with Part 11 electronic signatures, hash-chained audit trail.",
        lifespan=lifespan,
    )
    app.state.devia = state
    app.state.devia_limits = RequestLimits.from_config(api_config)

    @app.exception_handler(RecordsError)
    async def records_error(_request: Request, exc: RecordsError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_api_csrf)])
    for module in (auth, events, investigations, reviews, exports, audit, documents, search):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(pages.WEB_DIR / "static")), name="static")
    app.add_middleware(
        BodySizeLimit,
        default_limit=api_config.max_request_body_bytes,
        path_limits={f"{API_PREFIX}/documents": api_config.max_upload_bytes},
    )
    return app


def prepare_database(db: Database, config: ApiConfig) -> None:
    """Migrate to the latest schema and register the configured sites."""
    if db.url.startswith("sqlite"):
        config.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(db.engine)
    if config.sites:
        with db.write() as session:
            for site in config.sites:
                accounts.ensure_site(session, site, Actor("system:config"))


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory api.app:app_from_environment` (Settings from DEVIA_* variables)."""
    return create_app(Settings())
