from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from accounts.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite through the members page; return the path of the link in the e-mail."""

    def send(client, email="new@acme.test", role="member"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/o/acme/members/", {"email": email, "role": role})
        assert response.status_code == 302, response.content
        return (
            re.search(r"http://\S+/invitations/\S+/", mail.outbox[-1].body)
            .group(0)
            .split("8000", 1)[1]
        )

    return send


def test_an_invitation_mails_a_link_that_makes_a_member(owner_client, client, org, invite):
    path = invite(owner_client)
    assert mail.outbox[-1].to == ["new@acme.test"]
    assert "Acme" in mail.outbox[-1].subject
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(
        path, {"display_name": "Newbie", "password": "a long enough secret", "timezone": "UTC"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@acme.test")
    assert Membership.objects.for_org(org).get(user=user).role == Role.MEMBER
    # Used once: the link is dead now.
    assert client.get(path).status_code == 404


def test_an_existing_user_accepts_while_logged_in(owner_client, client, org, invite):
    user = UserFactory(email="known@acme.test")
    path = invite(owner_client, email="known@acme.test", role="viewer")
    client.force_login(user)
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.for_org(org).get(user=user).role == Role.VIEWER


def test_another_user_cannot_use_the_link(owner_client, client, org, invite):
    path = invite(owner_client, email="intended@acme.test")
    client.force_login(UserFactory(email="thief@evil.test"))
    response = client.post(path)
    assert response.status_code == 400
    assert not Membership.objects.for_org(org).filter(user__email="thief@evil.test").exists()


def test_an_expired_invitation_is_refused(owner_client, client, org, invite):
    path = invite(owner_client)
    Invitation.objects.for_org(org).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(path).status_code == 404
    assert (
        client.post(
            path, {"display_name": "X", "password": "a long enough secret", "timezone": "UTC"}
        ).status_code
        == 404
    )


def test_an_unknown_token_is_404(client, db):
    assert client.get("/invitations/not-a-token/").status_code == 404


def test_inviting_an_existing_member_is_a_form_error(owner_client, member):
    response = owner_client.post("/o/acme/members/", {"email": member.email, "role": "member"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_an_admin_cannot_invite_an_owner(org, client):
    from tests.factories import MembershipFactory

    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    client.force_login(admin)
    response = client.post("/o/acme/members/", {"email": "boss@acme.test", "role": "owner"})
    assert response.status_code == 400
    assert not Invitation.objects.for_org(org).exists()


def test_a_new_invitation_replaces_the_pending_one(owner_client, org, invite):
    first = invite(owner_client)
    invite(owner_client)
    assert Invitation.objects.for_org(org).pending().count() == 1
    assert Client().get(first).status_code == 404
