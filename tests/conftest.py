"""Fixtures shared by every test: two organizations and the three actors of the brief.

- ``member`` and ``viewer`` belong to org A (``org``), with ``owner`` as its owner;
- ``outsider`` owns org B (``other_org``) and must never see or touch org A's data.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, make_api_key


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's set-up, with the test database created, migrated (policies
    included) and dropped as the owner (``MIGRATE_DATABASE_URL``); tests then connect as
    the runtime role (``DATABASE_URL``), under row-level security."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    from accounts.db_roles import as_owner

    if not django_db_use_migrations:
        _disable_migrations()
    extra = {"keepdb": True} if django_db_keepdb and not django_db_createdb else {}
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    with django_db_blocker.unblock(), as_owner():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            **extra,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), as_owner():
            try:
                teardown_databases(db_cfg, verbosity=request.config.option.verbose)
            except Exception as exc:  # noqa: BLE001
                request.node.warn(
                    pytest.PytestWarning(f"Error tearing down test databases: {exc!r}")
                )


@pytest.fixture(autouse=True)
def _rls_tests_bypass():
    """Set-up code (factories, fixtures, assertions) reads and writes across organizations;
    every request through a client and every task runs with the context its middleware or
    task sets (``accounts.rls.RequestScopeMiddleware`` clears this one)."""
    from accounts.rls import cross_tenant

    with cross_tenant("tests"):
        yield


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def owner(org):
    return MembershipFactory(organization=org, role=Role.OWNER, user__email="owner@acme.test").user


@pytest.fixture
def member(org):
    return MembershipFactory(
        organization=org, role=Role.MEMBER, user__email="member@acme.test"
    ).user


@pytest.fixture
def viewer(org):
    return MembershipFactory(
        organization=org, role=Role.VIEWER, user__email="viewer@acme.test"
    ).user


@pytest.fixture
def outsider(other_org):
    return MembershipFactory(
        organization=other_org, role=Role.OWNER, user__email="boss@globex.test"
    ).user


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member_client(member):
    return _client_for(member)


@pytest.fixture
def viewer_client(viewer):
    return _client_for(viewer)


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def outsider_client(outsider):
    return _client_for(outsider)


def api_client(plain_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain_key}")
    return client


@pytest.fixture
def api(org):
    """An admin API key of org A."""
    return api_client(make_api_key(org, Role.ADMIN)[1])


@pytest.fixture
def member_api(org):
    return api_client(make_api_key(org, Role.MEMBER)[1])


@pytest.fixture
def viewer_api(org):
    return api_client(make_api_key(org, Role.VIEWER)[1])


@pytest.fixture
def outsider_api(other_org):
    """An owner-role key of org B: anything it cannot reach is blocked by tenancy, not role."""
    return api_client(make_api_key(other_org, Role.OWNER)[1])
