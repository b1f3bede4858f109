from __future__ import annotations

import re

from django.core import mail

from accounts.models import Organization, User
from tests.factories import PASSWORD, UserFactory


def test_sign_up_makes_an_unconfirmed_account_and_mails_its_link(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "display_name": "Ada",
                "email": "Ada@Example.test",
                "password": "a long enough secret",
                "timezone": "Europe/Berlin",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/sent/"  # as for a known address
    user = User.objects.get(email="ada@example.test")
    assert user.email_confirmed_at is None and user.timezone == "Europe/Berlin"
    assert not Organization.objects.exists()  # made after confirming (test_signup_confirmation)
    assert client.get("/")["Location"] == "/accounts/login/"
    assert [m.to for m in mail.outbox] == [["ada@example.test"]]  # the confirmation link
    assert "/accounts/signup/confirm/" in mail.outbox[0].body


def test_sign_up_refuses_a_weak_password_and_keeps_nothing(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Bob",
            "email": "bob@example.test",
            "password": "12345678901",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "entirely numeric" in response.content.decode()
    assert not User.objects.filter(email="bob@example.test").exists()


def test_sign_up_with_a_taken_email_in_any_case_creates_nothing_and_mails_its_owner(
    client, db, django_capture_on_commit_callbacks
):
    taken = UserFactory(email="taken@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "display_name": "X",
                "email": "TAKEN@example.test",
                "password": "a long enough secret",
                "timezone": "UTC",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/sent/"
    assert "already exists" not in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    taken.refresh_from_db()
    assert taken.check_password(PASSWORD) and taken.display_name != "X"
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
