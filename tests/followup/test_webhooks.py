"""Webhooks: signed as Standard Webhooks, verified by the ``standardwebhooks`` package as a
real receiver would, the same ``webhook-id`` across retries, backoff past a day, disabling
after persistent failure, replay, and SSRF care. The receiver is a local HTTP server."""

from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from followup.engine import services, tasks, webhooks
from followup.engine.models import (
    Notification,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from followup.kernel import events
from followup.kernel.models import Event


class Receiver:
    """A local endpoint that answers with the next status of ``plan`` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.plan: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(tasks.dispatch_webhooks, "delay", lambda *a: None)
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda *a: None)


def make_endpoint(org, url, types=("followup.created", "followup.completed")):
    return webhooks.endpoint_create(org=org, actor=None, url=url, event_types=list(types))


def relay_all(org):
    for event in (
        Event.objects.for_org(org).filter(relayed_at__isnull=True).select_related("organization")
    ):
        events.relay(event)


def dispatch() -> int:
    """One webhook tick, run in this process (what the worker does)."""
    claimed = webhooks.claim()
    for org_id, delivery_id in claimed.rows:
        tasks.deliver_webhook(str(org_id), str(delivery_id), str(claimed.token))
    return len(claimed.rows)


def make_due(org):
    WebhookDelivery.objects.for_org(org).filter(status="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_the_secret_is_whsec_base64(org):
    secret = webhooks.generate_secret()
    assert secret.startswith("whsec_") and len(webhooks._key(secret)) == 24


def test_a_delivery_verifies_with_standardwebhooks(org, member, receiver, no_broker):
    endpoint = make_endpoint(org, receiver.url)
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    assert dispatch() == 1
    ((headers, body),) = receiver.requests
    payload = Webhook(endpoint.secret).verify(body, headers)  # raises if anything is off
    assert payload["type"] == "followup.created"
    assert payload["data"]["title"] == "Call"
    assert headers["webhook-id"].startswith("msg_")
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED
    assert delivery.last_status_code == 200


def test_a_tampered_body_or_another_secret_is_rejected(org, member, receiver, no_broker):
    endpoint = make_endpoint(org, receiver.url)
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    dispatch()
    ((headers, body),) = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace(b"Call", b"Cash"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.generate_secret()).verify(body, headers)


def test_retries_keep_the_webhook_id_and_back_off(org, member, receiver, no_broker):
    endpoint = make_endpoint(org, receiver.url)
    receiver.plan = [500, 503]
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    dispatch()
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert dispatch() == 0  # not due yet
    make_due(org)
    dispatch()
    make_due(org)
    dispatch()
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    for headers, body in receiver.requests:
        Webhook(endpoint.secret).verify(body, headers)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED
    assert list(
        WebhookAttempt.objects.for_org(org).order_by("number").values_list("status_code", flat=True)
    ) == [500, 503, 200]


def test_the_backoff_lasts_more_than_a_day():
    total = sum(webhooks.RETRY_SCHEDULE, timedelta())
    assert total >= timedelta(hours=24)
    assert all(
        a <= b for a, b in zip(webhooks.RETRY_SCHEDULE, webhooks.RETRY_SCHEDULE[1:], strict=False)
    )


def test_persistent_failure_disables_the_endpoint_and_tells_admins(
    org, owner, member, receiver, no_broker
):
    endpoint = make_endpoint(org, receiver.url)
    receiver.plan = [500] * webhooks.MAX_ATTEMPTS
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    for _ in range(webhooks.MAX_ATTEMPTS):
        make_due(org)
        dispatch()
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.attempt_count == webhooks.MAX_ATTEMPTS
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason
    notes = Notification.objects.for_org(org).filter(kind="webhooks.endpoint_disabled")
    assert [n.recipient for n in notes] == [owner]  # admins only, not the member


def test_replay_sends_the_same_message_again(org, member, receiver, no_broker):
    endpoint = make_endpoint(org, receiver.url)
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    dispatch()
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert webhooks.replay(org=org, delivery_id=delivery.pk) is True
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    assert first[1] == second[1]
    Webhook(endpoint.secret).verify(second[1], second[0])
    assert WebhookAttempt.objects.for_org(org).filter(replay=True).count() == 1


def test_only_subscribed_types_and_enabled_endpoints_get_deliveries(org, member, receiver):
    make_endpoint(org, receiver.url, types=["followup.completed"])
    off = make_endpoint(org, receiver.url, types=["followup.created"])
    webhooks.endpoint_update(endpoint=off, enabled=False)
    followup = services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    assert not WebhookDelivery.objects.for_org(org).exists()
    services.followup_complete(followup=followup, actor=member)
    relay_all(org)
    relay_all(org)  # a relay retried after a crash adds nothing
    assert list(WebhookDelivery.objects.for_org(org).values_list("event_type", flat=True)) == [
        "followup.completed"
    ]


def test_unknown_event_types_and_bad_schemes_are_refused(org):
    from django.core.exceptions import ValidationError

    for url, types in [
        ("ftp://example.test/x", ["followup.created"]),
        ("file:///etc/passwd", ["followup.created"]),
        ("http://user:pw@127.0.0.1/x", ["followup.created"]),
        ("http://127.0.0.1/x", ["made.up"]),
        ("http://127.0.0.1/x", []),
    ]:
        with pytest.raises(ValidationError):
            make_endpoint(org, url, types)
    assert not WebhookEndpoint.objects.for_org(org).exists()


def test_private_addresses_are_refused_when_not_allowed(org, member, settings, receiver, no_broker):
    settings.FOLLOWUP_WEBHOOKS_ALLOW_PRIVATE = False
    make_endpoint(org, receiver.url)
    services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    dispatch()
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.for_org(org).get()
    assert "non-public" in attempt.error and attempt.status_code is None


def test_redirects_are_not_followed(org, member, no_broker):
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        make_endpoint(org, f"http://127.0.0.1:{server.server_port}/x")
        services.followup_create(
            org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
        )
        relay_all(org)
        dispatch()
    finally:
        server.shutdown()
        server.server_close()
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.last_status_code == 302
    assert delivery.status == WebhookDeliveryStatus.PENDING  # a failure, retried later
