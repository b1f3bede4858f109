"""The project half of the demo story (GLOSSARY.md).

- "Bring the new production line into operation within six months" for the manufacturer:
  started two months ago, through the initiating and planning gates (evidence attested by
  the sponsor), now executing, with a WBS of phases, work packages and milestones, links,
  progress, and one milestone that is late (an early warning on the project page).
  Its control story: budget lines for labour, material and equipment, reserves, baseline 1
  (the approved plan), actual costs (equipment over its budget: customs and freight), and an
  approved, implemented change request (customs delay: more days and money from the
  management reserve) that set baseline 2, so the S-curve and the indices say "behind
  schedule, over budget" and why.
- The key software customer's integration project, executing, with a milestone review a few
  working days ahead (the review itself belongs to the risk register).

Everything goes through ``projects.services``; a second run finds the projects by their
external ids and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from followup.kernel.demo import DemoContext
from projects import control, selectors, services
from projects.calc.calendar import WorkCalendar
from projects.models import (
    Baseline,
    Decision,
    GateCriterion,
    PhaseTransition,
    ProgressRecord,
    Project,
    ReserveKind,
    WorkItem,
)

LINE = "demo-production-line"
SOFTWARE = "demo-northwind-integration"

# (outline line, phase key, progress %, assignee key or "", budget)
# Outline depth is the indentation; "| Nd" the duration in working days.
LINE_WBS: list[tuple[str, str, int, str, int]] = [
    ("Initiating", "initiating", 0, "", 0),
    ("  Project charter | 3d", "initiating", 100, "manager", 4_000),
    ("  Stakeholder analysis | 2d", "initiating", 100, "manager", 2_000),
    ("  Charter approved | 0d", "initiating", 100, "", 0),
    ("Planning", "planning", 0, "", 0),
    ("  Line layout and capacity plan | 8d", "planning", 100, "rep", 16_000),
    ("  Equipment specification | 6d", "planning", 100, "rep", 12_000),
    ("  Supplier selection | 10d", "planning", 100, "manager", 9_000),
    ("  Budget for labour, material and equipment | 4d", "planning", 100, "manager", 3_000),
    ("  Project plan approved | 0d", "planning", 100, "", 0),
    ("Executing", "executing", 0, "", 0),
    ("  Site preparation", "executing", 0, "", 0),
    ("    Foundations and floor | 12d", "executing", 100, "rep2", 85_000),
    ("    Power and compressed air | 8d", "executing", 60, "rep2", 42_000),
    ("  Equipment", "executing", 0, "", 0),
    ("    Order machining centres | 5d", "executing", 100, "manager", 2_000),
    ("    Machining centres delivered | 0d", "executing", 0, "manager", 0),
    ("    Delivery and customs | 25d", "executing", 40, "rep", 640_000),
    ("    Installation of machining centres | 15d", "executing", 0, "rep", 95_000),
    ("    Conveyor and robot cells | 20d", "executing", 0, "rep2", 310_000),
    ("  Staff", "executing", 0, "", 0),
    ("    Hire operators | 25d", "executing", 50, "manager", 60_000),
    ("    Operator training | 10d", "executing", 0, "rep", 35_000),
    ("  Equipment installed | 0d", "executing", 0, "", 0),
    ("Monitoring & controlling", "monitoring", 0, "", 0),
    ("  Trial runs | 10d", "monitoring", 0, "rep", 40_000),
    ("  Quality qualification (PPAP) | 8d", "monitoring", 0, "rep2", 18_000),
    ("  Ramp-up to the target OEE | 15d", "monitoring", 0, "rep", 55_000),
    ("  Line accepted by the customer | 0d", "monitoring", 0, "", 0),
    ("Closing", "closing", 0, "", 0),
    ("  Handover documentation | 4d", "closing", 0, "rep", 6_000),
    ("  Lessons learned | 2d", "closing", 0, "manager", 1_000),
    ("  Project closed | 0d", "closing", 0, "", 0),
]
# (predecessor, successor, type, lag) by name.
LINE_LINKS = [
    ("Project charter", "Stakeholder analysis", "FS", 0),
    ("Stakeholder analysis", "Charter approved", "FS", 0),
    ("Charter approved", "Line layout and capacity plan", "FS", 0),
    ("Line layout and capacity plan", "Equipment specification", "SS", 3),
    ("Equipment specification", "Supplier selection", "FS", 0),
    ("Supplier selection", "Budget for labour, material and equipment", "FS", 0),
    ("Budget for labour, material and equipment", "Project plan approved", "FS", 0),
    ("Project plan approved", "Foundations and floor", "FS", 0),
    ("Project plan approved", "Order machining centres", "FS", 0),
    ("Project plan approved", "Hire operators", "FS", 0),
    ("Order machining centres", "Machining centres delivered", "FS", 0),
    ("Order machining centres", "Delivery and customs", "FS", 0),
    ("Foundations and floor", "Power and compressed air", "FS", 0),
    ("Delivery and customs", "Installation of machining centres", "FS", 0),
    ("Power and compressed air", "Installation of machining centres", "FS", 0),
    ("Installation of machining centres", "Conveyor and robot cells", "SS", 5),
    ("Hire operators", "Operator training", "FS", 0),
    ("Conveyor and robot cells", "Equipment installed", "FS", 0),
    ("Installation of machining centres", "Equipment installed", "FS", 0),
    ("Equipment installed", "Trial runs", "FS", 0),
    ("Operator training", "Trial runs", "FS", 0),
    ("Trial runs", "Quality qualification (PPAP)", "FS", 0),
    ("Quality qualification (PPAP)", "Ramp-up to the target OEE", "FS", -3),
    ("Ramp-up to the target OEE", "Line accepted by the customer", "FS", 0),
    ("Line accepted by the customer", "Handover documentation", "FS", 0),
    ("Handover documentation", "Lessons learned", "FS", 0),
    ("Lessons learned", "Project closed", "FS", 0),
]

SOFTWARE_WBS: list[tuple[str, str, int, str, int]] = [
    ("Discovery and plan", "planning", 0, "", 0),
    ("  Integration requirements | 5d", "planning", 100, "rep2", 8_000),
    ("  Architecture and API contract | 4d", "planning", 100, "rep2", 7_000),
    ("Release 1: order sync", "executing", 0, "", 0),
    ("  Order sync service | 12d", "executing", 100, "rep2", 24_000),
    ("  CRM connector | 8d", "executing", 75, "rep", 16_000),
    ("  Integration tests | 5d", "executing", 20, "rep2", 9_000),
    ("  Milestone review: release 1 | 0d", "executing", 0, "manager", 0),
    ("Release 2: analytics", "executing", 0, "", 0),
    ("  Data pipeline | 10d", "executing", 0, "rep2", 20_000),
    ("  Dashboards | 6d", "executing", 0, "rep", 11_000),
    ("  Release 2 accepted | 0d", "executing", 0, "", 0),
]
SOFTWARE_LINKS = [
    ("Integration requirements", "Architecture and API contract", "FS", 0),
    ("Architecture and API contract", "Order sync service", "FS", 0),
    ("Order sync service", "CRM connector", "SS", 4),
    ("CRM connector", "Integration tests", "FS", 0),
    ("Order sync service", "Integration tests", "FS", 0),
    ("Integration tests", "Milestone review: release 1", "FS", 0),
    ("Milestone review: release 1", "Data pipeline", "FS", 0),
    ("Data pipeline", "Dashboards", "SS", 3),
    ("Dashboards", "Release 2 accepted", "FS", 0),
    ("Data pipeline", "Release 2 accepted", "FS", 0),
]


def seed(ctx: DemoContext) -> None:
    services.default_template(ctx.org)
    today = selectors.org_today(ctx.org, ctx.now)
    engagements: dict[str, Any] = ctx.extra.get("engagements", {})
    line = _production_line(ctx, today, engagements.get("manufacturer"))
    software = _software(ctx, today, engagements.get("software"))
    ctx.extra["projects"] = {"production_line": line, "software": software}


def _find(ctx: DemoContext, external_id: str) -> Project | None:
    return Project.objects.for_org(ctx.org).filter(external_id=external_id).first()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _production_line(ctx: DemoContext, today: date, engagement: Any) -> Project:
    existing = _find(ctx, LINE)
    if existing is not None:
        return existing
    start = _monday(today - timedelta(days=63))
    project = services.project_create(
        org=ctx.org,
        actor=ctx.users["manager"],
        data={
            "code": "PL-6M",
            "name": "Bring the new production line into operation within six months",
            "objective": (
                "Install, qualify and ramp up the new machining line for Huaxin so that it "
                "runs at the target OEE within six months, on budget."
            ),
            "success_criteria": [
                "The line runs at 85 % OEE for two consecutive weeks",
                "First parts approved by the customer (PPAP)",
                "Spend within the approved budget of 1.5 M CNY",
            ],
            "engagement": engagement,
            "manager": ctx.users["manager"],
            "sponsor": ctx.users["owner"],
            "start_date": start,
            "target_finish_date": start + timedelta(days=182),
            "calendar": {
                "working_days": [1, 2, 3, 4, 5],
                "holidays": [
                    d.isoformat()
                    for d in (
                        date(today.year, 5, 1),
                        date(today.year, 10, 1),
                        date(today.year + 1, 1, 1),
                        date(today.year + 1, 5, 1),
                    )
                ],
            },
            "currency": "CNY",
            "external_id": LINE,
        },
    )
    _plan(ctx, project, LINE_WBS, LINE_LINKS, today)
    _pass_gates(ctx, project, until="executing", start=start)
    _control(ctx, project, today, start)
    return project


def _software(ctx: DemoContext, today: date, engagement: Any) -> Project:
    existing = _find(ctx, SOFTWARE)
    if existing is not None:
        return existing
    calendar = WorkCalendar.of([1, 2, 3, 4, 5])
    # Started so that the release-1 review falls three working days from today.
    start = calendar.add(today, -22)
    project = services.project_create(
        org=ctx.org,
        actor=ctx.users["manager"],
        data={
            "code": "NW-INT",
            "name": "Northwind platform integration",
            "objective": "Connect Northwind's order platform to their CRM and analytics.",
            "success_criteria": [
                "Orders sync both ways within a minute",
                "Analytics dashboards used weekly by Northwind's sales team",
            ],
            "engagement": engagement,
            "manager": ctx.users["manager"],
            "sponsor": ctx.users["owner"],
            "start_date": start,
            "target_finish_date": calendar.add(start, 60),
            "calendar": {"working_days": [1, 2, 3, 4, 5], "holidays": []},
            "currency": "EUR",
            "external_id": SOFTWARE,
        },
    )
    _plan(ctx, project, SOFTWARE_WBS, SOFTWARE_LINKS, today)
    _pass_gates(ctx, project, until="executing", start=start)
    review = WorkItem.objects.for_org(ctx.org).get(
        project=project, name="Milestone review: release 1"
    )
    # Keep the review three working days ahead whatever the calendar did: the integration
    # tests, which it follows, absorb the difference.
    wanted = calendar.add(today, 3)
    planned = review.early_finish
    if planned is not None and planned != wanted:
        if wanted > planned:
            delta = calendar.count(planned + timedelta(days=1), wanted)
        else:
            delta = -calendar.count(wanted + timedelta(days=1), planned)
        tests = WorkItem.objects.for_org(ctx.org).get(project=project, name="Integration tests")
        services.work_item_update(
            org=ctx.org,
            actor=None,
            item=tests,
            data={"duration_days": max(1, tests.duration_days + delta)},
        )
    return project


def _plan(
    ctx: DemoContext,
    project: Project,
    wbs: list[tuple[str, str, int, str, int]],
    links: list[tuple[str, str, str, int]],
    today: date,
) -> None:
    org = project.organization
    phases = {p.key: p for p in project.phases.all()}
    created = services.outline_paste(
        org=org,
        actor=ctx.users["manager"],
        project=project,
        text="\n".join(line for line, *_rest in wbs),
    )
    by_name = {item.name: item for item in created}
    for (_line, phase_key, _percent, assignee, budget), item in zip(wbs, created, strict=True):
        data: dict[str, Any] = {"phase": phases.get(phase_key, project.phase)}
        if assignee:
            data["assignee"] = ctx.users[assignee]
        if budget and not item.is_summary:
            data["budget"] = Decimal(budget)
            data["effort_hours"] = Decimal(item.duration_days * 8)
        services.work_item_update(org=org, actor=None, item=item, data=data)
    for pred, succ, kind, lag in links:
        services.dependency_create(
            org=org,
            actor=None,
            data={
                "predecessor": by_name[pred],
                "successor": by_name[succ],
                "type": kind,
                "lag_days": lag,
            },
        )
    # Progress as it happened: finished work keeps its planned dates as actual dates, work
    # under way its actual start; done in the order of the WBS, so each one is placed
    # after what came before it.
    percent_of = {line.split("|")[0].strip(): percent for line, _p, percent, _a, _b in wbs}
    for item in WorkItem.objects.for_org(org).filter(project=project).order_by("wbs_path"):
        percent = percent_of.get(item.name, 0)
        if item.is_summary or not percent:
            continue
        item = WorkItem.objects.for_org(org).get(pk=item.pk)
        if item.early_start is None or item.early_start > today:
            continue
        data = {"actual_start": item.early_start, "percent_complete": Decimal(percent)}
        if percent == 100 and item.early_finish is not None and item.early_finish < today:
            data["actual_finish"] = item.early_finish
        services.work_item_update(org=org, actor=None, item=item, data=data)


def _pass_gates(ctx: DemoContext, project: Project, *, until: str, start: date) -> None:
    """Attest what the sponsor signed, then take the go decisions, back-dated to when
    they happened (the phases' last milestones)."""
    org = project.organization
    sponsor = ctx.users["owner"]
    from accounts.models import Membership

    membership = Membership.objects.for_org(org).get(user=sponsor)
    for _ in range(5):
        project = Project.objects.for_org(org).select_related("phase").get(pk=project.pk)
        phase = project.phase
        if phase is None or phase.key == until:
            break
        for criterion in GateCriterion.objects.for_org(org).filter(phase=phase, kind="attested"):
            if criterion.role == "sponsor" and criterion.attested_at is None:
                services.criterion_attest(
                    org=org,
                    membership=membership,
                    criterion=criterion,
                    note="Signed in the steering committee.",
                )
        transition = services.project_decide(
            org=org,
            actor=ctx.users["manager"],
            project=project,
            decision=Decision.GO,
            note="Steering committee: go.",
        )
        last = (
            WorkItem.objects.for_org(org)
            .filter(phase=phase, is_summary=False)
            .exclude(early_finish__isnull=True)
            .order_by("-early_finish")
            .values_list("early_finish", flat=True)
            .first()
        ) or start
        when = timezone.make_aware(datetime.combine(last + timedelta(days=1), time(10, 0)))
        # The decision row itself never changes; only the demo back-dates it once.
        PhaseTransition.objects.for_org(org).filter(pk=transition.pk).update(
            created_at=when, updated_at=when
        )


# Budget category of a work package, by a word of its name (the rest is labour).
CATEGORY_WORDS = [
    ("Delivery", "equipment"),
    ("Conveyor", "equipment"),
    ("Installation", "equipment"),
    ("Order", "equipment"),
    ("Foundations", "material"),
    ("Power", "material"),
]
# Actual cost per earned unit, by category: equipment runs over (customs and freight).
COST_FACTOR = {"equipment": Decimal("1.12"), "material": Decimal("1.03"), "labour": Decimal(1)}


def _category(name: str) -> str:
    return next((category for word, category in CATEGORY_WORDS if word in name), "labour")


def _control(ctx: DemoContext, project: Project, today: date, start: date) -> None:
    """Budget lines, reserves, baseline 1, dated progress, actual costs and an implemented
    change request (baseline 2): the production line's earned-value story."""
    org, manager, sponsor = project.organization, ctx.users["manager"], ctx.users["owner"]
    leaves = list(
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False, budget__gt=0)
        .order_by("wbs_path")
    )
    for leaf in leaves:
        control.budget_line_create(
            org=org,
            actor=manager,
            project=project,
            data={
                "category": _category(leaf.name),
                "work_item": leaf,
                "amount": leaf.budget,
                "description": leaf.name,
            },
        )
    for reserve, amount, reason in (
        (ReserveKind.CONTINGENCY, 60_000, "Identified risks: supplier delay, customs"),
        (ReserveKind.MANAGEMENT, 40_000, "Unknowns, held by the sponsor"),
    ):
        control.reserve_set_aside(
            org=org, actor=manager, project=project, reserve=reserve, amount=amount, reason=reason
        )
    first = control.baseline_create(org=org, actor=manager, project=project, name="Approved plan")
    # The plan was approved at the planning gate; the demo back-dates the row once.
    gate_day = timezone.make_aware(datetime.combine(start + timedelta(days=35), time(16, 0)))
    Baseline.objects.for_org(org).filter(pk=first.pk).update(created_at=gate_day)

    # Progress as it was recorded: done work on its finish day, work under way twice.
    items = {
        i.pk: i for i in WorkItem.objects.for_org(org).filter(project=project, is_summary=False)
    }
    for record in ProgressRecord.objects.for_org(org).filter(project=project):
        leaf = items[record.work_item_id]
        if record.percent_complete >= 100 and leaf.actual_finish:
            day = leaf.actual_finish
        else:
            day = today - timedelta(days=3)
        ProgressRecord.objects.for_org(org).filter(pk=record.pk).update(date=day)
    for leaf in items.values():
        if 0 < leaf.percent_complete < 100 and leaf.actual_start:
            halfway = leaf.actual_start + (today - leaf.actual_start) / 2
            ProgressRecord.objects.create(
                organization=org,
                project=project,
                work_item=leaf,
                date=halfway,
                percent_complete=(leaf.percent_complete / 2).quantize(Decimal("0.01")),
            )

    # Actual costs: what the earned work cost, booked as it went (two entries a package).
    control.labour_rate_set(org=org, actor=sponsor, role="manager", rate="260.00")
    for leaf in items.values():
        if not leaf.percent_complete or not leaf.actual_start or not leaf.budget:
            continue
        category = _category(leaf.name)
        earned = leaf.budget * leaf.percent_complete / 100
        spent = (earned * COST_FACTOR.get(category, Decimal(1))).quantize(Decimal("0.01"))
        last = min(leaf.actual_finish or today, today)
        halfway = leaf.actual_start + (last - leaf.actual_start) / 2
        for day, share in ((halfway, Decimal("0.4")), (last, Decimal("0.6"))):
            control.cost_entry_create(
                org=org,
                actor=manager,
                project=project,
                data={
                    "category": category,
                    "work_item": leaf,
                    "amount": (spent * share).quantize(Decimal("0.01")),
                    "date": day,
                    "note": "Invoice" if category != "labour" else "Timesheets",
                },
            )
    hire = next((i for i in items.values() if i.name == "Hire operators"), None)
    if hire is not None:
        control.labour_cost_log(
            org=org,
            actor=manager,
            project=project,
            person=manager,
            hours=Decimal(16),
            on=today - timedelta(days=1),
            work_item=hire,
            note="Interviews",
        )

    # The customs delay: three more days and 25,000 from the management reserve.
    delivery = next(i for i in items.values() if i.name == "Delivery and customs")
    cr = control.change_request_draft(
        org=org,
        actor=manager,
        project=project,
        title="Customs hold on the machining centres",
        reason=(
            "Customs held the machining centres for inspection: three more working days "
            "and expedited freight from the port."
        ),
        changes=[
            {
                "kind": "duration",
                "work_item": str(delivery.pk),
                "duration_days": delivery.duration_days + 3,
            },
            {
                "kind": "reserve_transfer",
                "from": "management",
                "to": "budget",
                "amount": "25000.00",
                "category": "equipment",
                "work_item": str(delivery.pk),
            },
        ],
    )
    control.change_request_submit(org=org, actor=manager, cr=cr)
    control.change_request_approve(
        org=org, actor=sponsor, cr=cr, note="Approved by the sponsor.", can=lambda cap: False
    )
    control.change_request_implement(org=org, actor=manager, cr=cr)
