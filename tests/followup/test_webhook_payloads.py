"""Webhook payloads name their object (issue 12): a receiver can tell which touchpoint was
logged, and fetch its API representation from the link."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from followup.engine import services, webhooks
from followup.engine.models import WebhookDelivery
from tests.engagements.factories import log, make_customer
from tests.followup.test_webhooks import make_endpoint, no_broker, relay_all  # noqa: F401

pytestmark = pytest.mark.django_db


def _bodies(org) -> dict[str, dict]:
    return {
        d.event_type: json.loads(d.body)
        for d in WebhookDelivery.objects.for_org(org).order_by("created_at")
    }


def test_touchpoint_created_carries_the_touchpoints_id_type_and_link(
    org,
    member,
    api,
    no_broker,  # noqa: F811
):
    make_endpoint(org, "http://127.0.0.1:9/hook", types=("touchpoint.created",))
    touchpoint = log(org, make_customer(org), actor=member, summary="Called")
    relay_all(org)
    body = _bodies(org)["touchpoint.created"]
    data = body["data"]
    assert (data["id"], data["object"]) == (str(touchpoint.pk), "touchpoint")
    assert data["url"].endswith(f"/api/v1/touchpoints/{touchpoint.pk}/")
    path = data["url"].split("://", 1)[1].partition("/")[2]
    fetched = api.get("/" + path)
    assert fetched.status_code == 200 and fetched.json()["summary"] == "Called"


def test_every_event_of_a_follow_up_names_it_and_keeps_its_fields(org, member, no_broker):  # noqa: F811
    make_endpoint(org, "http://127.0.0.1:9/hook", types=("followup.created", "followup.deleted"))
    followup = services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now()
    )
    relay_all(org)
    services.followup_delete(followup=followup, actor=member)
    relay_all(org)
    bodies = _bodies(org)
    created = bodies["followup.created"]["data"]
    assert (created["id"], created["object"], created["title"]) == (
        str(followup.pk),
        "followup",
        "Call",
    )
    assert created["url"].endswith(f"/api/v1/followups/{followup.pk}/")
    deleted = bodies["followup.deleted"]["data"]
    assert (deleted["id"], deleted["object"], deleted["url"]) == (
        str(followup.pk),
        "followup",
        None,
    )


def test_a_customer_update_names_the_customer(org, member, no_broker):  # noqa: F811
    make_endpoint(org, "http://127.0.0.1:9/hook", types=("customer.created",))
    customer = make_customer(org, name="Acme")
    relay_all(org)
    data = _bodies(org)["customer.created"]["data"]
    assert (data["id"], data["object"]) == (str(customer.pk), "customer")
    assert data["url"].endswith(f"/api/v1/customers/{customer.pk}/")


def test_object_of_a_subject_without_api_resource_has_no_link(org):
    from followup.kernel.models import Event

    event = Event(organization=org, type="project_calendar.updated", subject_type="", payload={})
    assert webhooks.object_of(event) == {"id": None, "object": "project_calendar", "url": None}
