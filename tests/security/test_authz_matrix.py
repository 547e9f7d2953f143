"""Authorization matrix: every route of the app x every actor (investigator, QA approver,
admin, MES API key, anonymous) x own / other site, each with its expected status."""

from __future__ import annotations

from fastapi import FastAPI

from tests.security.conftest import record_figures
from tests.security.routes import ACTORS, PROBES, TARGETS, Outcome, missing_probes, stale_probes
from tests.security.world import World


def test_every_route_is_in_the_matrix(world: World) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)
    assert not missing_probes(app), (
        f"routes without an authorization probe in tests/security/routes.py: "
        f"{sorted(missing_probes(app))}"
    )
    assert not stale_probes(app), f"probes of routes that no longer exist: {stale_probes(app)}"


def test_every_route_x_role_x_site_gets_its_expected_status(walk: list[Outcome]) -> None:
    assert len(walk) == len(PROBES) * len(ACTORS) * len(TARGETS)
    wrong = [
        f"{o.probe.method} {o.probe.path} as {o.actor} on {o.target} site: "
        f"{o.status} (expected {o.expected}) {o.body[:160]!r}"
        for o in walk
        if o.status != o.expected
    ]
    record_figures(
        "authorization_matrix",
        {
            "routes": len(PROBES),
            "actors": len(ACTORS),
            "checks": len(walk),
            "mismatches": len(wrong),
        },
    )
    assert not wrong, "\n".join(wrong)


def test_no_actor_of_site_a_gets_a_success_on_site_b_state_changes(walk: list[Outcome]) -> None:
    """Belt and braces over the matrix: nothing state-changing succeeds on the other site."""
    changed = [
        f"{o.probe.method} {o.probe.path} as {o.actor}: {o.status}"
        for o in walk
        if o.target == "other"
        and o.probe.method in ("POST", "PUT", "PATCH", "DELETE")
        and 200 <= o.status < 300
        and o.probe.path not in ("/api/v1/auth/login", "/api/v1/auth/logout")
    ]
    assert not changed
