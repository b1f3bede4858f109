"""Project control: baselines, budget lines, reserves, actual costs and change requests.

The same rules as ``projects.services`` (keyword-only functions, one transaction each, the
project row locked first, an audit row and an outbox event with the write); they live in
their own module because they form one subject (the plan as agreed, and the money) that
the rest of project follow-up does not need to know about.

- A baseline is an immutable snapshot of every work item's planned dates, duration, effort
  and budget and of the project totals. The first is set by the project's manager (or
  someone who may approve changes); each later one only by implementing an approved change
  request, which it references.
- Once a project is active and baselined, its baselined scope and budget change only
  through change requests (``projects.change_guard``); progress, actual costs and
  unbaselined items change freely.
- A change request's ``changes`` is a list of ``{"kind": ...}`` dicts (``CHANGE_KINDS``);
  its impact on finish date, critical path and budget is computed by applying the changes
  inside a savepoint that is rolled back (so the preview is exactly what implementing
  does), and shown before anyone decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import audit
from accounts.models import ApiKey, Membership, Organization, User
from followup.kernel import events
from projects import change_guard, selectors, services
from projects.models import (
    Baseline,
    BaselineItem,
    BudgetCategory,
    BudgetLine,
    ChangeRequest,
    ChangeRequestStatus,
    CostCategory,
    CostEntry,
    Dependency,
    LabourRate,
    Project,
    ProjectStatus,
    ReserveEntry,
    ReserveKind,
    WorkItem,
)

ZERO = Decimal(0)
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999999999.99")
CR = ChangeRequestStatus

# Legal moves of a change request; the services refuse every other one.
CR_TRANSITIONS: dict[str, frozenset[str]] = {
    CR.DRAFT: frozenset({CR.SUBMITTED}),
    CR.SUBMITTED: frozenset({CR.APPROVED, CR.REJECTED}),
    CR.APPROVED: frozenset({CR.IMPLEMENTED}),
    CR.REJECTED: frozenset(),
    CR.IMPLEMENTED: frozenset(),
}

# The kinds of proposed change and the keys each takes (besides "kind").
CHANGE_KINDS: dict[str, tuple[str, ...]] = {
    "duration": ("work_item", "duration_days"),
    "dates": ("work_item", "start_no_earlier_than"),
    "effort": ("work_item", "effort_hours"),
    "budget": ("work_item", "budget"),
    "budget_line": ("line", "work_item", "category", "description", "amount"),
    "remove_budget_line": ("line",),
    "add_item": ("name", "duration_days", "effort_hours", "budget", "parent", "predecessor"),
    "remove_item": ("work_item",),
    "reserve_transfer": ("from", "to", "amount", "category", "work_item"),
    "project_status": ("status",),
}
CHANGE_KIND_LABELS = {
    "duration": gettext_noop("Duration"),
    "dates": gettext_noop("Start no earlier than"),
    "effort": gettext_noop("Effort"),
    "budget": gettext_noop("Budget of a work package"),
    "budget_line": gettext_noop("Budget line"),
    "remove_budget_line": gettext_noop("Remove a budget line"),
    "add_item": gettext_noop("Add a work item"),
    "remove_item": gettext_noop("Remove a work item"),
    "reserve_transfer": gettext_noop("Reserve transfer"),
    "project_status": gettext_noop("Project status"),
}
RESERVES = ("management", "contingency")
RESERVE_ENDS = (*RESERVES, "budget")


class ChangeRefused(Exception):
    """A state the change request (or the reserve, or the baseline) does not allow: 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(Exception):
    """The actor may not do this (self-approval, not the sponsor nor an approver): 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- helpers ---------------------------------------------------------------------------------


def _label(actor: User | None) -> str:
    return services._actor_label(actor)


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def _event(
    org: Organization, type: str, subject: Any, actor: User | None, payload: dict[str, Any]
) -> None:
    events.record(org=org, type=type, subject=subject, actor=_actor(actor), payload=payload)


def _lock(org: Organization, project: Project | Any) -> Project:
    pk = project.pk if isinstance(project, Project) else project
    return services._lock(org, pk)


def money(value: Any, field: str, *, signed: bool = False) -> Decimal:
    """A decimal amount with at most 2 places (never a float); a ValidationError naming
    ``field`` otherwise."""
    if isinstance(value, float | bool):
        raise ValidationError({field: _("Give the amount as a decimal string, e.g. 1250.00.")})
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount, e.g. 1250.00.")}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_AMOUNT:
        raise ValidationError({field: _("Enter an amount with at most two decimal places.")})
    if amount < 0 and not signed:
        raise ValidationError({field: _("The amount must not be negative.")})
    return amount.quantize(CENT)


def categories(org: Organization) -> list[tuple[str, str]]:
    """Built-in and organization-defined cost categories, as (key, label)."""
    own = [(c.key, c.name) for c in CostCategory.objects.for_org(org).order_by("name")]
    return [(k, str(v)) for k, v in BudgetCategory.choices] + own


def _check_category(org: Organization, key: str, field: str = "category") -> str:
    key = (key or "").strip()
    if key in BudgetCategory.values:
        return key
    if key and CostCategory.objects.for_org(org).filter(key=key).exists():
        return key
    raise ValidationError({field: _("Unknown category %(key)s.") % {"key": key or "—"}})


def _project_item(
    org: Organization, project: Project, item: WorkItem | Any | None, field: str
) -> WorkItem | None:
    if item is None or item == "":
        return None
    pk = item.pk if isinstance(item, WorkItem) else item
    try:
        found = WorkItem.objects.for_org(org).filter(project=project, pk=uuid.UUID(str(pk))).first()
    except ValueError:
        found = None
    if found is None:
        raise ValidationError({field: _("Not a work item of this project.")})
    return found


def may_approve(project: Project, user: User | None, membership_can: Callable[[str], bool]) -> bool:
    """The project's sponsor, or anyone whose role may approve changes."""
    if user is not None and user.pk and project.sponsor_id == user.pk:
        return True
    return membership_can("changes.approve")


def may_set_first_baseline(
    project: Project, user: User | None, membership_can: Callable[[str], bool]
) -> bool:
    if user is not None and user.pk and project.manager_id == user.pk:
        return True
    return membership_can("changes.approve")


def membership_can(membership: Membership | ApiKey | None) -> Callable[[str], bool]:
    return (lambda cap: membership.can(cap)) if membership is not None else (lambda cap: True)


# --- Budget lines and the work packages' budgets ------------------------------------------


def _sync_item_budget(org: Organization, project: Project, item_id: Any) -> None:
    """A work package with budget lines has the sum of its lines as its budget."""
    total = (
        BudgetLine.objects.for_org(org)
        .filter(work_item_id=item_id)
        .aggregate(total=Sum("amount"))["total"]
    )
    WorkItem.objects.for_org(org).filter(pk=item_id).update_versioned(budget=total or ZERO)
    services._refresh(org, project)


def plan_budget(org: Organization, project: Project) -> Decimal:
    """The live plan's budget at completion: work packages plus lines tied to none."""
    leaves = (
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False)
        .aggregate(total=Sum("budget"))["total"]
    )
    loose = (
        BudgetLine.objects.for_org(org)
        .filter(project=project, work_item__isnull=True)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (leaves or ZERO) + (loose or ZERO)


def _line_data(
    org: Organization, project: Project, data: Mapping[str, Any], line: BudgetLine | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "category" in data or line is None:
        out["category"] = _check_category(org, str(data.get("category") or ""))
    if "amount" in data or line is None:
        out["amount"] = money(data.get("amount"), "amount")
    if "description" in data:
        out["description"] = str(data.get("description") or "").strip()[:300]
    if "work_item" in data:
        item = _project_item(org, project, data.get("work_item"), "work_item")
        if item is not None and item.is_summary:
            raise ValidationError(
                {"work_item": _("Budget lines belong to work packages, not to summaries.")}
            )
        out["work_item"] = item
    return out


@transaction.atomic
def budget_line_create(
    *, org: Organization, actor: User | None, project: Project, data: Mapping[str, Any]
) -> BudgetLine:
    locked = _lock(org, project)
    services._refuse_archived(locked)
    values = _line_data(org, locked, data, None)
    item = values.get("work_item")
    if item is not None:
        change_guard.refuse_baselined_item(org, locked, item.pk, ["budget"])
    line = BudgetLine.objects.create(organization=org, project=locked, **values)
    if item is not None:
        _sync_item_budget(org, locked, item.pk)
    audit.record(
        org=org,
        action="budget_line.created",
        actor=actor,
        obj=line,
        changes=audit.diff({}, audit.snapshot(line)),
    )
    _event(org, "budget_line.created", line, actor, {"project": str(locked.pk)})
    return line


@transaction.atomic
def budget_line_update(
    *, org: Organization, actor: User | None, line: BudgetLine, data: Mapping[str, Any]
) -> BudgetLine:
    locked = _lock(org, line.project_id)
    services._refuse_archived(locked)
    fresh = BudgetLine.objects.for_org(org).select_for_update().get(pk=line.pk)
    values = _line_data(org, locked, data, fresh)
    before = audit.snapshot(fresh)
    changed = [k for k, v in values.items() if getattr(fresh, k) != v]
    if not changed:
        return fresh
    change_guard.refuse_baselined_line(org, locked, fresh.pk)
    old_item = fresh.work_item_id
    for item_id in {old_item, getattr(values.get("work_item", fresh.work_item), "pk", None)}:
        if item_id is not None:
            change_guard.refuse_baselined_item(org, locked, item_id, ["budget"])
    for name in changed:
        setattr(fresh, name, values[name])
    fresh.save(update_fields=[*changed, "version", "updated_at"])
    for item_id in {old_item, fresh.work_item_id} - {None}:
        _sync_item_budget(org, locked, item_id)
    audit.record(
        org=org,
        action="budget_line.updated",
        actor=actor,
        obj=fresh,
        changes=audit.diff(
            {k: before.get(k) for k in changed}, {k: audit.snapshot(fresh).get(k) for k in changed}
        ),
    )
    _event(org, "budget_line.updated", fresh, actor, {"changed": sorted(changed)})
    return fresh


@transaction.atomic
def budget_line_delete(*, org: Organization, actor: User | None, line: BudgetLine) -> None:
    locked = _lock(org, line.project_id)
    services._refuse_archived(locked)
    fresh = BudgetLine.objects.for_org(org).select_for_update().get(pk=line.pk)
    change_guard.refuse_baselined_line(org, locked, fresh.pk)
    if fresh.work_item_id is not None:
        change_guard.refuse_baselined_item(org, locked, fresh.work_item_id, ["budget"])
    audit.record(
        org=org,
        action="budget_line.deleted",
        actor=actor,
        obj=fresh,
        changes=audit.diff(audit.snapshot(fresh), {}),
    )
    _event(org, "budget_line.deleted", fresh, actor, {"project": str(locked.pk)})
    item_id = fresh.work_item_id
    fresh.delete()
    if item_id is not None:
        _sync_item_budget(org, locked, item_id)


# --- Reserves ----------------------------------------------------------------------------


def reserve_balance(org: Organization, project: Project | Any, reserve: str) -> Decimal:
    total = (
        ReserveEntry.objects.for_org(org)
        .filter(project=project, reserve=reserve)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def _reserve_move(
    org: Organization,
    actor: User | None,
    project: Project,
    reserve: str,
    amount: Decimal,
    reason: str,
    *,
    risk: Any = None,
    change_request: ChangeRequest | None = None,
) -> ReserveEntry:
    if reserve not in ReserveKind.values:
        raise ValidationError({"reserve": _("Unknown reserve.")})
    if (
        amount < 0
        and change_request is None
        and reserve_balance(org, project, reserve) + amount < 0
    ):
        raise ChangeRefused(
            _("The %(reserve)s holds %(balance)s: a larger draw-down needs a change request.")
            % {
                "reserve": ReserveKind(reserve).label.lower(),
                "balance": reserve_balance(org, project, reserve),
            }
        )
    entry = ReserveEntry.objects.create(
        organization=org,
        project=project,
        reserve=reserve,
        amount=amount,
        reason=reason,
        risk_id=getattr(risk, "pk", risk),
        change_request=change_request,
        actor=_actor(actor),
        actor_label=_label(actor),
    )
    audit.record(
        org=org,
        action="reserve.moved",
        actor=actor,
        obj=entry,
        changes={"amount": [None, str(amount)], "reserve": [None, reserve]},
        note=reason,
    )
    return entry


@transaction.atomic
def reserve_set_aside(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    reserve: str,
    amount: Any,
    reason: str,
) -> ReserveEntry:
    """Put money into a reserve while planning; once the project is baselined, reserves
    change only through change requests (and contingency draw-downs)."""
    locked = _lock(org, project)
    services._refuse_archived(locked)
    value = money(amount, "amount")
    if not value:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why.")})
    if change_guard.current_baseline(org, locked) is not None:
        raise ChangeRefused(
            _("The project is baselined: change its reserves through a change request.")
        )
    return _reserve_move(org, actor, locked, reserve, value, reason.strip())


@transaction.atomic
def contingency_draw(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    amount: Any,
    reason: str,
    risk: Any = None,
) -> ReserveEntry:
    """Draw the contingency reserve down for an identified risk (``risk``: the risk, or its
    id, whose response uses it). Refused when it would leave a negative balance: more than
    the reserve holds needs a change request."""
    locked = _lock(org, project)
    services._refuse_archived(locked)
    value = money(amount, "amount")
    if not value:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the reserve is drawn down.")})
    entry = _reserve_move(
        org, actor, locked, ReserveKind.CONTINGENCY, -value, reason.strip(), risk=risk
    )
    _event(
        org,
        "reserve.drawn",
        locked,
        actor,
        {
            "reserve": ReserveKind.CONTINGENCY,
            "amount": str(value),
            "risk": entry.risk_id and str(entry.risk_id),
        },
    )
    return entry


# --- Actual costs ------------------------------------------------------------------------


def _cost_values(
    org: Organization, project: Project, data: Mapping[str, Any], entry: CostEntry | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "category" in data or entry is None:
        out["category"] = _check_category(org, str(data.get("category") or ""))
    if "amount" in data or entry is None:
        out["amount"] = money(data.get("amount"), "amount", signed=True)
    if "date" in data or entry is None:
        day = data.get("date")
        if not isinstance(day, date):
            try:
                day = date.fromisoformat(str(day))
            except ValueError:
                raise ValidationError({"date": _("Enter a date (YYYY-MM-DD).")}) from None
        if not 1900 <= day.year <= 2999:
            raise ValidationError({"date": _("Enter a date between 1900 and 2999.")})
        out["date"] = day
    if "note" in data:
        out["note"] = str(data.get("note") or "").strip()
    if "work_item" in data:
        out["work_item"] = _project_item(org, project, data.get("work_item"), "work_item")
    return out


@transaction.atomic
def cost_entry_create(
    *, org: Organization, actor: User | None, project: Project, data: Mapping[str, Any]
) -> CostEntry:
    """Record an actual cost (actuals change freely, baseline or not)."""
    locked = _lock(org, project)
    services._refuse_archived(locked)
    values = _cost_values(org, locked, data, None)
    entry = CostEntry.objects.create(
        organization=org,
        project=locked,
        entered_by=_actor(actor),
        entered_by_label=_label(actor),
        **values,
    )
    audit.record(
        org=org,
        action="cost_entry.created",
        actor=actor,
        obj=entry,
        changes=audit.diff({}, audit.snapshot(entry)),
    )
    _event(org, "cost_entry.created", entry, actor, {"project": str(locked.pk)})
    return entry


@transaction.atomic
def cost_entry_update(
    *, org: Organization, actor: User | None, entry: CostEntry, data: Mapping[str, Any]
) -> CostEntry:
    locked = _lock(org, entry.project_id)
    services._refuse_archived(locked)
    fresh = CostEntry.objects.for_org(org).select_for_update().get(pk=entry.pk)
    values = _cost_values(org, locked, data, fresh)
    changed = [k for k, v in values.items() if getattr(fresh, k) != v]
    if changed:
        before = audit.snapshot(fresh)
        for name in changed:
            setattr(fresh, name, values[name])
        fresh.save(update_fields=[*changed, "version", "updated_at"])
        after = audit.snapshot(fresh)
        audit.record(
            org=org,
            action="cost_entry.updated",
            actor=actor,
            obj=fresh,
            changes=audit.diff(
                {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}
            ),
        )
        _event(org, "cost_entry.updated", fresh, actor, {"changed": sorted(changed)})
    return fresh


@transaction.atomic
def cost_entry_delete(*, org: Organization, actor: User | None, entry: CostEntry) -> None:
    locked = _lock(org, entry.project_id)
    services._refuse_archived(locked)
    fresh = CostEntry.objects.for_org(org).get(pk=entry.pk)
    audit.record(
        org=org,
        action="cost_entry.deleted",
        actor=actor,
        obj=fresh,
        changes=audit.diff(audit.snapshot(fresh), {}),
    )
    _event(org, "cost_entry.deleted", fresh, actor, {"project": str(locked.pk)})
    fresh.delete()


def labour_rate_for(org: Organization, person: User) -> Decimal | None:
    """The person's own hourly rate, else their role's; None without either."""
    rates = {
        (r.person_id, r.role): r.rate
        for r in LabourRate.objects.for_org(org).filter(Q(person=person) | Q(person__isnull=True))
    }
    if (person.pk, "") in rates:
        return rates[(person.pk, "")]
    role = (
        Membership.objects.for_org(org).filter(user=person).values_list("role", flat=True).first()
    )
    return rates.get((None, role or ""))


@transaction.atomic
def labour_rate_set(
    *,
    org: Organization,
    actor: User | None,
    rate: Any,
    person: User | None = None,
    role: str = "",
) -> LabourRate:
    value = money(rate, "rate")
    if (person is None) == (not role):
        raise ValidationError({"person": _("Give either a person or a role.")})
    if person is not None and not services._is_member(org, person):
        raise ValidationError({"person": _("Must be a member of the organization.")})
    found = LabourRate.objects.for_org(org).filter(
        person=person, role=role if person is None else ""
    )
    row = found.select_for_update().first()
    if row is None:
        row = LabourRate.objects.create(
            organization=org, person=person, role="" if person else role, rate=value
        )
    elif row.rate != value:
        row.rate = value
        row.save(update_fields=["rate", "version", "updated_at"])
    audit.record(
        org=org,
        action="labour_rate.set",
        actor=actor,
        obj=row,
        changes={"rate": [None, str(value)]},
    )
    return row


@transaction.atomic
def labour_cost_log(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    person: User,
    hours: Any,
    on: date,
    work_item: WorkItem | None = None,
    note: str = "",
) -> CostEntry:
    """Logged effort as a labour cost: hours x the person's (or their role's) rate."""
    value = money(hours, "hours")
    if not value:
        raise ValidationError({"hours": _("Log more than zero hours.")})
    if not services._is_member(org, person):
        raise ValidationError({"person": _("Must be a member of the organization.")})
    rate = labour_rate_for(org, person)
    if rate is None:
        raise ValidationError(
            {
                "person": _("No hourly rate is set for %(name)s or their role.")
                % {"name": person.name}
            }
        )
    entry = cost_entry_create(
        org=org,
        actor=actor,
        project=project,
        data={
            "category": BudgetCategory.LABOUR,
            "amount": (value * rate).quantize(CENT),
            "date": on,
            "note": note,
            "work_item": work_item,
        },
    )
    CostEntry.objects.for_org(org).filter(pk=entry.pk).update(person=person, hours=value, rate=rate)
    entry.refresh_from_db()
    return entry


# --- Baselines ---------------------------------------------------------------------------


def _snapshot(
    org: Organization,
    actor: User | None,
    project: Project,
    name: str,
    change_request: ChangeRequest | None,
) -> Baseline:
    number = (
        Baseline.objects.for_org(org).filter(project=project).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    items = list(
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .order_by("wbs_path")
        .values_list(
            "pk",
            "wbs_code",
            "name",
            "is_summary",
            "early_start",
            "early_finish",
            "duration_days",
            "effort_hours",
            "budget",
        )
    )
    lines = list(
        BudgetLine.objects.for_org(org)
        .filter(project=project)
        .values_list("pk", "amount", "work_item_id")
    )
    loose = sum((amount for _pk, amount, item in lines if item is None), ZERO)
    leaves_budget = sum((row[8] for row in items if not row[3]), ZERO)
    leaves_effort = sum((row[7] for row in items if not row[3]), ZERO)
    baseline = Baseline.objects.create(
        organization=org,
        project=project,
        number=number,
        name=name,
        change_request=change_request,
        created_by=_actor(actor),
        created_by_label=_label(actor),
        start=project.schedule_start,
        finish=project.schedule_finish,
        duration_days=project.schedule_duration_days,
        effort_hours=leaves_effort,
        budget=leaves_budget + loose,
        unassigned_budget=loose,
        contingency_reserve=reserve_balance(org, project, ReserveKind.CONTINGENCY),
        management_reserve=reserve_balance(org, project, ReserveKind.MANAGEMENT),
        critical_path=list(project.critical_path or []),
        budget_lines=[str(pk) for pk, _amount, _item in lines],
    )
    BaselineItem.objects.bulk_create(
        [
            BaselineItem(
                organization=org,
                baseline=baseline,
                work_item_id=pk,
                work_item_key=pk,
                wbs_code=code,
                name=item_name,
                is_summary=summary,
                planned_start=start,
                planned_finish=finish,
                duration_days=days,
                effort_hours=effort,
                budget=budget,
            )
            for pk, code, item_name, summary, start, finish, days, effort, budget in items
        ],
        batch_size=2000,
    )
    audit.record(
        org=org,
        action="baseline.created",
        actor=actor,
        obj=baseline,
        changes={"number": [None, number], "budget": [None, str(baseline.budget)]},
    )
    _event(
        org,
        "baseline.created",
        baseline,
        actor,
        {
            "project": str(project.pk),
            "number": number,
            "change_request": str(change_request.pk) if change_request else None,
        },
    )
    return baseline


@transaction.atomic
def baseline_create(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    name: str,
    can: Callable[[str], bool] = lambda cap: True,
) -> Baseline:
    """Set the project's first baseline. Later ones come only from implementing an approved
    change request (``change_request_implement``)."""
    locked = _lock(org, project)
    services._refuse_archived(locked)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the baseline a name.")})
    if not may_set_first_baseline(locked, actor, can):
        raise NotAllowed(
            _("Only the project manager, or someone who may approve changes, sets the baseline.")
        )
    if change_guard.current_baseline(org, locked) is not None:
        raise ChangeRefused(
            _(
                "The project already has a baseline: a new one comes from implementing an "
                "approved change request."
            )
        )
    if not WorkItem.objects.for_org(org).filter(project=locked).exists():
        raise ValidationError({"name": _("The WBS is empty: there is nothing to baseline.")})
    return _snapshot(org, actor, locked, name, None)


# --- Change requests -----------------------------------------------------------------------


def _ref(value: Any, field: str) -> str:
    try:
        return str(uuid.UUID(str(getattr(value, "pk", value))))
    except ValueError:
        raise ValidationError({field: _("Not a work item of this project.")}) from None


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter a whole number.")})
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}}
        )
    return number


def clean_changes(org: Organization, project: Project, changes: Any) -> list[dict[str, Any]]:
    """Check proposed changes against the project; JSON-ready, ids as strings. Errors name
    the change's index (``changes.2.duration_days``)."""
    if not isinstance(changes, list):
        raise ValidationError({"changes": _("Give a list of changes.")})
    if len(changes) > 500:
        raise ValidationError({"changes": _("At most 500 changes in one request.")})
    out: list[dict[str, Any]] = []
    for n, raw in enumerate(changes):
        at = f"changes.{n}"
        if not isinstance(raw, Mapping) or raw.get("kind") not in CHANGE_KINDS:
            raise ValidationError(
                {
                    f"{at}.kind": _("Unknown kind of change; one of: %(kinds)s.")
                    % {"kinds": ", ".join(CHANGE_KINDS)}
                }
            )
        kind = str(raw["kind"])
        extra = set(raw) - {"kind", *CHANGE_KINDS[kind]}
        if extra:
            raise ValidationError(
                {at: _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(map(str, extra)))}}
            )
        change: dict[str, Any] = {"kind": kind}
        if "work_item" in CHANGE_KINDS[kind] and (
            kind != "budget_line" and kind != "reserve_transfer"
        ):
            item = _project_item(
                org, project, _ref(raw.get("work_item"), f"{at}.work_item"), f"{at}.work_item"
            )
            assert item is not None
            change["work_item"] = str(item.pk)
        if kind == "duration":
            change["duration_days"] = _int(
                raw.get("duration_days"), f"{at}.duration_days", 0, 10_000
            )
        elif kind == "dates":
            value = raw.get("start_no_earlier_than")
            if value in (None, ""):
                change["start_no_earlier_than"] = None
            else:
                try:
                    day = date.fromisoformat(str(value))
                except ValueError:
                    raise ValidationError(
                        {f"{at}.start_no_earlier_than": _("Enter a date (YYYY-MM-DD).")}
                    ) from None
                if not 1900 <= day.year <= 2999:
                    raise ValidationError(
                        {f"{at}.start_no_earlier_than": _("Enter a date between 1900 and 2999.")}
                    )
                change["start_no_earlier_than"] = day.isoformat()
        elif kind == "effort":
            change["effort_hours"] = str(money(raw.get("effort_hours"), f"{at}.effort_hours"))
        elif kind == "budget":
            change["budget"] = str(money(raw.get("budget"), f"{at}.budget"))
            if BudgetLine.objects.for_org(org).filter(work_item_id=change["work_item"]).exists():
                raise ValidationError(
                    {
                        f"{at}.budget": _(
                            "This work package's budget is the sum of its budget lines: "
                            "propose a budget_line change instead."
                        )
                    }
                )
        elif kind == "budget_line":
            if raw.get("line"):
                line = (
                    BudgetLine.objects.for_org(org)
                    .filter(project=project, pk=_ref(raw["line"], f"{at}.line"))
                    .first()
                )
                if line is None:
                    raise ValidationError({f"{at}.line": _("Not a budget line of this project.")})
                change["line"] = str(line.pk)
            change["amount"] = str(money(raw.get("amount"), f"{at}.amount"))
            change["category"] = _check_category(
                org, str(raw.get("category") or BudgetCategory.OTHER), f"{at}.category"
            )
            change["description"] = str(raw.get("description") or "").strip()[:300]
            target = raw.get("work_item")
            if target:
                item = _project_item(
                    org, project, _ref(target, f"{at}.work_item"), f"{at}.work_item"
                )
                change["work_item"] = str(item.pk) if item else None
        elif kind == "remove_budget_line":
            line = (
                BudgetLine.objects.for_org(org)
                .filter(project=project, pk=_ref(raw.get("line"), f"{at}.line"))
                .first()
            )
            if line is None:
                raise ValidationError({f"{at}.line": _("Not a budget line of this project.")})
            change["line"] = str(line.pk)
        elif kind == "add_item":
            name = str(raw.get("name") or "").strip()
            if not name or len(name) > 300:
                raise ValidationError({f"{at}.name": _("Give the work item a name.")})
            change["name"] = name
            change["duration_days"] = _int(
                raw.get("duration_days", 1), f"{at}.duration_days", 0, 10_000
            )
            change["effort_hours"] = str(money(raw.get("effort_hours", "0"), f"{at}.effort_hours"))
            change["budget"] = str(money(raw.get("budget", "0"), f"{at}.budget"))
            for key in ("parent", "predecessor"):
                if raw.get(key):
                    item = _project_item(org, project, _ref(raw[key], f"{at}.{key}"), f"{at}.{key}")
                    change[key] = str(item.pk) if item else None
        elif kind == "reserve_transfer":
            source, target = raw.get("from"), raw.get("to")
            if source not in RESERVES or target not in RESERVE_ENDS or source == target:
                raise ValidationError(
                    {
                        f"{at}.from": _(
                            "Move money from the management or contingency reserve to the "
                            "other reserve or to the budget."
                        )
                    }
                )
            change["from"], change["to"] = source, target
            change["amount"] = str(money(raw.get("amount"), f"{at}.amount"))
            if not Decimal(change["amount"]):
                raise ValidationError({f"{at}.amount": _("The amount must be more than zero.")})
            if target == "budget":
                change["category"] = _check_category(
                    org, str(raw.get("category") or BudgetCategory.OTHER), f"{at}.category"
                )
                if raw.get("work_item"):
                    item = _project_item(
                        org, project, _ref(raw["work_item"], f"{at}.work_item"), f"{at}.work_item"
                    )
                    change["work_item"] = str(item.pk) if item else None
        elif kind == "project_status":
            if raw.get("status") != ProjectStatus.ON_HOLD:
                raise ValidationError(
                    {f"{at}.status": _("A change request can put a project on hold.")}
                )
            change["status"] = ProjectStatus.ON_HOLD
        out.append(change)
    return out


def _apply_changes(
    org: Organization, actor: User | None, project: Project, cr: ChangeRequest
) -> None:
    """Apply every change of ``cr`` through the services, inside ``change_control``."""
    with change_guard.change_control():
        for change in cr.changes:
            kind = change["kind"]

            def item(key: str = "work_item", change: dict[str, Any] = change) -> WorkItem:
                found = _project_item(org, project, change.get(key), key)
                assert found is not None
                return found

            if kind in ("duration", "dates", "effort", "budget"):
                field = {
                    "duration": "duration_days",
                    "dates": "start_no_earlier_than",
                    "effort": "effort_hours",
                    "budget": "budget",
                }[kind]
                value: Any = change[field]
                if kind == "dates" and value is not None:
                    value = date.fromisoformat(value)
                elif kind in ("effort", "budget"):
                    value = Decimal(value)
                services.work_item_update(org=org, actor=actor, item=item(), data={field: value})
            elif kind == "budget_line":
                data = {
                    "amount": change["amount"],
                    "category": change["category"],
                    "description": change.get("description", ""),
                    "work_item": change.get("work_item"),
                }
                if change.get("line"):
                    line = BudgetLine.objects.for_org(org).get(pk=change["line"], project=project)
                    budget_line_update(org=org, actor=actor, line=line, data=data)
                else:
                    budget_line_create(org=org, actor=actor, project=project, data=data)
            elif kind == "remove_budget_line":
                line = BudgetLine.objects.for_org(org).get(pk=change["line"], project=project)
                budget_line_delete(org=org, actor=actor, line=line)
            elif kind == "add_item":
                parent = item("parent") if change.get("parent") else None
                new = services.work_item_create(
                    org=org,
                    actor=actor,
                    project=project,
                    parent=parent,
                    data={
                        "name": change["name"],
                        "duration_days": change["duration_days"],
                        "effort_hours": Decimal(change["effort_hours"]),
                        "budget": Decimal(change["budget"]),
                    },
                )
                if change.get("predecessor"):
                    services.dependency_create(
                        org=org,
                        actor=actor,
                        data={
                            "predecessor": item("predecessor"),
                            "successor": new,
                            "type": Dependency.Type.FS,
                            "lag_days": 0,
                        },
                    )
            elif kind == "remove_item":
                services.work_item_delete(org=org, actor=actor, item=item())
            elif kind == "reserve_transfer":
                amount = Decimal(change["amount"])
                note = _("Change request CR-%(n)d: %(title)s") % {"n": cr.number, "title": cr.title}
                _reserve_move(org, actor, project, change["from"], -amount, note, change_request=cr)
                if change["to"] == "budget":
                    budget_line_create(
                        org=org,
                        actor=actor,
                        project=project,
                        data={
                            "amount": amount,
                            "category": change.get("category", BudgetCategory.OTHER),
                            "description": note,
                            "work_item": change.get("work_item"),
                        },
                    )
                else:
                    _reserve_move(
                        org, actor, project, change["to"], amount, note, change_request=cr
                    )
            elif kind == "project_status":
                fresh = Project.objects.for_org(org).get(pk=project.pk)
                if fresh.status != ProjectStatus.ON_HOLD:
                    services.project_decide(
                        org=org,
                        actor=actor,
                        project=fresh,
                        decision="hold",
                        note=_("Change request CR-%(n)d: %(title)s")
                        % {"n": cr.number, "title": cr.title},
                    )


class _Rollback(Exception):
    pass


@contextmanager
def _savepoint() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def compute_impact(org: Organization, cr: ChangeRequest) -> dict[str, Any]:
    """What implementing ``cr`` would do to the finish date, the critical path and the
    budget: the changes are applied for real inside a savepoint, read, and rolled back."""
    project = Project.objects.for_org(org).get(pk=cr.project_id)
    baseline = change_guard.current_baseline(org, project)
    before = {
        "finish_before": project.schedule_finish.isoformat() if project.schedule_finish else None,
        "critical_before": list(project.critical_path or []),
        "budget_before": str(plan_budget(org, project)),
        "baseline_finish": baseline.finish.isoformat() if baseline and baseline.finish else None,
        "baseline_budget": str(baseline.budget) if baseline else None,
    }
    result: dict[str, Any] = {}
    with _savepoint():
        try:
            locked = _lock(org, project)
            _apply_changes(org, None, locked, cr)
            after = Project.objects.for_org(org).get(pk=project.pk)
            result = {
                "finish_after": after.schedule_finish.isoformat()
                if after.schedule_finish
                else None,
                "critical_after": list(after.critical_path or []),
                "budget_after": str(plan_budget(org, after)),
                "error": "",
            }
        except (ValidationError, services.TransitionRefused, ChangeRefused) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                getattr(exc, "messages", [str(exc)])
            )
            result = {"error": str(message)}
    impact = {**before, **result, "computed_at": timezone.now().isoformat()}
    if impact.get("finish_after") and impact.get("finish_before"):
        calendar = selectors.project_calendar(project)
        a, b = (
            date.fromisoformat(impact["finish_before"]),
            date.fromisoformat(impact["finish_after"]),
        )
        impact["finish_shift_days"] = (
            calendar.count(a, b) - 1 if b > a else -(calendar.count(b, a) - 1) if b < a else 0
        )
    if impact.get("budget_after") is not None and impact.get("budget_before") is not None:
        impact["budget_change"] = str(
            Decimal(impact["budget_after"]) - Decimal(impact["budget_before"])
        )
    names = dict(
        WorkItem.objects.for_org(org)
        .filter(pk__in={*impact.get("critical_before", []), *impact.get("critical_after", [])})
        .values_list("pk", "wbs_code")
    )
    impact["critical_path_changed"] = impact.get("critical_before") != impact.get("critical_after")
    impact["critical_codes_before"] = [
        names.get(uuid.UUID(pk), "") for pk in impact.get("critical_before", [])
    ]
    impact["critical_codes_after"] = [
        names.get(uuid.UUID(pk), "—") for pk in impact.get("critical_after", [])
    ]
    return impact


def _store_impact(org: Organization, cr: ChangeRequest) -> None:
    cr.impact = compute_impact(org, cr)
    ChangeRequest.objects.for_org(org).filter(pk=cr.pk).update(impact=cr.impact)


def _lock_cr(org: Organization, cr: ChangeRequest) -> tuple[Project, ChangeRequest]:
    project = _lock(org, cr.project_id)
    fresh = ChangeRequest.objects.for_org(org).select_for_update().get(pk=cr.pk)
    return project, fresh


def _move(cr: ChangeRequest, to: str) -> None:
    if to not in CR_TRANSITIONS[cr.status]:
        raise ChangeRefused(
            _("A change request that is %(status)s cannot become %(to)s.")
            % {
                "status": ChangeRequestStatus(cr.status).label.lower(),
                "to": ChangeRequestStatus(to).label.lower(),
            }
        )


def _requester(actor: User | None) -> tuple[User | None, uuid.UUID | None]:
    origin = audit.current_origin()
    key = origin.api_key.pk if origin.api_key is not None else None
    return _actor(actor), key


@transaction.atomic
def change_request_draft(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    title: str,
    reason: str,
    changes: Sequence[Mapping[str, Any]] | Any,
) -> ChangeRequest:
    """A new change request (a draft), with its impact computed; also called by the risk
    register (e.g. "put the project on hold", a ``project_status`` change)."""
    locked = _lock(org, project)
    services._refuse_archived(locked)
    title, reason = (title or "").strip(), (reason or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the change request a title.")
    if not reason:
        errors["reason"] = _("Say why the change is needed.")
    if errors:
        raise ValidationError(errors)
    cleaned = clean_changes(
        org, locked, list(changes) if isinstance(changes, Sequence) else changes
    )
    number = (
        ChangeRequest.objects.for_org(org).filter(project=locked).aggregate(n=Max("number"))["n"]
        or 0
    ) + 1
    user, key = _requester(actor)
    cr = ChangeRequest.objects.create(
        organization=org,
        project=locked,
        number=number,
        title=title[:200],
        reason=reason,
        changes=cleaned,
        requested_by=user,
        requested_via_key=key,
        requested_by_label=_label(actor),
    )
    _store_impact(org, cr)
    audit.record(
        org=org,
        action="change_request.created",
        actor=actor,
        obj=cr,
        changes={"title": [None, cr.title]},
    )
    _event(org, "change_request.created", cr, actor, {"project": str(locked.pk), "number": number})
    return cr


@transaction.atomic
def change_request_update(
    *, org: Organization, actor: User | None, cr: ChangeRequest, data: Mapping[str, Any]
) -> ChangeRequest:
    """Change a draft's title, reason or changes (only while it is a draft)."""
    project, fresh = _lock_cr(org, cr)
    if fresh.status != CR.DRAFT:
        raise ChangeRefused(_("Only a draft change request can be edited."))
    changed = []
    for name in ("title", "reason"):
        if name in data:
            value = str(data[name] or "").strip()
            if not value:
                raise ValidationError({name: _("This field is required.")})
            if value != getattr(fresh, name):
                setattr(fresh, name, value[:200] if name == "title" else value)
                changed.append(name)
    if "changes" in data:
        cleaned = clean_changes(org, project, data["changes"])
        if cleaned != fresh.changes:
            fresh.changes = cleaned
            changed.append("changes")
    if changed:
        fresh.save(update_fields=[*changed, "version", "updated_at"])
        _store_impact(org, fresh)
        audit.record(
            org=org,
            action="change_request.updated",
            actor=actor,
            obj=fresh,
            changes={k: [None, None] for k in changed},
        )
    return fresh


@transaction.atomic
def change_request_submit(
    *, org: Organization, actor: User | None, cr: ChangeRequest
) -> ChangeRequest:
    project, fresh = _lock_cr(org, cr)
    _move(fresh, CR.SUBMITTED)
    if not fresh.changes:
        raise ValidationError({"changes": _("Propose at least one change before submitting.")})
    fresh.status = CR.SUBMITTED
    fresh.submitted_at = timezone.now()
    fresh.save(update_fields=["status", "submitted_at", "version", "updated_at"])
    _store_impact(org, fresh)
    audit.record(
        org=org,
        action="change_request.submitted",
        actor=actor,
        obj=fresh,
        changes={"status": [CR.DRAFT, CR.SUBMITTED]},
    )
    _event(
        org,
        "change_request.submitted",
        fresh,
        actor,
        {"project": str(project.pk), "number": fresh.number},
    )
    return fresh


def _decide(
    org: Organization,
    actor: User | None,
    cr: ChangeRequest,
    to: str,
    note: str,
    can: Callable[[str], bool],
) -> ChangeRequest:
    project, fresh = _lock_cr(org, cr)
    _move(fresh, to)
    user, key = _requester(actor)
    same_person = user is not None and fresh.requested_by_id == user.pk
    same_key = key is not None and fresh.requested_via_key == key
    if same_person or same_key:
        raise NotAllowed(_("The requester cannot approve or reject their own change request."))
    if not may_approve(project, user, can):
        raise NotAllowed(
            _("Only the project's sponsor, or someone who may approve changes, decides on it.")
        )
    fresh.status = to
    fresh.decided_by = user
    fresh.decided_by_label = _label(actor)
    fresh.decided_at = timezone.now()
    fresh.decision_note = (note or "").strip()
    fresh.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_by_label",
            "decided_at",
            "decision_note",
            "version",
            "updated_at",
        ]
    )
    audit.record(
        org=org,
        action=f"change_request.{to}",
        actor=actor,
        obj=fresh,
        changes={"status": [CR.SUBMITTED, to]},
        note=fresh.decision_note,
    )
    _event(
        org,
        f"change_request.{to}",
        fresh,
        actor,
        {"project": str(project.pk), "number": fresh.number},
    )
    return fresh


@transaction.atomic
def change_request_approve(
    *,
    org: Organization,
    actor: User | None,
    cr: ChangeRequest,
    note: str = "",
    can: Callable[[str], bool] = lambda cap: False,
) -> ChangeRequest:
    """Approve a submitted request: the sponsor, or someone whose role may approve changes
    (``can("changes.approve")``), and never its requester."""
    return _decide(org, actor, cr, CR.APPROVED, note, can)


@transaction.atomic
def change_request_reject(
    *,
    org: Organization,
    actor: User | None,
    cr: ChangeRequest,
    note: str = "",
    can: Callable[[str], bool] = lambda cap: False,
) -> ChangeRequest:
    return _decide(org, actor, cr, CR.REJECTED, note, can)


@transaction.atomic
def change_request_implement(
    *, org: Organization, actor: User | None, cr: ChangeRequest
) -> ChangeRequest:
    """Apply every change of an approved request in one transaction and create the next
    baseline, which references it."""
    project, fresh = _lock_cr(org, cr)
    _move(fresh, CR.IMPLEMENTED)
    services._refuse_archived(project)
    _apply_changes(org, actor, project, fresh)
    after = _lock(org, project)
    _snapshot(
        org,
        actor,
        after,
        _("After change request CR-%(n)d: %(title)s") % {"n": fresh.number, "title": fresh.title},
        fresh,
    )
    fresh.status = CR.IMPLEMENTED
    fresh.implemented_at = timezone.now()
    fresh.implemented_by_label = _label(actor)
    fresh.save(
        update_fields=["status", "implemented_at", "implemented_by_label", "version", "updated_at"]
    )
    audit.record(
        org=org,
        action="change_request.implemented",
        actor=actor,
        obj=fresh,
        changes={"status": [CR.APPROVED, CR.IMPLEMENTED]},
    )
    _event(
        org,
        "change_request.implemented",
        fresh,
        actor,
        {"project": str(project.pk), "number": fresh.number},
    )
    return fresh


def change_log(org: Organization, project: Project) -> list[ChangeRequest]:
    """Decided and implemented requests with their baselines, newest first."""
    return list(
        ChangeRequest.objects.for_org(org)
        .filter(project=project)
        .select_related("requested_by", "decided_by")
        .order_by("-number")
    )
