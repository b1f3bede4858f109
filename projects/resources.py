"""Resources (people, material, equipment), their allocations to work packages, and the
organization-wide load per week (issue 9, item 5).

Writes are keyword-only services (one transaction, audit row and event inside it); reads
are selectors returning scoped querysets; the load itself is computed by the pure
``projects.calc.resources`` from three queries (resources, allocations with their items,
the touchpoints' effort per person and week), whatever the number of people and weeks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from accounts.tenancy import require_same_org
from engagements.models import Touchpoint
from followup.kernel import events
from projects import selectors
from projects.calc import resources as calc
from projects.models import Allocation, Project, Resource, ResourceKind, WorkItem

RESOURCE_FIELDS = (
    "kind",
    "name",
    "user",
    "weekly_capacity_hours",
    "rate",
    "unit",
    "available_per_day",
)
MAX_WEEKS = 53
LOAD_FIELDS = (
    "organization_id",
    "per_day",
    "resource_id",
    "resource__organization_id",
    "project__id",
    "project__organization_id",
    "project__code",
    "project__name",
    "project__calendar",
    "project__status",
    "work_item__id",
    "work_item__organization_id",
    "work_item__project_id",
    "work_item__name",
    "work_item__wbs_code",
    "work_item__early_start",
    "work_item__early_finish",
    "work_item__percent_complete",
    "work_item__total_float",
    "work_item__critical",
    "work_item__is_summary",
    "work_item__duration_days",
)
DEFAULT_WEEKS = 8


# --- Reads ----------------------------------------------------------------------------------


def resources(org: Organization) -> QuerySet[Resource]:
    return Resource.objects.for_org(org).select_related("user")


def allocations(org: Organization) -> QuerySet[Allocation]:
    return Allocation.objects.for_org(org).select_related("resource", "work_item", "project")


def allocations_of_item(org: Organization, item: WorkItem) -> QuerySet[Allocation]:
    return allocations(org).filter(work_item=item).order_by("resource__name", "id")


@dataclass
class OrgLoad:
    weeks: list[date]
    resources: list[Resource]
    load: calc.Load
    suggestions: list[calc.Suggestion]
    allocations: dict[Any, Allocation]  # by work-item id + resource id: "item:resource"
    items: dict[Any, WorkItem]

    def rows(self) -> list[tuple[Resource, list[calc.Cell]]]:
        return [(r, self.load.rows[r.pk]) for r in self.resources]

    def over(self) -> list[tuple[Resource, calc.Cell]]:
        by_id = {r.pk: r for r in self.resources}
        return [(by_id[r], cell) for r, cell in self.load.over_cells()]


def _booking(allocation: Allocation, calendars: dict[Any, Any]) -> calc.Booking | None:
    item = allocation.work_item
    if item.early_start is None or item.early_finish is None or item.is_done:
        return None
    calendar = calendars.get(allocation.project_id)
    if calendar is None:
        calendar = calendars[allocation.project_id] = selectors.project_calendar(allocation.project)
    return calc.Booking(
        resource=allocation.resource_id,
        item=item.pk,
        project=allocation.project_id,
        start=item.early_start,
        finish=item.early_finish,
        per_day=allocation.per_day,
        calendar=calendar,
        total_float=item.total_float,
        critical=item.critical,
    )


def business_hours(
    org: Organization, user_ids: list[Any], weeks: list[date]
) -> dict[tuple[Any, date], Decimal]:
    """Effort logged on touchpoints per person and week (organization's time zone): one
    query."""
    if not weeks or not user_ids:
        return {}
    zone = selectors.org_zone(org)
    start = datetime.combine(weeks[0], time.min, tzinfo=zone)
    end = datetime.combine(weeks[-1] + timedelta(days=7), time.min, tzinfo=zone)
    # Grouped by local day, not by week: a truncated week is an aware datetime that Django
    # converts row by row (2,600 rows took most of a second); a date is returned as is, and
    # the days are summed into their Monday here.
    rows = (
        Touchpoint.objects.for_org(org)
        .filter(logged_by_id__in=user_ids, occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values_list("logged_by_id", "day")
        .annotate(minutes=Sum("effort_minutes"))
        .order_by()
    )
    minutes: dict[tuple[Any, date], int] = {}
    for user_id, day, total in rows:
        key = (user_id, calc.monday(day))
        minutes[key] = minutes.get(key, 0) + (total or 0)
    return {key: Decimal(total) / 60 for key, total in minutes.items()}


def org_load(
    org: Organization,
    *,
    start: date,
    weeks: int = DEFAULT_WEEKS,
    resource_ids: list[Any] | None = None,
    suggest: bool = True,
) -> OrgLoad:
    """Every resource's load per week over ``weeks`` weeks from the week of ``start``,
    across the organization's open projects, with business-side effort and (``suggest``)
    levelling suggestions. Three queries."""
    weeks = max(1, min(weeks, MAX_WEEKS))
    week_list = calc.weeks_from(start, weeks)
    people = resources(org).order_by("kind", "name", "id")
    if resource_ids is not None:
        people = people.filter(pk__in=resource_ids)
    resource_list = list(people)
    window_end = week_list[-1] + timedelta(days=6)
    scoped = allocations(org)
    if resource_ids is not None:
        scoped = scoped.filter(resource__in=[r.pk for r in resource_list])
    rows = list(
        scoped.filter(
            project__status__in=selectors.OPEN_STATUSES,
            work_item__early_start__lte=window_end,
            work_item__early_finish__gte=week_list[0],
        )
        .order_by("project__code", "work_item__wbs_path")
        # Only what the load, its drill-down and the suggestions read: 1,000 allocations of
        # full rows (a project's critical path, a work item's every date) cost seconds.
        .only(*LOAD_FIELDS)
    )
    for allocation in rows:
        # The item's project is the allocation's (copied by the service): no query per item.
        allocation.work_item.project = allocation.project
    calendars: dict[Any, Any] = {}
    bookings = [b for b in (_booking(a, calendars) for a in rows) if b is not None]
    user_of = {r.user_id: r.pk for r in resource_list if r.is_person and r.user_id}
    business = {
        (user_of[user_id], week): hours
        for (user_id, week), hours in business_hours(org, list(user_of), week_list).items()
    }
    capacities = {
        r.pk: calc.Capacity(weekly=r.weekly_capacity_hours)
        if r.is_person
        else calc.Capacity(per_day=r.available_per_day)
        for r in resource_list
    }
    org_calendar = selectors.work_calendar(selectors.org_calendar(org))
    load = calc.load(
        resources=[r.pk for r in resource_list],
        capacities=capacities,
        bookings=bookings,
        business=business,
        weeks=week_list,
        calendar=org_calendar,
    )
    return OrgLoad(
        weeks=week_list,
        resources=resource_list,
        load=load,
        suggestions=calc.suggest(load, bookings) if suggest else [],
        allocations={f"{a.work_item_id}:{a.resource_id}": a for a in rows},
        items={a.work_item_id: a.work_item for a in rows},
    )


PAGE_SIZE = 25


@dataclass
class LoadPage:
    """One page of the organization-wide load: ``PAGE_SIZE`` resources (people first, by
    name), optionally of one kind or only those over capacity in the window."""

    result: OrgLoad
    number: int
    count: int  # resources matching the filters, over all pages
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def load_resources(org: Organization, *, kind: str | None = None) -> QuerySet[Resource]:
    """The resources of the load view in its order (kind, name, id), of one kind or all."""
    queryset = resources(org).order_by("kind", "name", "id")
    return queryset.filter(kind=kind) if kind else queryset


def over_resource_ids(org: Organization, *, start: date, weeks: int, kind: str | None) -> list[Any]:
    """The resources over capacity in at least one week of the window, in the load's order.

    The whole load, lean: plain value rows instead of model objects (1,000 allocations with
    their item, project and resource as objects are 4,000 instances: most of a second), no
    levelling search, the same ``calc.load``. Four queries."""
    weeks = max(1, min(weeks, MAX_WEEKS))
    week_list = calc.weeks_from(start, weeks)
    window_end = week_list[-1] + timedelta(days=6)
    people = list(
        load_resources(org, kind=kind).values_list(
            "pk", "kind", "user_id", "weekly_capacity_hours", "available_per_day"
        )
    )
    chosen = [row[0] for row in people]
    calendars: dict[Any, Any] = {}
    bookings = []
    for resource_id, item_id, project_id, calendar, start_day, finish, per_day in (
        Allocation.objects.for_org(org)
        .filter(
            resource__in=chosen,
            project__status__in=selectors.OPEN_STATUSES,
            work_item__early_start__lte=window_end,
            work_item__early_finish__gte=week_list[0],
            work_item__percent_complete__lt=100,
        )
        .values_list(
            "resource_id",
            "work_item_id",
            "project_id",
            "project__calendar",
            "work_item__early_start",
            "work_item__early_finish",
            "per_day",
        )
    ):
        if start_day is None or finish is None:
            continue  # not scheduled (the filter already says so; for the types)
        if project_id not in calendars:
            calendars[project_id] = selectors.work_calendar(calendar)
        bookings.append(
            calc.Booking(
                resource=resource_id,
                item=item_id,
                project=project_id,
                start=start_day,
                finish=finish,
                per_day=per_day,
                calendar=calendars[project_id],
            )
        )
    user_of = {user: pk for pk, kind_, user, _w, _d in people if kind_ == "person" and user}
    business = {
        (user_of[user_id], week): hours
        for (user_id, week), hours in business_hours(org, list(user_of), week_list).items()
    }
    capacities = {
        pk: calc.Capacity(weekly=weekly) if kind_ == "person" else calc.Capacity(per_day=daily)
        for pk, kind_, _user, weekly, daily in people
    }
    load = calc.load(
        resources=chosen,
        capacities=capacities,
        bookings=bookings,
        business=business,
        weeks=week_list,
        calendar=selectors.work_calendar(selectors.org_calendar(org)),
    )
    return [pk for pk in chosen if any(cell.over for cell in load.rows[pk])]


def load_page(
    org: Organization,
    *,
    start: date,
    weeks: int = DEFAULT_WEEKS,
    page: int = 1,
    size: int = PAGE_SIZE,
    kind: str | None = None,
    over_only: bool = False,
    suggest: bool = False,
) -> LoadPage:
    """A page of the load: only the page's resources are loaded and drawn (650 cells, not
    5,200); levelling suggestions only when asked for (``suggest``), for the page's
    people. A page past the last shows the last."""
    if over_only:
        ids = over_resource_ids(org, start=start, weeks=weeks, kind=kind)
        count = len(ids)
    else:
        queryset = load_resources(org, kind=kind)
        count = queryset.count()
        ids = None
    pages = max(1, -(-count // size))
    number = min(max(1, page), pages)
    begin = (number - 1) * size
    if ids is None:
        chosen = list(
            load_resources(org, kind=kind).values_list("pk", flat=True)[begin : begin + size]
        )
    else:
        chosen = ids[begin : begin + size]
    result = org_load(org, start=start, weeks=weeks, resource_ids=chosen, suggest=suggest)
    return LoadPage(result=result, number=number, count=count, size=size)


# --- Writes ---------------------------------------------------------------------------------


def _check_resource(org: Organization, resource: Resource) -> None:
    errors: dict[str, str] = {}
    if resource.kind == ResourceKind.PERSON:
        if resource.user_id is None:
            errors["user"] = _("Choose the person.")
        elif not selectors.org_people(org).filter(pk=resource.user_id).exists():
            errors["user"] = _("Must be a member of the organization.")
        elif (
            Resource.objects.for_org(org)
            .filter(user_id=resource.user_id)
            .exclude(pk=resource.pk)
            .exists()
        ):
            errors["user"] = _("This person is already a resource.")
        if resource.weekly_capacity_hours is None:
            errors["weekly_capacity_hours"] = _("Give the person's capacity in hours per week.")
        if not (resource.name or "").strip() and resource.user is not None:
            resource.name = resource.user.name
        resource.unit = ""
        resource.available_per_day = None
    else:
        if resource.user_id is not None:
            errors["user"] = _("Only a person resource names a member.")
        if not (resource.unit or "").strip():
            errors["unit"] = _("Give the unit, e.g. pieces, machine hours or kg.")
        if resource.available_per_day is None:
            errors["available_per_day"] = _("Give the quantity available per day.")
        resource.weekly_capacity_hours = None
    if not (resource.name or "").strip():
        errors["name"] = _("Give the resource a name.")
    if errors:
        raise ValidationError(errors)
    try:
        resource.full_clean(exclude=["organization", "user"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _resource_data(data: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k in RESOURCE_FIELDS}
    for name in ("name", "unit"):
        if name in out:
            out[name] = (out[name] or "").strip()
    return out


@transaction.atomic
def resource_create(*, org: Organization, actor: User | None, data: Mapping[str, Any]) -> Resource:
    data = _resource_data(data)
    require_same_org_user(org, data.get("user"))
    resource = Resource(organization=org, **data)
    _check_resource(org, resource)
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError:
        raise ValidationError({"user": _("This person is already a resource.")}) from None
    audit.record(
        org=org,
        action="resource.created",
        actor=actor,
        obj=resource,
        changes=audit.diff({}, audit.snapshot(resource)),
    )
    events.record(
        org=org, type="resource.created", subject=None, actor=actor, payload=_payload(resource)
    )
    return resource


def require_same_org_user(org: Organization, user: User | None) -> None:
    if user is not None and not selectors.org_people(org).filter(pk=user.pk).exists():
        raise ValidationError({"user": _("Must be a member of the organization.")})


def _payload(resource: Resource) -> dict[str, Any]:
    return {"id": str(resource.pk), "kind": resource.kind, "name": resource.name}


@transaction.atomic
def resource_update(
    *, org: Organization, actor: User | None, resource: Resource, data: Mapping[str, Any]
) -> Resource:
    data = _resource_data(data)
    require_same_org(org, resource=resource)
    require_same_org_user(org, data.get("user"))
    locked = Resource.objects.for_org(org).select_for_update().get(pk=resource.pk)
    before = audit.snapshot(locked)
    changed = [name for name in data if getattr(locked, name) != data[name]]
    for name in changed:
        setattr(locked, name, data[name])
    if "kind" in changed and locked.allocations.exists():
        raise ValidationError(
            {"kind": _("This resource is allocated to work: its kind cannot change.")}
        )
    _check_resource(org, locked)
    locked.save(update_fields=RESOURCE_FIELDS)
    after = audit.snapshot(locked)
    changes = audit.diff(before, after)
    if changes:
        audit.record(org=org, action="resource.updated", actor=actor, obj=locked, changes=changes)
        events.record(org=org, type="resource.updated", actor=actor, payload=_payload(locked))
    return locked


@transaction.atomic
def resource_delete(*, org: Organization, actor: User | None, resource: Resource) -> None:
    require_same_org(org, resource=resource)
    locked = Resource.objects.for_org(org).select_for_update().get(pk=resource.pk)
    payload = _payload(locked)
    audit.record(
        org=org,
        action="resource.deleted",
        actor=actor,
        object_type="resource",
        object_id=locked.pk,
        object_repr=locked.name,
    )
    locked.delete()
    events.record(org=org, type="resource.deleted", actor=actor, payload=payload)


def _check_allocation(
    org: Organization, project: Project, item: WorkItem, resource: Resource, per_day: Any
) -> Decimal:
    if project.is_archived:
        raise ValidationError(
            {"work_item": _("This project is closed: its allocations can no longer change.")}
        )
    if item.is_summary:
        raise ValidationError(
            {"work_item": _("Allocate resources to work packages, not to summaries.")}
        )
    if item.duration_days == 0:
        raise ValidationError({"work_item": _("A milestone takes no time: nothing to allocate.")})
    try:
        amount = Decimal(str(per_day))
    except (ArithmeticError, ValueError):
        raise ValidationError({"per_day": _("Enter a number.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"per_day": _("Enter a quantity above zero.")})
    if resource.is_person and amount > 24:
        raise ValidationError({"per_day": _("A person has at most 24 hours a day.")})
    if amount >= Decimal("1e8") or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"per_day": _("Use at most two decimal places.")})
    return amount


def _allocation_payload(allocation: Allocation) -> dict[str, Any]:
    return {
        "id": str(allocation.pk),
        "project": str(allocation.project_id),
        "work_item": str(allocation.work_item_id),
        "resource": str(allocation.resource_id),
        "per_day": str(allocation.per_day),
    }


@transaction.atomic
def allocation_create(
    *,
    org: Organization,
    actor: User | None,
    work_item: WorkItem,
    resource: Resource,
    per_day: Any,
) -> Allocation:
    require_same_org(org, work_item=work_item, resource=resource)
    project = (
        Project.objects.for_org(org).select_for_update(of=("self",)).get(pk=work_item.project_id)
    )
    item = WorkItem.objects.for_org(org).get(pk=work_item.pk)
    resource = Resource.objects.for_org(org).get(pk=resource.pk)
    amount = _check_allocation(org, project, item, resource, per_day)
    if Allocation.objects.for_org(org).filter(work_item=item, resource=resource).exists():
        raise ValidationError(
            {"resource": _("This resource is already allocated to this work item.")}
        )
    allocation = Allocation.objects.create(
        organization=org, project=project, work_item=item, resource=resource, per_day=amount
    )
    audit.record(
        org=org,
        action="allocation.created",
        actor=actor,
        obj=allocation,
        changes=audit.diff({}, audit.snapshot(allocation)),
    )
    events.record(
        org=org,
        type="allocation.created",
        subject=item,
        actor=actor,
        payload=_allocation_payload(allocation),
    )
    return allocation


@transaction.atomic
def allocation_update(
    *, org: Organization, actor: User | None, allocation: Allocation, per_day: Any
) -> Allocation:
    require_same_org(org, allocation=allocation)
    project = (
        Project.objects.for_org(org).select_for_update(of=("self",)).get(pk=allocation.project_id)
    )
    locked = (
        Allocation.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("work_item", "resource")
        .get(pk=allocation.pk)
    )
    amount = _check_allocation(org, project, locked.work_item, locked.resource, per_day)
    if amount != locked.per_day:
        before = audit.snapshot(locked)
        locked.per_day = amount
        locked.save(update_fields=["per_day"])
        audit.record(
            org=org,
            action="allocation.updated",
            actor=actor,
            obj=locked,
            changes=audit.diff(before, audit.snapshot(locked)),
        )
        events.record(
            org=org,
            type="allocation.updated",
            subject=locked.work_item,
            actor=actor,
            payload=_allocation_payload(locked),
        )
    return locked


@transaction.atomic
def allocation_delete(*, org: Organization, actor: User | None, allocation: Allocation) -> None:
    require_same_org(org, allocation=allocation)
    project = (
        Project.objects.for_org(org).select_for_update(of=("self",)).get(pk=allocation.project_id)
    )
    if project.is_archived:
        raise ValidationError(_("This project is closed: its allocations can no longer change."))
    locked = (
        Allocation.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("work_item")
        .get(pk=allocation.pk)
    )
    payload = _allocation_payload(locked)
    audit.record(
        org=org,
        action="allocation.deleted",
        actor=actor,
        object_type="allocation",
        object_id=locked.pk,
        object_repr=str(locked),
    )
    item = locked.work_item
    locked.delete()
    events.record(org=org, type="allocation.deleted", subject=item, actor=actor, payload=payload)
