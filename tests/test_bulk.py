"""Bulk work: many follow-ups (My day, the follow-up list) or customers at once, with one
confirmation, all or nothing, role-checked, and one undo that restores exactly what changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEntry
from engagements import bulk as customer_bulk
from engagements import services as engagement_services
from engagements.models import Customer
from followup.engine import bulk, services
from followup.engine.models import BulkChange, FollowUp, FollowUpStatus, Notification
from tests.engagements.factories import make_customer
from tests.utils import assert_constant_queries

BULK = "/o/acme/followups/bulk/"


@pytest.fixture
def three(org, member):
    def make(title, hours, **extra):
        return services.followup_create(
            org=org,
            actor=member,
            title=title,
            owner=member,
            due_at=timezone.now() + timedelta(hours=hours),
            **extra,
        )

    return [
        make("Call Lumen", -3),
        make("Weekly check-in", 2, recurrence_rule="FREQ=WEEKLY;BYDAY=MO"),
        make("Send offer", 30),
    ]


def _reload(rows):
    return [FollowUp.objects.for_org(r.organization).get(pk=r.pk) for r in rows]


def _post(client, rows, **data):
    payload = {"ids": [str(r.pk) for r in rows], "next": "/o/acme/", **data}
    return client.post(BULK, payload)


def _undo_url(response) -> str:
    (message,) = list(get_messages(response.wsgi_request))
    match = re.search(r'action="(/o/acme/bulk/[0-9a-f-]+/undo/)"', str(message))
    assert match, str(message)
    return match.group(1)


def test_the_first_post_asks_once_for_all_rows(member_client, three):
    response = _post(member_client, three, action="complete")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mark these 3 follow-ups done?" in body
    for row in three:
        assert row.title in body and f'value="{row.pk}"' in body
    assert 'name="confirm" value="1"' in body
    assert all(r.status == FollowUpStatus.OPEN for r in _reload(three))


def test_complete_many_then_undo_restores_exactly(member_client, org, three):
    weekly = three[1]
    response = _post(member_client, three, action="complete", confirm="1")
    assert response.status_code == 302 and response["Location"] == "/o/acme/"
    done = _reload(three)
    assert [r.status for r in done] == [FollowUpStatus.DONE] * 3
    nxt = FollowUp.objects.for_org(org).get(series_id=weekly.series_id, sequence=1)
    change = BulkChange.objects.for_org(org).get()
    assert (change.scope, change.action, change.count) == ("followups", "complete", 3)
    assert AuditEntry.objects.for_org(org).filter(action="bulk.applied").count() == 1

    response = member_client.post(_undo_url(response), {"next": "/o/acme/"})
    assert response.status_code == 302
    back = _reload(three)
    assert [r.status for r in back] == [FollowUpStatus.OPEN] * 3
    assert all(r.completed_at is None and r.completed_by is None for r in back)
    assert [r.due_at for r in back] == [r.due_at for r in three]
    assert not FollowUp.objects.for_org(org).filter(pk=nxt.pk).exists()
    assert back[1].next_remind_at is not None
    # A second undo (a double click) changes nothing more.
    response = member_client.post(f"/o/acme/bulk/{change.pk}/undo/", follow=True)
    assert "This was undone already." in response.content.decode()


def test_snooze_many_then_undo_puts_the_due_times_back(member_client, org, three):
    before = [r.due_at for r in three]
    response = _post(member_client, three, action="snooze", until="3d", confirm="1")
    after = [r.due_at for r in _reload(three)]
    assert all(a > b for a, b in zip(after, before, strict=True))
    member_client.post(_undo_url(response))
    assert [r.due_at for r in _reload(three)] == before  # overdue ones are overdue again


def test_reassign_many_then_undo(member_client, org, owner, three):
    response = _post(member_client, three, action="reassign", owner=str(owner.pk), confirm="1")
    assert {r.owner_id for r in _reload(three)} == {owner.pk}
    assert Notification.objects.for_org(org).filter(recipient=owner).count() == 3
    member_client.post(_undo_url(response))
    assert {r.owner_id for r in _reload(three)} == {three[0].owner_id}


def test_it_is_all_or_nothing(member_client, member, three):
    services.followup_complete(followup=three[2], actor=member)  # someone was quicker
    response = _post(member_client, three, action="complete", confirm="1")
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Nothing was changed." in messages[0] and "Send offer" in messages[0]
    assert [r.status for r in _reload(three)[:2]] == [FollowUpStatus.OPEN] * 2
    assert not BulkChange.objects.exists()


def test_viewers_cannot_and_neither_can_the_service(viewer_client, viewer, org, three):
    assert _post(viewer_client, three, action="complete", confirm="1").status_code == 403
    assert all(r.status == FollowUpStatus.OPEN for r in _reload(three))
    with pytest.raises(PermissionDenied):
        bulk.followups_bulk(org=org, actor=viewer, followups=three, action="complete")


def test_foreign_or_unknown_ids_are_refused(outsider_client, member_client, three):
    response = outsider_client.post(
        "/o/globex/followups/bulk/",
        {"ids": [str(three[0].pk)], "action": "complete", "confirm": "1"},
    )
    assert response.status_code == 400 and "Call Lumen" not in response.content.decode()
    assert _post(member_client, three, ids=["not-an-id"], action="complete").status_code == 400
    assert all(r.status == FollowUpStatus.OPEN for r in _reload(three))


def test_nothing_ticked_says_so(member_client):
    response = member_client.post(BULK, {"action": "complete", "next": "/o/acme/"}, follow=True)
    assert "Select at least one follow-up." in response.content.decode()


def test_undo_is_the_actors_and_lasts_minutes(member_client, owner_client, org, three):
    response = _post(member_client, three, action="complete", confirm="1")
    url = _undo_url(response)
    assert owner_client.post(url).status_code == 404
    BulkChange.objects.for_org(org).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = member_client.post(url, follow=True)
    assert "can no longer be undone" in response.content.decode()
    assert all(r.status == FollowUpStatus.DONE for r in _reload(three))


def test_undo_never_overwrites_a_later_change(member_client, member, org, three):
    response = _post(member_client, three, action="snooze", until="1w", confirm="1")
    services.followup_snooze(
        followup=_reload(three)[0], actor=member, until=timezone.now() + timedelta(days=30)
    )
    later = _reload(three)
    response = member_client.post(_undo_url(response), follow=True)
    assert "changed since" in response.content.decode()
    assert [r.due_at for r in _reload(three)] == [r.due_at for r in later]


def test_my_day_and_the_list_offer_the_bulk_bar(member_client, viewer_client, three):
    for path in ("/o/acme/", "/o/acme/followups/"):
        body = member_client.get(path).content.decode()
        assert 'id="bulk-followups"' in body and body.count('form="bulk-followups"') == 3
        assert "bulk-followups" not in viewer_client.get(path).content.decode()


def test_my_day_keeps_constant_queries_with_the_bulk_bar(member_client, org, member):
    def make_rows(n: int) -> None:
        for i in range(n):
            services.followup_create(
                org=org,
                actor=member,
                title=f"Row {i}",
                owner=member,
                due_at=timezone.now() + timedelta(hours=i + 1),
            )

    assert_constant_queries(make_rows, lambda: member_client.get("/o/acme/"))


# --- Customers ---------------------------------------------------------------------------------


@pytest.fixture
def customers(org, member):
    return [make_customer(org, name=name, owner=member) for name in ("Alpha", "Beta", "Gamma")]


def _customers_post(client, rows, **data):
    return client.post(
        "/o/acme/customers/bulk/",
        {"ids": [str(c.pk) for c in rows], "next": "/o/acme/customers/", **data},
    )


def test_customers_get_a_new_owner_and_back(member_client, org, owner, member, customers):
    body = _customers_post(member_client, customers, field="owner", owner=str(owner.pk))
    assert "Give these 3 customers to" in body.content.decode()
    response = _customers_post(
        member_client, customers, field="owner", owner=str(owner.pk), confirm="1"
    )
    assert {c.owner_id for c in Customer.objects.for_org(org)} == {owner.pk}
    member_client.post(_undo_url(response))
    assert {c.owner_id for c in Customer.objects.for_org(org)} == {member.pk}


def test_customers_status_and_nobody_as_owner(member_client, org, customers):
    response = _customers_post(
        member_client, customers, field="status", status="at_risk", confirm="1"
    )
    assert {c.status for c in Customer.objects.for_org(org)} == {"at_risk"}
    member_client.post(_undo_url(response))
    assert {c.status for c in Customer.objects.for_org(org)} == {"active"}
    _customers_post(member_client, customers, field="owner", owner="", confirm="1")
    assert {c.owner_id for c in Customer.objects.for_org(org)} == {None}


def test_customers_bulk_is_atomic(org, member, customers, monkeypatch):
    real = engagement_services.customer_save
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ValidationError("refused")
        return real(**kwargs)

    monkeypatch.setattr(engagement_services, "customer_save", failing)
    with pytest.raises(ValidationError):
        customer_bulk.customers_bulk(
            org=org, actor=member, customers=customers, field="status", value="churned"
        )
    assert {c.status for c in Customer.objects.for_org(org)} == {"active"}


def test_customers_bulk_is_role_checked_and_scoped(viewer_client, outsider_client, customers):
    assert (
        _customers_post(
            viewer_client, customers, field="status", status="churned", confirm="1"
        ).status_code
        == 403
    )
    response = outsider_client.post(
        "/o/globex/customers/bulk/",
        {"ids": [str(customers[0].pk)], "field": "status", "status": "churned", "confirm": "1"},
    )
    assert response.status_code == 400
    assert {c.status for c in customers} == {"active"}


def test_a_foreign_owner_is_refused(member_client, outsider, org, customers):
    response = _customers_post(
        member_client, customers, field="owner", owner=str(outsider.pk), confirm="1"
    )
    assert response.status_code == 400
    assert {c.owner_id for c in Customer.objects.for_org(org)} == {customers[0].owner_id}


def test_the_customer_list_has_the_bulk_bar(member_client, viewer_client, customers):
    body = member_client.get("/o/acme/customers/").content.decode()
    assert 'id="bulk-customers"' in body and body.count('form="bulk-customers"') == 3
    assert "bulk-customers" not in viewer_client.get("/o/acme/customers/").content.decode()
