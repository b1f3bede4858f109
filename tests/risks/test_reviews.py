"""Milestone risk reviews: scheduled from the milestone's date, opened once, moved with it,
late when the date has passed, escalated to the sponsor when overdue, signed off."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.rls import org_context
from followup.engine.models import FollowUp, FollowUpStatus, Notification
from followup.kernel.models import Event
from projects import gates
from projects import selectors as project_selectors
from projects import services as project_services
from risks import reviews
from risks.models import ReviewPolicy, ReviewStatus, RiskReview
from tests.projects.factories import fresh
from tests.risks.review_factories import (
    monday_in,
    opened_review,
    planned,
    project_with_milestone,
    scheduled_review,
)
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def review_events(org, type="milestone.review_due"):
    return Event.objects.for_org(org).filter(type=type)


def test_it_schedules_the_review_lead_working_days_before_the_milestone(org, member):
    project, _task, milestone = project_with_milestone(org, manager=member)
    review = scheduled_review(org, project)
    date = planned(org, milestone)
    assert review.status == ReviewStatus.SCHEDULED
    assert review.planned_date == date
    # Five working days (Monday to Friday) before the milestone, at the start of the day.
    local = review.due_at.astimezone(project_selectors.org_zone(org))
    assert local.date() == project_selectors.project_calendar(project).add(date, -5)
    assert local.hour == reviews.OPENING_HOUR
    assert not review.late


def test_a_project_override_of_the_lead_time_wins_over_the_organization(org, member):
    org.settings = {"risks": {"review_lead_working_days": 2}}
    org.save()
    project, _task, milestone = project_with_milestone(org, manager=member)
    calendar = project_selectors.project_calendar(project)
    review = scheduled_review(org, project)
    assert review.due_at.date() == calendar.add(planned(org, milestone), -2)
    reviews.policy_set(org=org, actor=member, project=project, lead_working_days=7)
    assert fresh(review).due_at.date() == calendar.add(planned(org, milestone), -7)
    assert ReviewPolicy.objects.for_org(org).get(project=project).lead_working_days == 7


def test_it_opens_the_review_once_however_often_the_tick_runs(org, member):
    project, _task, _milestone = project_with_milestone(org, manager=member)
    review = scheduled_review(org, project)
    early = review.due_at - timedelta(minutes=1)
    assert reviews.tick(now=early).rows == []
    for _ in range(3):
        claimed = reviews.tick(now=review.due_at)
        for _org_id, pk in claimed.rows:
            reviews.open_review(org=org, review_id=pk, token=claimed.token, now=review.due_at)
    review = fresh(review)
    assert review.status == ReviewStatus.OPEN
    assert RiskReview.objects.for_org(org).count() == 1
    assert review_events(org).count() == 1
    followup = FollowUp.objects.for_org(org).get(pk=review.followup_id)
    assert followup.owner == member
    assert followup.status == FollowUpStatus.OPEN
    assert "Go-live" in followup.title
    assert Notification.objects.for_org(org).filter(kind="risk_review.due").count() == 1


def test_the_pending_review_moves_with_its_milestone(org, member):
    project, task, milestone = project_with_milestone(org, manager=member)
    review = scheduled_review(org, project)
    before = review.planned_date
    project_services.work_item_update(org=org, actor=None, item=task, data={"duration_days": 15})
    after = planned(org, milestone)
    assert after > before
    reviews.sync_all()
    moved = RiskReview.objects.for_org(org).get(project=project)
    assert moved.pk == review.pk
    assert moved.planned_date == after
    assert moved.due_at > review.due_at


def test_the_schedule_event_moves_the_review_without_waiting_for_the_sweep(org, member):
    project, task, milestone = project_with_milestone(org, manager=member)
    scheduled_review(org, project)
    project_services.work_item_update(org=org, actor=None, item=task, data={"duration_days": 12})
    event = Event.objects.for_org(org).filter(type="work_item.updated").latest("created_at")
    reviews.on_schedule_event(event)
    assert RiskReview.objects.for_org(org).get().planned_date == planned(org, milestone)


def test_a_signed_off_review_stays_and_a_moved_milestone_gets_a_new_one(org, member):
    project, task, milestone = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    reviews.sign_off(org=org, actor=member, review=review, note="Fine")
    reviews.sync_all()
    assert RiskReview.objects.for_org(org).count() == 1  # same date: nothing new
    project_services.work_item_update(org=org, actor=None, item=task, data={"duration_days": 20})
    reviews.sync_all()
    rows = list(RiskReview.objects.for_org(org).order_by("planned_date"))
    assert [r.status for r in rows] == [ReviewStatus.DONE, ReviewStatus.SCHEDULED]
    assert rows[0].planned_date == review.planned_date
    assert rows[1].planned_date == planned(org, milestone)


def test_a_milestone_already_passed_gets_its_review_at_once_marked_late(org, member):
    start = timezone.now().date() - timedelta(days=30)
    _project, _task, milestone = project_with_milestone(org, manager=member, start=start)
    assert planned(org, milestone) < timezone.now().date()
    claimed = reviews.tick()
    assert len(claimed.rows) == 1
    reviews.open_batch(org=org, review_ids=[claimed.rows[0][1]], token=claimed.token)
    review = RiskReview.objects.for_org(org).get()
    assert review.status == ReviewStatus.OPEN
    assert review.late


def test_a_review_due_window_already_begun_opens_at_once_but_is_not_late(org, member):
    start = monday_in(0)
    _project, _task, _milestone = project_with_milestone(
        org, manager=member, start=start, work_days=2
    )
    claimed = reviews.tick()
    assert len(claimed.rows) == 1
    reviews.open_batch(org=org, review_ids=[claimed.rows[0][1]], token=claimed.token)
    review = RiskReview.objects.for_org(org).get()
    assert review.status == ReviewStatus.OPEN
    assert not review.late


def test_a_reached_milestone_or_a_closed_project_gets_no_review(org, member):
    start = timezone.now().date() - timedelta(days=30)
    _project, _task, milestone = project_with_milestone(org, manager=member, start=start)
    project_services.work_item_update(
        org=org, actor=None, item=milestone, data={"percent_complete": 100}
    )
    reviews.sync_all()
    assert not RiskReview.objects.for_org(org).exists()
    other, _t, _m = project_with_milestone(org, manager=member)
    scheduled_review(org, other)
    project_services.project_decide(org=org, actor=member, project=other, decision="kill")
    reviews.sync_all()
    assert not RiskReview.objects.for_org(org).filter(project=other).exists()


def test_an_overdue_review_goes_to_the_sponsor_once(org, member, owner):
    start = timezone.now().date() - timedelta(days=30)
    project, _task, _ms = project_with_milestone(org, manager=member, sponsor=owner, start=start)
    opened_review(org, project)
    for _ in range(2):
        reviews.escalate_overdue()
    sent = Notification.objects.for_org(org).filter(kind="risk_review.overdue")
    assert [n.recipient for n in sent] == [owner]
    assert RiskReview.objects.for_org(org).get().escalated_at is not None


def test_a_review_not_yet_overdue_is_not_escalated(org, member, owner):
    project, _task, _ms = project_with_milestone(org, manager=member, sponsor=owner)
    opened_review(org, project)
    assert reviews.escalate_overdue() == 0
    assert not Notification.objects.for_org(org).filter(kind="risk_review.overdue").exists()


def test_sign_off_completes_the_follow_up_records_the_event_and_meets_the_gate(org, member):
    project, _task, milestone = project_with_milestone(org, manager=member)
    phase = project.phase
    project_services.work_item_update(org=org, actor=None, item=milestone, data={"phase": phase})
    kind = gates.get("milestone_reviews_signed_off")
    assert kind is not None and kind.evaluate is not None
    review = opened_review(org, project)
    assert not kind.evaluate(fresh(project), phase).met
    reviews.sign_off(org=org, actor=member, review=review, note="Risks confirmed")
    review = fresh(review)
    assert review.status == ReviewStatus.DONE
    assert review.signed_off_by == member
    assert FollowUp.objects.for_org(org).get(pk=review.followup_id).status == FollowUpStatus.DONE
    assert review_events(org, "risk_review.completed").count() == 1
    assert kind.evaluate(fresh(project), phase).met
    with pytest.raises(reviews.ReviewRefused):
        reviews.sign_off(org=org, actor=member, review=review)
    assert review_events(org, "risk_review.completed").count() == 1


def test_the_review_page_signs_off(org, member, member_client):
    project, _task, _ms = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    url = reverse("risks:review_detail", kwargs={"org_slug": org.slug, "pk": review.pk})
    page = member_client.get(url)
    assert page.status_code == 200
    assert "Go-live" in page.content.decode()
    response = member_client.post(url, {"note": "Checked every risk"})
    assert response.status_code == 302
    assert fresh(review).status == ReviewStatus.DONE
    assert "Checked every risk" in member_client.get(url).content.decode()


def test_a_viewer_cannot_sign_off(org, member, viewer_client):
    project, _task, _ms = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    url = reverse("risks:review_detail", kwargs={"org_slug": org.slug, "pk": review.pk})
    assert viewer_client.post(url, {"note": "x"}).status_code == 403
    assert fresh(review).status == ReviewStatus.OPEN


def test_the_project_reviews_page_refuses_a_bad_lead_time_with_a_form_error(
    org, member, member_client
):
    project, _task, _ms = project_with_milestone(org, manager=member)
    scheduled_review(org, project)
    url = reverse("risks:project_reviews", kwargs={"org_slug": org.slug, "pk": project.pk})
    response = member_client.post(url, {"lead_working_days": "99"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode() or "error" in response.content.decode()
    assert not ReviewPolicy.objects.for_org(org).exists()
    assert member_client.post(url, {"lead_working_days": "3"}).status_code == 302
    assert ReviewPolicy.objects.for_org(org).get().lead_working_days == 3


def test_the_api_lists_retrieves_and_signs_off(org, member, api):
    project, _task, milestone = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    listed = api.get("/api/v1/risk-reviews/", {"project": str(project.pk)})
    assert listed.status_code == 200
    row = listed.json()["results"][0]
    assert row["milestone"] == str(milestone.pk)
    assert row["status"] == "open"
    assert row["reviewer"] == str(member.pk)
    assert {"id", "project", "milestone", "due_at", "status", "reviewer"} <= set(row)
    done = api.post(f"/api/v1/risk-reviews/{review.pk}/sign-off/", {"note": "OK"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    again = api.post(f"/api/v1/risk-reviews/{review.pk}/sign-off/", {}, format="json")
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")


def test_the_api_refuses_a_bad_note_with_the_field(org, member, api):
    project, _task, _ms = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    bad = api.post(f"/api/v1/risk-reviews/{review.pk}/sign-off/", {"note": "a\x00b"}, format="json")
    assert bad.status_code == 400
    assert "note" in bad.content.decode()
    assert fresh(review).status == ReviewStatus.OPEN


def test_the_review_list_has_constant_queries(org, member, api, member_client):
    def make(n):
        for _ in range(n):
            project, _t, _m = project_with_milestone(org, manager=member)
            opened_review(org, project)

    assert_constant_queries(make, lambda: api.get("/api/v1/risk-reviews/"))


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_open_the_review_once(org, member):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    projects = [project_with_milestone(org, manager=member)[0] for _ in range(5)]
    for project in projects:
        scheduled_review(org, project)
    now = max(r.due_at for r in RiskReview.objects.for_org(org)) + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            claimed = reviews.tick(now=now)
            with org_context(org):  # as the tasks the tick queues run
                for _org_id, pk in claimed.rows:
                    reviews.open_review(org=org, review_id=pk, token=claimed.token, now=now)
                # A stale retry of the same rows without the token must not reopen anything.
                for _org_id, pk in claimed.rows:
                    reviews.open_review(org=org, review_id=pk, now=now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert RiskReview.objects.for_org(org).filter(status=ReviewStatus.OPEN).count() == 5
    assert review_events(org).count() == 5
    assert FollowUp.objects.for_org(org).count() == 5


def test_the_review_page_lists_open_risks_to_confirm_or_re_rate(org, member, member_client):
    from risks.models import RiskRating
    from tests.risks.factories import make_risk

    project, _task, _ms = project_with_milestone(org, manager=member)
    review = opened_review(org, project)
    risk = make_risk(org, project, title="Vendor late", probability=2, impact=3)
    closed = make_risk(org, project, title="Closed one")
    from risks import services as risk_services

    risk_services.risk_close(org=org, actor=member, risk=closed)
    url = reverse("risks:review_detail", kwargs={"org_slug": org.slug, "pk": review.pk})
    page = member_client.get(url).content.decode()
    assert "Vendor late" in page and "Closed one" not in page
    body = {"risk": str(risk.pk), "probability": "2", "impact": "3", "action": "confirm"}
    assert member_client.post(url, body).status_code == 302
    body = {"risk": str(risk.pk), "probability": "4", "impact": "5", "action": "rate"}
    assert member_client.post(url, body).status_code == 302
    risk = fresh(risk)
    assert (risk.probability, risk.impact) == (4, 5)
    reasons = list(
        RiskRating.objects.for_org(org).filter(risk=risk).values_list("reason", flat=True)
    )
    assert len(reasons) == 3 and all("Go-live" in r for r in reasons[1:])
    # A closed risk, or another project's, cannot be rated here.
    body = {"risk": str(closed.pk), "probability": "1", "impact": "1", "action": "rate"}
    assert member_client.post(url, body).status_code == 400
