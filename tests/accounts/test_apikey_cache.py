"""API keys remembered per process (accounts.apikey_cache): no lookup per request, yet a
revoked key, a changed role or organization is seen on the very next request, in this
process and in any other one that remembered the key."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import apikey_cache, services
from accounts.models import ApiKey
from accounts.roles import Role
from tests.conftest import api_client
from tests.factories import make_api_key


def _stamp():
    return cache.get(apikey_cache.STAMP_KEY)


def _apikey_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"accounts_apikey"' in q["sql"]]


def test_a_warm_request_does_not_look_its_key_up(org):
    client = api_client(make_api_key(org)[1])
    assert client.get("/api/v1/members/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/members/").status_code == 200
    assert _apikey_queries(queries) == []


def test_a_revoked_key_is_refused_on_the_next_request(org, django_capture_on_commit_callbacks):
    key, plain = make_api_key(org)
    client = api_client(plain)
    assert client.get("/api/v1/members/").status_code == 200
    assert client.get("/api/v1/members/").status_code == 200  # remembered now
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_revoke(api_key=key, actor_role=Role.OWNER)
    assert client.get("/api/v1/members/").status_code == 401


def test_another_process_that_remembered_the_key_refuses_it_too(
    org, django_capture_on_commit_callbacks
):
    key, plain = make_api_key(org)
    other = apikey_cache.KeyCache()  # another web worker's memory; the stamp is shared
    assert other.lookup(plain, stamp=_stamp()) is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_revoke(api_key=key, actor_role=Role.OWNER)
    assert other.lookup(plain, stamp=_stamp()) is None


def test_another_process_sees_a_new_role_and_organization_name_at_once(
    org, django_capture_on_commit_callbacks
):
    key, plain = make_api_key(org, Role.ADMIN)
    other = apikey_cache.KeyCache()
    assert other.lookup(plain, stamp=_stamp()).role == Role.ADMIN
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_update(api_key=key, actor_role=Role.OWNER, role=Role.VIEWER)
    assert other.lookup(plain, stamp=_stamp()).role == Role.VIEWER
    with django_capture_on_commit_callbacks(execute=True):
        org.name = "Acme Renamed"
        org.save(update_fields=["name"])
    assert other.lookup(plain, stamp=_stamp()).organization.name == "Acme Renamed"


def test_a_viewer_key_demoted_while_remembered_can_no_longer_write(
    org, django_capture_on_commit_callbacks
):
    key, plain = make_api_key(org, Role.ADMIN)
    client = api_client(plain)
    assert client.get("/api/v1/members/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_update(api_key=key, actor_role=Role.OWNER, role=Role.VIEWER)
    response = client.post("/api/v1/api-keys/", {"name": "x", "role": "viewer"}, format="json")
    assert response.status_code == 403


def test_keys_revoked_when_their_creator_leaves_are_refused_at_once(
    org, owner, django_capture_on_commit_callbacks
):
    created = services.api_key_create(
        org=org, name="sync", role=Role.MEMBER, created_by=owner, granter_role=Role.OWNER
    )
    other = apikey_cache.KeyCache()
    assert other.lookup(created.plain, stamp=_stamp()) is not None
    from accounts.departures import Departure

    with django_capture_on_commit_callbacks(execute=True):
        services.api_keys_revoke_of(Departure(org=org, person=owner, successor=None, actor=owner))
    assert other.lookup(created.plain, stamp=_stamp()) is None


def test_without_the_shared_cache_every_request_looks_the_key_up(org):
    _key, plain = make_api_key(org)
    keys = apikey_cache.KeyCache()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert keys.lookup(plain, stamp=apikey_cache.UNREADABLE) is not None
        assert len(_apikey_queries(queries)) >= 1


def test_a_wrong_secret_with_a_remembered_prefix_is_refused(org):
    _key, plain = make_api_key(org)
    client = api_client(plain)
    assert client.get("/api/v1/members/").status_code == 200
    assert api_client(plain[:-3] + "xyz").get("/api/v1/members/").status_code == 401


def test_last_used_is_written_once_a_minute_whatever_the_processes(org):
    key, plain = make_api_key(org)
    first, second = apikey_cache.KeyCache(), apikey_cache.KeyCache()
    first.lookup(plain, stamp=_stamp())
    key.refresh_from_db()
    used = key.last_used_at
    assert used is not None
    for keys in (first, second):  # this process again, and another one loading the row
        with CaptureQueriesContext(connection) as queries:
            keys.lookup(plain, stamp=_stamp())
        assert not any(q.startswith("UPDATE") for q in _apikey_queries(queries))
    key.refresh_from_db()
    assert key.last_used_at == used
    # A minute later, the next request stamps it again.
    ApiKey.objects.for_org(org).filter(pk=key.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    third = apikey_cache.KeyCache()
    third.lookup(plain, stamp=_stamp())
    key.refresh_from_db()
    assert key.last_used_at > timezone.now() - timedelta(seconds=30)


def test_a_key_deleted_with_its_organization_is_refused(org, django_capture_on_commit_callbacks):
    _key, plain = make_api_key(org)
    other = apikey_cache.KeyCache()
    assert other.lookup(plain, stamp=_stamp()) is not None
    with django_capture_on_commit_callbacks(execute=True):
        org.delete()
    assert other.lookup(plain, stamp=_stamp()) is None
