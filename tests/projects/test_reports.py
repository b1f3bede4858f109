"""Weekly status reports (issue 9, item 6): drafted once per project and week by the beat,
completed and published by the manager, with the figures of the week."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from followup.engine.models import FollowUp, FollowUpStatus, Notification
from followup.kernel.models import Event
from projects import reports, services
from projects.models import (
    Project,
    ProjectFollower,
    ProjectStatus,
    ReportSchedule,
    Rework,
    StatusReport,
)
from tests.factories import MembershipFactory
from tests.projects.factories import fresh, item, link, make_project
from tests.utils import assert_constant_queries

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2027, 1, 7, 12, 0, tzinfo=UTC)
FRIDAY_NOON = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)


def active_project(org, manager, sponsor=None, **fields) -> Project:
    project = make_project(
        org, manager=manager, sponsor=sponsor, start_date=date(2027, 1, 4), **fields
    )
    Project.objects.for_org(org).filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)
    return fresh(project)


def draft_due(now=FRIDAY_NOON):
    """What one beat tick and its tasks do, in process: schedule, claim, draft."""
    reports.ensure_schedules(now - timedelta(days=1))
    claimed = reports.claim(now)
    drafted = []
    for org_id, schedule_id in claimed.rows:
        org = fresh_org(org_id)
        drafted.append(
            reports.draft(org=org, schedule_id=schedule_id, token=claimed.token, now=now)
        )
    return claimed, drafted


def fresh_org(org_id):
    from accounts.models import Organization

    return Organization.objects.get(pk=org_id)


# --- When ---------------------------------------------------------------------------------------


def test_the_report_is_due_friday_morning_in_the_managers_time_zone():
    moment = reports.next_report_at(BERLIN, 5, THURSDAY)
    assert moment == datetime(2027, 1, 8, 8, 0, tzinfo=BERLIN)
    # Friday after 08:00 local: next week's Friday.
    assert reports.next_report_at(BERLIN, 5, FRIDAY_NOON) == datetime(
        2027, 1, 15, 8, 0, tzinfo=BERLIN
    )


def test_the_organization_sets_the_weekday(org, member):
    org.settings = {"status_reports": {"weekday": 1}}
    org.save()
    member.timezone = "Asia/Shanghai"
    member.save()
    project = active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    schedule = ReportSchedule.objects.for_org(org).get(project=project)
    assert schedule.next_due_at == datetime(2027, 1, 11, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_proposed_projects_get_no_schedule(org, member):
    make_project(org, manager=member)
    assert reports.ensure_schedules(THURSDAY) == 0


# --- Exactly once ---------------------------------------------------------------------------------


def test_two_ticks_draft_one_report_per_project_and_week(org, member):
    projects = [active_project(org, member) for _ in range(3)]
    first, drafted = draft_due()
    second, _again = draft_due()
    assert len(first.rows) == 3 and second.rows == []
    assert all(r is not None for r in drafted)
    for project in projects:
        assert StatusReport.objects.for_org(org).filter(project=project).count() == 1
    assert Event.objects.for_org(org).filter(type="status_report.drafted").count() == 3
    assert FollowUp.objects.for_org(org).filter(owner=member).count() == 3


def test_a_redelivered_draft_task_drafts_nothing_more(org, member):
    project = active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    claimed = reports.claim(FRIDAY_NOON)
    ((_org_id, schedule_id),) = claimed.rows
    report = reports.draft(org=org, schedule_id=schedule_id, token=claimed.token, now=FRIDAY_NOON)
    assert report is not None
    redelivered = reports.draft(
        org=org, schedule_id=schedule_id, token=claimed.token, now=FRIDAY_NOON
    )
    assert redelivered is None
    assert StatusReport.objects.for_org(org).filter(project=project).count() == 1
    schedule = ReportSchedule.objects.for_org(org).get(pk=schedule_id)
    assert schedule.claim is None
    assert schedule.next_due_at > FRIDAY_NOON


def test_a_claim_of_a_dead_worker_is_taken_over_and_drafts_once(org, member, settings):
    project = active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    dead = reports.claim(FRIDAY_NOON)
    assert len(dead.rows) == 1
    # The worker died before drafting; after the claim timeout another tick takes it over.
    later = FRIDAY_NOON + settings.FOLLOWUP_CLAIM_TIMEOUT + timedelta(seconds=1)
    takeover = reports.claim(later)
    assert takeover.rows == dead.rows
    (_, schedule_id) = takeover.rows[0]
    assert reports.draft(org=org, schedule_id=schedule_id, token=takeover.token, now=later)
    # The dead worker's late redelivery finds its claim gone.
    assert reports.draft(org=org, schedule_id=schedule_id, token=dead.token, now=later) is None
    assert StatusReport.objects.for_org(org).filter(project=project).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_claim_disjoint_rows(org, member):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims need PostgreSQL row locks")
    for _ in range(20):
        active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    results: list = []
    barrier = threading.Barrier(2)

    def beat():
        barrier.wait()
        results.append(reports.claim(FRIDAY_NOON))
        connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [row for r in results for row in r.rows]
    assert len(claimed) == 20
    assert len(set(claimed)) == 20


def test_a_project_that_is_no_longer_active_gets_no_draft(org, member):
    project = active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    Project.objects.for_org(org).filter(pk=project.pk).update(status=ProjectStatus.ON_HOLD)
    _claimed, drafted = draft_due()
    assert drafted == [None]
    assert not StatusReport.objects.for_org(org).exists()


# --- What the draft says -----------------------------------------------------------------------


def test_the_draft_has_milestones_rework_critical_path_and_the_providers(org, member, monkeypatch):
    project = active_project(org, member)
    build = item(org, project, "Build", 3)  # Mon 4 - Wed 6
    reached = item(org, project, "Frame welded", 0)
    link(org, build, reached)
    other = item(org, project, "Paperwork", 1)
    missed = item(org, project, "Permit granted", 0)
    link(org, other, missed)
    services.work_item_update(org=org, actor=None, item=build, data={"percent_complete": 100})
    services.work_item_update(
        org=org,
        actor=None,
        item=reached,
        data={"percent_complete": 100, "actual_finish": date(2027, 1, 6)},
    )
    services.work_item_update(org=org, actor=None, item=build, data={"percent_complete": 90})
    monkeypatch.setattr(
        reports,
        "_indices",
        [
            lambda o, p, d: reports.Indices(
                spi=Decimal("0.8"), cpi=Decimal("0.8889"), ac=Decimal(45)
            )
        ],
    )
    monkeypatch.setattr(
        reports, "_risks", [lambda o, p, n: [reports.Line(title="Supplier late", detail="P4 I4")]]
    )
    monkeypatch.setattr(reports, "_change_requests", [])
    # The reopening happened on Tuesday of the reported week.
    Rework.objects.for_org(org).update(created_at=datetime(2027, 1, 5, 10, tzinfo=UTC))
    report = reports._create_draft(org, fresh(project), date(2027, 1, 8))
    data = report.data
    assert data["period"] == {"start": "2027-01-02", "end": "2027-01-08"}
    assert [m["name"] for m in data["milestones"]["hit"]] == [f"{reached.wbs_code} Frame welded"]
    assert [m["name"] for m in data["milestones"]["missed"]] == [
        f"{missed.wbs_code} Permit granted"
    ]
    assert data["quality"]["rework"] == 1
    assert (report.spi, report.cpi) == (Decimal("0.8"), Decimal("0.8889"))
    assert data["risks"] == [{"title": "Supplier late", "detail": "P4 I4", "url": ""}]
    assert data["change_requests"] is None  # no provider: not available, not "none"
    assert data["critical_path_changes"]["compared"] is False


def test_the_next_report_names_critical_path_changes(org, member):
    project = active_project(org, member)
    a = item(org, project, "Foundation", 3)
    b = item(org, project, "Cabling", 1)
    report = reports._create_draft(org, fresh(project), date(2027, 1, 8))
    assert report.data["critical_path"] == [str(a.pk)]
    services.work_item_update(org=org, actor=None, item=b, data={"duration_days": 6})
    second = reports._create_draft(org, fresh(project), date(2027, 1, 15))
    changes = second.data["critical_path_changes"]
    assert changes["compared"] is True
    assert changes["added"] == [f"{b.wbs_code} Cabling"]
    assert changes["removed"] == [f"{a.wbs_code} Foundation"]


def test_the_draft_is_a_follow_up_for_the_manager_due_on_the_report_day(org, member):
    member.timezone = "Europe/Berlin"
    member.save()
    project = active_project(org, member)
    _claimed, (report,) = draft_due()
    followup = FollowUp.objects.for_org(org).get(pk=report.data["followup"])
    assert followup.owner == member
    assert followup.subject_id == project.pk
    assert followup.due_at == datetime(2027, 1, 8, 17, 0, tzinfo=BERLIN)
    assert report.period_end == date(2027, 1, 8)
    assert report.period_start == date(2027, 1, 2)


# --- Completing and publishing ------------------------------------------------------------------

RATED = {
    "narrative": "Frame welded; permit still pending.",
    "rag_schedule": "amber",
    "rag_cost": "green",
    "rag_scope": "green",
    "rag_quality": "green",
    "rag_risk": "red",
}


def test_publishing_needs_every_rating_and_a_narrative(client, org, member):
    project = active_project(org, member)
    report = reports._create_draft(org, project, date(2027, 1, 8))
    client.force_login(member)
    response = client.post(
        f"/o/acme/status-reports/{report.pk}/", {**RATED, "rag_risk": "", "publish": "1"}
    )
    assert response.status_code == 400
    assert "Rate this dimension before publishing." in response.content.decode()
    assert fresh(report).status == StatusReport.Status.DRAFT
    saved = client.post(f"/o/acme/status-reports/{report.pk}/", {**RATED, "rag_risk": ""})
    assert saved.status_code == 302
    assert fresh(report).narrative == RATED["narrative"]


def test_publishing_notifies_the_sponsor_and_followers_who_are_still_members(
    client, org, member, owner, viewer
):
    project = active_project(org, member, sponsor=owner)
    report = reports._create_draft(org, project, date(2027, 1, 8))
    reports.follow(org=org, actor=viewer, project=project, on=True)
    former = MembershipFactory(organization=org)
    ProjectFollower.objects.create(organization=org, project=project, user=former.user)
    former.delete()
    followup = reports._draft_followup(org, project, report)
    report.data = {**report.data, "followup": str(followup.pk)}
    report.save()
    client.force_login(member)
    response = client.post(f"/o/acme/status-reports/{report.pk}/", {**RATED, "publish": "1"})
    assert response.status_code == 302
    published = fresh(report)
    assert published.status == StatusReport.Status.PUBLISHED
    assert (published.rag_schedule, published.rag_risk) == ("amber", "red")
    notified = set(
        Notification.objects.for_org(org)
        .filter(kind="status_report.published")
        .values_list("recipient_id", flat=True)
    )
    assert notified == {owner.pk, viewer.pk}
    assert Event.objects.for_org(org).filter(type="status_report.published").count() == 1
    assert fresh(followup).status == FollowUpStatus.DONE
    # Published: the page no longer offers the form, and a second post changes nothing.
    again = client.post(f"/o/acme/status-reports/{report.pk}/", {**RATED, "narrative": "x"})
    assert again.status_code == 400
    assert fresh(report).narrative == RATED["narrative"]


def test_only_the_manager_or_an_admin_publishes(client, org, member, owner):
    project = active_project(org, owner)
    report = reports._create_draft(org, project, date(2027, 1, 8))
    client.force_login(member)
    page = client.get(f"/o/acme/status-reports/{report.pk}/").content.decode()
    assert 'name="publish"' not in page
    response = client.post(f"/o/acme/status-reports/{report.pk}/", {**RATED, "publish": "1"})
    assert response.status_code == 403
    assert fresh(report).status == StatusReport.Status.DRAFT


def test_the_report_page_is_print_friendly(member_client, org, member):
    project = active_project(org, member)
    report = reports._create_draft(org, project, date(2027, 1, 8))
    page = member_client.get(f"/o/acme/status-reports/{report.pk}/").content.decode()
    assert 'class="status-report"' in page
    assert 'class="card no-print narrow"' in page  # the form is left out when printed
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/app.css").read_text()
    assert ".no-print, .report-actions" in css.split("@media print")[-1]


def test_the_history_shows_the_spi_cpi_trend(member_client, org, member):
    project = active_project(org, member)
    for n, (spi, cpi) in enumerate([("0.9", "1.05"), ("0.85", "0.98"), ("0.95", "0.97")]):
        report = reports._create_draft(org, project, date(2027, 1, 8) + timedelta(weeks=n))
        StatusReport.objects.for_org(org).filter(pk=report.pk).update(
            spi=Decimal(spi), cpi=Decimal(cpi)
        )
    page = member_client.get(f"/o/acme/projects/{project.pk}/reports/").content.decode()
    assert page.count("<polyline") == 2
    assert "SPI 2027-01-22: 0.9500" in page


def test_the_history_says_when_there_are_no_indices(member_client, org, member):
    project = active_project(org, member)
    reports._create_draft(org, project, date(2027, 1, 8))
    page = member_client.get(f"/o/acme/projects/{project.pk}/reports/").content.decode()
    assert "<polyline" not in page
    assert "No indices yet" in page


def test_the_history_costs_the_same_for_1_and_50_reports(member_client, org, member):
    project = active_project(org, member)
    weeks = iter(range(100))

    def make(n):
        for _ in range(n):
            StatusReport.objects.create(
                organization=org,
                project=project,
                period_start=date(2027, 1, 2),
                period_end=date(2027, 1, 8) + timedelta(weeks=next(weeks)),
                spi=Decimal("0.9"),
                published_by=member,
                status=StatusReport.Status.PUBLISHED,
            )

    assert_constant_queries(
        make, lambda: member_client.get(f"/o/acme/projects/{project.pk}/reports/")
    )


def test_draft_now_refuses_a_second_draft_for_the_week(member_client, org, member):
    project = active_project(org, member)
    first = member_client.post(f"/o/acme/projects/{project.pk}/reports/")
    assert first.status_code == 302
    second = member_client.post(f"/o/acme/projects/{project.pk}/reports/", follow=True)
    assert "This week&#x27;s report exists already." in second.content.decode()
    assert StatusReport.objects.for_org(org).count() == 1


def test_following_and_unfollowing(member_client, org, member):
    project = active_project(org, member)
    member_client.post(f"/o/acme/projects/{project.pk}/follow/", {"follow": "1"})
    assert ProjectFollower.objects.for_org(org).filter(user=member).exists()
    member_client.post(f"/o/acme/projects/{project.pk}/follow/", {"follow": "0"})
    assert not ProjectFollower.objects.for_org(org).exists()


def test_unknown_tokens_draft_nothing(org, member):
    active_project(org, member)
    reports.ensure_schedules(THURSDAY)
    schedule = ReportSchedule.objects.for_org(org).get()
    assert reports.draft(org=org, schedule_id=schedule.pk, token=uuid.uuid4()) is None


def test_the_report_takes_spi_and_cpi_from_earned_value_and_lists_open_change_requests(
    member_client, org, member
):
    from projects import control
    from projects.models import ChangeRequest

    project = active_project(org, member)
    work = item(org, project, "Assemble", 5, budget=Decimal(1000))  # Mon 4 - Fri 8
    control.baseline_create(org=org, actor=member, project=fresh(project), name="Plan")
    services.work_item_update(org=org, actor=member, item=work, data={"percent_complete": 40})
    control.cost_entry_create(
        org=org,
        actor=member,
        project=fresh(project),
        data={"category": "labour", "amount": "500.00", "date": "2027-01-06", "work_item": work},
    )
    ChangeRequest.objects.create(
        organization=org, project=project, number=1, title="Extra robot", reason="Throughput"
    )
    report = reports._create_draft(org, fresh(project), date(2027, 1, 8))
    # PV 1,000 (the whole span is planned by Friday), EV 400, AC 500.
    assert (report.spi, report.cpi) == (Decimal("0.4000"), Decimal("0.8000"))
    assert report.data["budget"]["ac"] == "500.00"
    assert [line["title"] for line in report.data["change_requests"]] == ["CR-1 Extra robot"]
    page = member_client.get(f"/o/acme/status-reports/{report.pk}/").content.decode()
    assert "0.4000" in page and "CR-1 Extra robot" in page
