"""Organization B can neither see, change nor detect organization A's data, on any route.

Routes come from the URLconf itself, so a new route without a case fails
``test_every_route_has_a_case`` until its app registers one in
``tests/<app>/cross_tenant.py``. Each (route, method) is then requested twice with the
same URL: as organization A (it must succeed, 2xx or a redirect, which proves the case
builds a real URL and a valid request) and as organization B (404 for objects, no trace of
A's data in collections, 400/404 for writes that point at A's objects).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, make_api_key
from tests.tenancy import World, is_public, load_cases, tenant_routes

CASES = load_cases()
ROUTES = tenant_routes()
ROUTE_METHODS = [
    pytest.param(route, method, id=f"{route.name}:{method}")
    for route in ROUTES
    if route.name in CASES
    for method in route.methods()
]


@pytest.fixture
def world(db) -> World:
    org_a = OrganizationFactory(name="Alpha Org", slug="alpha")
    org_b = OrganizationFactory(name="Beta Org", slug="beta")
    owner_a = MembershipFactory(organization=org_a, role=Role.OWNER).user
    outsider = MembershipFactory(organization=org_b, role=Role.OWNER).user
    return World(
        org_a=org_a,
        org_b=org_b,
        owner_a=owner_a,
        outsider=outsider,
        key_a=make_api_key(org_a, Role.OWNER)[1],
        key_b=make_api_key(org_b, Role.OWNER)[1],
    )


def test_every_route_is_public_or_tenant_scoped():
    from tests.tenancy import all_routes

    unknown = [r.name for r in all_routes() if r.kind == "public" and not is_public(r)]
    assert unknown == [], (
        "Routes outside /api/v1/ and /o/<org_slug>/ must be listed in tests/tenancy.py "
        f"PUBLIC_ROUTES with a reason: {unknown}"
    )


def test_every_tenant_route_has_a_case():
    missing = sorted(r.name for r in ROUTES if r.name not in CASES)
    assert missing == [], (
        f"No cross-tenant case for {missing}: register one in tests/<app>/cross_tenant.py"
    )
    stale = sorted(set(CASES) - {r.name for r in ROUTES})
    assert stale == [], f"Cases for routes that no longer exist: {stale}"


def test_the_suite_covers_a_real_number_of_routes():
    # Guards against an enumeration bug that would make every other test vacuous.
    assert len(ROUTE_METHODS) >= 15


def _api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _send(client, method: str, url: str, body, *, api: bool):
    if api:
        data = body if method in ("POST", "PUT", "PATCH") else None
        return getattr(client, method.lower())(url, data=data, format="json")
    if method == "GET":
        return client.get(url)
    return (
        client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")
        if method != "POST"
        else client.post(url, data=body or {})
    )


@pytest.mark.parametrize(("route", "method"), ROUTE_METHODS)
def test_org_a_reaches_the_object(world, route, method):
    case = CASES[route.name]
    target = case.make(world)
    body = case.body(world) if case.body else {}
    url = route.url(world.org_a.slug, target.kwargs)
    if route.kind == "api":
        response = _send(_api(world.key_a), method, url, body, api=True)
    else:
        client = Client()
        client.force_login(world.owner_a)
        response = _send(client, method, url, body, api=False)
    # Its own organization's request succeeds (a page post may redirect): only then does
    # org B's 404 on the same URL prove that tenancy, not a broken case, stopped it.
    assert 200 <= response.status_code < 400 and response.status_code != 301, (
        f"{method} {url} is {response.status_code} for its own organization: the case is wrong"
        f" {response.content[:300]!r}"
    )


@pytest.mark.parametrize(("route", "method"), ROUTE_METHODS)
def test_org_b_cannot_reach_org_a(world, route, method):
    case = CASES[route.name]
    target = case.make(world)
    body = case.body(world) if case.body else {}
    has_object = bool(route.kwarg_names)
    names_org_a = case.body is not None and case.body_names_org_a

    if route.kind == "api":
        url = route.url(None, target.kwargs)
        response = _send(_api(world.key_b), method, url, body, api=True)
        if case.upsert and method == "PUT":
            content = response.content.decode(errors="replace")
            assert response.status_code in (201, 400), f"PUT {url} as org B: {response.status_code}"
            assert target.marker not in content, f"PUT {url} leaks org A's {target.marker}"
            return
        _assert_blocked(response, method, has_object, names_org_a, target.marker, url)
        return

    client = Client()
    client.force_login(world.outsider)
    # A's address: B's people are not members, so the whole organization is "not found".
    url_a = route.url(world.org_a.slug, target.kwargs)
    response = _send(client, method, url_a, body, api=False)
    assert response.status_code == 404, f"{method} {url_a} as an outsider: {response.status_code}"
    # B's own address with A's object ids: the objects are not found in B.
    url_b = route.url(world.org_b.slug, target.kwargs)
    response = _send(client, method, url_b, body, api=False)
    _assert_blocked(response, method, has_object, names_org_a, target.marker, url_b)


def _assert_blocked(
    response, method: str, has_object: bool, names_org_a: bool, marker: str, url: str
) -> None:
    # The page may echo the requested address (language switcher): that is not a leak.
    content = response.content.decode(errors="replace").replace(url, "")
    status = response.status_code
    if has_object:
        assert status == 404, f"{method} {url} as org B: {status}"
    elif method == "GET":
        assert status == 200, f"GET {url} as org B: {status}"
    elif names_org_a:
        # A write to a collection whose body points at org A's objects: invalid input.
        assert status in (400, 404), f"{method} {url} as org B: {status} {content[:300]}"
    else:
        # A write that names nothing of org A may create in B; it must not fail or leak.
        assert status < 500, f"{method} {url} as org B: {status}"
    assert marker not in content, f"{method} {url} leaks org A's {marker} to org B"
