"""Sign-up confirms the address by mail before anyone can log in (issue 12, attack 3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "a long enough secret"


def _sign_up(client, email, capture, *, name="Ada", password=SECRET):
    client.get("/accounts/signup/")  # as a browser does: the form first, its CSRF cookie
    with capture(execute=True):
        return client.post(
            "/accounts/signup/",
            {"display_name": name, "email": email, "password": password, "timezone": "UTC"},
        )


def _cookies(response):
    """What the answer asks the browser to store: each cookie's name and attributes (a
    random value, such as a session id, differs from one answer to the next anyway)."""
    return sorted(
        (name, {key: value for key, value in morsel.items() if value})
        for name, morsel in response.cookies.items()
    )


def _page(response) -> str:
    """The page as read, without the per-request CSRF token masks."""
    page = response.content.decode()
    page = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page)
    return re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", page)


def _link(message) -> str:
    return re.search(r"http://\S+(/accounts/signup/confirm/\S+/)", message.body).group(1)


def test_known_and_unknown_addresses_get_the_same_answer_cookies_included(
    member, django_capture_on_commit_callbacks
):
    known = _sign_up(Client(), " MEMBER@acme.test ", django_capture_on_commit_callbacks)
    unknown = _sign_up(Client(), "new-person@acme.test", django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.status_code == 302 and known["Location"] == "/accounts/signup/sent/"
    assert known.content == unknown.content
    assert _cookies(known) == _cookies(unknown)
    assert "sessionid" not in unknown.cookies  # nobody is logged in by signing up
    follow_known = Client().get(known["Location"])
    follow_unknown = Client().get(unknown["Location"])
    assert _page(follow_known) == _page(follow_unknown)
    assert "Check your e-mail" in _page(follow_unknown)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["member@acme.test", "new-person@acme.test"]
    assert "tried to create a new Followup account" in by_address["member@acme.test"].body
    assert "/accounts/signup/confirm/" in by_address["new-person@acme.test"].body
    member.refresh_from_db()
    assert member.check_password(PASSWORD)  # the known account is untouched


def test_the_link_logs_the_person_in_and_continues_to_organization_creation(
    db, django_capture_on_commit_callbacks
):
    client = Client()
    _sign_up(client, "Ada@Example.test", django_capture_on_commit_callbacks)
    user = User.objects.get(email="ada@example.test")
    assert user.email_confirmed_at is None
    assert len(user.confirmation_digest) == 64  # only the token's digest is stored
    link = _link(mail.outbox[0])
    assert user.confirmation_digest not in link
    assert client.get("/").url == "/accounts/login/"  # not logged in yet

    page = client.get(link)
    assert page.status_code == 200 and "ada@example.test" in page.content.decode()
    response = client.post(link, {"password": SECRET})
    assert response.status_code == 302 and response["Location"] == "/orgs/new/"
    created = client.post("/orgs/new/", {"name": "Ada's Widgets", "timezone": "UTC"})
    org = Organization.objects.get(name="Ada's Widgets")
    assert created["Location"] == f"/o/{org.slug}/"
    assert Membership.objects.for_org(org).get(user=user).role == Role.OWNER
    user.refresh_from_db()
    assert user.email_confirmed_at is not None and user.confirmation_digest == ""


def test_a_link_works_once(db, django_capture_on_commit_callbacks):
    _sign_up(Client(), "once@example.test", django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    assert Client().post(link, {"password": SECRET}).status_code == 302
    again = Client().post(link, {"password": SECRET})
    assert again.status_code == 404
    assert "already used" in again.content.decode()


def test_an_expired_link_says_so_and_offers_a_new_one(db, django_capture_on_commit_callbacks):
    _sign_up(Client(), "late@example.test", django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    User.objects.filter(email="late@example.test").update(
        confirmation_sent_at=timezone.now() - timedelta(hours=49)
    )
    for response in (Client().get(link), Client().post(link, {"password": SECRET})):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert "/accounts/signup/resend/" in response.content.decode()
    assert User.objects.get(email="late@example.test").email_confirmed_at is None


def test_an_unconfirmed_account_cannot_log_in_and_is_offered_a_new_link(
    db, django_capture_on_commit_callbacks
):
    _sign_up(Client(), "wait@example.test", django_capture_on_commit_callbacks)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "wait@example.test", "password": SECRET}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Confirm your e-mail address first" in text
    assert "/accounts/signup/resend/" in text
    assert client.get("/").url == "/accounts/login/"
    # A wrong password does not tell that the address is waiting for confirmation.
    wrong = Client().post("/accounts/login/", {"username": "wait@example.test", "password": "x"})
    assert "Confirm your e-mail" not in wrong.content.decode()


def test_resend_mails_a_new_link_and_the_old_one_stops_working(
    db, django_capture_on_commit_callbacks
):
    _sign_up(Client(), "again@example.test", django_capture_on_commit_callbacks)
    old = _link(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/signup/resend/", {"email": " AGAIN@example.test"})
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/sent/"
    new = _link(mail.outbox[1])
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().post(new, {"password": SECRET}).status_code == 302


def test_resend_answers_the_same_for_every_address_and_mails_only_the_unconfirmed(
    member, django_capture_on_commit_callbacks
):
    answers = []
    for email in ("member@acme.test", "nobody@acme.test"):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/accounts/signup/resend/", {"email": email})
        answers.append((response.status_code, response["Location"], _cookies(response)))
    assert answers[0] == answers[1]
    assert mail.outbox == []


def test_resend_is_rate_limited_per_address(db, settings):
    settings.FOLLOWUP_SIGNUP_RATE = 2
    answers = [
        Client().post("/accounts/signup/resend/", {"email": f"p{n}@x.test"}).status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]


def test_signing_up_again_while_unconfirmed_mails_a_new_link_with_the_new_password(
    db, django_capture_on_commit_callbacks
):
    _sign_up(Client(), "twice@example.test", django_capture_on_commit_callbacks)
    _sign_up(
        Client(),
        "twice@example.test",
        django_capture_on_commit_callbacks,
        password="another long secret",
    )
    assert User.objects.filter(email="twice@example.test").count() == 1
    first, second = (_link(m) for m in mail.outbox)
    assert Client().get(first).status_code == 404
    client = Client()
    client.post(second, {"password": "another long secret"})
    client.post("/accounts/logout/")
    logged = client.post(
        "/accounts/login/", {"username": "twice@example.test", "password": "another long secret"}
    )
    assert logged.status_code == 302


def test_a_password_reset_confirms_the_address(db, django_capture_on_commit_callbacks):
    _sign_up(Client(), "reset@example.test", django_capture_on_commit_callbacks)
    client = Client()
    client.post("/accounts/password-reset/", {"email": "reset@example.test"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new secret", "new_password2": "a brand new secret"},
    )
    response = Client().post(
        "/accounts/login/", {"username": "reset@example.test", "password": "a brand new secret"}
    )
    assert response.status_code == 302


def test_accounts_made_by_invitation_demo_and_factories_are_confirmed(db):
    assert UserFactory().email_confirmed_at is not None


def test_a_strangers_sign_up_with_the_same_address_cannot_be_confirmed_by_its_owner(
    db, django_capture_on_commit_callbacks
):
    """Account pre-hijacking: the owner signs up, a stranger signs up again with the same
    address and their own password, and the owner clicks the newest link. Confirming needs
    the password of the latest sign-up, so the owner's click cannot hand the stranger an
    account they can log in to later."""
    _sign_up(Client(), "owner@example.test", django_capture_on_commit_callbacks)
    _sign_up(
        Client(),
        "owner@example.test",
        django_capture_on_commit_callbacks,
        password="the stranger's secret",
    )
    newest = _link(mail.outbox[-1])
    refused = Client().post(newest, {"password": SECRET})
    assert refused.status_code == 400
    assert "not the password of this sign-up" in refused.content.decode()
    assert reverse("accounts:password_reset") in refused.content.decode()
    user = User.objects.get(email="owner@example.test")
    assert user.email_confirmed_at is None  # nobody confirmed the stranger's password
    stranger = Client().post(
        "/accounts/login/",
        {"username": "owner@example.test", "password": "the stranger's secret"},
    )
    assert stranger.status_code == 200  # the form again: an unconfirmed account stays out
    # The link still works for whoever knows the latest sign-up's password and the mailbox.
    assert Client().post(newest, {"password": "the stranger's secret"}).status_code == 302


def test_a_confirmation_without_the_password_is_a_form_error(
    db, django_capture_on_commit_callbacks
):
    _sign_up(Client(), "nopw@example.test", django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    page = Client().get(link)
    assert 'name="password"' in page.content.decode()
    refused = Client().post(link, {})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.content.decode()
    assert User.objects.get(email="nopw@example.test").email_confirmed_at is None
