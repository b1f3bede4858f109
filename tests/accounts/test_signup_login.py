from __future__ import annotations

import re

from django.core import mail

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory


def test_sign_up_creates_the_owner_and_the_organization(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Ada",
            "email": "Ada@Example.test",
            "password": "a long enough secret",
            "organization_name": "Ada's Widgets",
            "timezone": "Europe/Berlin",
        },
    )
    org = Organization.objects.get(name="Ada's Widgets")
    assert response.status_code == 302
    assert response["Location"] == "/"  # the same answer as for a known address
    user = User.objects.get(email="ada@example.test")
    assert Membership.objects.for_org(org).get(user=user).role == Role.OWNER
    assert client.get("/")["Location"] == f"/o/{org.slug}/"
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert [m.to for m in mail.outbox] == [["ada@example.test"]]  # the welcome mail


def test_sign_up_refuses_a_weak_password_and_keeps_nothing(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Bob",
            "email": "bob@example.test",
            "password": "12345678901",
            "organization_name": "Bob Inc",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "entirely numeric" in response.content.decode()
    assert not User.objects.filter(email="bob@example.test").exists()
    assert not Organization.objects.filter(name="Bob Inc").exists()


def test_sign_up_with_a_taken_email_in_any_case_creates_nothing_and_mails_its_owner(client, db):
    UserFactory(email="taken@example.test")
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "X",
            "email": "TAKEN@example.test",
            "password": "a long enough secret",
            "organization_name": "X",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert "already exists" not in response.content.decode()
    assert not Organization.objects.filter(name="X").exists()
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    assert [m.to for m in mail.outbox] == [["taken@example.test"]]
    assert "tried to create a new Followup account" in mail.outbox[0].body


def test_log_in_with_email_case_insensitively(client, member):
    response = client.post(
        "/accounts/login/", {"username": "MEMBER@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # on to the organization


def test_repeated_failures_lock_the_account_out(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": member.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": member.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed" in response.content.decode()


def test_password_reset_mails_a_working_link(client, member):
    client.post("/accounts/password-reset/", {"email": member.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new secret", "new_password2": "a brand new secret"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("a brand new secret")


def test_password_reset_does_not_reveal_accounts(client, db):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_logout_is_a_post(member_client):
    assert member_client.post("/accounts/logout/").status_code == 302
    assert member_client.get("/o/acme/").status_code == 302


def test_the_language_choice_is_remembered_on_the_account(member_client, member):
    member_client.post("/i18n/language/", {"language": "zh-hans", "next": "/o/acme/"})
    member.refresh_from_db()
    assert member.language == "zh-hans"
    assert "成员" in member_client.get("/o/acme/").content.decode()


def test_set_language_refuses_open_redirects(client, db):
    response = client.post("/i18n/language/", {"language": "en", "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_pages_render_in_the_users_timezone(member_client, member):
    member.timezone = "Asia/Shanghai"
    member.save()
    response = member_client.get("/o/acme/")
    assert response.context["TIME_ZONE"] == "Asia/Shanghai"
