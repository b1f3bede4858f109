"""The quick log honours Idempotency-Key on session-authenticated form posts: the offline
outbox resends a touchpoint until it has an answer, and the server logs it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements.models import Touchpoint
from followup.kernel import idempotent_forms
from followup.kernel.models import IdempotencyRecord
from tests.engagements.factories import make_customer, make_engagement

URL = "/o/acme/touchpoints/log/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quick-log"}


@pytest.fixture
def customer(org):
    customer = make_customer(org, name="Lumen Retail Group")
    make_engagement(org, customer=customer)
    return customer


def _body(customer, **extra):
    return {
        "customer": str(customer.pk),
        "channel": "call",
        "summary": "From the basement",
        **extra,
    }


def _send(client, body, key, **headers):
    return client.post(URL, body, HTTP_IDEMPOTENCY_KEY=key, **HTMX, **headers)


def test_a_resent_touchpoint_is_logged_once(member_client, org, customer):
    first = _send(member_client, _body(customer), "key-1")
    assert first.status_code == 200 and "Logged for Lumen Retail Group." in first.content.decode()
    again = _send(member_client, _body(customer), "key-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Touchpoint.objects.for_org(org).count() == 1


def test_a_fresh_csrf_token_is_the_same_request(member_client, org, customer):
    _send(member_client, _body(customer, csrfmiddlewaretoken="old-token"), "key-2")
    again = _send(member_client, _body(customer, csrfmiddlewaretoken="new-token"), "key-2")
    assert again["Idempotent-Replayed"] == "true"
    assert Touchpoint.objects.for_org(org).count() == 1


def test_the_same_key_with_another_touchpoint_is_refused(member_client, org, customer):
    _send(member_client, _body(customer), "key-3")
    other = _send(member_client, _body(customer, summary="Something else"), "key-3")
    assert other.status_code == 422
    assert Touchpoint.objects.for_org(org).count() == 1


def test_a_retry_while_the_first_still_runs_waits(member_client, org, customer):
    IdempotencyRecord.objects.create(
        organization=org,
        key="key-4",
        fingerprint="whatever-it-is",
        expires_at=timezone.now() + timedelta(hours=24),
    )
    record = IdempotencyRecord.objects.for_org(org).get(key="key-4")
    record.fingerprint = _fingerprint_of(member_client, customer)
    record.save()
    assert _send(member_client, _body(customer), "key-4").status_code == 409
    assert not Touchpoint.objects.for_org(org).exists()
    # A claim that has been in flight too long is presumed dead: the retry takes it over.
    IdempotencyRecord.objects.for_org(org).filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert _send(member_client, _body(customer), "key-4").status_code == 200
    assert Touchpoint.objects.for_org(org).count() == 1


def _fingerprint_of(client, customer) -> str:
    from django.test import RequestFactory

    request = RequestFactory().post(URL, _body(customer))
    return idempotent_forms.fingerprint(request)


def test_a_refused_touchpoint_says_so_to_the_outbox(member_client, org, customer):
    response = _send(member_client, _body(customer, summary=""), "key-5")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert response["X-Form-Invalid"] == "1"
    replay = _send(member_client, _body(customer, summary=""), "key-5")
    assert replay["Idempotent-Replayed"] == "true" and replay["X-Form-Invalid"] == "1"
    assert "X-Form-Invalid" not in _send(member_client, _body(customer), "key-5b")


def test_an_error_releases_the_key(member_client, org, customer, monkeypatch):
    from engagements import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "touchpoint_log", broken)
    member_client.raise_request_exception = False
    assert _send(member_client, _body(customer), "key-6").status_code == 500
    assert not IdempotencyRecord.objects.for_org(org).filter(key="key-6").exists()
    monkeypatch.undo()
    assert _send(member_client, _body(customer), "key-6").status_code == 200
    assert Touchpoint.objects.for_org(org).count() == 1


def test_keys_are_per_organization(member_client, outsider_client, org, other_org, customer):
    _send(member_client, _body(customer), "shared-key")
    other = make_customer(other_org, name="Globex customer")
    response = outsider_client.post(
        "/o/globex/touchpoints/log/",
        _body(other),
        HTTP_IDEMPOTENCY_KEY="shared-key",
        **HTMX,
    )
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert Touchpoint.objects.for_org(other_org).count() == 1


def test_a_bad_key_is_refused_and_no_key_is_a_plain_post(member_client, org, customer):
    assert _send(member_client, _body(customer), "x" * 300).status_code == 400
    response = member_client.post(URL, _body(customer))
    assert response.status_code == 302
    assert Touchpoint.objects.for_org(org).count() == 1


def test_the_page_carries_the_outbox(member_client, customer):
    body = member_client.get(URL).content.decode()
    assert "data-offline-queue" in body and 'id="outbox"' in body
    assert 'id="outbox-status"' in body and 'rel="manifest"' in body


def test_the_service_worker_manifest_and_token(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/"
    text = worker.content.decode()
    assert "self.FOLLOWUP_ASSETS = [" in text and "/static/js/offline.js" in text
    assert 'addEventListener("fetch"' in text
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/" and manifest.json()["display"] == "standalone"
    token = client.get("/csrf-token")
    assert token.json()["csrfToken"] and token["Cache-Control"].startswith("max-age=0")


def test_an_expired_csrf_token_says_so(member, customer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(URL, _body(customer), HTTP_IDEMPOTENCY_KEY="k", **HTMX)
    assert response.status_code == 403 and response["X-CSRF-Failure"] == "1"
