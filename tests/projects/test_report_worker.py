"""Exactly once with real services: each due project's weekly status report is drafted
once, with two beat processes ticking at once and the worker SIGKILLed mid-run and started
again (the harness of ``tests/followup/test_worker.py``). Skipped without PostgreSQL and
Redis; ``FOLLOWUP_REQUIRE_SERVICES=1`` turns the skip into a failure."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from accounts.roles import Role
from followup.engine.models import FollowUp
from followup.kernel.models import Event
from projects.models import Project, ProjectStatus, ReportSchedule, StatusReport
from tests.factories import MembershipFactory, OrganizationFactory
from tests.followup.test_worker import Process, purge_broker, require_services, wait_for, worker

ROOT = Path(__file__).resolve().parents[2]
PER_ORG = 20  # a draft takes ~0.2 s here: 60 keep the run short and still killable

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def beat(log: Path, interval: float) -> Process:
    return Process(
        [sys.executable, str(ROOT / "tests/projects/report_beat_loop.py"), str(interval)], log
    )


def make_due_projects() -> int:
    due = timezone.now() - timedelta(seconds=1)
    total = 0
    for n in range(3):
        org = OrganizationFactory(name=f"Reports {n}", slug=f"reports-{n}")
        manager = MembershipFactory(organization=org, role=Role.MEMBER).user
        projects = Project.objects.bulk_create(
            [
                Project(
                    organization=org,
                    code=f"R{n}-{i}",
                    name=f"Project {n}-{i}",
                    manager=manager,
                    status=ProjectStatus.ACTIVE,
                    start_date=timezone.now().date(),
                )
                for i in range(PER_ORG)
            ]
        )
        ReportSchedule.objects.bulk_create(
            [ReportSchedule(organization=org, project=p, next_due_at=due) for p in projects]
        )
        total += len(projects)
    return total


def test_each_weekly_report_is_drafted_once_through_two_beats_and_a_worker_crash(tmp_path):
    require_services()
    purge_broker()
    total = make_due_projects()
    drafted = StatusReport.objects.dangerously_unscoped()
    log = tmp_path / "services.log"
    the_worker = worker(log)
    beats = [beat(log, interval=0.3), beat(log, interval=0.3)]
    try:
        the_worker.start()
        for each in beats:
            each.start()
        wait_for(lambda: drafted.count() >= 8, 90, "the first drafts")
        the_worker.kill()
        killed_at = drafted.count()
        the_worker.start()
        wait_for(
            lambda: (
                drafted.count() >= total
                and not ReportSchedule.objects.dangerously_unscoped()
                .filter(claim__isnull=False)
                .exists()
            ),
            150,
            "every report",
        )
        assert all(each.alive for each in beats), "a beat crashed: " + log.read_text()[-3000:]
    finally:
        for each in [*beats, the_worker]:
            each.stop()
        print(log.read_text(errors="replace")[-4000:])  # shown when the test fails
    text = log.read_text(errors="replace")
    assert killed_at < total, "the worker finished before it was killed: not a mid-run kill"
    assert drafted.count() == total, text[-3000:]
    per_project = drafted.values("project_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_project} == {1}
    events = Event.objects.dangerously_unscoped().filter(type="status_report.drafted")
    assert events.count() == total
    project_ids = list(Project.objects.dangerously_unscoped().values_list("pk", flat=True))
    followups = FollowUp.objects.dangerously_unscoped().filter(subject_id__in=project_ids)
    assert followups.count() == total
    # Every schedule moved on to next week.
    assert (
        not ReportSchedule.objects.dangerously_unscoped()
        .filter(next_due_at__lte=timezone.now())
        .exists()
    )
