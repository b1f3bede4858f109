"""The promises of API.md, checked on the first real resources (members, api-keys)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.roles import Role
from followup.kernel.models import IdempotencyRecord
from tests.conftest import api_client
from tests.factories import MembershipFactory, make_api_key

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status"} <= body.keys()
    return body


# --- Errors are problem+json ------------------------------------------------------------


def test_it_answers_401_without_a_key(db):
    body = assert_problem(APIClient().get("/api/v1/members/"), 401)
    assert "detail" in body


def test_it_answers_401_for_a_bad_key(db):
    assert_problem(api_client("fu_deadbeef_nope").get("/api/v1/members/"), 401)
    assert_problem(api_client("garbage").get("/api/v1/members/"), 401)


def test_it_answers_401_for_a_revoked_key(org):
    key, plain = make_api_key(org)
    key.revoked_at = timezone.now()
    key.save()
    assert_problem(api_client(plain).get("/api/v1/members/"), 401)


def test_it_answers_403_when_the_role_is_too_weak(viewer_api):
    body = assert_problem(viewer_api.get("/api/v1/api-keys/"), 403)
    assert body["detail"]


def test_it_answers_404_for_unknown_routes_and_ids(api):
    assert_problem(api.get("/api/v1/nothing-here/"), 404)
    assert_problem(api.get("/api/v1/members/not-a-uuid/"), 404)
    assert_problem(api.get("/api/v1/members/01a2154b-48c2-70ae-976c-80856249cc78/"), 404)


def test_it_answers_405_for_an_unsupported_method(api):
    body = assert_problem(api.delete("/api/v1/members/"), 405)
    assert "DELETE" in body["detail"]


def test_it_answers_400_with_field_errors(api):
    body = assert_problem(api.post("/api/v1/api-keys/", {"role": "emperor"}, format="json"), 400)
    fields = {error["field"]: error for error in body["errors"]}
    assert fields["name"]["code"] == "required"
    assert fields["role"]["code"] == "invalid_choice"
    assert all(error["message"] for error in body["errors"])


def test_it_answers_400_for_malformed_json(api):
    response = api.generic(
        "POST", "/api/v1/api-keys/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_it_answers_415_for_a_form_body(api):
    response = api.generic(
        "POST", "/api/v1/api-keys/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415)


def test_it_never_shows_a_stack_trace(api, monkeypatch):
    from accounts.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM database")

    monkeypatch.setattr(views.MemberViewSet, "list", boom)
    body = assert_problem(api.get("/api/v1/members/"), 500)
    assert "SELECT" not in str(body) and "Traceback" not in str(body)


def test_it_throttles_per_key_with_retry_after(org, settings):
    settings.FOLLOWUP_API_RATE = "3/min"
    first, second = api_client(make_api_key(org)[1]), api_client(make_api_key(org)[1])
    for _ in range(3):
        assert first.get("/api/v1/members/").status_code == 200
    response = first.get("/api/v1/members/")
    body = assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert body["retry_after"] == int(response["Retry-After"])
    # The budget is per key: another key of the same organization is unaffected.
    assert second.get("/api/v1/members/").status_code == 200


# --- ETag and If-Match ------------------------------------------------------------------


def _key_url(org) -> tuple[ApiKey, str]:
    key, _plain = make_api_key(org, Role.MEMBER, name="crm")
    return key, f"/api/v1/api-keys/{key.pk}/"


def test_item_responses_carry_an_etag_that_changes(api, org):
    _key, url = _key_url(org)
    first = api.get(url)
    assert first["ETag"] == '"1"'
    assert first.json()["version"] == 1
    changed = api.patch(url, {"name": "crm sync"}, format="json")
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'
    assert api.get(url, HTTP_IF_NONE_MATCH='"2"').status_code == 304


def test_a_stale_if_match_gets_412_and_changes_nothing(api, org):
    key, url = _key_url(org)
    api.patch(url, {"name": "v2"}, format="json")
    body = assert_problem(api.patch(url, {"name": "v3"}, format="json", HTTP_IF_MATCH='"1"'), 412)
    assert body["current_etag"] == '"2"'
    key.refresh_from_db()
    assert key.name == "v2"
    assert_problem(api.delete(url, HTTP_IF_MATCH='"1"'), 412)
    assert api.get(url).status_code == 200


def test_a_current_if_match_is_accepted(api, org):
    _key, url = _key_url(org)
    assert api.patch(url, {"name": "ok"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert api.delete(url, HTTP_IF_MATCH='"2"').status_code == 204
    assert_problem(api.get(url), 404)


# --- Pagination and incremental sync ----------------------------------------------------


def _ids(page) -> list[str]:
    return [row["id"] for row in page["results"]]


def test_cursor_pages_are_stable_across_inserts(api, org):
    for n in range(5):
        make_api_key(org, Role.MEMBER, name=f"k{n}")
    page1 = api.get("/api/v1/api-keys/?page_size=3").json()
    assert set(page1) == {"results", "next", "previous"}
    assert len(page1["results"]) == 3
    # New rows arrive while the client pages: it neither repeats nor skips a row.
    for n in range(3):
        make_api_key(org, Role.MEMBER, name=f"late{n}")
    seen = _ids(page1)
    next_url = page1["next"]
    while next_url:
        page = api.get(next_url).json()
        seen += _ids(page)
        next_url = page["next"]
    assert len(seen) == len(set(seen)) == ApiKey.objects.for_org(org).active().count()


def test_page_size_is_capped_at_200(api, org):
    ApiKey.objects.bulk_create(
        ApiKey(organization=org, name=f"k{n}", prefix=f"{n:08x}", key_hash="-" * 64)
        for n in range(499)
    )  # with the fixture's own key: 500
    for asked in (201, 100000):
        page = api.get(f"/api/v1/api-keys/?page_size={asked}").json()
        assert len(page["results"]) == 200, asked
        assert page["next"]
    assert len(api.get("/api/v1/api-keys/?page_size=200").json()["results"]) == 200
    assert len(api.get("/api/v1/api-keys/?page_size=3").json()["results"]) == 3


def test_updated_after_filters_changed_objects(api, org):
    old, _ = make_api_key(org, Role.MEMBER, name="old")
    ApiKey.objects.for_org(org).filter(pk=old.pk).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    fresh, _ = make_api_key(org, Role.MEMBER, name="fresh")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    ids = _ids(api.get("/api/v1/api-keys/", {"updated_after": since}).json())
    assert str(fresh.pk) in ids and str(old.pk) not in ids
    # An unencoded "+" arrives as a space; it still means the offset.
    raw = since.replace("+", " ")
    ids = _ids(api.get(f"/api/v1/api-keys/?updated_after={raw}").json())
    assert str(fresh.pk) in ids and str(old.pk) not in ids


def test_updated_after_rejects_garbage(api):
    body = assert_problem(api.get("/api/v1/api-keys/?updated_after=yesterday"), 400)
    assert body["errors"][0]["field"] == "updated_after"


def test_members_filter_by_role(api, org):
    MembershipFactory(organization=org, role=Role.VIEWER)
    MembershipFactory(organization=org, role=Role.MEMBER)
    roles = {row["role"] for row in api.get("/api/v1/members/?role=viewer").json()["results"]}
    assert roles == {"viewer"}


# --- Idempotency-Key --------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_response(api, org):
    # (A response with a secret replays without it: tests/followup/test_api_secrets.py.)
    from engagements.models import Customer

    first = api.post(
        "/api/v1/customers/", {"name": "crm"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert first.status_code == 201
    retry = api.post(
        "/api/v1/customers/", {"name": "crm"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"]
    assert Customer.objects.for_org(org).filter(name="crm").count() == 1


def test_the_same_key_with_another_body_is_422(api, org):
    api.post("/api/v1/api-keys/", {"name": "crm"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-2")
    response = api.post(
        "/api/v1/api-keys/", {"name": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-2"
    )
    assert_problem(response, 422)
    assert not ApiKey.objects.for_org(org).filter(name="other").exists()


def test_keys_of_different_organizations_never_collide(api, outsider_api, org, other_org):
    a = api.post("/api/v1/api-keys/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    b = outsider_api.post(
        "/api/v1/api-keys/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert ApiKey.objects.for_org(other_org).filter(name="b").exists()


def test_validation_errors_are_replayed_too(api):
    first = api.post("/api/v1/api-keys/", {}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    retry = api.post("/api/v1/api-keys/", {}, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    assert first.status_code == retry.status_code == 400
    assert retry.json() == first.json()
    assert retry["Content-Type"].startswith(PROBLEM)


def test_a_server_error_frees_the_key_for_a_retry(api, org, monkeypatch):
    from accounts import services

    real = services.api_key_create
    monkeypatch.setattr(
        services, "api_key_create", lambda **kw: (_ for _ in ()).throw(RuntimeError("db down"))
    )
    assert (
        api.post(
            "/api/v1/api-keys/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k5"
        ).status_code
        == 500
    )
    monkeypatch.setattr(services, "api_key_create", real)
    retry = api.post("/api/v1/api-keys/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry


def test_an_invalid_idempotency_key_is_400(api):
    response = api.post(
        "/api/v1/api-keys/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_an_abandoned_claim_is_taken_over_after_the_lock_timeout(api, org, settings):
    IdempotencyRecord.objects.create(
        organization=org,
        key="stuck",
        fingerprint="whatever",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    IdempotencyRecord.objects.for_org(org).filter(key="stuck").update(
        updated_at=timezone.now() - settings.IDEMPOTENCY_LOCK_TIMEOUT - timedelta(seconds=1)
    )
    # A different fingerprint is still a different request...
    assert (
        api.post(
            "/api/v1/api-keys/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="stuck"
        ).status_code
        == 422
    )


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_retry_while_the_first_runs_gets_409(org, monkeypatch):
    """Two real threads: the first request is held inside the service while the second arrives."""
    from accounts import services

    plain = make_api_key(org)[1]
    entered, release = threading.Event(), threading.Event()
    real = services.api_key_create

    def slow_create(**kwargs):
        entered.set()
        assert release.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(services, "api_key_create", slow_create)
    results: dict[str, int] = {}

    def first():
        try:
            response = api_client(plain).post(
                "/api/v1/api-keys/", {"name": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
            )
            results["first"] = response.status_code
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(10)
    second = api_client(plain).post(
        "/api/v1/api-keys/", {"name": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
    )
    body = assert_problem(second, 409)
    assert "still being processed" in body["detail"]
    release.set()
    thread.join(10)
    assert results["first"] == 201
    time.sleep(0.01)
    third = api_client(plain).post(
        "/api/v1/api-keys/", {"name": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
    )
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"
    assert ApiKey.objects.for_org(org).filter(name="race").count() == 1


# --- One transaction per write, rolled back on any 5xx ----------------------------------


def _writes_then_fails(monkeypatch):
    """Make the customer service write its row and then crash, like a bug after the INSERT."""
    from engagements import services

    real = services.customer_save

    def save_then_crash(**kwargs):
        real(**kwargs)
        raise RuntimeError("crash after the write")

    monkeypatch.setattr(services, "customer_save", save_then_crash)
    return real


def test_a_post_that_fails_after_writing_leaves_nothing_behind(api, org, monkeypatch):
    from engagements.models import Customer

    _writes_then_fails(monkeypatch)
    body = assert_problem(api.post("/api/v1/customers/", {"name": "Half"}, format="json"), 500)
    assert "crash" not in str(body)
    assert not Customer.objects.for_org(org).exists()


def test_a_patch_that_fails_after_writing_changes_nothing(api, org, monkeypatch):
    from engagements.models import Customer
    from tests.engagements.factories import make_customer

    customer = make_customer(org, name="Before")
    _writes_then_fails(monkeypatch)
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"name": "After"}, format="json")
    assert_problem(response, 500)
    customer.refresh_from_db()
    assert customer.name == "Before" and customer.version == 1
    assert Customer.objects.for_org(org).count() == 1


def test_a_retry_after_a_server_error_creates_exactly_one(api, org, monkeypatch):
    from engagements import services
    from engagements.models import Customer

    real = _writes_then_fails(monkeypatch)
    first = api.post(
        "/api/v1/customers/", {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-5xx"
    )
    assert_problem(first, 500)
    monkeypatch.setattr(services, "customer_save", real)
    retry = api.post(
        "/api/v1/customers/", {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-5xx"
    )
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    again = api.post(
        "/api/v1/customers/", {"name": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-5xx"
    )
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == retry.json()["id"]
    assert Customer.objects.for_org(org).filter(name="Once").count() == 1


def test_a_response_that_cannot_be_stored_rolls_its_write_back(api, org, monkeypatch):
    """The stored response and the write commit together: never one without the other."""
    from engagements.models import Customer
    from followup.kernel.api import idempotency

    def store_fails(self, response):
        raise RuntimeError("disk full")

    monkeypatch.setattr(idempotency.Claim, "store", store_fails, raising=False)
    response = api.post(
        "/api/v1/customers/", {"name": "Lost"}, format="json", HTTP_IDEMPOTENCY_KEY="store-fails"
    )
    assert_problem(response, 500)
    assert not Customer.objects.for_org(org).exists()
    assert not IdempotencyRecord.objects.for_org(org).filter(key="store-fails").exists()


# --- No HTML under /api/, also with DJANGO_DEBUG on ---------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/nothing", "/api/v1/members/x/y/"])
def test_an_unknown_api_route_is_problem_json_even_in_debug(api, settings, path):
    settings.DEBUG = True  # how every developer integrating runs it
    response = api.get(path)
    assert_problem(response, 404)
    assert b"<html" not in response.content.lower() and b"urlpatterns" not in response.content


@pytest.mark.parametrize("path", ["/api/v1/members/", "/api/schema/"])
def test_an_unsupported_method_is_problem_json_even_in_debug(api, settings, path):
    settings.DEBUG = True
    response = api.delete(path)
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_a_crash_outside_a_viewset_is_problem_json_even_in_debug(settings, monkeypatch):
    from django.test import Client
    from django.views.generic import RedirectView

    def crash(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM database")

    monkeypatch.setattr(RedirectView, "get", crash)
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/api/")
    body = assert_problem(response, 500)
    assert "SELECT" not in response.content.decode() and "Traceback" not in str(body)
