"""The monitoring part of the risks demo (``risks.demo`` calls ``seed_monitoring`` last).

- The software customer's integration project gets its milestone risk reviews; the next
  one, a few working days ahead, is open for the project manager.
- Delta Components cancelled its Q3 order: the rep's touchpoint records the cancellation,
  the early-warning rule raises an occurred business risk, and it escalates into Delta's
  custom IT project (an escalated project risk owned by the manager, and a drafted change
  request "put the project on hold" for the sponsor).

Everything goes through the services; a second run finds what the first made (external ids,
the deduplicated early warning, the unique escalation) and adds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engagements import services as engagement_services
from engagements.models import Touchpoint
from followup.kernel.demo import DemoContext
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Decision, Project
from risks import monitoring, reviews
from risks.models import ReviewStatus, RiskReview

DELTA_IT = "demo-project-delta-it"


def seed_monitoring(ctx: DemoContext) -> None:
    projects: dict[str, Any] = ctx.extra.get("projects", {})
    software = projects.get("software")
    if software is not None:
        _reviews(ctx, software)
    engagement = ctx.extra.get("engagements", {}).get("cancelled")
    if engagement is not None:
        _delta_it(ctx, engagement)
        _cancellation(ctx, engagement)


def _reviews(ctx: DemoContext, project: Project) -> None:
    org = ctx.org
    reviews.sync_project(org=org, project_id=project.pk, now=ctx.now)
    due = RiskReview.objects.for_org(org).filter(
        project=project, status=ReviewStatus.SCHEDULED, due_at__lte=ctx.now
    )
    for pk in due.values_list("pk", flat=True):
        reviews.open_review(org=org, review_id=pk, now=ctx.now)


def _delta_it(ctx: DemoContext, engagement: Any) -> Project:
    org = ctx.org
    existing = Project.objects.for_org(org).filter(external_id=DELTA_IT).first()
    if existing is not None:
        return existing
    today = project_selectors.org_today(org, ctx.now)
    project = project_services.project_create(
        org=org,
        actor=ctx.users["manager"],
        data={
            "code": "DLT-IT",
            "name": "Custom order-tracking system for Delta",
            "objective": "Give Delta's purchasing team live tracking of their orders.",
            "engagement": engagement,
            "manager": ctx.users["manager"],
            "sponsor": ctx.users["owner"],
            "start_date": today - timedelta(days=21),
            "target_finish_date": today + timedelta(days=90),
            "external_id": DELTA_IT,
        },
    )
    for name, days in (("Requirements", 10), ("Build", 40), ("Go-live", 0)):
        project_services.work_item_create(
            org=org, actor=None, project=project, data={"name": name, "duration_days": days}
        )
    # Under way: the sponsor let it start without the charter's paperwork (recorded).
    project_services.project_decide(
        org=org,
        actor=ctx.users["owner"],
        project=project,
        decision=Decision.RESUME,
        note="Started on the customer's go-ahead.",
    )
    return Project.objects.for_org(org).get(pk=project.pk)


def _cancellation(ctx: DemoContext, engagement: Any) -> None:
    org = ctx.org
    last = (
        Touchpoint.objects.for_org(org)
        .filter(engagement=engagement)
        .order_by("-occurred_at", "-id")
        .first()
    )
    if last is None:
        return
    if not last.business_event:
        last = engagement_services.touchpoint_update(
            org=org,
            actor=ctx.users["rep"],
            touchpoint=last,
            data={"business_event": Touchpoint.BusinessEvent.CANCELLATION},
        )
    # The rule raises (or finds) the occurred risk and escalates it, once.
    monitoring.check_touchpoint(org=org, touchpoint_id=last.pk)
