"""Each cross-tenant case of project follow-up builds org A's own object, and org A sees it:
the marker that must never reach org B is on org A's page or API answer (so the check in
``tests/test_cross_tenant.py`` that B does not see it is not vacuous)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.test_cross_tenant import CASES, ROUTES, _api, world  # noqa: F401 - the fixture

PREFIXES = (
    "projects:",
    "project-",
    "work-item-",
    "dependency-",
    "budget-line-",
    "cost-entry-",
    "change-request-",
)
OURS = [r for r in ROUTES if r.name.startswith(PREFIXES) and "GET" in r.methods()]


def test_every_route_of_the_app_is_here():
    assert len(OURS) >= 20


@pytest.mark.parametrize("route", OURS, ids=[r.name for r in OURS])
def test_org_a_sees_its_marker(world, route):  # noqa: F811 - the fixture
    target = CASES[route.name].make(world)
    url = route.url(world.org_a.slug, target.kwargs)
    if route.kind == "api":
        response = _api(world.key_a).get(url)
    else:
        client = Client()
        client.force_login(world.owner_a)
        response = client.get(url)
    assert response.status_code == 200, url
    assert target.marker in response.content.decode(), f"{url} does not show {target.marker}"
