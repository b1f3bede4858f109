"""Answering a follow-up from My day says what happened and offers a one-click Undo
(issue 11, defect 6): the touchpoint goes, the follow-up is open again as it was."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry
from engagements import answers, services
from engagements.models import Customer, Touchpoint
from followup.engine import bulk
from followup.engine import services as followup_services
from followup.engine.models import BulkChange, FollowUp, FollowUpStatus
from followup.kernel.models import Event
from tests.engagements.factories import log, make_customer, make_engagement
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(org, member):
    return make_engagement(org, name="Account care", owner=member)


def _followup(subject, owner, **fields):
    return followup_services.followup_create(
        org=subject.organization,
        actor=owner,
        title=fields.pop("title", "Call about the renewal"),
        owner=owner,
        due_at=fields.pop("due_at", timezone.now() + timedelta(hours=2)),
        subject=subject,
        **fields,
    )


def _answer(org, member, engagement, followup, summary="Renewal agreed"):
    return answers.touchpoint_answer(
        org=org,
        actor=member,
        answers=followup,
        customer=engagement.customer,
        engagement=engagement,
        channel="call",
        summary=summary,
    )


# --- The service ----------------------------------------------------------------------------


def test_undo_deletes_the_touchpoint_and_reopens_the_follow_up_as_it_was(org, member, engagement):
    earlier = log(org, engagement.customer, engagement=engagement, summary="Earlier")
    earlier_touch = Customer.objects.for_org(org).get(pk=engagement.customer_id).last_touch_at
    followup = _followup(engagement, member, recurrence_rule="FREQ=WEEKLY;BYDAY=MO")
    due, version_before = followup.due_at, followup.version
    answered = _answer(org, member, engagement, followup)
    assert answered.followup.status == FollowUpStatus.DONE and answered.next is not None
    assert Customer.objects.for_org(org).get(pk=engagement.customer_id).last_touch_at > (
        earlier_touch
    )

    bulk.undo(org=org, actor=member, change=answered.change)

    assert not Touchpoint.objects.for_org(org).filter(pk=answered.touchpoint.pk).exists()
    assert Touchpoint.objects.for_org(org).filter(pk=earlier.pk).exists()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.OPEN and followup.due_at == due
    assert followup.completed_at is None and followup.answered_by_id is None
    assert followup.version > version_before  # API clients see the change
    assert not FollowUp.objects.for_org(org).filter(pk=answered.next.pk).exists()
    assert Customer.objects.for_org(org).get(pk=engagement.customer_id).last_touch_at == (
        earlier_touch
    )
    actions = set(AuditEntry.objects.for_org(org).values_list("action", flat=True))
    assert {"bulk.undone", "touchpoint.deleted"} <= actions
    types = set(Event.objects.for_org(org).values_list("type", flat=True))
    assert {"touchpoint.deleted", "followup.deleted"} <= types


def test_undo_is_refused_once_someone_edited_the_touchpoint(org, member, owner, engagement):
    followup = _followup(engagement, member)
    answered = _answer(org, member, engagement, followup)
    services.touchpoint_update(
        org=org, actor=owner, touchpoint=answered.touchpoint, data={"summary": "Corrected"}
    )
    with pytest.raises(Exception, match="changed since"):
        bulk.undo(org=org, actor=member, change=answered.change)
    assert Touchpoint.objects.for_org(org).filter(pk=answered.touchpoint.pk).exists()
    assert FollowUp.objects.for_org(org).get(pk=followup.pk).status == FollowUpStatus.DONE


def test_undo_is_refused_once_the_next_follow_up_was_snoozed(org, member, engagement):
    followup = _followup(engagement, member, recurrence_rule="FREQ=WEEKLY;BYDAY=MO")
    answered = _answer(org, member, engagement, followup)
    followup_services.followup_snooze(
        followup=answered.next, actor=member, until=answered.next.due_at + timedelta(days=1)
    )
    with pytest.raises(Exception, match="changed since"):
        bulk.undo(org=org, actor=member, change=answered.change)
    assert Touchpoint.objects.for_org(org).filter(pk=answered.touchpoint.pk).exists()


def test_undo_is_refused_after_the_window_and_for_anyone_else(org, member, owner, engagement):
    followup = _followup(engagement, member)
    answered = _answer(org, member, engagement, followup)
    with pytest.raises(Exception, match="Only the person"):
        bulk.undo(org=org, actor=owner, change=answered.change)
    BulkChange.objects.for_org(org).filter(pk=answered.change.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(Exception, match="can no longer be undone"):
        bulk.undo(org=org, actor=member, change=answered.change)
    assert Touchpoint.objects.for_org(org).filter(pk=answered.touchpoint.pk).exists()


# --- The page -------------------------------------------------------------------------------


def _post_answer(client, engagement, followup, **extra):
    return client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": engagement.customer_id,
            "engagement": engagement.pk,
            "channel": "call",
            "summary": "Renewal agreed",
            "followup": followup.pk,
            "next": "/o/acme/",
        },
        **extra,
    )


def test_the_confirmation_says_what_happened_and_when_the_next_is_due(
    member_client, org, member, engagement
):
    followup = _followup(engagement, member, recurrence_rule="FREQ=WEEKLY;BYDAY=TH")
    body = _post_answer(member_client, engagement, followup, HTTP_HX_REQUEST="true")
    text = body.content.decode()
    customer = engagement.customer.name
    assert f"Logged: Call with {customer}." in text
    assert "The follow-up “Call about the renewal” is done; the next one is due Thu " in text
    change = BulkChange.objects.for_org(org).get(scope=answers.SCOPE)
    assert f'action="/o/acme/touchpoints/answers/{change.pk}/undo/"' in text
    assert "Undo (5 min)" in text


def test_undo_without_javascript_is_a_post_form_that_goes_back_with_a_message(
    member_client, org, member, engagement
):
    followup = _followup(engagement, member)
    saved = _post_answer(member_client, engagement, followup, follow=True)
    page = saved.content.decode()
    assert saved.redirect_chain[-1][0] == "/o/acme/"
    undo_url = re.search(r'action="(/o/acme/touchpoints/answers/[^"]+/undo/)"', page).group(1)
    undone = member_client.post(undo_url, {"next": "/o/acme/"}, follow=True)
    assert undone.redirect_chain[-1][0] == "/o/acme/"
    assert "the follow-up “Call about the renewal” is open again" in undone.content.decode()
    assert not Touchpoint.objects.for_org(org).exists()
    assert FollowUp.objects.for_org(org).get(pk=followup.pk).status == FollowUpStatus.OPEN
    again = member_client.post(undo_url, {"next": "/o/acme/"}, follow=True)
    assert "Nothing was undone. This was undone already." in again.content.decode()


def test_undo_with_htmx_swaps_the_quick_log_and_drops_the_timeline_entry(
    member_client, org, member, engagement
):
    followup = _followup(engagement, member)
    _post_answer(member_client, engagement, followup, HTTP_HX_REQUEST="true")
    change = BulkChange.objects.for_org(org).get(scope=answers.SCOPE)
    touchpoint = Touchpoint.objects.for_org(org).get()
    response = member_client.post(
        f"/o/acme/touchpoints/answers/{change.pk}/undo/",
        {"next": "/o/acme/"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="quick-log"' in text and "is open again" in text
    assert f'id="tp-{touchpoint.pk}" hx-swap-oob="delete"' in text


def test_someone_elses_undo_is_a_404(org, member, engagement):
    followup = _followup(engagement, member)
    change = _answer(org, member, engagement, followup).change
    other = MembershipFactory(organization=org, role="member").user
    client = Client()
    client.force_login(other)
    assert client.post(f"/o/acme/touchpoints/answers/{change.pk}/undo/").status_code == 404
    assert Touchpoint.objects.for_org(org).exists()


def test_undo_is_refused_with_a_clear_message_after_an_edit(
    member_client, org, member, owner, engagement
):
    followup = _followup(engagement, member)
    change = _answer(org, member, engagement, followup).change
    touchpoint = Touchpoint.objects.for_org(org).get()
    services.touchpoint_update(
        org=org, actor=owner, touchpoint=touchpoint, data={"summary": "Corrected"}
    )
    response = member_client.post(
        f"/o/acme/touchpoints/answers/{change.pk}/undo/", {"next": "/o/acme/"}, follow=True
    )
    assert "Nothing was undone." in response.content.decode()
    assert "changed since" in response.content.decode()
    assert Touchpoint.objects.for_org(org).exists()


def test_a_plain_touchpoint_has_no_undo(member_client, org, engagement):
    make_customer(org)
    member_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": engagement.customer_id, "channel": "call", "summary": "Just a call"},
    )
    assert not BulkChange.objects.for_org(org).exists()
