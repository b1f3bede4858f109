"""Reads of project follow-up, shared by pages, the API, gates and the engine's hooks.

Every queryset starts from ``for_org``; list reads select and prefetch what their rows show,
so a list costs the same number of queries for one project as for fifty.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts import zones
from accounts.models import Organization, User
from projects import gates
from projects.calc.calendar import CalendarError, WorkCalendar
from projects.defaults import DEFAULT_CALENDAR
from projects.models import (
    Dependency,
    GateCriterion,
    Phase,
    PhaseTemplate,
    PhaseTransition,
    Project,
    ProjectStatus,
    TemplateCriterion,
    TemplatePhase,
    WorkItem,
)

OPEN_STATUSES = (ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)


def display(text: str) -> str:
    """A stored default name or label in the reader's language (see ``projects.defaults``);
    anything an admin typed reads as typed."""
    return gettext(text) if text else ""


def org_zone(org: Organization) -> zoneinfo.ZoneInfo:
    return zones.zone(org.timezone)


def org_today(org: Organization, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(org_zone(org)).date()


def org_people(org: Organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=org).order_by("display_name", "email")


# --- Calendars ----------------------------------------------------------------------------


def org_calendar(org: Organization) -> dict[str, Any]:
    """The organization's default working calendar (``settings["calendar"]``)."""
    stored = (org.settings or {}).get("calendar")
    if not isinstance(stored, Mapping):
        return {**DEFAULT_CALENDAR, "holidays": []}
    return {
        "working_days": list(stored.get("working_days") or DEFAULT_CALENDAR["working_days"]),
        "holidays": list(stored.get("holidays") or []),
    }


def work_calendar(data: Mapping[str, Any] | None) -> WorkCalendar:
    """A stored calendar (``{"working_days", "holidays"}``) as the scheduler's calendar."""
    data = data or DEFAULT_CALENDAR
    days = data.get("working_days") or DEFAULT_CALENDAR["working_days"]
    holidays = [date.fromisoformat(str(h)) for h in data.get("holidays") or []]
    try:
        return WorkCalendar.of(days, holidays)
    except CalendarError:
        return WorkCalendar.of(DEFAULT_CALENDAR["working_days"], holidays)


def project_calendar(project: Project) -> WorkCalendar:
    return work_calendar(project.calendar)


# --- Phase templates ------------------------------------------------------------------------


def templates(org: Organization) -> QuerySet[PhaseTemplate]:
    return PhaseTemplate.objects.for_org(org).prefetch_related(
        Prefetch(
            "phases",
            queryset=TemplatePhase.objects.for_org(org).prefetch_related(
                Prefetch("criteria", queryset=TemplateCriterion.objects.for_org(org))
            ),
        )
    )


# --- Projects -------------------------------------------------------------------------------

PROJECT_SORTS: dict[str, tuple[Any, ...]] = {
    "code": (Lower("code").asc(), "id"),
    "-code": (Lower("code").desc(), "id"),
    "name": (Lower("name").asc(), "id"),
    "-name": (Lower("name").desc(), "id"),
    "start": (F("start_date").asc(), "id"),
    "-start": (F("start_date").desc(), "id"),
    "target": (F("target_finish_date").asc(nulls_last=True), "id"),
    "-target": (F("target_finish_date").desc(nulls_last=True), "id"),
    "finish": (F("schedule_finish").asc(nulls_last=True), "id"),
    "-finish": (F("schedule_finish").desc(nulls_last=True), "id"),
    "slip": (F("slip_days").asc(nulls_last=True), "id"),
    "-slip": (F("slip_days").desc(nulls_last=True), "id"),
}
ARCHIVED = "archived"


@dataclass(frozen=True)
class ProjectFilters:
    q: str = ""
    status: str = ""  # a status, "" (open ones: not closed or cancelled) or "archived"
    manager: User | None = None
    customer: Any = None  # a Customer
    phase: str = ""  # a phase key
    sort: str = "code"


def projects(org: Organization) -> QuerySet[Project]:
    return Project.objects.for_org(org).select_related(
        "manager", "sponsor", "phase", "engagement", "engagement__customer"
    )


def filter_projects(qs: QuerySet[Project], filters: ProjectFilters) -> QuerySet[Project]:
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(code__icontains=term))
    if filters.status == ARCHIVED:
        qs = qs.filter(status__in=(ProjectStatus.CLOSED, ProjectStatus.CANCELLED))
    elif filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if filters.manager is not None:
        qs = qs.filter(manager=filters.manager)
    if filters.customer is not None:
        qs = qs.filter(engagement__customer=filters.customer)
    if filters.phase:
        qs = qs.filter(phase__key=filters.phase)
    return qs.order_by(*PROJECT_SORTS.get(filters.sort, PROJECT_SORTS["code"]))


def phase_keys(org: Organization) -> list[tuple[str, str]]:
    """The phase keys in use (for the list's filter), in template order, named."""
    rows = (
        Phase.objects.for_org(org).order_by("position", "key").values_list("key", "name").distinct()
    )
    seen: dict[str, str] = {}
    for key, name in rows:
        seen.setdefault(key, display(name))
    return list(seen.items())


def with_project_detail(qs: QuerySet[Project], org: Organization) -> QuerySet[Project]:
    return qs.select_related(
        "manager", "sponsor", "phase", "engagement", "engagement__customer", "organization"
    ).prefetch_related(
        Prefetch(
            "phases",
            queryset=Phase.objects.for_org(org).prefetch_related(
                Prefetch(
                    "criteria",
                    queryset=GateCriterion.objects.for_org(org).select_related("attested_by"),
                )
            ),
        )
    )


def transitions(org: Organization, project: Project) -> QuerySet[PhaseTransition]:
    return PhaseTransition.objects.for_org(org).filter(project=project).order_by("created_at", "id")


def phase_criteria(org: Organization, phase: Phase) -> list[GateCriterion]:
    return list(
        GateCriterion.objects.for_org(org).filter(phase=phase).select_related("attested_by")
    )


@dataclass(frozen=True)
class CriterionState:
    criterion: GateCriterion
    label: str
    verdict: gates.Verdict

    @property
    def met(self) -> bool:
        return self.verdict.met

    @property
    def reason(self) -> str:
        return self.verdict.text()

    @property
    def attested(self) -> bool:
        kind = gates.get(self.criterion.kind)
        return kind is not None and kind.attested

    def as_snapshot(self) -> dict[str, Any]:
        c = self.criterion
        return {
            "id": str(c.pk),
            "kind": c.kind,
            "label": self.label,
            "role": c.role,
            "met": self.verdict.met,
            "reason": self.verdict.reason,
            "params": {k: str(v) for k, v in dict(self.verdict.params).items()},
            "evidence_note": c.evidence_note,
            "evidence_url": c.evidence_url,
        }


def gate_state(
    project: Project, phase: Phase | None = None, criteria: Iterable[GateCriterion] | None = None
) -> list[CriterionState]:
    """Each gate criterion of ``phase`` (default: the current one) and whether it holds now."""
    phase = phase or project.phase
    if phase is None:
        return []
    rows = list(criteria) if criteria is not None else phase_criteria(project.organization, phase)
    return [
        CriterionState(c, display(gates.label_of(c)), gates.evaluate(project, phase, c))
        for c in rows
    ]


# --- Work items -----------------------------------------------------------------------------


def work_items(org: Organization, project: Project) -> QuerySet[WorkItem]:
    """A project's WBS in outline order."""
    return (
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .select_related("assignee", "phase")
        .order_by("wbs_path", "id")
    )


def dependencies(org: Organization, project: Project) -> QuerySet[Dependency]:
    return (
        Dependency.objects.for_org(org)
        .filter(project=project)
        .select_related("predecessor", "successor")
        .order_by("created_at", "id")
    )


def leaves_of_phase(org: Organization, phase: Phase) -> QuerySet[WorkItem]:
    return WorkItem.objects.for_org(org).filter(phase=phase, is_summary=False)


def milestones(org: Organization, project: Project) -> QuerySet[WorkItem]:
    return WorkItem.objects.for_org(org).filter(project=project, is_summary=False, duration_days=0)


def next_milestone(org: Organization, project: Project) -> WorkItem | None:
    return (
        milestones(org, project)
        .filter(percent_complete__lt=100)
        .order_by(F("early_finish").asc(nulls_last=True), "wbs_path")
        .first()
    )


def overdue_milestones(
    org: Organization, project: Project, today: date | None = None
) -> list[WorkItem]:
    """Milestones not reached whose planned date has passed: an early warning."""
    today = today or org_today(org)
    return list(
        milestones(org, project)
        .filter(percent_complete__lt=100, early_finish__lt=today)
        .order_by("early_finish", "wbs_path")
    )


def slip_words(days: int | None) -> tuple[str, str]:
    """The schedule's slip against the target finish in words, and its badge colour."""
    if days is None:
        return gettext("No target finish date"), "neutral"
    if days > 0:
        late = ngettext("%(n)d working day late", "%(n)d working days late", days)
        return late % {"n": days}, "red"
    if days < 0:
        ahead = ngettext("%(n)d working day ahead", "%(n)d working days ahead", -days)
        return ahead % {"n": -days}, "green"
    return gettext("On the target date"), "green"


def due_for(
    org: Organization, user: User, *, until: date, active_only: bool = True
) -> QuerySet[WorkItem]:
    """Work packages and milestones assigned to ``user``, not done, planned to finish by
    ``until`` (overdue ones included): what My day shows beside the follow-ups."""
    qs = (
        WorkItem.objects.for_org(org)
        .filter(
            assignee=user,
            is_summary=False,
            percent_complete__lt=100,
            early_finish__isnull=False,
            early_finish__lte=until,
        )
        .select_related("project")
        .order_by("early_finish", "project__code", "wbs_path")
    )
    if active_only:
        qs = qs.filter(project__status__in=(ProjectStatus.PROPOSED, ProjectStatus.ACTIVE))
    return qs


def feed_milestones(org: Organization, user: User) -> QuerySet[WorkItem]:
    """Milestones for a person's calendar feed: assigned to them, or of projects they
    manage or sponsor, in projects that are not closed or cancelled."""
    return (
        WorkItem.objects.for_org(org)
        .filter(is_summary=False, duration_days=0, early_finish__isnull=False)
        .filter(Q(assignee=user) | Q(project__manager=user) | Q(project__sponsor=user))
        .filter(project__status__in=OPEN_STATUSES)
        .select_related("project")
        .order_by("early_finish", "id")
    )


SCHEDULE_ITEM_FIELDS = (
    "wbs_code",
    "name",
    "duration_days",
    "is_summary",
    "early_start",
    "early_finish",
    "late_start",
    "late_finish",
    "total_float",
    "free_float",
    "critical",
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def schedule_payload(org: Organization, project: Project) -> dict[str, Any]:
    """``GET /projects/<id>/schedule/`` (docs/API.md), straight from the stored columns: one
    query, plain dicts (a 10,000-item plan through a serializer costs seconds)."""
    items = []
    rows = (
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .order_by("wbs_path", "id")
        .values_list("id", *SCHEDULE_ITEM_FIELDS)
    )
    for pk, code, name, days, summary, es, ef, ls, lf, tf, ff, crit in rows:
        items.append(
            {
                "id": str(pk),
                "wbs_code": code,
                "name": name,
                "duration_days": days,
                "is_summary": summary,
                "early_start": _iso(es),
                "early_finish": _iso(ef),
                "late_start": _iso(ls),
                "late_finish": _iso(lf),
                "total_float": tf,
                "free_float": ff,
                "critical": crit,
            }
        )
    return {
        "start": _iso(project.schedule_start),
        "finish": _iso(project.schedule_finish),
        "duration_days": project.schedule_duration_days,
        "critical_path": list(project.critical_path or []),
        "items": items,
    }
