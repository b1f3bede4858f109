"""The business follow-up resources keep API.md's promises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from engagements.models import Contact, Customer, Engagement, Touchpoint
from followup.kernel.models import Event
from tests.conftest import api_client
from tests.engagements.factories import log, make_contact, make_customer, make_engagement
from tests.factories import make_api_key
from tests.followup.test_api_conventions import assert_problem
from tests.utils import assert_constant_queries

# --- CRUD and roles ----------------------------------------------------------------------


def test_a_member_key_creates_reads_and_updates_a_customer_a_manager_deletes_it(
    member_api, org, member
):
    created = member_api.post(
        "/api/v1/customers/",
        {
            "name": "Wuxi Motors",
            "tier": "strategic",
            "owner": str(member.pk),
            "annual_value": "120000.50",
            "currency": "CNY",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["annual_value"] == "120000.50" and data["version"] == 1
    url = f"/api/v1/customers/{data['id']}/"
    patched = member_api.patch(url, {"status": "at_risk"}, format="json", HTTP_IF_MATCH='"1"')
    assert patched.status_code == 200 and patched["ETag"] == '"2"'
    assert_problem(
        member_api.patch(url, {"status": "active"}, format="json", HTTP_IF_MATCH='"1"'), 412
    )
    assert_problem(member_api.delete(url), 403)  # a customer's whole history: managers only
    manager_api = api_client(make_api_key(org, Role.MANAGER)[1])
    assert manager_api.delete(url).status_code == 204
    assert not Customer.objects.for_org(org).exists()
    types = list(Event.objects.for_org(org).order_by("created_at").values_list("type", flat=True))
    assert types == ["customer.created", "customer.updated", "customer.deleted"]


def test_a_viewer_key_reads_only(viewer_api, org):
    customer = make_customer(org)
    assert viewer_api.get("/api/v1/customers/").status_code == 200
    assert_problem(viewer_api.post("/api/v1/customers/", {"name": "x"}, format="json"), 403)
    assert_problem(
        viewer_api.put("/api/v1/customers/external/x/", {"name": "x"}, format="json"), 403
    )
    assert_problem(viewer_api.post("/api/v1/touchpoints/bulk/", [], format="json"), 403)
    assert_problem(viewer_api.delete(f"/api/v1/customers/{customer.pk}/"), 403)


def test_an_outsider_key_sees_nothing(outsider_api, org):
    customer = make_customer(org, name="Hidden")
    assert outsider_api.get("/api/v1/customers/").json()["results"] == []
    assert_problem(outsider_api.get(f"/api/v1/customers/{customer.pk}/"), 404)
    body = assert_problem(
        outsider_api.post(
            "/api/v1/touchpoints/",
            {"customer": str(customer.pk), "channel": "call", "summary": "x"},
            format="json",
        ),
        400,
    )
    assert body["errors"][0]["field"] == "customer"


def test_validation_errors_are_problem_json_with_fields(api, org):
    customer = make_customer(org)
    body = assert_problem(
        api.post(
            "/api/v1/touchpoints/",
            {"customer": str(customer.pk), "channel": "fax", "sentiment": 5},
            format="json",
        ),
        400,
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"channel", "sentiment", "summary"} <= fields


def test_a_service_rule_is_a_field_error_too(api, org):
    engagement = make_engagement(org)
    make_engagement(org, customer=engagement.customer)
    body = assert_problem(
        api.post(
            "/api/v1/touchpoints/",
            {"customer": str(engagement.customer_id), "channel": "call", "summary": "x"},
            format="json",
        ),
        400,
    )
    assert body["errors"][0]["field"] == "engagement"
    assert "several active engagements" in body["errors"][0]["message"]


# --- Touchpoints have the same effects as in the app --------------------------------------


def test_a_touchpoint_from_the_api_moves_health_and_sends_the_event(api, org):
    engagement = make_engagement(org, started_on=timezone.localdate() - timedelta(days=90))
    contact = make_contact(org, customer=engagement.customer)
    response = api.post(
        "/api/v1/touchpoints/",
        {
            "customer": str(engagement.customer_id),
            "channel": "meeting",
            "summary": "Quarterly business review",
            "occurred_at": "2026-03-01T23:30:00+08:00",
            "contacts": [str(contact.pk)],
            "sentiment": 2,
            "satisfaction": 5,
            "effort_minutes": 60,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["engagement"] == str(engagement.pk) and data["source"] == "api"
    assert data["occurred_at"].startswith("2026-03-01T15:30:00")
    assert data["contacts"] == [str(contact.pk)]
    assert (
        Event.objects.for_org(org).filter(type="touchpoint.created", subject_id=data["id"]).exists()
    )
    engagement.refresh_from_db()
    assert engagement.last_touch_at is not None and engagement.health_computed_at is not None


def test_engagements_carry_kpis_and_explained_health(api, org, member):
    customer = make_customer(org)
    response = api.post(
        "/api/v1/engagements/",
        {
            "customer": str(customer.pk),
            "name": "Industry leader in five years",
            "owner": str(member.pk),
            "team": [str(member.pk)],
            "cadence_days": 30,
            "kpis": [
                {"name": "Satisfaction", "metric": "satisfaction", "target": "4.5"},
                {
                    "name": "Renewal",
                    "metric": "manual",
                    "target": "1000000",
                    "current_value": "800000",
                },
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert [k["name"] for k in data["kpis"]] == ["Satisfaction", "Renewal"]
    assert data["health_level"] == "green" and data["health_signals"][0]["key"] == "recency"
    url = f"/api/v1/engagements/{data['id']}/"
    changed = api.patch(
        url, {"kpis": [{"name": "Renewal", "metric": "manual", "target": "1"}]}, format="json"
    )
    assert [k["name"] for k in changed.json()["kpis"]] == ["Renewal"]


def test_illegal_status_moves_are_refused(api, org):
    engagement = make_engagement(org, status=Engagement.Status.CLOSED)
    body = assert_problem(
        api.patch(f"/api/v1/engagements/{engagement.pk}/", {"status": "paused"}, format="json"), 400
    )
    assert body["errors"][0]["field"] == "status"


# --- Filters -------------------------------------------------------------------------------


def _ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_collections_filter_by_their_keys_and_updated_after(api, org, member):
    a = make_engagement(org, owner=member)
    b = make_engagement(org)
    old = log(org, a.customer, occurred_at=timezone.now() - timedelta(days=3))
    new = log(org, b.customer, channel="email")
    Touchpoint.objects.for_org(org).filter(pk=old.pk).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    assert _ids(api.get(f"/api/v1/engagements/?owner={member.pk}")) == {str(a.pk)}
    assert _ids(api.get(f"/api/v1/touchpoints/?customer={a.customer_id}")) == {str(old.pk)}
    assert _ids(api.get(f"/api/v1/touchpoints/?engagement={b.pk}")) == {str(new.pk)}
    assert _ids(api.get("/api/v1/touchpoints/?channel=email")) == {str(new.pk)}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(api.get("/api/v1/touchpoints/", {"updated_after": since})) == {str(new.pk)}
    assert _ids(api.get("/api/v1/customers/?status=active")) == {
        str(a.customer_id),
        str(b.customer_id),
    }
    assert _ids(api.get(f"/api/v1/contacts/?customer={a.customer_id}")) == set()
    assert_problem(
        api.get("/api/v1/touchpoints/?customer=01a2154b-48c2-70ae-976c-80856249cc78"), 400
    )


@pytest.mark.parametrize("resource", ["customers", "contacts", "engagements", "touchpoints"])
def test_lists_do_not_grow_queries_with_rows(api, org, member, resource):
    def rows(n):
        for _ in range(n):
            engagement = make_engagement(org, owner=member, team=[member])
            contact = make_contact(org, customer=engagement.customer)
            log(org, engagement.customer, contacts=[contact])

    assert_constant_queries(rows, lambda: api.get(f"/api/v1/{resource}/?page_size=100"))


# --- Upsert by external id -------------------------------------------------------------------


def test_upsert_creates_then_updates_the_same_customer(api, org):
    url = "/api/v1/customers/external/crm-42/"
    first = api.put(url, {"name": "Dalian Marine"}, format="json")
    assert first.status_code == 201 and first.json()["external_id"] == "crm-42"
    second = api.put(url, {"name": "Dalian Marine Ltd", "tier": "key"}, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["version"] == 2
    assert Customer.objects.for_org(org).count() == 1
    assert_problem(api.put(url, {"name": "Stale"}, format="json", HTTP_IF_MATCH='"1"'), 412)


def test_upsert_of_contacts_engagements_and_touchpoints(api, org):
    customer = make_customer(org, external_id="acc-1")
    contact = api.put(
        "/api/v1/contacts/external/ct-1/",
        {"customer": str(customer.pk), "name": "Zhao Lei"},
        format="json",
    )
    assert contact.status_code == 201
    engagement = api.put(
        "/api/v1/engagements/external/opp-1/",
        {"customer": str(customer.pk), "name": "Regular check-ins"},
        format="json",
    )
    assert engagement.status_code == 201
    body = {"customer": str(customer.pk), "channel": "call", "summary": "Call"}
    assert api.put("/api/v1/touchpoints/external/act-1/", body, format="json").status_code == 201
    again = api.put(
        "/api/v1/touchpoints/external/act-1/", {**body, "summary": "Call (edited)"}, format="json"
    )
    assert again.status_code == 200 and again.json()["summary"] == "Call (edited)"
    assert Touchpoint.objects.for_org(org).count() == 1
    assert Contact.objects.for_org(org).count() == 1


def test_the_same_external_id_in_two_organizations_is_two_objects(
    api, outsider_api, org, other_org
):
    assert (
        api.put("/api/v1/customers/external/x-1/", {"name": "A"}, format="json").status_code == 201
    )
    assert (
        outsider_api.put(
            "/api/v1/customers/external/x-1/", {"name": "B"}, format="json"
        ).status_code
        == 201
    )
    assert Customer.objects.for_org(org).get().name == "A"
    assert Customer.objects.for_org(other_org).get().name == "B"


def test_a_post_with_a_taken_external_id_is_a_400(api, org):
    make_customer(org, external_id="dup")
    body = assert_problem(
        api.post("/api/v1/customers/", {"name": "x", "external_id": "dup"}, format="json"), 400
    )
    assert body["errors"][0]["field"] == "external_id"


# --- Idempotency ---------------------------------------------------------------------------


def test_a_retried_touchpoint_post_is_logged_once(api, org):
    customer = make_customer(org)
    payload = {"customer": str(customer.pk), "channel": "call", "summary": "Retry me"}
    first = api.post(
        "/api/v1/touchpoints/", payload, format="json", HTTP_IDEMPOTENCY_KEY="tp-retry-1"
    )
    retry = api.post(
        "/api/v1/touchpoints/", payload, format="json", HTTP_IDEMPOTENCY_KEY="tp-retry-1"
    )
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert Touchpoint.objects.for_org(org).count() == 1
    assert Event.objects.for_org(org).filter(type="touchpoint.created").count() == 1
    other = api.post(
        "/api/v1/touchpoints/",
        {**payload, "summary": "Changed"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="tp-retry-1",
    )
    assert_problem(other, 422)


def test_a_retried_bulk_is_applied_once(api, org):
    items = [{"name": f"Bulk {n}", "external_id": f"b-{n}"} for n in range(3)]
    first = api.post("/api/v1/customers/bulk/", items, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    retry = api.post("/api/v1/customers/bulk/", items, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and first.json()["created"] == 3
    assert Customer.objects.for_org(org).count() == 3


# --- Bulk ------------------------------------------------------------------------------------


def test_bulk_is_all_or_nothing_and_names_the_item(api, org):
    customer = make_customer(org)
    good = {"customer": str(customer.pk), "channel": "call", "summary": "ok"}
    items = [
        good,
        good,
        good,
        {"channel": "call", "summary": "no customer"},
        {**good, "sentiment": 9},
    ]
    body = assert_problem(api.post("/api/v1/touchpoints/bulk/", items, format="json"), 400)
    fields = {e["field"] for e in body["errors"]}
    assert {"3.customer", "4.sentiment"} <= fields
    assert not Touchpoint.objects.for_org(org).exists()


def test_bulk_refuses_a_service_rule_on_one_item_and_writes_nothing(api, org):
    engagement = make_engagement(org)
    other = make_engagement(org)
    items = [
        {"customer": str(engagement.customer_id), "channel": "call", "summary": "fine"},
        {
            "customer": str(engagement.customer_id),
            "engagement": str(other.pk),
            "channel": "call",
            "summary": "wrong",
        },
    ]
    body = assert_problem(api.post("/api/v1/touchpoints/bulk/", items, format="json"), 400)
    assert body["errors"][0]["field"] == "1.engagement"
    assert not Touchpoint.objects.for_org(org).exists()
    assert not Event.objects.for_org(org).filter(type="touchpoint.created").exists()


def test_bulk_upserts_known_external_ids_and_recomputes_health_once(api, org):
    engagement = make_engagement(org)
    existing = log(org, engagement.customer, external_id="act-1", summary="old")
    items = [
        {
            "customer": str(engagement.customer_id),
            "channel": "call",
            "summary": "new",
            "external_id": "act-1",
        },
        *[
            {
                "customer": str(engagement.customer_id),
                "channel": "email",
                "summary": f"s{n}",
                "external_id": f"act-{n}",
            }
            for n in range(2, 6)
        ],
    ]
    response = api.post("/api/v1/touchpoints/bulk/", items, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 4 and response.json()["updated"] == 1
    existing.refresh_from_db()
    assert existing.summary == "new"
    assert Touchpoint.objects.for_org(org).count() == 5


def test_bulk_limits(api):
    assert_problem(api.post("/api/v1/customers/bulk/", {"name": "x"}, format="json"), 400)
    assert_problem(api.post("/api/v1/customers/bulk/", [], format="json"), 400)
    body = assert_problem(api.post("/api/v1/contacts/bulk/", [{}] * 501, format="json"), 400)
    assert "500" in body["errors"][0]["message"]
    assert api.post("/api/v1/engagements/bulk/", [], format="json").status_code in (404, 405)
