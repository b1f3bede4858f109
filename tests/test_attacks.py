"""Attacks of issue 12, part 4: each reproduction fails now."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import ApiKey
from accounts.roles import Role
from tests.conftest import api_client
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock8(org):
    return MembershipFactory(organization=org, user__email="lock8@beta.test").user


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_lockout_holds_for_every_letter_case(client, lock8, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "lock8@beta.test", "wrong")
    response = _login(Client(), "LOCK8@BETA.TEST", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in Client().session


def test_failures_in_many_case_variants_lock_the_account(lock8, settings):
    variants = ["lock8@beta.test", "LOCK8@beta.test", "Lock8@Beta.Test", " lock8@beta.test "]
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), variants[n % len(variants)], "wrong")
    assert _login(Client(), "lock8@BETA.test", PASSWORD).status_code == 429


def test_the_identifier_with_spaces_logs_in_and_counts_as_the_same(client, lock8):
    response = _login(client, " lock8@beta.test ", PASSWORD)
    assert response.status_code == 302


def test_wrong_api_keys_are_throttled_per_address(org, settings):
    settings.FOLLOWUP_API_AUTH_FAILURES = 5
    guesser = api_client("fu_deadbeef_" + "x" * 32)
    answers = [guesser.get("/api/v1/customers/").status_code for _ in range(8)]
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429] * 3
    refused = guesser.get("/api/v1/customers/")
    assert int(refused["Retry-After"]) > 0
    assert refused["Content-Type"] == "application/problem+json"


def test_a_good_key_from_another_address_still_works_while_one_is_throttled(org, settings):
    from tests.factories import make_api_key

    settings.FOLLOWUP_API_AUTH_FAILURES = 2
    guesser = api_client("fu_deadbeef_" + "x" * 32)
    for _ in range(4):
        guesser.get("/api/v1/customers/", REMOTE_ADDR="203.0.113.9")
    good = api_client(make_api_key(org, Role.ADMIN)[1])
    assert good.get("/api/v1/customers/", REMOTE_ADDR="198.51.100.7").status_code == 200


def _sign_up(client, email):
    return client.post(
        "/accounts/signup/",
        {
            "display_name": "Eve",
            "email": email,
            "password": "a long enough secret",
            "timezone": "UTC",
        },
    )


def _answer(response):
    return response.status_code, response["Location"], response.content


def test_sign_up_answers_the_same_for_known_and_unknown_addresses(
    member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = _sign_up(Client(), " MEMBER@acme.test ")
        unknown = _sign_up(Client(), "new-person@acme.test")
    assert _answer(known) == _answer(unknown)
    assert sorted(known.cookies) == sorted(unknown.cookies) == []  # cookies too
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["member@acme.test", "new-person@acme.test"]


def test_sign_up_is_rate_limited_per_address(db, settings):
    settings.FOLLOWUP_SIGNUP_RATE = 3
    answers = [_sign_up(Client(), f"p{n}@x.test").status_code for n in range(3)]
    refused = _sign_up(Client(), "p9@x.test")
    assert answers == [302, 302, 302]
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests came from your address" in refused.content.decode()


def test_password_reset_is_rate_limited_and_normalises_the_address(member, settings):
    settings.FOLLOWUP_PASSWORD_RESET_RATE = 2
    client = Client()
    first = client.post("/accounts/password-reset/", {"email": "  Member@ACME.test "})
    assert first.status_code == 302
    assert [m.to for m in mail.outbox] == [["member@acme.test"]]
    client.post("/accounts/password-reset/", {"email": "nobody@acme.test"})
    refused = client.post("/accounts/password-reset/", {"email": "member@acme.test"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert len(mail.outbox) == 1


def test_an_invitation_is_matched_whatever_the_case(owner_client, org):
    owner_client.post("/o/acme/members/", {"email": "  New.Person@Acme.TEST ", "role": "member"})
    from accounts.models import Invitation

    assert Invitation.objects.for_org(org).get().email == "new.person@acme.test"


@pytest.mark.parametrize(
    ("flags", "role"),
    [
        (["--api-key"], Role.ADMIN),
        (["--api-key", "owner"], Role.OWNER),
        (["--api-key-role", "viewer"], Role.VIEWER),
    ],
)
def test_create_org_issues_a_key_of_the_role_asked_for(db, flags, role):
    out = StringIO()
    call_command("create_org", "Initech", "--owner", "peter@initech.test", *flags, stdout=out)
    plain = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.dangerously_unscoped().get()  # the only key in the test database
    assert key.role == role and key.matches(plain)
    assert api_client(plain).get("/api/v1/customers/").status_code == 200
