from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Membership
from accounts.roles import Role
from tests.factories import MembershipFactory


def _membership(org, user):
    return Membership.objects.for_org(org).get(user=user)


def test_it_lists_members_for_a_viewer(viewer_client, member, viewer):
    response = viewer_client.get("/o/acme/members/")
    assert response.status_code == 200
    assert member.email in response.content.decode()
    # A viewer sees no management controls.
    assert "Send invitation" not in response.content.decode()


def test_a_viewer_cannot_invite(viewer_client):
    response = viewer_client.post("/o/acme/members/", {"email": "x@acme.test", "role": "member"})
    assert response.status_code == 403


def test_a_member_cannot_change_roles(member_client, viewer, org):
    target = _membership(org, viewer)
    response = member_client.post(f"/o/acme/members/{target.pk}/role/", {"role": "admin"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == Role.VIEWER


def test_an_owner_changes_a_role(owner_client, viewer, org):
    target = _membership(org, viewer)
    response = owner_client.post(f"/o/acme/members/{target.pk}/role/", {"role": "manager"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.MANAGER


def test_the_role_change_swaps_one_row_with_htmx(owner_client, viewer, org):
    target = _membership(org, viewer)
    response = owner_client.post(
        f"/o/acme/members/{target.pk}/role/", {"role": "member"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith(f'<tr id="member-{target.pk}"')
    assert "<html" not in body


def test_the_last_owner_cannot_be_demoted(owner, org):
    actor = _membership(org, owner)
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_change_role(actor=actor, membership=actor, role=Role.ADMIN)
    assert _membership(org, owner).role == Role.OWNER


def test_the_last_owner_cannot_leave(owner_client, owner, org):
    actor = _membership(org, owner)
    response = owner_client.post(f"/o/acme/members/{actor.pk}/remove/", follow=True)
    assert "last owner" in response.content.decode()
    assert Membership.objects.for_org(org).filter(pk=actor.pk).exists()


def test_a_second_owner_makes_leaving_possible(owner_client, owner, org):
    MembershipFactory(organization=org, role=Role.OWNER)
    actor = _membership(org, owner)
    response = owner_client.post(f"/o/acme/members/{actor.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.for_org(org).filter(pk=actor.pk).exists()


def test_an_admin_cannot_touch_an_owner(org, owner):
    admin = MembershipFactory(organization=org, role=Role.ADMIN)
    owner_membership = _membership(org, owner)
    with pytest.raises(Exception, match="owner"):
        services.membership_change_role(actor=admin, membership=owner_membership, role=Role.VIEWER)
    with pytest.raises(Exception, match="owner"):
        services.membership_remove(actor=admin, membership=owner_membership, successor=None)


def test_an_admin_cannot_grant_owner(org):
    admin = MembershipFactory(organization=org, role=Role.ADMIN)
    other = MembershipFactory(organization=org, role=Role.MEMBER)
    with pytest.raises(Exception, match="above your own"):
        services.membership_change_role(actor=admin, membership=other, role=Role.OWNER)


def test_a_member_may_leave(member_client, member, org):
    mine = _membership(org, member)
    response = member_client.post(f"/o/acme/members/{mine.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.for_org(org).filter(pk=mine.pk).exists()


def test_org_settings_are_read_only_for_a_member(member_client, org):
    assert member_client.get("/o/acme/settings/").status_code == 200
    assert (
        member_client.post("/o/acme/settings/", {"name": "Hacked", "timezone": "UTC"}).status_code
        == 403
    )


def test_an_owner_renames_the_organization(owner_client, org):
    response = owner_client.post(
        "/o/acme/settings/", {"name": "Acme GmbH", "timezone": "Asia/Shanghai"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.timezone) == ("Acme GmbH", "Asia/Shanghai")


def test_a_bad_timezone_is_a_form_error(owner_client, org):
    response = owner_client.post("/o/acme/settings/", {"name": "Acme", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    org.refresh_from_db()
    assert org.timezone == "Europe/Berlin"


def test_a_non_member_gets_404_not_403(outsider_client, org):
    assert outsider_client.get("/o/acme/").status_code == 404
    assert outsider_client.get("/o/does-not-exist/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, org):
    response = client.get("/o/acme/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/o/acme/members/")


def test_api_keys_page_shows_the_key_once(owner_client, org):
    response = owner_client.post("/o/acme/api-keys/", {"name": "CRM", "role": "member"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    plain = body.split('id="new-api-key">')[1].split("<")[0]
    assert plain.startswith("fu_")
    assert plain not in owner_client.get("/o/acme/api-keys/").content.decode()


def test_a_member_cannot_manage_api_keys(member_client):
    assert member_client.get("/o/acme/api-keys/").status_code == 403
