"""Fixing what was logged wrong, and deleting what should go."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.roles import Role
from engagements.models import Contact, Customer, Touchpoint
from followup.engine import services as followup_services
from followup.engine.models import FollowUpStatus
from followup.kernel.models import Event
from tests.conftest import api_client
from tests.engagements.factories import log, make_contact, make_customer, make_engagement
from tests.factories import MembershipFactory, make_api_key


def manager_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MANAGER).user)
    return client


def test_a_member_corrects_a_touchpoint(member_client, org, member):
    engagement = make_engagement(org, owner=member)
    touchpoint = log(
        org, engagement.customer, actor=member, summary="Cal about prices", sentiment=1
    )
    page = member_client.get(f"/o/acme/touchpoints/{touchpoint.pk}/edit/")
    assert page.status_code == 200
    response = member_client.post(
        f"/o/acme/touchpoints/{touchpoint.pk}/edit/",
        {
            "channel": "call",
            "occurred_at": timezone.localtime(touchpoint.occurred_at).strftime("%Y-%m-%dT%H:%M"),
            "engagement": engagement.pk,
            "summary": "Call about prices",
            "sentiment": "-1",
            "effort_minutes": "20",
        },
    )
    assert response.status_code == 302
    touchpoint.refresh_from_db()
    assert (touchpoint.summary, touchpoint.sentiment, touchpoint.effort_minutes) == (
        "Call about prices",
        -1,
        20,
    )
    assert Event.objects.for_org(org).filter(type="touchpoint.updated").exists()
    engagement.refresh_from_db()
    sentiment = next(s for s in engagement.health_signals if s["key"] == "sentiment")
    assert sentiment["facts"]["mean"] == -1


def test_a_correction_with_bad_input_changes_nothing(member_client, org, member):
    touchpoint = log(org, make_customer(org), actor=member, summary="Original")
    other_engagement = make_engagement(org)  # another customer's
    response = member_client.post(
        f"/o/acme/touchpoints/{touchpoint.pk}/edit/",
        {"channel": "call", "summary": "", "engagement": other_engagement.pk, "sentiment": "7"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-invalid="true"' in body
    touchpoint.refresh_from_db()
    assert touchpoint.summary == "Original" and touchpoint.engagement_id is None


def test_a_viewer_sees_no_correction_links_and_cannot_correct(viewer_client, org, member):
    customer = make_customer(org)
    touchpoint = log(org, customer, actor=member)
    assert "/edit/" not in viewer_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert viewer_client.get(f"/o/acme/touchpoints/{touchpoint.pk}/edit/").status_code == 403
    assert viewer_client.post(f"/o/acme/touchpoints/{touchpoint.pk}/delete/").status_code == 403


def test_deleting_a_touchpoint_asks_first_and_moves_the_last_touch(member_client, org, member):
    engagement = make_engagement(org)
    older = log(org, engagement.customer, occurred_at=timezone.now() - timedelta(days=10))
    newer = log(org, engagement.customer, summary="Logged by mistake")
    confirm = member_client.get(f"/o/acme/touchpoints/{newer.pk}/delete/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Touchpoint.objects.for_org(org).filter(pk=newer.pk).exists()
    response = member_client.post(f"/o/acme/touchpoints/{newer.pk}/delete/")
    assert response.status_code == 302
    assert not Touchpoint.objects.for_org(org).filter(pk=newer.pk).exists()
    engagement.refresh_from_db()
    assert engagement.last_touch_at == older.occurred_at


def test_a_member_may_delete_a_contact_but_not_a_customer(member_client, org):
    contact = make_contact(org)
    assert member_client.post(f"/o/acme/contacts/{contact.pk}/delete/").status_code == 302
    assert not Contact.objects.for_org(org).filter(pk=contact.pk).exists()
    customer = make_customer(org)
    assert member_client.get(f"/o/acme/customers/{customer.pk}/delete/").status_code == 403
    assert member_client.post(f"/o/acme/customers/{customer.pk}/delete/").status_code == 403
    assert Customer.objects.for_org(org).filter(pk=customer.pk).exists()


def test_a_manager_deletes_a_customer_knowing_what_goes_with_it(client, org, member):
    client = manager_client(client, org)
    engagement = make_engagement(org)
    customer = engagement.customer
    log(org, customer)
    log(org, customer)
    followup = followup_services.followup_create(
        org=org,
        actor=member,
        title="Call",
        owner=member,
        due_at=timezone.now() + timedelta(days=1),
        subject=customer,
    )
    page = client.get(f"/o/acme/customers/{customer.pk}/delete/").content.decode()
    assert "1 engagements" in page and "2 touchpoints" in page
    response = client.post(f"/o/acme/customers/{customer.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/o/acme/customers/"
    assert not Customer.objects.for_org(org).filter(pk=customer.pk).exists()
    assert not Touchpoint.objects.for_org(org).filter(customer_id=customer.pk).exists()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.CANCELLED


def test_deleting_a_customer_through_the_api_needs_a_manager_key(org, member_api):
    customer = make_customer(org)
    response = member_api.delete(f"/api/v1/customers/{customer.pk}/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    manager_api = api_client(make_api_key(org, Role.MANAGER)[1])
    assert manager_api.delete(f"/api/v1/customers/{customer.pk}/").status_code == 204
