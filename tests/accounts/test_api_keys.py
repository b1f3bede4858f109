"""API keys follow the rule of people: only an owner creates, changes or revokes an owner."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import ApiKey
from accounts.roles import Role
from tests.conftest import api_client
from tests.factories import MembershipFactory, make_api_key
from tests.followup.test_api_conventions import assert_problem


@pytest.fixture
def owner_key(org):
    return make_api_key(org, Role.OWNER, name="owner's sync")[0]


def _still_an_active_owner_key(key: ApiKey) -> bool:
    key.refresh_from_db()
    return key.role == Role.OWNER and key.revoked_at is None


def test_an_admin_key_cannot_demote_an_owner_key(api, owner_key):
    response = api.patch(f"/api/v1/api-keys/{owner_key.pk}/", {"role": "viewer"}, format="json")
    assert_problem(response, 403)
    assert _still_an_active_owner_key(owner_key)


def test_an_admin_key_cannot_rename_an_owner_key(api, owner_key):
    response = api.patch(f"/api/v1/api-keys/{owner_key.pk}/", {"name": "mine now"}, format="json")
    assert_problem(response, 403)
    owner_key.refresh_from_db()
    assert owner_key.name == "owner's sync"


def test_an_admin_key_cannot_revoke_an_owner_key(api, owner_key):
    assert_problem(api.delete(f"/api/v1/api-keys/{owner_key.pk}/"), 403)
    assert _still_an_active_owner_key(owner_key)


def test_an_admin_key_cannot_create_an_owner_key(api, org):
    response = api.post("/api/v1/api-keys/", {"name": "x", "role": "owner"}, format="json")
    assert_problem(response, 400)
    assert not ApiKey.objects.for_org(org).filter(name="x").exists()


def test_an_admin_key_cannot_promote_a_key_to_owner(api, org):
    key = make_api_key(org, Role.MEMBER)[0]
    response = api.patch(f"/api/v1/api-keys/{key.pk}/", {"role": "owner"}, format="json")
    assert_problem(response, 400)
    key.refresh_from_db()
    assert key.role == Role.MEMBER


def test_an_owner_key_changes_and_revokes_an_owner_key(org, owner_key):
    owner_api = api_client(make_api_key(org, Role.OWNER)[1])
    response = owner_api.patch(
        f"/api/v1/api-keys/{owner_key.pk}/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert owner_api.delete(f"/api/v1/api-keys/{owner_key.pk}/").status_code == 204
    owner_key.refresh_from_db()
    assert owner_key.revoked_at is not None


def test_an_admin_key_still_manages_keys_up_to_admin(api, org):
    key = make_api_key(org, Role.ADMIN)[0]
    response = api.patch(f"/api/v1/api-keys/{key.pk}/", {"role": "member"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "member"
    assert api.delete(f"/api/v1/api-keys/{key.pk}/").status_code == 204


def test_an_admin_cannot_revoke_an_owner_key_in_the_app(org, owner_key):
    from django.test import Client

    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    client = Client()
    client.force_login(admin)
    page = client.get("/o/acme/api-keys/").content.decode()
    assert f"/api-keys/{owner_key.pk}/revoke/" not in page  # no button for it
    response = client.post(f"/o/acme/api-keys/{owner_key.pk}/revoke/", follow=True)
    assert "Only an owner" in response.content.decode()
    assert _still_an_active_owner_key(owner_key)


def test_the_services_refuse_whoever_calls_them(org, owner_key):
    """The rule lives in the service, so no page, API or task can skip it."""
    with pytest.raises(PermissionDenied):
        services.api_key_revoke(api_key=owner_key, actor_role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.api_key_update(api_key=owner_key, actor_role=Role.ADMIN, role=Role.MEMBER)
    assert _still_an_active_owner_key(owner_key)
