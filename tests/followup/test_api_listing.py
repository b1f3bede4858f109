"""API lists render rows through a read plan (followup.kernel.api.listing) instead of DRF's
per-row field machinery; the bytes a client gets must be the same as DRF's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework import serializers

from engagements.api.serializers import CustomerSerializer, TouchpointSerializer
from engagements.models import Customer
from followup.kernel.api import listing
from followup.kernel.api.serializers import TenantModelSerializer
from tests.engagements.factories import log, make_contact, make_customer, make_engagement


def _list_routes() -> list[str]:
    names = [
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.endswith("-list")
    ]
    routes = []
    for name in sorted(set(names)):
        possibilities = get_resolver().reverse_dict.getlist(name)
        for _bits, pattern, _defaults, _converters in possibilities:
            if "(?P<" not in pattern and pattern.startswith("api/"):
                routes.append("/" + pattern.rstrip("$").replace("\\Z", ""))
    return sorted(set(routes))


@pytest.fixture
def records(org, member):
    owned = make_customer(org, name="Lumen Retail Group", owner=member, annual_value=1234.5)
    make_customer(org, name="Nordwind", external_id="crm-7")
    contact = make_contact(org, customer=owned, email="ada@example.com", is_primary=True)
    engagement = make_engagement(org, customer=owned, team=[member])
    log(
        org,
        owned,
        actor=member,
        engagement=engagement,
        contacts=[contact],
        sentiment=1,
        occurred_at=timezone.now() - timedelta(days=2),
    )


def test_every_api_list_is_the_same_with_and_without_the_read_plan(api, records, monkeypatch):
    routes = _list_routes()
    assert "/api/v1/customers/" in routes and "/api/v1/touchpoints/" in routes
    compared = 0
    for route in routes:
        monkeypatch.setattr(listing, "ENABLED", True)
        planned = api.get(route)
        monkeypatch.setattr(listing, "ENABLED", False)
        plain = api.get(route)
        assert planned.status_code == plain.status_code, route
        assert planned.content == plain.content, route
        compared += planned.status_code == 200 and bool(planned.json().get("results"))
    assert compared >= 4  # customers, contacts, engagements, touchpoints had rows


def test_the_customer_and_touchpoint_lists_take_the_planned_path(api, records, monkeypatch):
    assert listing.plan_for(CustomerSerializer) is not None
    assert listing.plan_for(TouchpointSerializer) is not None
    calls = []
    real = listing.Plan.represent
    monkeypatch.setattr(listing.Plan, "represent", lambda *a: calls.append(1) or real(*a))
    body = api.get("/api/v1/customers/").json()
    assert len(calls) == len(body["results"]) == 2
    lumen = next(row for row in body["results"] if row["name"] == "Lumen Retail Group")
    assert lumen["annual_value"] == "1234.50" and lumen["owner"]


def test_a_list_whose_output_depends_on_the_request_keeps_drfs_path(org):
    class WithMethod(TenantModelSerializer):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = Customer
            fields = ("id", "name", "shout")

        def get_shout(self, obj):
            return self.context["word"]

    assert listing.plan_for(WithMethod) is None
    customer = make_customer(org, name="Quiet")
    rows = WithMethod([customer], many=True, context={"word": "hey"}).data
    assert rows[0]["shout"] == "hey"
