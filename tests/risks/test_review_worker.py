"""Milestone reviews open exactly once with real services: PostgreSQL, Redis, a real
``celery worker`` killed with SIGKILL mid-run, and two beats ticking at once (the engine's
harness, ``tests/followup/test_worker.py``). Skipped without PostgreSQL and Redis."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from followup.engine.models import FollowUp
from followup.kernel.models import Event
from projects.models import Project, ProjectStatus, WorkItem
from risks.models import ReviewStatus, RiskReview
from tests.factories import MembershipFactory, OrganizationFactory
from tests.followup.test_worker import (
    Process,
    purge_broker,
    require_services,
    wait_for,
    worker,
)

ROOT = Path(__file__).resolve().parents[2]
PER_ORG = 150
ORGS = 3

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def beat(log: Path, interval: float) -> Process:
    return Process([sys.executable, str(ROOT / "tests/risks/beat_loop.py"), str(interval)], log)


def make_milestones() -> None:
    """Per organization, one live project with PER_ORG milestones whose review is due."""
    soon = timezone.now().date() + timedelta(days=2)
    for n in range(ORGS):
        org = OrganizationFactory(name=f"Review worker {n}", slug=f"review-worker-{n}")
        manager = MembershipFactory(organization=org, role=Role.MEMBER).user
        project = Project.objects.create(
            organization=org,
            code=f"RW-{n}",
            name="Reviewed",
            manager=manager,
            sponsor=manager,
            status=ProjectStatus.ACTIVE,
            start_date=date.today(),
        )
        WorkItem.objects.bulk_create(
            [
                WorkItem(
                    organization=org,
                    project=project,
                    name=f"Milestone {i}",
                    position=i,
                    duration_days=0,
                    early_start=soon,
                    early_finish=soon,
                    wbs_code=str(i + 1),
                    wbs_path=f"{i:06d}",
                )
                for i in range(PER_ORG)
            ]
        )


def test_each_review_opens_exactly_once_through_a_worker_crash_and_two_beats(tmp_path):
    require_services()
    purge_broker()
    make_milestones()
    reviews = RiskReview.objects.dangerously_unscoped()
    total = ORGS * PER_ORG
    log = tmp_path / "services.log"
    the_worker = worker(log)
    beats = [beat(log, interval=0.5), beat(log, interval=0.5)]
    try:
        for each in beats:
            each.start()
        wait_for(lambda: reviews.count() >= total, 120, "every review scheduled")
        the_worker.start()
        try:
            wait_for(lambda: reviews.filter(status=ReviewStatus.OPEN).count() >= 20, 120, "first")
        except BaseException:
            print(log.read_text(errors="replace")[-6000:])
            raise
        the_worker.kill()
        killed_at = reviews.filter(status=ReviewStatus.OPEN).count()
        the_worker.start()
        wait_for(
            lambda: reviews.filter(status=ReviewStatus.OPEN).count() >= total,
            180,
            "every review opened",
        )
        assert all(each.alive for each in beats), "a beat crashed: " + log.read_text()[-3000:]
    finally:
        for each in [*beats, the_worker]:
            each.stop()
    text = log.read_text(errors="replace")
    assert killed_at < total, "the worker finished before it was killed: not a mid-run kill"
    assert reviews.count() == total, text[-3000:]
    # One review per milestone, one follow-up per review, one event per milestone.
    assert reviews.values("milestone_id").distinct().count() == total, "a milestone got two reviews"
    followups = FollowUp.objects.dangerously_unscoped().filter(title__startswith="Risk review")
    assert followups.count() == total, text[-3000:]
    due = Event.objects.dangerously_unscoped().filter(type="milestone.review_due")
    assert due.count() == total
    assert due.values("subject_id").distinct().count() == total
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
