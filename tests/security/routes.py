"""Every route of the app, a request that exercises it, and who may do what with it.

`app_routes(app)` enumerates the served routes (API, UI pages, docs, static files); `PROBES`
holds one probe per (method, path) and `missing_probes` names the routes without one, so a
route added later fails the tests until its authorization is written down here.

Actors: the SITE-A investigator, QA approver and admin (signed in), SITE-A's MES API key, and
an anonymous client. Targets: `own` (SITE-A's resources) and `other` (SITE-B's). State-changing
probes carry a body that passes validation but is refused by a business rule after the access
checks (a superseded version, a wrong hash), so the status shows how far the request got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from starlette.routing import BaseRoute, Mount

from tests.security.world import PASSWORD, SITE_A, SITE_B, Resources, World

ACTORS = ("investigator", "qa_approver", "admin", "mes_key", "anonymous")
USER_ACTORS = ("investigator", "qa_approver", "admin")
TARGETS = ("own", "other")
ZERO_SHA = "0" * 64


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if isinstance(route, _IncludedRouter):
            yield from _walk(route.effective_candidates())
        else:
            yield route


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; a mount counts as GET of its path."""
    found: set[tuple[str, str]] = set()
    for route in _walk(list(app.routes)):
        if isinstance(route, Mount):
            found.add(("GET", route.path + "/{path}"))
            continue
        methods = getattr(route, "methods", None) or set()
        path = str(getattr(route, "path", ""))
        assert path, f"a route without a path: {route!r}"
        for method in methods - {"HEAD"}:
            found.add((method, path))
    return found


Request = dict[str, Any]  # kwargs of World.request: url plus params / json / content / data
Expect = Callable[[str, str], int]  # (actor, target) -> status


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    build: Callable[[World, Resources, str, str], Request]  # (world, res, target site, actor)
    expect: Expect
    ends_session: bool = False  # logout: run it with a session of its own


def api(roles: tuple[str, ...], own: int, other: int, denied: int = 403) -> Expect:
    """A JSON route for signed-in users: anonymous and the MES key are not signed in (401)."""

    def expect(actor: str, target: str) -> int:
        if actor in ("anonymous", "mes_key"):
            return 401
        if actor not in roles:
            return denied
        return own if target == "own" else other

    return expect


def page(
    roles: tuple[str, ...], own: int, other: int, denied_own: int, denied_other: int
) -> Expect:
    """A UI page (GET): not signed in is a redirect to the sign-in page."""

    def expect(actor: str, target: str) -> int:
        if actor in ("anonymous", "mes_key"):
            return 303
        if actor not in roles:
            return denied_own if target == "own" else denied_other
        return own if target == "own" else other

    return expect


def form(
    roles: tuple[str, ...], own: int, other: int, denied_own: int, denied_other: int
) -> Expect:
    """A UI form POST: without a session there is no CSRF token to match (403)."""
    base = page(roles, own, other, denied_own, denied_other)

    def expect(actor: str, target: str) -> int:
        if actor in ("anonymous", "mes_key"):
            return 403
        return base(actor, target)

    return expect


def everyone(status: int) -> Expect:
    return lambda _actor, _target: status


def _inv(path: str) -> Callable[[World, Resources, str, str], Request]:
    return lambda _w, res, _site, _actor: {"url": path.format(i=res.investigation, r=res)}


def _manual(site: str) -> dict[str, Any]:
    return {
        "site": site,
        "title": "Matrix probe",
        "description": "Impeller power high on GR-201 (authorization matrix probe).",
        "occurred_at": "2026-11-03T03:03:00Z",
    }


def _event(site: str) -> dict[str, Any]:
    from tests.agent.corpus import mes_payload

    payload = mes_payload()
    payload.update(event_id=f"MES-MATRIX-{site}", site=site)
    return payload


def _signature(actor: str) -> dict[str, Any]:
    return {"version": 999, "sha256": ZERO_SHA, "username": actor, "password": PASSWORD}


I = "/api/v1/investigations/{i}"  # noqa: E741
U = "/investigations/{i}"
_ALL_USERS = USER_ACTORS
_EDITORS = ("investigator", "qa_approver")
_AUTHORS = ("investigator", "admin")

PROBES: tuple[Probe, ...] = (
    # Sign-in: public, refused without valid credentials.
    Probe(
        "POST",
        "/api/v1/auth/login",
        lambda *_: {"url": "/api/v1/auth/login", "json": {"username": "nobody", "password": "x"}},
        everyone(401),
    ),
    Probe(
        "POST",
        "/api/v1/auth/logout",
        lambda *_: {"url": "/api/v1/auth/logout"},
        everyone(204),
        ends_session=True,
    ),
    Probe(
        "GET", "/api/v1/auth/me", lambda *_: {"url": "/api/v1/auth/me"}, api(_ALL_USERS, 200, 200)
    ),
    # MES trigger: the API key only, for its own site.
    Probe(
        "POST",
        "/api/v1/events",
        lambda _w, _r, site, _a: {"url": "/api/v1/events", "json": _event(site)},
        lambda actor, target: (202 if target == "own" else 403) if actor == "mes_key" else 401,
    ),
    Probe(
        "GET",
        "/api/v1/investigations",
        lambda _w, _r, site, _a: {"url": "/api/v1/investigations", "params": {"site": site}},
        api(_ALL_USERS, 200, 200),
    ),
    Probe(
        "POST",
        "/api/v1/investigations",
        lambda _w, _r, site, _a: {"url": "/api/v1/investigations", "json": _manual(site)},
        api(("investigator",), 201, 403),
    ),
    Probe("GET", "/api/v1/investigations/{investigation_id}", _inv(I), api(_ALL_USERS, 200, 404)),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/redraft",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/redraft",
            "json": {"reason": "matrix"},
        },
        api(("investigator",), 409, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/versions",
        _inv(I + "/versions"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/versions/{version}",
        _inv(I + "/versions/{r.version}"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/diff",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/diff",
            "params": {"from": 1, "to": res.version},
        },
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/edits",
        _inv(I + "/edits"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "PUT",
        "/api/v1/investigations/{investigation_id}/sections/{section}",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/sections/capa",
            "json": {"base_version": 999, "value": {"statements": []}, "reason": "matrix"},
        },
        api(_EDITORS, 409, 404),
    ),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/submit",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/submit",
            "json": {"version": 999},
        },
        api(_EDITORS, 409, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/chat",
        _inv(I + "/chat"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/chat",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/chat",
            "json": {"content": "What limits apply to the impeller power?"},
        },
        api(_EDITORS, 201, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/reviews",
        _inv(I + "/reviews"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/signatures",
        _inv(I + "/signatures"),
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/request-changes",
        lambda _w, res, _s, _a: {
            "url": I.format(i=res.investigation) + "/request-changes",
            "json": {"version": 999, "sha256": ZERO_SHA, "comments": {"capa": "matrix"}},
        },
        api(("qa_approver",), 409, 404),
    ),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/approve",
        lambda _w, res, _s, actor: {
            "url": I.format(i=res.investigation) + "/approve",
            "json": _signature(actor),
        },
        api(("qa_approver",), 409, 404),
    ),
    Probe(
        "POST",
        "/api/v1/investigations/{investigation_id}/reject",
        lambda _w, res, _s, actor: {
            "url": I.format(i=res.investigation) + "/reject",
            "json": _signature(actor),
        },
        api(("qa_approver",), 409, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/export.pdf",
        _inv(I + "/export.pdf"),
        api(_ALL_USERS, 409, 404),
    ),
    Probe(
        "GET",
        "/api/v1/investigations/{investigation_id}/similar",
        _inv(I + "/similar"),
        api(_ALL_USERS, 200, 404),
    ),
    # Audit trail: QA and admins; a filter on another site returns nothing (checked by canaries).
    Probe(
        "GET",
        "/api/v1/audit",
        lambda _w, _r, site, _a: {"url": "/api/v1/audit", "params": {"site": site}},
        api(("qa_approver", "admin"), 200, 200),
    ),
    Probe(
        "GET",
        "/api/v1/audit/verify",
        lambda *_: {"url": "/api/v1/audit/verify"},
        api(("qa_approver", "admin"), 200, 200),
    ),
    Probe(
        "POST",
        "/api/v1/documents",
        lambda _w, _r, site, _a: {
            "url": "/api/v1/documents",
            "params": {"site": site, "filename": "matrix.txt"},
            "content": b"Document number: WI-MATRIX\nMatrix probe upload.\n",
            "headers": {"Content-Type": "application/octet-stream"},
        },
        api(_AUTHORS, 201, 403),
    ),
    Probe(
        "GET",
        "/api/v1/documents",
        lambda *_: {"url": "/api/v1/documents"},
        api(_ALL_USERS, 200, 200),
    ),
    Probe(
        "GET",
        "/api/v1/documents/{document_id}",
        lambda _w, res, _s, _a: {"url": f"/api/v1/documents/{res.document}"},
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/documents/{document_id}/source",
        lambda _w, res, _s, _a: {"url": f"/api/v1/documents/{res.document}/source"},
        api(_ALL_USERS, 200, 404),
    ),
    Probe(
        "GET",
        "/api/v1/search",
        lambda _w, _r, site, _a: {
            "url": "/api/v1/search",
            "params": {"q": "impeller power GR-201", "site": site},
        },
        api(_ALL_USERS, 200, 403),
    ),
    Probe(
        "POST",
        "/api/v1/similar",
        lambda _w, _r, site, _a: {
            "url": "/api/v1/similar",
            "json": {
                "description": "Impeller power high on GR-201 during wet massing",
                "site": site,
                "equipment": ["GR-201"],
            },
        },
        api(_ALL_USERS, 200, 403),
    ),
    # Probes: public.
    Probe("GET", "/healthz", lambda *_: {"url": "/healthz"}, everyone(200)),
    Probe("GET", "/readyz", lambda *_: {"url": "/readyz"}, everyone(200)),
    # Web UI pages.
    Probe("GET", "/", lambda *_: {"url": "/"}, everyone(200)),
    Probe(
        "GET",
        "/login",
        lambda *_: {"url": "/login"},
        lambda actor, _t: 200 if actor in ("anonymous", "mes_key") else 303,
    ),
    Probe(
        "POST",
        "/login",
        lambda *_: {"url": "/login", "data": {"username": "nobody", "password": "x"}},
        everyone(403),
    ),
    Probe(
        "POST",
        "/logout",
        lambda *_: {"url": "/logout"},
        lambda actor, _t: 403 if actor in ("anonymous", "mes_key") else 303,
        ends_session=True,
    ),
    Probe("GET", "/queue", lambda *_: {"url": "/queue"}, page(_ALL_USERS, 200, 200, 0, 0)),
    Probe("GET", "/investigations/{investigation_id}", _inv(U), page(_ALL_USERS, 200, 404, 0, 0)),
    Probe(
        "GET",
        "/investigations/{investigation_id}/progress",
        _inv(U + "/progress"),
        page(_ALL_USERS, 200, 404, 0, 0),
    ),
    Probe(
        "GET",
        "/investigations/{investigation_id}/history",
        _inv(U + "/history"),
        page(_ALL_USERS, 200, 404, 0, 0),
    ),
    Probe(
        "GET",
        "/investigations/{investigation_id}/v/{version}/citations/{n}",
        _inv(U + "/v/1/citations/1"),
        page(_ALL_USERS, 200, 404, 0, 0),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/sections/{section}",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + "/sections/capa",
            # The current version, unchanged: refused as "unchanged" after the access checks.
            "data": {"base_version": str(res.version), "reason": "matrix"},
        },
        form(_EDITORS, 422, 404, 403, 404),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/request-changes",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + "/request-changes",
            "data": {"version": "999", "sha256": ZERO_SHA, "section": "capa", "comment": "matrix"},
        },
        form(("qa_approver",), 409, 404, 403, 404),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/sign",
        lambda _w, res, _s, actor: {
            "url": U.format(i=res.investigation) + "/sign",
            "data": {
                "decision": "approve",
                "version": "999",
                "sha256": ZERO_SHA,
                "username": actor,
                "password": PASSWORD,
            },
        },
        form(("qa_approver",), 409, 404, 403, 404),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/submit",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + "/submit",
            "data": {"version": "999"},
        },
        form(_EDITORS, 409, 404, 403, 404),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/redraft",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + "/redraft",
            "data": {"reason": "matrix"},
        },
        form(("investigator",), 409, 404, 403, 404),
    ),
    Probe(
        "POST",
        "/investigations/{investigation_id}/chat",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + "/chat",
            "data": {"question": "What limits apply to the impeller power?"},
        },
        form(_EDITORS, 200, 404, 403, 403),
    ),
    Probe(
        "GET",
        "/investigations/{investigation_id}/chat/{message_id}/stream",
        lambda _w, res, _s, _a: {
            "url": U.format(i=res.investigation) + f"/chat/{res.message}/stream"
        },
        page(_ALL_USERS, 200, 404, 0, 0),
    ),
    Probe("GET", "/documents", lambda *_: {"url": "/documents"}, page(_ALL_USERS, 200, 200, 0, 0)),
    Probe(
        "GET",
        "/search",
        lambda _w, _r, site, _a: {
            "url": "/search",
            "params": {"q": "impeller power GR-201", "site": site},
        },
        page(_ALL_USERS, 200, 200, 0, 0),
    ),
    Probe(
        "GET",
        "/audit",
        lambda _w, _r, site, _a: {"url": "/audit", "params": {"site": site}},
        page(("qa_approver", "admin"), 200, 200, 403, 403),
    ),
    # OpenAPI documentation and static assets: public, no data.
    Probe("GET", "/openapi.json", lambda *_: {"url": "/openapi.json"}, everyone(200)),
    Probe("GET", "/docs", lambda *_: {"url": "/docs"}, everyone(200)),
    Probe(
        "GET", "/docs/oauth2-redirect", lambda *_: {"url": "/docs/oauth2-redirect"}, everyone(200)
    ),
    Probe("GET", "/redoc", lambda *_: {"url": "/redoc"}, everyone(200)),
    Probe("GET", "/static/{path}", lambda *_: {"url": "/static/app.js"}, everyone(200)),
)


def missing_probes(app: FastAPI) -> set[tuple[str, str]]:
    return app_routes(app) - {(p.method, p.path) for p in PROBES}


def stale_probes(app: FastAPI) -> set[tuple[str, str]]:
    return {(p.method, p.path) for p in PROBES} - app_routes(app)


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    actor: str
    target: str
    status: int
    expected: int
    body: str
    headers: str


def resources(world: World, target: str) -> tuple[Resources, str]:
    return (world.own, SITE_A) if target == "own" else (world.other, SITE_B)


def run_probe(world: World, probe: Probe, actor: str, target: str) -> Outcome:
    res, site = resources(world, target)
    spec = dict(probe.build(world, res, site, actor))
    url = spec.pop("url")
    if probe.ends_session and actor in world.tokens:
        # A session of its own, so the actor's main session survives the logout.
        response = world.client.post(
            "/api/v1/auth/login", json={"username": actor, "password": PASSWORD}
        )
        token = response.cookies["devia_session"]
        world.client.cookies.clear()
        from api.web.csrf import token_for_session

        headers = {"Cookie": f"devia_session={token}", "X-CSRF-Token": token_for_session(token)}
        response = world.client.request(
            probe.method, url, headers=headers, follow_redirects=False, **spec
        )
    else:
        name = actor if actor != "anonymous" else ""
        response = world.request(name, probe.method, url, **spec)
    return Outcome(
        probe,
        actor,
        target,
        response.status_code,
        probe.expect(actor, target),
        response.text if response.headers.get("content-type", "").find("pdf") < 0 else "",
        " ".join(f"{k}: {v}" for k, v in response.headers.items()),
    )


def walk_all(world: World, actors: tuple[str, ...] = ACTORS) -> list[Outcome]:
    """Every probe x actor x target (logouts last)."""
    ordered = sorted(PROBES, key=lambda p: p.ends_session)
    return [
        run_probe(world, probe, actor, target)
        for probe in ordered
        for actor in actors
        for target in TARGETS
    ]


__all__ = ["ACTORS", "PROBES", "BaseRoute", "Outcome", "walk_all"]
