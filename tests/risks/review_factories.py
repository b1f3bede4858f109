"""Builders for the risk register's tests (reviews part)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from projects import selectors as project_selectors
from risks import reviews
from risks.models import RiskReview
from tests.projects.factories import fresh, item, link, make_project


def monday_in(days: int) -> date:
    """A Monday at least ``days`` days from today (so working-day counts are simple)."""
    day = timezone.now().date() + timedelta(days=days)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def project_with_milestone(org, *, manager, sponsor=None, start=None, work_days=10, **fields):
    """A project whose first task takes ``work_days`` and ends in a milestone."""
    project = make_project(
        org,
        manager=manager,
        sponsor=sponsor or manager,
        start_date=start or monday_in(14),
        **fields,
    )
    task = item(org, project, "Build the thing", work_days)
    milestone = item(org, project, "Go-live", 0)
    link(org, task, milestone)
    return fresh(project), fresh(task), fresh(milestone)


def scheduled_review(org, project) -> RiskReview:
    reviews.sync_project(org=org, project_id=project.pk)
    return RiskReview.objects.for_org(org).get(project=project)


def opened_review(org, project) -> RiskReview:
    review = scheduled_review(org, project)
    reviews.open_review(org=org, review_id=review.pk, now=review.due_at)
    return fresh(review)


def planned(org, milestone) -> date:
    value = fresh(milestone).early_finish
    assert value is not None
    return value


__all__ = ["opened_review", "planned", "project_selectors", "project_with_milestone"]
