"""A two-site installation for the security tests, built with the production code paths.

The app is the real one (`create_app`) with the real job seams of api/agent_bridge.py: the
LangGraph agent drafts, ChatService answers, the ingestion pipeline indexes uploads, and the
search endpoints read the same index. Only the model is scripted (FakeChatModel answering like
a careful drafter: it restates the evidence it is shown, so anything retrieved across sites
would end up in the draft) and the index is in memory with a hashing embedder.

SITE-B holds canaries (unique strings) in its indexed documents, its historical records, its
MES event, an uploaded file, a chat message and a section edit. The users of SITE-A must
never see any of them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from langgraph.checkpoint.memory import InMemorySaver

from api.agent_bridge import AgentDraftRunner, EvidenceChatResponder, IndexDocumentIngestor
from api.app import create_app
from api.config import ApiConfig
from api.evidence import IndexEvidence
from api.jobs.worker import JobHandlers
from api.records import accounts, migrate
from api.records.audit import Actor
from api.records.db import Database
from api.settings import Settings
from api.web.csrf import token_for_session
from assistant.agent.context import AgentContext, build_agent_context
from assistant.agent.runner import InvestigationRunner
from assistant.chat import ChatService
from assistant.llm.fake_backend import FakeChatModel, FakeRequest
from ingestion.model import SHARED_SITE
from ingestion.pipeline import IngestOptions
from retrieval.embedding import HashingEmbedder
from retrieval.index_contract import ChunkKind, DocType
from retrieval.store.factory import open_store
from tests.agent.corpus import Doc, careful_answer, index_docs, mes_payload, plant_docs

PASSWORD = "correct horse battery"
SITE_A = "SITE-A"
SITE_B = "SITE-B"
SESSION_COOKIE = "devia_session"


def canary(label: str) -> str:
    return f"CANARY{label}{uuid.uuid4().hex[:10].upper()}"


@dataclass(frozen=True)
class Canaries:
    """Unique strings planted in SITE-B only."""

    sop: str = field(default_factory=lambda: canary("SOP"))
    deviation: str = field(default_factory=lambda: canary("DEV"))
    event: str = field(default_factory=lambda: canary("EVT"))
    upload: str = field(default_factory=lambda: canary("UPL"))
    upload_claims_site_a: str = field(default_factory=lambda: canary("XSITE"))
    upload_claims_shared: str = field(default_factory=lambda: canary("GLOBAL"))
    chat: str = field(default_factory=lambda: canary("CHAT"))
    edit: str = field(default_factory=lambda: canary("EDIT"))

    def all(self) -> dict[str, str]:
        return dict(vars(self))


# Actors of SITE-A (the probing side) and of SITE-B (the owners of the canaries).
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "investigator": ("investigator", (SITE_A,)),
    "investigator2": ("investigator", (SITE_A,)),
    "qa_approver": ("qa_approver", (SITE_A,)),
    "admin": ("admin", (SITE_A,)),
    "investigator_b": ("investigator", (SITE_B,)),
    "qa_approver_b": ("qa_approver", (SITE_B,)),
    "admin_ab": ("admin", (SITE_A, SITE_B)),
}


def site_b_docs(c: Canaries) -> list[Doc]:
    """SITE-B evidence written to match SITE-A's event closely (same equipment, parameter and
    words), so that only the site filter keeps it out of SITE-A's results."""
    record = {
        "record_type": "deviation", "id": "DEV-2025-0900", "equipment": ["GR-201"],
        "product_code": "PRD-0042", "failure_mode": "granulation_overwetting",
        "root_cause": f"Binder pump calibration drift {c.deviation}.", "root_cause_6m": "machine",
        "category": "process", "classification": "minor", "capa_ids": [],
    }  # fmt: skip
    return [
        Doc("SOP-PRD-011", DocType.SOP, f"5.3 Wet massing. The impeller power during wet massing must stay between 8.0 and 12.0 kW on GR-201. Code {c.sop}.", revision="5", section_id="5.3", title="Wet granulation (client B)", equipment=("GR-201",), products=("PRD-0042",), site=SITE_B),
        Doc("DEV-2025-0900", DocType.DEVIATION, f"Deviation DEV-2025-0900 - description\nImpeller power exceeded the upper limit on GR-201 during wet massing of batch B25-0900. {c.deviation}", section_id="description", equipment=("GR-201",), products=("PRD-0042",), event_date=date(2025, 10, 1), record=record, kind=ChunkKind.RECORD, title="Impeller power high", site=SITE_B),
    ]  # fmt: skip


def shared_docs() -> list[Doc]:
    return [
        Doc("ICH-Q9", DocType.GUIDANCE, "Quality risk management. The impeller power of a granulator is a process parameter whose excursions should be assessed for risk.", revision="R1", section_id="1", title="ICH Q9", site=SHARED_SITE),
    ]  # fmt: skip


def upload_text(doc_id: str, site_line: str | None, body: str) -> bytes:
    lines = [f"Document number: {doc_id}", "Title: Granulator cleaning note", "Revision: 1"]
    if site_line:
        lines.append(f"Site: {site_line}")
    lines += ["Status: Effective", "", "1 PURPOSE", body, ""]
    return "\n".join(lines).encode()


class Script:
    """The scripted model's answer function; tests swap it (e.g. for an obedient model)."""

    def __init__(self) -> None:
        self.fn: Callable[[FakeRequest], str] = careful_answer

    def __call__(self, request: FakeRequest) -> str:
        return self.fn(request)


@dataclass
class Resources:
    """Ids of what each site owns, for probing own vs other site."""

    investigation: str
    version: int
    sha256: str
    document: str
    message: int
    section: str = "capa"


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    api_keys: dict[str, str]
    canaries: Canaries
    model: FakeChatModel
    script: Script
    context: AgentContext
    own: Resources
    other: Resources
    requests_before_site_a: int
    db_url: str
    data_dir: Path

    def headers(self, actor: str) -> dict[str, str]:
        """What a browser page (session cookie + CSRF header) or MES (bearer key) sends."""
        if actor in self.tokens:
            token = self.tokens[actor]
            return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": token_for_session(token)}
        if actor in self.api_keys:
            return {"Authorization": f"Bearer {self.api_keys[actor]}"}
        return {}

    def request(self, actor: str, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers(actor), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, follow_redirects=False, **kwargs)


def seed_accounts(db_url: str) -> dict[str, str]:
    db = Database(db_url)
    migrate.upgrade(db.engine)
    actor = Actor("test:security-seed")
    keys: dict[str, str] = {}
    with db.write() as session:
        for name, (role, sites) in USERS.items():
            accounts.create_user(
                session,
                actor,
                username=name,
                printed_name=name.replace("_", " ").title(),
                role=role,
                password=PASSWORD,
                sites=list(sites),
            )
        keys["mes_key"], _ = accounts.create_api_key(session, actor, name="mes-a", site=SITE_A)
        keys["mes_key_b"], _ = accounts.create_api_key(session, actor, name="mes-b", site=SITE_B)
    db.dispose()
    return keys


def wait_until(predicate: Any, what: str, timeout_s: float = 600.0) -> Any:
    """Generous: the first ingestion and draft load libraries, on a busy 2-core machine."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _event(site: str, event_id: str, description_suffix: str = "") -> dict[str, Any]:
    payload = mes_payload()
    payload.update(event_id=event_id, site=site)
    payload["description"] += description_suffix
    return payload


def _draft_ready(world_client: TestClient, headers: dict[str, str], inv: str) -> dict[str, Any]:
    body: dict[str, Any] = world_client.get(f"/api/v1/investigations/{inv}", headers=headers).json()
    if body["status"] == "failed":
        raise AssertionError(f"draft failed: {body}")
    return body if body["status"] == "awaiting_review" else {}


def _latest_version(client: TestClient, headers: dict[str, str], inv: str) -> dict[str, Any]:
    versions = client.get(f"/api/v1/investigations/{inv}/versions", headers=headers).json()
    return dict(versions[-1])


@contextmanager
def build_world(tmp: Path, **config: Any) -> Iterator[World]:
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{data_dir / 'devia.db'}"
    keys = seed_accounts(db_url)
    canaries = Canaries()
    store = open_store(":memory:", tmp)
    embedder = HashingEmbedder()
    index_docs(store, embedder, plant_docs() + site_b_docs(canaries) + shared_docs())
    script = Script()
    model = FakeChatModel(script)
    context = build_agent_context(
        store=store, embedder=embedder, chat_model=model, plot_dir=data_dir / "plots"
    )
    handlers = JobHandlers(
        draft=AgentDraftRunner(InvestigationRunner(context, InMemorySaver())),
        chat=EvidenceChatResponder(ChatService(model, context.searcher, context.verifier)),
        ingest=IndexDocumentIngestor(
            store,
            embedder,
            IngestOptions(documents_dir=data_dir / "documents", ocr=False),
            threading.Lock(),
        ),
    )
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "sites": (SITE_A, SITE_B),
        "job_poll_interval_s": 0.05,
        "chat_burst": 1000,
        "drafts_per_user": 1000,
    }
    values.update(config)
    app = create_app(
        Settings(data_dir=data_dir),
        config=ApiConfig(**values),
        handlers=handlers,
        probes={},
        evidence=IndexEvidence(context.searcher, context.similar),
    )
    try:
        with TestClient(app) as client:
            tokens = {}
            for name in USERS:
                response = client.post(
                    "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
                )
                assert response.status_code == 200, response.text
                tokens[name] = response.cookies[SESSION_COOKIE]
            client.cookies.clear()
            world = World(
                client, tokens, keys, canaries, model, script, context,
                own=Resources("", 0, "", "", 0), other=Resources("", 0, "", "", 0),
                requests_before_site_a=0, db_url=db_url, data_dir=data_dir,
            )  # fmt: skip
            world.other = _plant_site_b(world)
            world.requests_before_site_a = len(model.requests)
            world.own = _open_site_a(world)
            yield world
    finally:
        store.close()


def upload(world: World, actor: str, site: str, name: str, content: bytes) -> str:
    response = world.request(
        actor,
        "POST",
        "/api/v1/documents",
        params={"site": site, "filename": name},
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    document = str(response.json()["id"])

    def done() -> bool:
        status = world.request(actor, "GET", f"/api/v1/documents/{document}").json()["status"]
        assert status != "failed", f"ingestion of {name} failed"
        return bool(status == "ingested")

    wait_until(done, f"ingestion of {name}")
    return document


def _plant_site_b(world: World) -> Resources:
    c = world.canaries
    posted = world.request(
        "mes_key_b",
        "POST",
        "/api/v1/events",
        json=_event(SITE_B, "MES-B-0001", f" Operator note {c.event}."),
    )
    assert posted.status_code == 202, posted.text
    inv = str(posted.json()["investigation_id"])
    b = world.headers("investigator_b")
    wait_until(lambda: _draft_ready(world.client, b, inv), "the SITE-B draft")
    document = upload(
        world,
        "investigator_b",
        SITE_B,
        "granulator-note-b.txt",
        upload_text("WI-B-001", None, f"Wet massing impeller power GR-201 note {c.upload}."),
    )
    # A SITE-B uploader naming another site (or the shared site) inside the file.
    for doc_id, claimed, marker in (
        ("WI-B-002", SITE_A, c.upload_claims_site_a),
        ("WI-B-003", SHARED_SITE, c.upload_claims_shared),
    ):
        upload(
            world,
            "investigator_b",
            SITE_B,
            f"{doc_id}.txt",
            upload_text(doc_id, claimed, f"Wet massing impeller power GR-201 note {marker}."),
        )
    chat = world.request(
        "investigator_b",
        "POST",
        f"/api/v1/investigations/{inv}/chat",
        json={"content": f"Was the impeller power on GR-201 high? ref {c.chat}"},
    )
    assert chat.status_code == 201, chat.text
    message = int(chat.json()["id"])
    version = _latest_version(world.client, b, inv)
    edit = world.request(
        "investigator_b",
        "PUT",
        f"/api/v1/investigations/{inv}/sections/capa",
        json={
            "base_version": version["version"],
            "value": {"statements": [{"text": f"Replace the binder pump {c.edit}."}]},
            "reason": f"QA note {c.edit}",
        },
    )
    assert edit.status_code == 200, edit.text
    latest = _latest_version(world.client, b, inv)
    return Resources(inv, latest["version"], latest["sha256"], document, message)


def _open_site_a(world: World) -> Resources:
    posted = world.request("mes_key", "POST", "/api/v1/events", json=_event(SITE_A, "MES-A-0001"))
    assert posted.status_code == 202, posted.text
    inv = str(posted.json()["investigation_id"])
    a = world.headers("investigator")
    wait_until(lambda: _draft_ready(world.client, a, inv), "the SITE-A draft")
    document = upload(
        world,
        "investigator",
        SITE_A,
        "granulator-note-a.txt",
        upload_text("WI-A-001", None, "Wet massing impeller power GR-201 note for site A."),
    )
    chat = world.request(
        "investigator",
        "POST",
        f"/api/v1/investigations/{inv}/chat",
        json={"content": "What limits apply to the impeller power on GR-201?"},
    )
    assert chat.status_code == 201, chat.text
    latest = _latest_version(world.client, a, inv)
    return Resources(inv, latest["version"], latest["sha256"], document, int(chat.json()["id"]))


@contextmanager
def quick_app(
    tmp: Path, handlers: JobHandlers | None = None, **config: Any
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on a fresh records store with the seeded accounts, no index, no model."""
    data_dir = tmp / "quick"
    data_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{data_dir / 'devia.db'}"
    keys = seed_accounts(db_url)
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "sites": (SITE_A, SITE_B),
        "job_poll_interval_s": 0.05,
    }
    values.update(config)
    app = create_app(
        Settings(data_dir=data_dir), config=ApiConfig(**values), handlers=handlers, probes={}
    )
    with TestClient(app) as client:
        yield client, keys


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    """Headers of a signed-in browser page: the session cookie and its CSRF token."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": token_for_session(token)}
