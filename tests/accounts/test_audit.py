"""The audit trail: who changed what, when and from where; readable by admins only."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from accounts import audit, services
from accounts.models import AuditEntry, Membership
from accounts.roles import Role
from engagements import services as engagement_services
from followup.engine import webhooks
from tests.engagements.factories import make_customer
from tests.utils import assert_constant_queries


def _entries(org, action):
    return list(AuditEntry.objects.for_org(org).filter(action=action))


def test_a_role_change_records_who_what_old_new_and_where(org, owner, member):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(owner)
    membership = Membership.objects.for_org(org).get(user=member)
    response = client.post(
        reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": membership.pk}),
        {"role": Role.MANAGER},
        HTTP_USER_AGENT="Firefox/140",
    )
    assert response.status_code in (200, 302)
    [entry] = _entries(org, "member.role_changed")
    assert entry.actor_user == owner
    assert owner.email in entry.actor_label
    assert entry.changes == {"role": [Role.MEMBER, Role.MANAGER]}
    assert entry.via == AuditEntry.Via.WEB
    assert entry.ip_address == "203.0.113.7"
    assert entry.user_agent == "Firefox/140"
    assert member.email in entry.object_repr


def test_an_api_write_is_attributed_to_its_key(org, owner, api):
    response = api.post("/api/v1/api-keys/", {"name": "Nightly sync", "role": Role.MEMBER})
    assert response.status_code == 201, response.content
    [entry] = [e for e in _entries(org, "api_key.created") if e.object_repr.startswith("Nightly")]
    assert entry.via == AuditEntry.Via.API
    assert entry.actor_api_key is not None
    assert entry.actor_user is None
    assert "API key" in entry.actor_label
    assert entry.changes["name"] == [None, "Nightly sync"]


def test_a_webhook_secret_never_reaches_the_trail(org, owner):
    endpoint = webhooks.endpoint_create(
        org=org, actor=owner, url="https://example.com/hook", event_types=["followup.created"]
    )
    webhooks.endpoint_rotate_secret(endpoint=endpoint, actor=owner)
    webhooks.endpoint_update(endpoint=endpoint, actor=owner, description="CRM")
    for entry in AuditEntry.objects.for_org(org).filter(action__startswith="webhook."):
        assert "secret" not in entry.changes
        assert "whsec_" not in str(entry.changes)
    [updated] = _entries(org, "webhook.updated")
    assert updated.changes == {"description": ["", "CRM"]}


def test_a_customer_edit_keeps_old_and_new_values(org, owner):
    customer = make_customer(org, name="Acme Steel", tier="standard")
    engagement_services.customer_save(
        org=org, actor=owner, customer=customer, data={"name": "Acme Steel AG", "tier": "key"}
    )
    [entry] = _entries(org, "customer.updated")
    assert entry.changes == {"name": ["Acme Steel", "Acme Steel AG"], "tier": ["standard", "key"]}
    assert entry.object_id == customer.pk


def test_a_deletion_keeps_what_was_deleted(org, owner):
    customer = make_customer(org, name="Gone GmbH")
    engagement_services.customer_delete(org=org, actor=owner, customer=customer)
    [entry] = _entries(org, "customer.deleted")
    assert entry.changes["name"] == ["Gone GmbH", None]
    assert entry.object_repr == "Gone GmbH"


def test_entries_are_never_changed_once_written(org, owner):
    entry = audit.record(org=org, action="organization.updated", actor=owner, obj=org)
    entry.note = "tampered"
    with pytest.raises(ValueError):
        entry.save()


def test_only_admins_read_the_audit_log(org, owner_client, member_client):
    url = reverse("accounts:audit_log", kwargs={"org_slug": org.slug})
    assert owner_client.get(url).status_code == 200
    assert member_client.get(url).status_code == 403


def test_the_log_filters_by_action_and_exports_what_it_shows(org, owner, owner_client, member):
    membership = Membership.objects.for_org(org).get(user=member)
    owner_membership = Membership.objects.for_org(org).get(user=owner)
    services.membership_change_role(actor=owner_membership, membership=membership, role="viewer")
    services.api_key_create(
        org=org, name="CRM", role=Role.MEMBER, created_by=owner, granter_role=Role.OWNER
    )
    url = reverse("accounts:audit_log", kwargs={"org_slug": org.slug})
    page = owner_client.get(url, {"action": "member.role_changed"})
    assert [e.action for e in page.context["entries"]] == ["member.role_changed"]
    export = owner_client.get(url, {"action": "member.role_changed", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 2  # the header and the one role change
    assert rows[1][4] == "Role changed"
    assert '"role": ["member", "viewer"]' in rows[1][8]


def test_an_unknown_filter_is_a_form_error_not_a_crash(org, owner_client):
    url = reverse("accounts:audit_log", kwargs={"org_slug": org.slug})
    response = owner_client.get(url, {"since": "2026-02-30"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def test_the_log_pages_back_in_time(org, owner, owner_client):
    for n in range(55):
        audit.record(org=org, action="organization.updated", actor=owner, obj=org, note=f"n{n}")
    url = reverse("accounts:audit_log", kwargs={"org_slug": org.slug})
    first = owner_client.get(url)
    older = first.context["older"]
    assert older
    second = owner_client.get(f"{url}?{older}")
    seen = {e.pk for e in first.context["entries"]} | {e.pk for e in second.context["entries"]}
    assert len(seen) == 55
    assert len(first.context["entries"]) == 50 and len(second.context["entries"]) == 5
    assert second.context["older"] is None


def test_the_log_takes_constant_queries(org, owner, owner_client):
    url = reverse("accounts:audit_log", kwargs={"org_slug": org.slug})

    def make_rows(n):
        for _ in range(n):
            audit.record(org=org, action="organization.updated", actor=owner, obj=org)

    assert_constant_queries(make_rows, lambda: owner_client.get(url))


def test_the_customer_page_shows_its_history(org, owner, owner_client):
    customer = make_customer(org, name="Acme Steel")
    engagement_services.customer_save(
        org=org, actor=owner, customer=customer, data={"name": "Acme Steel AG"}
    )
    page = owner_client.get(
        reverse("engagements:customer_detail", kwargs={"org_slug": org.slug, "pk": customer.pk})
    )
    text = page.content.decode()
    assert "History" in text and "Customer changed" in text and "Acme Steel AG" in text


def test_the_trail_is_per_organization(org, other_org, owner, outsider):
    audit.record(org=org, action="organization.updated", actor=owner, obj=org)
    assert not AuditEntry.objects.for_org(other_org).exists()


def test_every_api_write_leaves_an_entry_with_old_and_new_values(org, owner, api):
    from datetime import timedelta

    from django.utils import timezone

    from followup.engine import services as followup_services

    followup = followup_services.followup_create(
        org=org, actor=owner, title="Call Acme", owner=owner, due_at=timezone.now() + timedelta(1)
    )
    response = api.patch(f"/api/v1/followups/{followup.pk}/", {"title": "Call Acme back"})
    assert response.status_code == 200, response.content
    [entry] = _entries(org, "api.write")
    assert entry.object_id == followup.pk
    assert entry.changes["title"] == ["Call Acme", "Call Acme back"]
    assert entry.actor_api_key is not None
    assert entry.note.startswith(f"PATCH /api/v1/followups/{followup.pk}/")


def test_an_api_write_a_service_already_audited_is_not_recorded_twice(org, api):
    response = api.post("/api/v1/customers/", {"name": "Acme"})
    assert response.status_code == 201, response.content
    assert len(_entries(org, "customer.created")) == 1
    assert _entries(org, "api.write") == []


def test_a_refused_api_write_leaves_no_entry(org, api):
    response = api.post("/api/v1/customers/", {"name": ""})
    assert response.status_code == 400
    assert not AuditEntry.objects.for_org(org).filter(action__in=["api.write", "customer.created"])
