"""Weekly status reports of projects (issue 9, item 6).

Due state lives in the database: each active project has a ``ReportSchedule`` row whose
``next_due_at`` is its next report moment (the organization's report weekday, default
Friday, at ``REPORT_HOUR`` in the project manager's time zone). The beat tick creates the
missing schedule rows, claims the due ones (``followup.kernel.claims``: two beats never
claim the same row, a claim of a killed worker is taken over after the timeout) and queues
one task per row; the task drafts the report in the transaction that moves the row to its
next moment and releases the claim, so a report is drafted exactly once, whatever the
number of beats, redeliveries or crashes (``StatusReport`` is also unique per project and
period). The draft is a follow-up for the manager; the manager adds a narrative and a
red/amber/green per dimension, then publishes it: in the app and by e-mail to the sponsor
and the project's followers (``followup.engine.notifications``, which checks membership when
it sends).

Figures that other parts of the product own come through small registries filled in their
``AppConfig.ready()``: schedule and cost indices (``register_indices_provider``; earned value
lives with baselines and costs), open change requests and top risks
(``register_change_request_provider``, ``register_risk_provider``). Without a provider the
report says the figure is not available, never a made-up value.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Membership, Organization, User
from accounts.tenancy import require_same_org
from followup.engine import notifications
from followup.engine import services as followups
from followup.engine.models import FollowUp, FollowUpStatus
from followup.kernel import claims, events
from followup.kernel.mail import user_language, user_zone
from projects import selectors
from projects.models import (
    AcceptanceCriterion,
    ChangeRequest,
    ChangeRequestStatus,
    CriterionState,
    Project,
    ProjectFollower,
    ProjectStatus,
    Rag,
    ReportSchedule,
    ReportStatus,
    Rework,
    StatusReport,
    WorkItem,
)

logger = logging.getLogger(__name__)

REPORT_HOUR = 8  # the draft is ready on the report day's morning, manager's local time
DUE_HOUR = 17  # the manager's follow-up is due that afternoon
DEFAULT_WEEKDAY = 5  # ISO weekday: Friday
DIMENSIONS = ("schedule", "cost", "scope", "quality", "risk")
TOP_RISKS = 5
CLAIM_BATCH = 200


# --- Registries filled by later apps --------------------------------------------------------


@dataclass(frozen=True)
class Indices:
    """Schedule and cost performance at a status date; any figure may be unknown."""

    spi: Decimal | None = None
    cpi: Decimal | None = None
    bac: Decimal | None = None  # budget at completion
    ac: Decimal | None = None  # actual cost to date
    ev: Decimal | None = None
    pv: Decimal | None = None


@dataclass(frozen=True)
class Line:
    """One line of a provided section: a title, an optional detail and link."""

    title: str
    detail: str = ""
    url: str = ""


IndicesProvider = Callable[[Organization, Project, date], Indices | None]
LinesProvider = Callable[[Organization, Project, int], list[Line]]

_indices: list[IndicesProvider] = []
_change_requests: list[LinesProvider] = []
_risks: list[LinesProvider] = []


def register_indices_provider(fn: IndicesProvider) -> IndicesProvider:
    """``fn(org, project, as_of)`` returns ``Indices`` (or None: not known for this
    project). The last registered provider wins."""
    _indices.append(fn)
    return fn


def register_change_request_provider(fn: LinesProvider) -> LinesProvider:
    """``fn(org, project, limit)`` returns the project's open change requests as lines."""
    _change_requests.append(fn)
    return fn


def register_risk_provider(fn: LinesProvider) -> LinesProvider:
    """``fn(org, project, limit)`` returns the project's top risks as lines."""
    _risks.append(fn)
    return fn


def _provided_indices(org: Organization, project: Project, as_of: date) -> Indices | None:
    for fn in reversed(_indices):
        result = fn(org, project, as_of)
        if result is not None:
            return result
    return None


def _lines(providers: list[LinesProvider], org: Organization, project: Project) -> Any:
    if not providers:
        return None  # no provider: not available (distinct from "none open")
    out: list[dict[str, str]] = []
    for fn in providers:
        out += [
            {"title": line.title, "detail": line.detail, "url": line.url}
            for line in fn(org, project, TOP_RISKS)
        ]
    return out[:TOP_RISKS]


# --- The providers of this app (registered in ``projects.registry``) ---------------------------


def earned_value_indices(org: Organization, project: Project, as_of: date) -> Indices:
    """SPI, CPI, BAC, AC, EV and PV of ``projects.evm`` at the end of the report's week
    (indices undefined there, e.g. no baseline yet, stay None)."""
    from projects import evm

    figures = evm.figures(org, project, as_of)
    return Indices(
        spi=figures.spi,
        cpi=figures.cpi,
        bac=figures.bac,
        ac=figures.ac,
        ev=figures.ev,
        pv=figures.pv,
    )


OPEN_CHANGE_STATES = (
    ChangeRequestStatus.DRAFT,
    ChangeRequestStatus.SUBMITTED,
    ChangeRequestStatus.APPROVED,
)


def open_change_requests(org: Organization, project: Project, limit: int) -> list[Line]:
    """Change requests not decided or not implemented yet, oldest first."""
    rows = (
        ChangeRequest.objects.for_org(org)
        .filter(project=project, status__in=OPEN_CHANGE_STATES)
        .order_by("number")[:limit]
    )
    return [
        Line(
            title=f"{cr.code} {cr.title}",
            detail=str(ChangeRequestStatus(cr.status).label),
            url=reverse(
                "projects:change_request_detail", kwargs={"org_slug": org.slug, "pk": cr.pk}
            ),
        )
        for cr in rows
    ]


# --- When reports are due -------------------------------------------------------------------


def report_weekday(org: Organization) -> int:
    stored = (org.settings or {}).get("status_reports") or {}
    try:
        weekday = int(stored.get("weekday", DEFAULT_WEEKDAY))
    except (TypeError, ValueError):
        return DEFAULT_WEEKDAY
    return weekday if 1 <= weekday <= 7 else DEFAULT_WEEKDAY


def manager_zone(project: Project) -> zoneinfo.ZoneInfo:
    if project.manager is not None:
        return user_zone(project.manager)
    return selectors.org_zone(project.organization)


def next_report_at(zone: zoneinfo.ZoneInfo, weekday: int, after: datetime) -> datetime:
    """The first report moment (``weekday`` at ``REPORT_HOUR`` in ``zone``) after ``after``."""
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.isoweekday()) % 7)
    moment = datetime.combine(day, time(REPORT_HOUR), tzinfo=zone)
    if moment <= after:
        moment = datetime.combine(day + timedelta(days=7), time(REPORT_HOUR), tzinfo=zone)
    return moment


def ensure_schedules(now: datetime) -> int:
    """Give each active project without one a schedule row (its next report moment).
    Cross-tenant by nature (a beat tick); conflicting inserts of two beats are ignored."""
    missing = list(
        Project.objects.dangerously_unscoped()  # the beat looks at every organization
        .filter(status=ProjectStatus.ACTIVE)
        .exclude(pk__in=ReportSchedule.objects.dangerously_unscoped().values("project_id"))
        .select_related("organization", "manager")[:5000]
    )
    rows = [
        ReportSchedule(
            organization_id=p.organization_id,
            project=p,
            next_due_at=next_report_at(manager_zone(p), report_weekday(p.organization), now),
        )
        for p in missing
    ]
    ReportSchedule.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def claim(now: datetime | None = None) -> claims.Claimed:
    now = now or timezone.now()
    due = ReportSchedule.objects.dangerously_unscoped().filter(  # a beat: every organization
        next_due_at__lte=now
    )
    return claims.claim_due(
        due,
        due_field="next_due_at",
        claimed_at_field="claimed_at",
        claim_field="claim",
        now=now,
        timeout=settings.FOLLOWUP_CLAIM_TIMEOUT,
        batch=CLAIM_BATCH,
    )


# --- The draft ------------------------------------------------------------------------------


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _milestones(org: Organization, project: Project, start: date, end: date) -> dict[str, Any]:
    rows = list(
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False, duration_days=0, early_finish__lte=end)
        .order_by("early_finish", "wbs_path")
        .values("pk", "wbs_code", "name", "early_finish", "actual_finish", "percent_complete")
    )
    hit, missed = [], []
    for row in rows:
        planned = row["early_finish"]
        if planned is None:
            continue
        entry = {
            "id": str(row["pk"]),
            "name": f"{row['wbs_code']} {row['name']}".strip(),
            "planned": planned.isoformat(),
        }
        if row["percent_complete"] >= 100:
            reached: date = row["actual_finish"] or planned
            if start <= reached <= end:
                hit.append({**entry, "reached": reached.isoformat()})
        else:
            missed.append(entry)
    return {"hit": hit, "missed": missed}


def _critical_names(org: Organization, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {
        str(pk): f"{code} {name}".strip()
        for pk, code, name in WorkItem.objects.for_org(org)
        .filter(pk__in=ids)
        .values_list("pk", "wbs_code", "name")
    }


def compute(
    org: Organization,
    project: Project,
    *,
    period_start: date,
    period_end: date,
    previous: StatusReport | None,
) -> dict[str, Any]:
    """The frozen figures of a report: what the beat drafts and the page shows."""
    zone = selectors.org_zone(org)
    start_at = datetime.combine(period_start, time.min, tzinfo=zone)
    end_at = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=zone)
    indices = _provided_indices(org, project, period_end)
    leaves = WorkItem.objects.for_org(org).filter(project=project, is_summary=False)
    planned = leaves.aggregate(total=Sum("budget"))["total"] or Decimal(0)
    bac = indices.bac if indices is not None and indices.bac is not None else planned
    ac = indices.ac if indices is not None else None
    critical = [str(pk) for pk in project.critical_path or []]
    before = [str(pk) for pk in (previous.data.get("critical_path") if previous else None) or []]
    names = _critical_names(org, sorted(set(critical) | set(before)))
    rework = Rework.objects.for_org(org).filter(project=project)
    return {
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "indices": {
            "available": indices is not None,
            "spi": _dec(indices.spi) if indices else None,
            "cpi": _dec(indices.cpi) if indices else None,
            "ev": _dec(indices.ev) if indices else None,
            "pv": _dec(indices.pv) if indices else None,
        },
        "schedule": {
            "finish": project.schedule_finish.isoformat() if project.schedule_finish else None,
            "target": (
                project.target_finish_date.isoformat() if project.target_finish_date else None
            ),
            "slip_days": project.slip_days,
        },
        "milestones": _milestones(org, project, period_start, period_end),
        "critical_path": critical,
        "critical_path_changes": {
            "compared": previous is not None,
            "added": [names.get(pk, pk) for pk in critical if pk not in before],
            "removed": [names.get(pk, pk) for pk in before if pk not in critical],
        },
        "budget": {
            "bac": _dec(bac),
            "ac": _dec(ac),
            "used_percent": (
                _dec((ac * 100 / bac).quantize(Decimal("0.1"))) if ac is not None and bac else None
            ),
        },
        "change_requests": _lines(_change_requests, org, project),
        "risks": _lines(_risks, org, project),
        "quality": {
            "rework": rework.filter(created_at__gte=start_at, created_at__lt=end_at).count(),
            "rework_total": rework.filter(created_at__lt=end_at).count(),
            "open_criteria": AcceptanceCriterion.objects.for_org(org)
            .filter(work_item__project=project, state=CriterionState.OPEN)
            .count(),
        },
    }


def report_url(report: StatusReport) -> str:
    return reverse(
        "projects:report_detail",
        kwargs={"org_slug": report.organization.slug, "pk": report.pk},
    )


def _draft_followup(org: Organization, project: Project, report: StatusReport) -> FollowUp | None:
    manager = project.manager
    if manager is None or not manager.is_active:
        return None
    if not Membership.objects.for_org(org).filter(user=manager).exists():
        return None
    zone = user_zone(manager)
    due = datetime.combine(report.period_end, time(DUE_HOUR), tzinfo=zone)
    with translation.override(user_language(manager)):
        title = _("Complete and publish the status report of %(code)s for %(period)s") % {
            "code": project.code,
            "period": report.period_end.isoformat(),
        }
    return followups.followup_create(
        org=org, actor=None, title=title, owner=manager, due_at=due, subject=project
    )


def draft(*, org: Organization, schedule_id: Any, token: Any, now: datetime | None = None) -> Any:
    """Draft the report of one claimed schedule row, once: the row must still carry our
    claim (another tick took it over otherwise), the report is created, the row moves on
    to its next moment and the claim is released, in one transaction. Returns the report
    (None when there was nothing to draft)."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = (
            ReportSchedule.objects.for_org(org)
            .select_for_update()
            .filter(pk=schedule_id, claim=token)
            .first()
        )
        if schedule is None:
            return None  # drafted already, or taken over by a later tick
        project = (
            Project.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("organization", "manager")
            .get(pk=schedule.project_id)
        )
        zone = manager_zone(project)
        period_end = schedule.next_due_at.astimezone(zone).date()
        report = None
        if project.status == ProjectStatus.ACTIVE:
            report = _create_draft(org, project, period_end)
        # Next week (weeks missed while the beat was down are skipped, not drafted late).
        schedule.next_due_at = next_report_at(
            zone, report_weekday(project.organization), max(now, schedule.next_due_at)
        )
        schedule.claimed_at = None
        schedule.claim = None
        schedule.save(update_fields=["next_due_at", "claimed_at", "claim"])
    return report


def _create_draft(org: Organization, project: Project, period_end: date) -> StatusReport | None:
    reports = StatusReport.objects.for_org(org).filter(project=project)
    if reports.filter(period_end=period_end).exists():
        return None
    previous = reports.filter(period_end__lt=period_end).order_by("-period_end").first()
    period_start = period_end - timedelta(days=6)
    data = compute(
        org, project, period_start=period_start, period_end=period_end, previous=previous
    )
    indices = data["indices"]
    try:
        with transaction.atomic():
            report = StatusReport.objects.create(
                organization=org,
                project=project,
                period_start=period_start,
                period_end=period_end,
                data=data,
                spi=Decimal(indices["spi"]) if indices["spi"] is not None else None,
                cpi=Decimal(indices["cpi"]) if indices["cpi"] is not None else None,
            )
    except IntegrityError:
        return None  # unique per project and period: drafted already
    followup = _draft_followup(org, project, report)
    if followup is not None:
        report.data = {**report.data, "followup": str(followup.pk)}
        report.save(update_fields=["data"])
    events.record(
        org=org,
        type="status_report.drafted",
        subject=project,
        payload={"report": str(report.pk), "period_end": period_end.isoformat()},
    )
    return report


def draft_now(*, org: Organization, actor: User | None, project: Project) -> StatusReport:
    """Draft this week's report now (the manager does not wait for the report day); the
    week's scheduled draft then finds it and does not draft another."""
    require_same_org(org, project=project)
    with transaction.atomic():
        locked = (
            Project.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("organization", "manager")
            .get(pk=project.pk)
        )
        if locked.status != ProjectStatus.ACTIVE:
            raise ValidationError(_("Only an active project gets status reports."))
        zone = manager_zone(locked)
        weekday = report_weekday(org)
        today = timezone.now().astimezone(zone).date()
        period_end = today + timedelta(days=(weekday - today.isoweekday()) % 7)
        report = _create_draft(org, locked, period_end)
        if report is None:
            raise ValidationError(_("This week's report exists already."))
        audit.record(org=org, action="status_report.drafted", actor=actor, obj=report)
    return report


# --- Reads ----------------------------------------------------------------------------------


def reports_of(org: Organization, project: Project) -> QuerySet[StatusReport]:
    return StatusReport.objects.for_org(org).filter(project=project).select_related("published_by")


def can_publish(membership: Membership | None, project: Project) -> bool:
    if membership is None:
        return False
    return membership.user_id == project.manager_id or membership.can("org.manage")


def trend(reports: list[StatusReport]) -> list[dict[str, Any]]:
    """SPI and CPI per report, oldest first (for the small SVG)."""
    return [
        {"period_end": r.period_end, "spi": r.spi, "cpi": r.cpi}
        for r in sorted(reports, key=lambda r: r.period_end)
    ]


def followers(org: Organization, project: Project) -> QuerySet[ProjectFollower]:
    return ProjectFollower.objects.for_org(org).filter(project=project).select_related("user")


# --- The manager's part, publication ----------------------------------------------------------


def _rag(value: Any, name: str) -> str:
    if value in (None, ""):
        return ""
    if value not in Rag.values:
        raise ValidationError({f"rag_{name}": _("Choose red, amber or green.")})
    return str(value)


@transaction.atomic
def report_update(
    *,
    org: Organization,
    actor: User,
    report: StatusReport,
    narrative: str,
    rag: dict[str, Any],
    publish: bool = False,
) -> StatusReport:
    """Save the manager's narrative and red/amber/green ratings; with ``publish``, also
    publish (every dimension rated and a narrative written)."""
    require_same_org(org, report=report)
    project = (
        Project.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=report.project_id)
    )
    membership = Membership.objects.for_org(org).filter(user=actor).first()
    if not can_publish(membership, project):
        raise PermissionDenied(_("Only the project manager or an admin completes the report."))
    locked = StatusReport.objects.for_org(org).select_for_update().get(pk=report.pk)
    if locked.status == ReportStatus.PUBLISHED:
        raise ValidationError(_("This report is published: it no longer changes."))
    ratings = {name: _rag(rag.get(name), name) for name in DIMENSIONS}
    narrative = (narrative or "").strip()
    if publish:
        errors: dict[str, str] = {
            f"rag_{name}": _("Rate this dimension before publishing.")
            for name, value in ratings.items()
            if not value
        }
        if not narrative:
            errors["narrative"] = _("Write the narrative before publishing.")
        if errors:
            raise ValidationError(errors)
    before = audit.snapshot(locked)
    locked.narrative = narrative
    for name, value in ratings.items():
        setattr(locked, f"rag_{name}", value)
    fields = ["narrative", *(f"rag_{name}" for name in DIMENSIONS)]
    if publish:
        locked.status = ReportStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = actor
        fields += ["status", "published_at", "published_by"]
    locked.save(update_fields=fields)
    audit.record(
        org=org,
        action="status_report.published" if publish else "status_report.updated",
        actor=actor,
        obj=locked,
        changes=audit.diff(before, audit.snapshot(locked)),
    )
    if publish:
        _published(org, actor, project, locked)
    return locked


def _published(org: Organization, actor: User, project: Project, report: StatusReport) -> None:
    events.record(
        org=org,
        type="status_report.published",
        subject=project,
        actor=actor,
        payload={
            "report": str(report.pk),
            "project": str(project.pk),
            "period_end": report.period_end.isoformat(),
            "rag": {name: getattr(report, f"rag_{name}") for name in DIMENSIONS},
        },
    )
    recipients: dict[Any, User] = {}
    if project.sponsor_id is not None:
        sponsor = User.objects.filter(pk=project.sponsor_id).first()
        if sponsor is not None:
            recipients[sponsor.pk] = sponsor
    for follower in followers(org, project):
        recipients[follower.user_id] = follower.user
    recipients.pop(actor.pk, None)
    notifications.notify(
        org=org,
        recipients=recipients.values(),
        kind="status_report.published",
        params={"code": project.code, "name": project.name, "period": str(report.period_end)},
        url=report_url(report),
        subject=project,
        dedupe_key=f"status_report:{report.pk}",
    )
    followup_id = (report.data or {}).get("followup")
    if followup_id:
        followup = (
            FollowUp.objects.for_org(org).filter(pk=followup_id, status=FollowUpStatus.OPEN).first()
        )
        if followup is not None:
            followups.followup_complete(followup=followup, actor=actor)


@transaction.atomic
def follow(*, org: Organization, actor: User, project: Project, on: bool) -> bool:
    """Follow (or stop following) a project's published status reports."""
    require_same_org(org, project=project)
    Project.objects.for_org(org).select_for_update(of=("self",)).get(pk=project.pk)
    rows = ProjectFollower.objects.for_org(org).filter(project=project, user=actor)
    if on:
        if not rows.exists():
            ProjectFollower.objects.create(organization=org, project=project, user=actor)
            audit.record(org=org, action="project.followed", actor=actor, obj=project)
        return True
    if rows.exists():
        rows.delete()
        audit.record(org=org, action="project.unfollowed", actor=actor, obj=project)
    return False
