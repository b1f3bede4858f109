"""Customers and engagements meet the follow-up engine: subjects, answers, health."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from engagements import services
from engagements.models import Touchpoint
from followup.engine import services as followup_services
from followup.engine.models import FollowUp, FollowUpStatus
from followup.kernel import events
from followup.kernel.models import Event
from tests.engagements.factories import log, make_customer, make_engagement
from tests.utils import assert_constant_queries


@pytest.fixture
def engagement(org, member):
    return make_engagement(org, name="Account care", owner=member)


def followup_on(subject, owner, *, due_in=timedelta(hours=2), **fields):
    return followup_services.followup_create(
        org=subject.organization,
        actor=owner,
        title=fields.pop("title", "Call back"),
        owner=owner,
        due_at=timezone.now() + due_in,
        subject=subject,
        **fields,
    )


def relay_all(org):
    """What the worker does after commit: hand the outbox to its subscribers."""
    for event in Event.objects.for_org(org).filter(relayed_at__isnull=True).order_by("created_at"):
        events.relay(event)


# --- Subjects -------------------------------------------------------------------------


def test_a_follow_up_can_be_about_a_customer_through_the_api(api, org, member):
    customer = make_customer(org, name="Lumen Retail")
    response = api.post(
        "/api/v1/followups/",
        {
            "title": "Send the service plan",
            "owner": str(member.pk),
            "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "subject_type": "customer",
            "subject_id": str(customer.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["subject"]["title"] == "Lumen Retail"


def test_another_organizations_customer_is_not_a_subject(outsider_api, org, outsider):
    customer = make_customer(org)
    response = outsider_api.post(
        "/api/v1/followups/",
        {
            "title": "Probe",
            "owner": str(outsider.pk),
            "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "subject_type": "customer",
            "subject_id": str(customer.pk),
        },
        format="json",
    )
    assert response.status_code == 400
    assert not FollowUp.objects.dangerously_unscoped().filter(title="Probe").exists()


def test_deleting_a_customer_cancels_its_open_follow_ups(org, member):
    customer = make_customer(org)
    followup = followup_on(customer, member)
    services.customer_delete(org=org, actor=member, customer=customer)
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.CANCELLED


def test_the_customer_page_lists_its_follow_ups_with_a_way_to_answer(member_client, org, member):
    customer = make_customer(org, name="Lumen Retail")
    engagement = make_engagement(org, customer=customer, name="Care")
    overdue = followup_on(engagement, member, due_in=timedelta(days=-2), title="Send the plan")
    body = member_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert "Send the plan" in body and "Overdue" in body
    assert f"/o/acme/touchpoints/log/?followup={overdue.pk}" in body


def test_the_engagement_page_lists_follow_ups_in_constant_queries(member_client, org, member):
    engagement = make_engagement(org, owner=member)
    assert_constant_queries(
        lambda n: [followup_on(engagement, member, title=f"Task {i}") for i in range(n)],
        lambda: member_client.get(f"/o/acme/engagements/{engagement.pk}/"),
    )


def test_my_day_offers_to_log_a_touchpoint_for_a_customer_follow_up(member_client, org, member):
    customer = make_customer(org)
    followup = followup_on(customer, member, due_in=timedelta(minutes=30))
    body = member_client.get("/o/acme/").content.decode()
    assert f"/o/acme/touchpoints/log/?followup={followup.pk}" in body
    assert "Log touchpoint" in body


# --- A touchpoint answers a follow-up ------------------------------------------------------


def test_the_quick_log_opened_from_a_follow_up_knows_its_customer(
    member_client, org, engagement, member
):
    followup = followup_on(engagement, member)
    page = member_client.get(f"/o/acme/touchpoints/log/?followup={followup.pk}")
    form = page.context["form"]
    assert form.initial["customer"] == engagement.customer_id
    assert form.initial["engagement"] == engagement.pk
    assert form.initial["followup"] == followup.pk


def test_logging_the_answer_completes_the_follow_up_and_schedules_the_next(
    member_client, org, engagement, member
):
    followup = followup_on(
        engagement, member, recurrence_rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", title="Check in"
    )
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": engagement.customer_id,
            "engagement": engagement.pk,
            "channel": "call",
            "summary": "Talked about the peak season",
            "followup": followup.pk,
        },
    )
    assert response.status_code == 302
    touchpoint = Touchpoint.objects.for_org(org).get(summary="Talked about the peak season")
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.DONE
    assert (followup.answered_by_type, followup.answered_by_id) == ("touchpoint", touchpoint.pk)
    following = FollowUp.objects.for_org(org).get(series_id=followup.series_id, status="open")
    assert following.due_at > followup.due_at
    assert following.due_at.astimezone(ZoneInfo(member.timezone)).weekday() == 0  # a Monday


def test_a_follow_up_about_another_customer_cannot_be_answered(member_client, org, member):
    mine, theirs = make_customer(org), make_customer(org)
    followup = followup_on(theirs, member)
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {"customer": mine.pk, "channel": "call", "summary": "Wrong one", "followup": followup.pk},
    )
    assert response.status_code == 400
    assert not Touchpoint.objects.for_org(org).filter(summary="Wrong one").exists()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.OPEN


def test_a_follow_up_completed_meanwhile_keeps_the_touchpoint_from_lying(org, engagement, member):
    followup = followup_on(engagement, member)
    followup_services.followup_complete(followup=followup, actor=member)
    with pytest.raises(Exception, match="no longer open"):
        log(org, engagement.customer, actor=member, summary="Late answer", answers=followup)
    assert not Touchpoint.objects.for_org(org).filter(summary="Late answer").exists()


def test_a_crm_logs_an_activity_that_answers_a_follow_up(api, org, engagement, member):
    followup = followup_on(engagement, member)
    response = api.post(
        "/api/v1/touchpoints/",
        {
            "customer": str(engagement.customer_id),
            "channel": "email",
            "summary": "Sent the offer",
            "followup": str(followup.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "followup" not in response.json()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.DONE
    assert str(followup.answered_by_id) == response.json()["id"]


def test_the_api_refuses_a_foreign_follow_up_as_an_answer(outsider_api, org, other_org, member):
    followup = followup_on(make_engagement(org), member)
    customer = make_customer(other_org)
    response = outsider_api.post(
        "/api/v1/touchpoints/",
        {
            "customer": str(customer.pk),
            "channel": "call",
            "summary": "x",
            "followup": str(followup.pk),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "followup"
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.OPEN


# --- Health ----------------------------------------------------------------------------


def test_overdue_follow_ups_pull_health_down_and_answering_restores_it(org, engagement, member):
    log(org, engagement.customer, actor=member)
    relay_all(org)
    engagement.refresh_from_db()
    healthy = engagement.health_score
    followups = [
        followup_on(engagement, member, due_in=timedelta(days=-1), title=f"Late {n}")
        for n in range(3)
    ]
    relay_all(org)
    engagement.refresh_from_db()
    assert engagement.health_score < healthy
    overdue = next(s for s in engagement.health_signals if s["key"] == "overdue_followups")
    assert overdue["facts"]["count"] == 3

    for followup in followups:
        log(org, engagement.customer, actor=member, summary="Done", answers=followup)
    relay_all(org)
    engagement.refresh_from_db()
    assert engagement.health_score == healthy


def test_a_customer_level_follow_up_counts_for_its_engagements(org, engagement, member):
    followup_on(engagement.customer, member, due_in=timedelta(days=-1))
    relay_all(org)
    engagement.refresh_from_db()
    overdue = next(s for s in engagement.health_signals if s["key"] == "overdue_followups")
    assert overdue["facts"]["count"] == 1


def test_answering_from_my_day_confirms_what_happened_with_a_way_back(
    member_client, org, engagement, member
):
    """Issue 11, defect 6: after "Log touchpoint" on a My day row the page only said
    "Logged for …"."""
    followup = followup_on(engagement, member, title="Call about the renewal")
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": engagement.customer_id,
            "engagement": engagement.pk,
            "channel": "call",
            "summary": "Renewal agreed",
            "followup": followup.pk,
            "next": "/o/acme/",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The follow-up “Call about the renewal” is done." in body
    assert 'href="/o/acme/"' in body  # back to My day
    assert f'href="/o/acme/followups/{followup.pk}/"' in body  # where it can be reopened
    touchpoint = Touchpoint.objects.for_org(org).get(summary="Renewal agreed")
    assert f"/o/acme/touchpoints/{touchpoint.pk}/edit/" in body


def test_answering_without_javascript_says_the_follow_up_is_done(
    member_client, org, engagement, member
):
    followup = followup_on(engagement, member, title="Call about the renewal")
    response = member_client.post(
        "/o/acme/touchpoints/log/",
        {
            "customer": engagement.customer_id,
            "channel": "call",
            "summary": "Renewal agreed",
            "followup": followup.pk,
        },
        follow=True,
    )
    body = response.content.decode()
    assert "The follow-up “Call about the renewal” is done." in body
    assert response.redirect_chain[-1][0] == f"/o/acme/followups/{followup.pk}/"
