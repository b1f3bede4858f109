"""State changes of project follow-up: one keyword-only function each, one transaction each.

Pages, the API and the demo write through here. Every change that can move the schedule
(an item's duration, dates, parent or position, a link, the project's start or calendar)
locks the project row first (so concurrent edits of one project queue up instead of
computing from each other's half-written state), writes, and then recomputes in the same
transaction: WBS codes, the 100 % roll-up and the critical-path schedule, stored on the
rows with one ``bulk_update`` of the rows that changed (``_refresh``). An invalid result
(a loop of links, a link to an item's own ancestor) raises and rolls everything back.

Lock order, everywhere: the project, then its work items and links.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, transaction
from django.db.models import Field, Max, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import audit
from accounts import selectors as people
from accounts.models import Membership, Organization, User
from followup.kernel import events
from projects import change_guard, gates, quality, selectors
from projects.calc import scheduling, wbs
from projects.defaults import DEFAULT_PHASES, DEFAULT_TEMPLATE_NAME
from projects.models import (
    AttestRole,
    Decision,
    Dependency,
    GateCriterion,
    Phase,
    PhaseTemplate,
    PhaseTransition,
    ProgressRecord,
    Project,
    ProjectStatus,
    TemplateCriterion,
    TemplatePhase,
    WorkItem,
)

S = ProjectStatus

# Legal status moves (Oscar's pipeline): the services refuse every other one.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.ACTIVE, S.ON_HOLD, S.CANCELLED}),
    S.ACTIVE: frozenset({S.ON_HOLD, S.CLOSED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.ACTIVE, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

PROJECT_FIELDS = (
    "code",
    "name",
    "objective",
    "engagement",
    "manager",
    "sponsor",
    "start_date",
    "target_finish_date",
    "currency",
    "external_id",
)
# Fields whose change moves the schedule.
SCHEDULE_FIELDS = {"start_date", "target_finish_date", "calendar"}
ITEM_FIELDS = (
    "name",
    "duration_days",
    "effort_hours",
    "budget",
    "assignee",
    "percent_complete",
    "actual_start",
    "actual_finish",
    "start_no_earlier_than",
    "external_id",
    "phase",
)
ITEM_SCHEDULE_FIELDS = {"duration_days", "actual_start", "actual_finish", "start_no_earlier_than"}
ITEM_ROLLUP_FIELDS = {"effort_hours", "budget", "percent_complete"}
# A summary's figures are its children's: these cannot be written on one.
SUMMARY_DERIVED = ("duration_days", "effort_hours", "budget", "percent_complete")
HUNDRED = Decimal(100)


class GateRefused(Exception):
    """A ``go`` whose gate has unmet criteria; nothing was changed."""

    def __init__(self, unmet: list[selectors.CriterionState]) -> None:
        super().__init__([s.label for s in unmet])
        self.unmet = unmet

    def as_list(self) -> list[dict[str, str]]:
        return [{"criterion": s.label, "reason": s.reason} for s in self.unmet]


class TransitionRefused(Exception):
    """A decision that the project's state does not allow (closed, already on hold...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CycleRefused(ValidationError):
    """A link (or a move) that would close a loop; ``items`` are the work items on it."""

    def __init__(self, message: str, items: list[WorkItem]) -> None:
        super().__init__({"successor": [message]}, code="cycle")
        self.items = items


class PasteError(ValidationError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__({"outline": [message]}, code="outline")
        self.line = line
        self.text = message


# --- Helpers -------------------------------------------------------------------------------


def _actor_label(actor: User | None) -> str:
    if actor is not None and actor.pk:
        return f"{actor.name} <{actor.email}>"
    origin = audit.current_origin()
    if origin.api_key is not None:
        return f"API key “{origin.api_key.name}”"
    return ""


def _is_member(org: Organization, user: User | None) -> bool:
    return user is None or people.has_membership(org, user)


def _same_org(org: Organization, **objects: Any) -> None:
    for name, obj in objects.items():
        if obj is not None and getattr(obj, "organization_id", org.pk) != org.pk:
            raise ValidationError({name: _("Not found in this organization.")})


def _current(instance: Any, name: str) -> Any:
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def _apply(instance: Any, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    changed = []
    for name in allowed:
        if name in data and _current(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    return changed


def _clean_external_id(data: dict[str, Any]) -> None:
    if "external_id" in data:
        data["external_id"] = (data["external_id"] or "").strip() or None


def _lock(org: Organization, project_id: Any) -> Project:
    """The project row, locked until the end of the transaction (no-op on SQLite, whose
    immediate transactions serialize writers anyway)."""
    return (
        Project.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("organization", "phase")
        .get(pk=project_id)
    )


def lock_project(org: Organization, project_id: Any) -> Project | None:
    """Lock a project row for the rest of the caller's transaction: the first step of the
    lock order, for callers that are about to lock one of its rows themselves."""
    return (
        Project.objects.for_org(org).select_for_update(of=("self",)).filter(pk=project_id).first()
    )


def _refuse_archived(project: Project) -> None:
    if project.is_archived:
        raise ValidationError(
            _("This project is %(status)s: its plan can no longer change.")
            % {"status": ProjectStatus(project.status).label.lower()}
        )


def calendar_clean(value: Any) -> dict[str, Any]:
    """``{"working_days": [1..7], "holidays": ["YYYY-MM-DD"]}``, checked and sorted."""
    if not isinstance(value, Mapping):
        raise ValidationError({"calendar": _("Give working_days and holidays.")})
    unknown = set(value) - {"working_days", "holidays"}
    if unknown:
        raise ValidationError(
            {"calendar": _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}}
        )
    days = value.get("working_days", [1, 2, 3, 4, 5])
    if (
        not isinstance(days, list | tuple)
        or not days
        or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days)
    ):
        raise ValidationError(
            {"calendar": _("working_days must list ISO weekdays from 1 (Monday) to 7 (Sunday).")}
        )
    holidays: set[date] = set()
    for raw in value.get("holidays", []) or []:
        try:
            holidays.add(raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        except ValueError:
            raise ValidationError(
                {"calendar": _("%(value)s is not a date (YYYY-MM-DD).") % {"value": raw}}
            ) from None
    return {
        "working_days": sorted(set(days)),
        "holidays": [d.isoformat() for d in sorted(holidays)],
    }


def _event(
    org: Organization,
    type: str,
    subject: Any,
    actor: User | None,
    payload: dict[str, Any] | None = None,
) -> None:
    events.record(org=org, type=type, subject=subject, actor=actor, payload=payload or {})


# --- The schedule ---------------------------------------------------------------------------


def _path(code: str) -> str:
    return ".".join(f"{int(part):05d}" for part in code.split("."))


def _schedule_error(org: Organization, error: scheduling.ScheduleError) -> ValidationError:
    """A scheduler refusal in words, naming the work items (by WBS code and name)."""
    names = _names(org, _error_ids(error))
    if isinstance(error, scheduling.CycleError):
        ring = [_as_uuid(i) for i in error.items]
        loop = [*ring, ring[0]] if ring else []
        return CycleRefused(
            _("This would close a loop of dependencies: %(loop)s.")
            % {"loop": " → ".join(names.get(i, str(i)) for i in loop)},
            list(
                WorkItem.objects.for_org(org).filter(pk__in=_error_ids(error)).order_by("wbs_path")
            ),
        )
    if isinstance(error, scheduling.AncestorLinkError):
        return ValidationError(
            {
                "successor": _(
                    "%(a)s and %(b)s are in one branch of the WBS (one contains the other): "
                    "they cannot be linked."
                )
                % {
                    "a": names.get(_as_uuid(error.predecessor), ""),
                    "b": names.get(_as_uuid(error.successor), ""),
                }
            }
        )
    if isinstance(error, scheduling.SelfLinkError):
        return ValidationError({"successor": _("A work item cannot depend on itself.")})
    if isinstance(error, scheduling.DuplicateLinkError):
        return ValidationError({"successor": _("These two work items are already linked.")})
    if isinstance(error, scheduling.ActualDatesError):
        return ValidationError({"actual_finish": _("The actual finish is before the start.")})
    return ValidationError(_("The schedule cannot be computed: %(error)s") % {"error": error})


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _uuid_text(value: Any) -> str:
    """An id as the API shows it (SQLite casts a uuid column to 32 bare hex digits)."""
    return str(_as_uuid(value))


def _error_ids(error: scheduling.ScheduleError) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for name in ("items", "item", "predecessor", "successor"):
        value = getattr(error, name, None)
        if isinstance(value, list):
            ids.extend(_as_uuid(v) for v in value)
        elif value is not None:
            ids.append(_as_uuid(value))
    return ids


def _names(org: Organization, ids: Iterable[Any]) -> dict[Any, str]:
    return {
        pk: f"{code} {name}".strip()
        for pk, code, name in WorkItem.objects.for_org(org)
        .filter(pk__in=list(ids))
        .values_list("pk", "wbs_code", "name")
    }


# What _refresh reads of each work item (plain tuples: a 10,000-item plan loads fast) and
# what it writes back.
_LOADED = (
    "sid",
    "sparent",
    "position",
    "duration_days",
    "start_no_earlier_than",
    "actual_start",
    "actual_finish",
    "effort_hours",
    "budget",
    "percent_complete",
    "wbs_code",
    "wbs_path",
    "depth",
    "is_summary",
    "early_start",
    "early_finish",
    "late_start",
    "late_finish",
    "total_float",
    "free_float",
    "critical",
    "version",
)
_STORED = (
    "wbs_code",
    "wbs_path",
    "depth",
    "is_summary",
    "early_start",
    "early_finish",
    "late_start",
    "late_finish",
    "total_float",
    "free_float",
    "critical",
    "effort_hours",
    "budget",
    "percent_complete",
    "duration_days",
    "actual_start",
    "actual_finish",
)


def _bulk_store(org: Organization, rows: Sequence[WorkItem], columns: Sequence[str]) -> None:
    """Write ``columns`` of many work items at once.

    On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` per 1,000 rows: Django's
    ``bulk_update`` builds a ``CASE WHEN`` expression per row and column in Python, which
    took 3 s of a 3.5 s write that moved every date of a 2,000-item plan. Elsewhere (SQLite)
    ``bulk_update``. Either way the rows are this organization's (the WHERE says so)."""
    if connection.vendor != "postgresql":
        WorkItem.objects.for_org(org).bulk_update(rows, list(columns), batch_size=500)
        return
    meta = WorkItem._meta
    fields: list[Field[Any, Any]] = []
    for name in columns:
        field = meta.get_field(name)
        assert isinstance(field, Field)
        fields.append(field)
    quote = connection.ops.quote_name
    assert meta.pk is not None
    pk_type = meta.pk.db_type(connection)
    casts = [f"%s::{pk_type}"] + [f"%s::{field.db_type(connection)}" for field in fields]
    row_sql = "(" + ", ".join(casts) + ")"
    quoted = [quote(str(field.column)) for field in fields]
    names = ", ".join(quoted)
    assignments = ", ".join(f"{column} = v.{column}" for column in quoted)
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        params: list[Any] = []
        for row in batch:
            params.append(row.pk)
            params.extend(
                field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields
            )
        sql = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names
            f"FROM (VALUES {', '.join([row_sql] * len(batch))}) AS v(id, {names}) "
            f"WHERE t.id = v.id AND t.organization_id = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, org.pk])


def _refresh(org: Organization, project: Project, *, now: datetime | None = None) -> int:
    """Recompute WBS codes, roll-ups and the schedule of a locked project; store what
    changed (one ``bulk_update``). Returns the number of work items whose row changed."""
    now = now or timezone.now()
    # Ids as text, not UUID objects: a 10,000-item plan has 60,000 of them, hashed some
    # 450,000 times by the calculations (a str hashes in C, a UUID in Python).
    items = list(
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .order_by("wbs_path", "id")
        .annotate(sid=Cast("id", TextField()), sparent=Cast("parent_id", TextField()))
        .values_list(*_LOADED, named=True)
    )
    links = list(
        Dependency.objects.for_org(org)
        .filter(project=project)
        .annotate(p=Cast("predecessor_id", TextField()), s=Cast("successor_id", TextField()))
        .values_list("p", "s", "type", "lag_days")
    )
    rows = [(i.sid, i.sparent, i.position) for i in items]
    try:
        codes = wbs.codes(rows)
    except wbs.WbsError as exc:  # a parent loop cannot be made through the services
        raise ValidationError(_("The WBS is not a tree: %(error)s") % {"error": exc}) from None
    parents = {i.sparent for i in items if i.sparent is not None}
    calendar = selectors.project_calendar(project)
    try:
        schedule = scheduling.compute(
            [
                scheduling.Item(
                    i.sid,
                    duration=i.duration_days,
                    parent=i.sparent,
                    start_no_earlier_than=i.start_no_earlier_than,
                    actual_start=None if i.sid in parents else i.actual_start,
                    actual_finish=None if i.sid in parents else i.actual_finish,
                )
                for i in items
            ],
            [scheduling.Link(p, s, t, lag) for p, s, t, lag in links],
            calendar=calendar,
            start=project.start_date,
        )
    except scheduling.ScheduleError as exc:
        raise _schedule_error(org, exc) from None
    rolled = wbs.roll_up(
        rows,
        {
            i.sid: wbs.Figures(
                effort_hours=i.effort_hours,
                budget=i.budget,
                percent_complete=i.percent_complete,
                duration_days=i.duration_days,
            )
            for i in items
            if i.sid not in parents
        },
    )
    changed: list[WorkItem] = []
    touched: set[str] = set()
    for item in items:
        code = codes[item.sid]
        planned = schedule.items[item.sid]
        current = item._asdict()
        wanted: dict[str, Any] = {name: current[name] for name in _STORED}
        wanted.update(
            wbs_code=code,
            wbs_path=_path(code),
            depth=code.count("."),
            is_summary=item.sid in parents,
            early_start=planned.early_start,
            early_finish=planned.early_finish,
            late_start=planned.late_start,
            late_finish=planned.late_finish,
            total_float=planned.total_float,
            free_float=planned.free_float,
            critical=planned.critical,
        )
        if item.sid in parents:
            figures = rolled[item.sid]
            wanted.update(
                effort_hours=figures.effort_hours,
                budget=figures.budget,
                percent_complete=figures.percent_complete,
                duration_days=calendar.count(planned.early_start, planned.early_finish),
                # A summary's own actual dates mean nothing: its children carry them.
                actual_start=None,
                actual_finish=None,
            )
        moved = [name for name, value in wanted.items() if current[name] != value]
        if moved:
            touched.update(moved)
            changed.append(
                WorkItem(id=item.sid, version=item.version + 1, updated_at=now, **wanted)
            )
    if changed:
        # Only the columns that changed somewhere: a shift of every date need not rewrite
        # codes, figures and flags.
        columns = [name for name in _STORED if name in touched]
        _bulk_store(org, changed, [*columns, "version", "updated_at"])
    target, finish = project.target_finish_date, schedule.finish
    slip: int | None = None
    if target is not None and items:
        # Working days after the target (its own day excluded); negative: before it.
        if finish > target:
            slip = calendar.count(target + timedelta(days=1), finish)
        else:
            slip = -calendar.count(finish + timedelta(days=1), target)
    values = {
        "schedule_start": schedule.start,
        "schedule_finish": schedule.finish,
        "schedule_duration_days": schedule.duration_days,
        "critical_path": [_uuid_text(pk) for pk in schedule.critical_path],
        "slip_days": slip,
        "schedule_computed_at": now,
    }
    # Plain update(): the stored schedule is not part of the project's API representation
    # (clients read it from /schedule/), so it does not change the project's version.
    Project.objects.for_org(org).filter(pk=project.pk).update(**values)
    for name, value in values.items():
        setattr(project, name, value)
    return len(changed)


def project_reschedule(*, org: Organization, project: Project) -> Project:
    with transaction.atomic():
        locked = _lock(org, project.pk)
        _refresh(org, locked)
    return locked


# --- Organization calendar and phase templates ----------------------------------------------


@transaction.atomic
def org_calendar_update(
    *,
    org: Organization,
    actor: User | None,
    calendar: Mapping[str, Any],
    apply_to_open_projects: bool = False,
) -> dict[str, Any]:
    """Set the organization's default calendar (new projects copy it). With
    ``apply_to_open_projects``, open projects still on the previous default take the new
    one and are rescheduled."""
    cleaned = calendar_clean(calendar)
    locked = Organization.objects.select_for_update().get(pk=org.pk)
    before = selectors.org_calendar(locked)
    locked.settings = {**(locked.settings or {}), "calendar": cleaned}
    locked.save(update_fields=["settings"])
    org.settings = locked.settings
    audit.record(
        org=org,
        action="project_calendar.updated",
        actor=actor,
        obj=locked,
        changes=audit.diff(before, cleaned),
    )
    if apply_to_open_projects and before != cleaned:
        ids = list(
            Project.objects.for_org(org)
            .filter(status__in=selectors.OPEN_STATUSES, calendar=before)
            .values_list("pk", flat=True)
        )
        for project_id in ids:
            project = _lock(org, project_id)
            Project.objects.for_org(org).filter(pk=project.pk).update_versioned(calendar=cleaned)
            project.calendar = cleaned
            _refresh(org, project)
    return cleaned


def default_template(org: Organization) -> PhaseTemplate:
    """The organization's default template; the five standard phases if it has none."""
    found = PhaseTemplate.objects.for_org(org).filter(is_default=True).first()
    if found is not None:
        return found
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=org.pk)  # one creator at a time
        found = PhaseTemplate.objects.for_org(org).filter(is_default=True).first()
        if found is not None:
            return found
        template = PhaseTemplate.objects.create(
            organization=org, name=DEFAULT_TEMPLATE_NAME, is_default=True
        )
        for position, (key, name, criteria) in enumerate(DEFAULT_PHASES, start=1):
            phase = TemplatePhase.objects.create(
                organization=org, template=template, key=key, name=name, position=position
            )
            TemplateCriterion.objects.bulk_create(
                TemplateCriterion(
                    organization=org, phase=phase, kind=kind, label=label, role=role, position=k
                )
                for k, (kind, label, role) in enumerate(criteria, start=1)
            )
    return template


def _template_changed(
    org: Organization, actor: User | None, template: PhaseTemplate, what: str
) -> None:
    audit.record(
        org=org,
        action="phase_template.updated",
        actor=actor,
        obj=template,
        changes={"change": [None, what]},
    )


@transaction.atomic
def template_create(
    *, org: Organization, actor: User | None, name: str, copy_from: PhaseTemplate | None = None
) -> PhaseTemplate:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the template a name.")})
    source = copy_from or default_template(org)
    _same_org(org, copy_from=source)
    template = PhaseTemplate.objects.create(organization=org, name=name)
    for phase in TemplatePhase.objects.for_org(org).filter(template=source):
        copy = TemplatePhase.objects.create(
            organization=org,
            template=template,
            key=phase.key,
            name=phase.name,
            position=phase.position,
        )
        TemplateCriterion.objects.bulk_create(
            TemplateCriterion(
                organization=org,
                phase=copy,
                kind=c.kind,
                label=c.label,
                role=c.role,
                position=c.position,
            )
            for c in TemplateCriterion.objects.for_org(org).filter(phase=phase)
        )
    audit.record(org=org, action="phase_template.created", actor=actor, obj=template)
    return template


@transaction.atomic
def template_update(
    *,
    org: Organization,
    actor: User | None,
    template: PhaseTemplate,
    name: str | None = None,
    make_default: bool = False,
) -> PhaseTemplate:
    _same_org(org, template=template)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Give the template a name.")})
        if name != template.name:
            template.name = name
            template.save(update_fields=["name"])
            _template_changed(org, actor, template, f"name: {name}")
    if make_default and not template.is_default:
        PhaseTemplate.objects.for_org(org).filter(is_default=True).update_versioned(
            is_default=False
        )
        template.is_default = True
        template.save(update_fields=["is_default"])
        _template_changed(org, actor, template, "default")
    return template


@transaction.atomic
def template_delete(*, org: Organization, actor: User | None, template: PhaseTemplate) -> None:
    _same_org(org, template=template)
    if template.is_default:
        raise ValidationError(
            _("The default template cannot be deleted; make another the default.")
        )
    audit.record(org=org, action="phase_template.deleted", actor=actor, obj=template)
    template.delete()


def _renumber(rows: Sequence[Any]) -> None:
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


def _unique_key(name: str, taken: set[str]) -> str:
    base = slugify(name)[:36] or "phase"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


@transaction.atomic
def template_phase_add(
    *, org: Organization, actor: User | None, template: PhaseTemplate, name: str
) -> TemplatePhase:
    _same_org(org, template=template)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the phase a name.")})
    phases = list(TemplatePhase.objects.for_org(org).filter(template=template))
    phase = TemplatePhase.objects.create(
        organization=org,
        template=template,
        key=_unique_key(name, {p.key for p in phases}),
        name=name,
        position=len(phases) + 1,
    )
    _template_changed(org, actor, template, f"phase added: {name}")
    return phase


@transaction.atomic
def template_phase_rename(
    *, org: Organization, actor: User | None, phase: TemplatePhase, name: str
) -> TemplatePhase:
    _same_org(org, phase=phase)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the phase a name.")})
    if name != phase.name:
        old = phase.name
        phase.name = name
        phase.save(update_fields=["name"])
        _template_changed(org, actor, phase.template, f"phase renamed: {old} -> {name}")
    return phase


@transaction.atomic
def template_phase_move(
    *, org: Organization, actor: User | None, phase: TemplatePhase, step: int
) -> TemplatePhase:
    _same_org(org, phase=phase)
    phases = list(TemplatePhase.objects.for_org(org).filter(template=phase.template_id))
    k = next(i for i, p in enumerate(phases) if p.pk == phase.pk)
    j = k + (1 if step > 0 else -1)
    if 0 <= j < len(phases):
        phases[k], phases[j] = phases[j], phases[k]
        _renumber(phases)
        _template_changed(org, actor, phase.template, f"phase moved: {phase.name}")
    return phase


@transaction.atomic
def template_phase_remove(*, org: Organization, actor: User | None, phase: TemplatePhase) -> None:
    _same_org(org, phase=phase)
    phases = list(TemplatePhase.objects.for_org(org).filter(template=phase.template_id))
    if len(phases) <= 1:
        raise ValidationError(_("A template needs at least one phase."))
    template = phase.template
    phase.delete()
    _renumber([p for p in phases if p.pk != phase.pk])
    _template_changed(org, actor, template, f"phase removed: {phase.name}")


@transaction.atomic
def template_criterion_add(
    *,
    org: Organization,
    actor: User | None,
    phase: TemplatePhase,
    kind: str,
    label: str = "",
    role: str = "",
) -> TemplateCriterion:
    _same_org(org, phase=phase)
    registered = gates.get(kind)
    if registered is None:
        raise ValidationError({"kind": _("Unknown kind of criterion.")})
    if registered.attested:
        if role not in AttestRole.values:
            raise ValidationError({"role": _("Say who attests this criterion.")})
        if not label.strip():
            raise ValidationError({"label": _("Say what is attested.")})
    else:
        role = ""
    count = TemplateCriterion.objects.for_org(org).filter(phase=phase).count()
    criterion = TemplateCriterion.objects.create(
        organization=org,
        phase=phase,
        kind=kind,
        label=label.strip(),
        role=role,
        position=count + 1,
    )
    _template_changed(org, actor, phase.template, f"criterion added to {phase.name}: {kind}")
    return criterion


@transaction.atomic
def template_criterion_remove(
    *, org: Organization, actor: User | None, criterion: TemplateCriterion
) -> None:
    _same_org(org, criterion=criterion)
    template = criterion.phase.template
    criterion.delete()
    _template_changed(org, actor, template, f"criterion removed: {criterion.kind}")


# --- Projects -------------------------------------------------------------------------------


def _clean_success(value: Any, existing: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Success criteria as stored; texts kept from ``existing`` keep their mark."""
    if value is None:
        return list(existing)  # type: ignore[arg-type]
    if not isinstance(value, list | tuple):
        raise ValidationError({"success_criteria": _("Give a list of texts.")})
    marks = {str(c.get("text")): c for c in existing}
    cleaned: list[dict[str, Any]] = []
    for raw in value:
        text = (raw.get("text") if isinstance(raw, Mapping) else raw) or ""
        text = str(text).strip()
        if not text:
            continue
        if len(text) > 500:
            raise ValidationError(
                {"success_criteria": _("Keep each criterion under 500 characters.")}
            )
        old = marks.get(text, {})
        cleaned.append({"text": text, "met": old.get("met"), "note": old.get("note", "")})
    return cleaned


def _check_project(org: Organization, project: Project, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for role in ("manager", "sponsor"):
        if not _is_member(org, data.get(role)):
            errors.setdefault(role, []).append(_("Must be a member of the organization."))
    engagement = data.get("engagement")
    if engagement is not None and engagement.organization_id != org.pk:
        errors.setdefault("engagement", []).append(_("Not found in this organization."))
    if project.code:
        project.code = project.code.strip()
        if not re.fullmatch(r"[\w.\-/]{1,40}", project.code):
            errors.setdefault("code", []).append(
                _("Use letters, digits, dots, dashes or slashes, without spaces.")
            )
        elif (
            Project.objects.for_org(org)
            .filter(code__iexact=project.code)
            .exclude(pk=project.pk)
            .exists()
        ):
            errors.setdefault("code", []).append(
                _("Another project already has the code %(code)s.") % {"code": project.code}
            )
    if project.external_id and (
        Project.objects.for_org(org)
        .filter(external_id=project.external_id)
        .exclude(pk=project.pk)
        .exists()
    ):
        errors.setdefault("external_id", []).append(
            _("Another project already has the external id %(id)s.") % {"id": project.external_id}
        )
    if (
        project.start_date
        and project.target_finish_date
        and project.target_finish_date < project.start_date
    ):
        errors.setdefault("target_finish_date", []).append(
            _("The target finish cannot be before the start.")
        )
    if errors:
        raise ValidationError(errors)
    try:
        project.full_clean(
            exclude=["engagement", "manager", "sponsor", "phase", "organization", "calendar"]
        )
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _project_snapshot(project: Project) -> dict[str, Any]:
    values = audit.snapshot(project)
    values["success_criteria"] = project.criteria_texts
    return values


@transaction.atomic
def project_create(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    template: PhaseTemplate | None = None,
) -> Project:
    """A new project with its template's phases (default: the organization's default
    template), in its first phase; the calendar defaults to the organization's."""
    data = dict(data)
    _clean_external_id(data)
    template = template or default_template(org)
    _same_org(org, template=template)
    status = data.pop("status", None) or S.PROPOSED
    if status not in (S.PROPOSED, S.ACTIVE):
        raise ValidationError(
            {"status": _("A new project is proposed or active; other states come from decisions.")}
        )
    project = Project(organization=org, status=status)
    _apply(project, data, PROJECT_FIELDS)
    if project.start_date is None:
        project.start_date = selectors.org_today(org)
    project.calendar = calendar_clean(data.get("calendar") or selectors.org_calendar(org))
    project.success_criteria = _clean_success(data.get("success_criteria") or [])
    if not project.currency:
        project.currency = "EUR"
    _check_project(org, project, data)
    project.save()
    now = timezone.now()
    first: Phase | None = None
    template_phases = list(
        TemplatePhase.objects.for_org(org).filter(template=template).prefetch_related("criteria")
    )
    if not template_phases:
        raise ValidationError({"template": _("This template has no phases.")})
    for position, source in enumerate(template_phases, start=1):
        phase = Phase.objects.create(
            organization=org,
            project=project,
            key=source.key,
            name=source.name,
            position=position,
            entered_at=now if position == 1 else None,
        )
        GateCriterion.objects.bulk_create(
            GateCriterion(
                organization=org,
                phase=phase,
                kind=c.kind,
                label=c.label,
                role=c.role,
                position=c.position,
            )
            for c in source.criteria.all()
        )
        first = first or phase
    # Part of creating it: not a change that bumps the version.
    Project.objects.for_org(org).filter(pk=project.pk).update(phase=first)
    project.phase = first
    _refresh(org, project)
    audit.record(
        org=org,
        action="project.created",
        actor=actor,
        obj=project,
        changes=audit.diff({}, _project_snapshot(project)),
    )
    _event(org, "project.created", project, actor, {"code": project.code})
    return project


@transaction.atomic
def project_update(
    *, org: Organization, actor: User | None, project: Project, data: Mapping[str, Any]
) -> Project:
    """Change a project's fields. A new ``status`` goes through the decision rules:
    ``on_hold`` is a hold, ``cancelled`` a kill, ``active`` (from proposed or on hold) a
    resume; ``closed`` only comes from a go at the last gate."""
    data = dict(data)
    _clean_external_id(data)
    locked = _lock(org, project.pk)
    before = _project_snapshot(locked)
    status = data.pop("status", None)
    changed = _apply(locked, data, PROJECT_FIELDS)
    if "calendar" in data and data["calendar"] is not None:
        cleaned = calendar_clean(data["calendar"])
        if cleaned != locked.calendar:
            locked.calendar = cleaned
            changed.append("calendar")
    if "success_criteria" in data:
        cleaned_criteria = _clean_success(data["success_criteria"], locked.success_criteria)
        if [c["text"] for c in cleaned_criteria] != locked.criteria_texts:
            locked.success_criteria = cleaned_criteria
            changed.append("success_criteria")
    if changed:
        if locked.is_archived and set(changed) & SCHEDULE_FIELDS:
            _refuse_archived(locked)
        _check_project(org, locked, {**data, "engagement": locked.engagement})
        locked.save(update_fields=changed)
        if set(changed) & SCHEDULE_FIELDS:
            _refresh(org, locked)
        audit.record(
            org=org,
            action="project.updated",
            actor=actor,
            obj=locked,
            changes=audit.diff(
                {k: before.get(k) for k in changed},
                {k: _project_snapshot(locked).get(k) for k in changed},
            ),
        )
        _event(org, "project.updated", locked, actor, {"changed": sorted(changed)})
    if status is not None and status != locked.status:
        decision = {
            S.ON_HOLD: Decision.HOLD,
            S.CANCELLED: Decision.KILL,
            S.ACTIVE: Decision.RESUME,
        }.get(status)
        if decision is None:
            raise ValidationError(
                {"status": _("A project is closed by a go at its last gate.")}
                if status == S.CLOSED
                else {"status": _("A project cannot be set back to proposed.")}
            )
        try:
            project_decide(
                org=org,
                actor=actor,
                project=locked,
                decision=decision,
                note=_("Status set to %(status)s.") % {"status": ProjectStatus(status).label},
            )
        except TransitionRefused as exc:
            raise ValidationError({"status": exc.message}) from None
        locked.refresh_from_db()
    return locked


@transaction.atomic
def project_delete(*, org: Organization, actor: User | None, project: Project) -> None:
    locked = _lock(org, project.pk)
    audit.record(
        org=org,
        action="project.deleted",
        actor=actor,
        obj=locked,
        changes=audit.diff(_project_snapshot(locked), {}),
    )
    _event(org, "project.deleted", locked, actor, {"code": locked.code, "name": locked.name})
    locked.delete()


@transaction.atomic
def success_criteria_mark(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    marks: Mapping[int, tuple[bool | None, str]],
) -> Project:
    """Mark success criteria met / not met (index -> (met or None, note)), at closing."""
    locked = _lock(org, project.pk)
    criteria = [dict(c) for c in locked.success_criteria or []]
    before = [c.get("met") for c in criteria]
    for index, (met, note) in marks.items():
        if 0 <= index < len(criteria):
            criteria[index]["met"] = met
            criteria[index]["note"] = (note or "").strip()[:500]
    if criteria != locked.success_criteria:
        locked.success_criteria = criteria
        locked.save(update_fields=["success_criteria"])
        audit.record(
            org=org,
            action="project.success_marked",
            actor=actor,
            obj=locked,
            changes={"success_criteria": [before, [c.get("met") for c in criteria]]},
        )
        _event(org, "project.updated", locked, actor, {"changed": ["success_criteria"]})
    return locked


# --- Gates ----------------------------------------------------------------------------------


def can_attest(project: Project, criterion: GateCriterion, membership: Membership) -> bool:
    if criterion.role == AttestRole.SPONSOR:
        return project.sponsor_id == membership.user_id
    if criterion.role == AttestRole.MANAGER:
        return project.manager_id == membership.user_id
    if criterion.role == AttestRole.ADMIN:
        return membership.can("org.manage")
    return False


@transaction.atomic
def criterion_attest(
    *,
    org: Organization,
    membership: Membership,
    criterion: GateCriterion,
    note: str = "",
    url: str = "",
) -> GateCriterion:
    """The person in the criterion's role confirms it, with an evidence note or link."""
    _same_org(org, criterion=criterion)
    project = _lock(org, criterion.phase.project_id)
    kind = gates.get(criterion.kind)
    if kind is None or not kind.attested:
        raise ValidationError(_("This criterion is checked by the system, not attested."))
    if project.is_archived:
        _refuse_archived(project)
    if not can_attest(project, criterion, membership):
        raise ValidationError(
            _("Only the %(role)s can attest this criterion.")
            % {"role": criterion.get_role_display().lower()}
        )
    note, url = note.strip(), url.strip()
    if not note and not url:
        raise ValidationError({"evidence_note": _("Give an evidence note or a link.")})
    criterion.attested_by = membership.user
    criterion.attested_at = timezone.now()
    criterion.evidence_note = note
    criterion.evidence_url = url
    criterion.full_clean(exclude=["phase", "organization", "attested_by"])
    criterion.save()
    audit.record(
        org=org,
        action="gate.attested",
        actor=membership.user,
        obj=project,
        object_repr=f"{project} · {selectors.display(gates.label_of(criterion))}",
        changes={"evidence": [None, note or url]},
    )
    return criterion


@transaction.atomic
def criterion_withdraw(
    *, org: Organization, membership: Membership, criterion: GateCriterion
) -> GateCriterion:
    _same_org(org, criterion=criterion)
    project = _lock(org, criterion.phase.project_id)
    if not (can_attest(project, criterion, membership) or membership.can("org.manage")):
        raise ValidationError(_("Only the person in this role or an admin can withdraw it."))
    if criterion.attested_at is not None:
        old = criterion.evidence_note or criterion.evidence_url
        criterion.attested_by = None
        criterion.attested_at = None
        criterion.save()
        audit.record(
            org=org,
            action="gate.withdrawn",
            actor=membership.user,
            obj=project,
            object_repr=f"{project} · {selectors.display(gates.label_of(criterion))}",
            changes={"evidence": [old, None]},
        )
    return criterion


def _decision_effect(
    project: Project, phases: list[Phase], decision: str
) -> tuple[Phase | None, str]:
    """Where a decision takes the project: (phase, status)."""
    current = project.phase
    index = next((k for k, p in enumerate(phases) if current and p.pk == current.pk), 0)
    status = project.status
    if decision == Decision.GO:
        if index + 1 < len(phases):
            return phases[index + 1], S.ACTIVE
        return current, S.CLOSED  # the last gate: the project is done
    if decision == Decision.HOLD:
        return current, S.ON_HOLD
    if decision == Decision.KILL:
        return current, S.CANCELLED
    if decision == Decision.RECYCLE:
        # Back to the previous phase to redo its work; in the first phase, stay (the note
        # says what to redo). A recycled project is worked on: active, unless it was only
        # proposed and stays in its first phase.
        target = phases[index - 1] if index > 0 else current
        return target, S.PROPOSED if status == S.PROPOSED else S.ACTIVE
    if decision == Decision.RESUME:
        return current, S.ACTIVE
    raise TransitionRefused(_("Unknown decision."))


@transaction.atomic
def project_decide(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    decision: str,
    note: str = "",
    override: bool = False,
    override_reason: str = "",
    can_override: bool = False,
) -> PhaseTransition:
    """A gate decision: go (to the next phase, or closed after the last), hold (on hold,
    same phase), recycle (back to the previous phase), kill (cancelled); or resume (a held
    or proposed project becomes active, same phase).

    A go with unmet criteria raises ``GateRefused`` and changes nothing, unless an admin
    (``can_override``) overrides it with a reason: the history marks it. The criteria's
    state at that moment is kept with the decision (``PhaseTransition.criteria``)."""
    locked = _lock(org, project.pk)
    if decision not in Decision.values:
        raise TransitionRefused(_("Unknown decision."))
    if locked.is_archived:
        raise TransitionRefused(
            _("This project is %(status)s: no more decisions.")
            % {"status": ProjectStatus(locked.status).label.lower()}
        )
    phases = list(Phase.objects.for_org(org).filter(project=locked).order_by("position", "id"))
    current = locked.phase
    if current is None and phases:
        current = locked.phase = phases[0]
    states = selectors.gate_state(locked, current) if current is not None else []
    unmet = [s for s in states if not s.met]
    override_reason = override_reason.strip()
    overridden = False
    if decision == Decision.GO and unmet:
        if not override:
            raise GateRefused(unmet)
        if not can_override:
            raise TransitionRefused(_("Only an admin can override a gate."))
        if not override_reason:
            raise TransitionRefused(_("An override needs a reason."))
        overridden = True
    if override and not overridden and decision == Decision.GO:
        override_reason = ""  # nothing was unmet: an ordinary go
    to_phase, status = _decision_effect(locked, phases, decision)
    if decision == Decision.RESUME and locked.status not in (S.ON_HOLD, S.PROPOSED):
        raise TransitionRefused(_("Only a project on hold or proposed can be resumed."))
    if decision == Decision.HOLD and locked.status == S.ON_HOLD:
        raise TransitionRefused(_("The project is already on hold."))
    if status != locked.status and status not in TRANSITIONS[locked.status]:
        raise TransitionRefused(
            _("A project cannot go from %(old)s to %(new)s.")
            % {"old": ProjectStatus(locked.status).label, "new": ProjectStatus(status).label}
        )
    now = timezone.now()
    transition = PhaseTransition.objects.create(
        organization=org,
        project=locked,
        decision=decision,
        from_phase=current,
        to_phase=to_phase,
        from_phase_name=current.name if current else "",
        to_phase_name=to_phase.name if to_phase else "",
        status_before=locked.status,
        status_after=status,
        note=note.strip(),
        criteria=[s.as_snapshot() for s in states],
        override=overridden,
        override_reason=override_reason if overridden else "",
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_actor_label(actor),
    )
    old_status, old_phase = locked.status, current
    phase_changed = to_phase is not None and (current is None or to_phase.pk != current.pk)
    if phase_changed and to_phase is not None:
        Phase.objects.for_org(org).filter(pk=to_phase.pk).update_versioned(entered_at=now)
        if decision == Decision.RECYCLE:
            # Redoing a phase means its attestations have to be given again (the earlier
            # ones stay in the snapshot of the decision that passed it).
            GateCriterion.objects.for_org(org).filter(
                phase=to_phase, attested_at__isnull=False
            ).update_versioned(attested_at=None, attested_by=None)
    locked.phase = to_phase
    locked.status = status
    locked.save(update_fields=["phase", "status"])
    changes: dict[str, list[Any]] = {"decision": [None, decision]}
    if phase_changed:
        changes["phase"] = [
            old_phase.name if old_phase else None,
            to_phase.name if to_phase else None,
        ]
    if status != old_status:
        changes["status"] = [old_status, status]
    audit.record(
        org=org,
        action="project.decided",
        actor=actor,
        obj=locked,
        changes=changes,
        note=("override: " + override_reason) if overridden else note.strip()[:300],
    )
    payload = {
        "decision": decision,
        "from_phase": old_phase.key if old_phase else None,
        "to_phase": to_phase.key if to_phase else None,
        "status_before": old_status,
        "status_after": status,
        "override": overridden,
        "transition": str(transition.pk),
    }
    if phase_changed:
        _event(org, "project.phase_changed", locked, actor, payload)
    if status != old_status:
        _event(org, "project.status_changed", locked, actor, payload)
    return transition


# --- Work items -----------------------------------------------------------------------------


def _check_item(org: Organization, project: Project, item: WorkItem) -> None:
    errors: dict[str, list[str]] = {}
    if not (item.name or "").strip():
        errors.setdefault("name", []).append(_("Give the work item a name."))
    if item.assignee_id is not None and not _is_member(org, item.assignee):
        errors.setdefault("assignee", []).append(_("Must be a member of the organization."))
    if item.phase_id is not None and item.phase is not None and item.phase.project_id != project.pk:
        errors.setdefault("phase", []).append(_("This phase belongs to another project."))
    if (
        item.actual_start is not None
        and item.actual_finish is not None
        and item.actual_finish < item.actual_start
    ):
        errors.setdefault("actual_finish", []).append(_("The actual finish is before the start."))
    if item.external_id and (
        WorkItem.objects.for_org(org)
        .filter(external_id=item.external_id)
        .exclude(pk=item.pk)
        .exists()
    ):
        errors.setdefault("external_id", []).append(
            _("Another work item already has the external id %(id)s.") % {"id": item.external_id}
        )
    if errors:
        raise ValidationError(errors)
    try:
        item.full_clean(exclude=["project", "parent", "phase", "assignee", "organization"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _tree_rows(org: Organization, project: Project) -> list[tuple[Any, Any, int]]:
    return [
        (pk, parent, position)
        for pk, parent, position in WorkItem.objects.for_org(org)
        .filter(project=project)
        .values_list("pk", "parent_id", "position")
    ]


def _place(org: Organization, placements: Mapping[Any, wbs.Placement]) -> None:
    for pk, placement in placements.items():
        WorkItem.objects.for_org(org).filter(pk=pk).update(
            parent_id=placement.parent, position=placement.position
        )


def _becomes_parent(org: Organization, parent: WorkItem | None) -> None:
    """An item that gets its first child is a summary: its own actual dates go (its
    children carry them) and its figures become their roll-up."""
    if parent is not None and not parent.is_summary:
        WorkItem.objects.for_org(org).filter(pk=parent.pk).update(
            actual_start=None, actual_finish=None
        )


def _progress_rules(item: WorkItem, changed: list[str]) -> None:
    # An actual finish means the work is done.
    if (
        "actual_finish" in changed
        and item.actual_finish is not None
        and item.percent_complete < 100
    ):
        item.percent_complete = HUNDRED
        changed.append("percent_complete")


def _record_progress(
    org: Organization, actor: User | None, item: WorkItem, on: date | None
) -> None:
    """Keep the dated history of a work package's progress: earned value as of a past
    date reads the percent recorded then."""
    ProgressRecord.objects.create(
        organization=org,
        project_id=item.project_id,
        work_item=item,
        date=on or selectors.org_today(org),
        percent_complete=item.percent_complete,
        recorded_by=actor if actor is not None and actor.pk else None,
    )


def _item_data(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    _clean_external_id(data)
    if "name" in data and data["name"] is not None:
        data["name"] = str(data["name"]).strip()
    for name in ("effort_hours", "budget", "percent_complete"):
        if name in data and data[name] is None:
            data[name] = Decimal(0)
    return data


@transaction.atomic
def work_item_create(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    data: Mapping[str, Any],
    parent: WorkItem | None = None,
    after: WorkItem | None = None,
) -> WorkItem:
    """A new work item: the last child of ``parent`` (or of the top level), or, with
    ``after``, the sibling right after it. Its phase defaults to the project's current one."""
    data = _item_data(data)
    _same_org(org, project=project, parent=parent, after=after)
    locked = _lock(org, project.pk)
    _refuse_archived(locked)
    if after is not None:
        if after.project_id != locked.pk:
            raise ValidationError({"after": _("This work item belongs to another project.")})
        parent = after.parent
    if parent is not None and parent.project_id != locked.pk:
        raise ValidationError({"parent": _("The parent belongs to another project.")})
    if parent is not None and not parent.is_summary:
        # Its first child would turn a baselined work package into a summary.
        change_guard.refuse_baselined_item(org, locked, parent.pk)
    progress_date = data.pop("progress_date", None)
    item = WorkItem(organization=org, project=locked, parent=parent)
    _apply(item, data, ITEM_FIELDS)
    if item.phase_id is None:
        item.phase = locked.phase
    _check_item(org, locked, item)
    last = (
        WorkItem.objects.for_org(org)
        .filter(project=locked, parent=parent)
        .aggregate(last=Max("position"))["last"]
    )
    item.position = (last or 0) + 1
    _progress_rules(item, [k for k in data if k in ITEM_FIELDS])
    item.save()
    if item.percent_complete:
        _record_progress(org, actor, item, progress_date)
    _becomes_parent(org, parent)
    if after is not None:
        _place(org, wbs.move_after(_tree_rows(org, locked), item.pk, after.pk))
    _refresh(org, locked)
    item.refresh_from_db()
    audit.record(
        org=org,
        action="work_item.created",
        actor=actor,
        obj=item,
        changes=audit.diff({}, audit.snapshot(item, exclude=("position",))),
    )
    _event(org, "work_item.created", item, actor, {"project": str(locked.pk)})
    return item


@transaction.atomic
def work_item_update(
    *, org: Organization, actor: User | None, item: WorkItem, data: Mapping[str, Any]
) -> WorkItem:
    """Change a work item's fields. A summary's duration, effort, budget and progress are
    its children's roll-up: writing another value is refused. A new ``parent`` moves the
    item (as its last child; None: to the end of the top level)."""
    data = _item_data(data)
    _same_org(org, item=item)
    locked = _lock(org, item.project_id)
    fresh = WorkItem.objects.for_org(org).select_related("phase").get(pk=item.pk)
    if "project" in data and data["project"] is not None and data["project"].pk != locked.pk:
        raise ValidationError({"project": _("A work item cannot move to another project.")})
    if fresh.is_summary:
        refused = [
            name for name in SUMMARY_DERIVED if name in data and data[name] != getattr(fresh, name)
        ]
        if refused:
            raise ValidationError(
                dict.fromkeys(
                    refused, _("A summary's figure is the roll-up of its children; change those.")
                )
            )
        for name in ("actual_start", "actual_finish"):
            if data.get(name) is not None:
                raise ValidationError({name: _("A summary takes its dates from its children.")})
    before = audit.snapshot(fresh, exclude=("position",))
    was_percent = fresh.percent_complete
    progress_date = data.pop("progress_date", None)
    changed = _apply(fresh, data, ITEM_FIELDS)
    if changed:
        if locked.is_archived and set(changed) - {"name", "external_id"}:
            _refuse_archived(locked)
        change_guard.refuse_baselined_item(org, locked, fresh.pk, changed)
        change_guard.refuse_budget_with_lines(org, fresh.pk, changed)
        _progress_rules(fresh, changed)
        # Acceptance criteria gate "done"; a done item taken back is rework.
        quality.progress_check(org, actor, fresh, was_percent)
        _check_item(org, locked, fresh)
        fresh.save(update_fields=changed)
        if "percent_complete" in changed and not fresh.is_summary:
            _record_progress(org, actor, fresh, progress_date)
    moved = False
    if "parent" in data:
        new_parent = data["parent"]
        if (new_parent.pk if new_parent is not None else None) != fresh.parent_id:
            _refuse_archived(locked)
            _move(org, locked, fresh, ("into", new_parent))
            moved = True
    if changed or moved:
        _refresh(org, locked)
    fresh.refresh_from_db()
    if changed or moved:
        after = audit.snapshot(fresh, exclude=("position",))
        keys = [*changed, *(["parent"] if moved else [])]
        audit.record(
            org=org,
            action="work_item.updated",
            actor=actor,
            obj=fresh,
            changes=audit.diff({k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}),
        )
        _event(org, "work_item.updated", fresh, actor, {"changed": sorted(keys)})
    return fresh


MOVES = ("indent", "outdent", "up", "down")


def _move(org: Organization, project: Project, item: WorkItem, how: tuple[str, Any]) -> None:
    """Apply one move to the tree (positions and parents); the caller refreshes."""
    rows = _tree_rows(org, project)
    verb, target = how
    if target is not None and (target.project_id != project.pk or target.organization_id != org.pk):
        raise ValidationError({"target": _("This work item belongs to another project.")})
    try:
        if verb == "indent":
            placements = wbs.indent(rows, item.pk)
        elif verb == "outdent":
            placements = wbs.outdent(rows, item.pk)
        elif verb in ("up", "down"):
            siblings = sorted(
                (r for r in rows if r[1] == item.parent_id), key=lambda r: (r[2], str(r[0]))
            )
            ids = [r[0] for r in siblings]
            k = ids.index(item.pk)
            if verb == "up":
                if k == 0:
                    raise ValidationError(_("This work item is already the first of its level."))
                placements = wbs.move_before(rows, item.pk, ids[k - 1])
            else:
                if k == len(ids) - 1:
                    raise ValidationError(_("This work item is already the last of its level."))
                placements = wbs.move_after(rows, item.pk, ids[k + 1])
        elif verb == "before":
            placements = wbs.move_before(rows, item.pk, target.pk)
        elif verb == "after":
            placements = wbs.move_after(rows, item.pk, target.pk)
        elif verb == "into":
            placements = wbs.move_into(rows, item.pk, target.pk if target is not None else None)
        else:
            raise ValidationError(_("Unknown move."))
    except wbs.CannotIndent:
        raise ValidationError(_("The first item of a level cannot be indented.")) from None
    except wbs.CannotOutdent:
        raise ValidationError(_("A top-level item cannot be outdented.")) from None
    except wbs.MoveUnderItself:
        raise ValidationError(_("A work item cannot move under itself.")) from None
    new_parent_id = placements.get(item.pk, wbs.Placement(item.parent_id, item.position)).parent
    if new_parent_id is not None and new_parent_id != item.parent_id:
        parent: Any = new_parent_id
        _becomes_parent(org, WorkItem.objects.for_org(org).get(pk=parent))
    _place(org, placements)


@transaction.atomic
def work_item_move(
    *,
    org: Organization,
    actor: User | None,
    item: WorkItem,
    how: str,
    target: WorkItem | None = None,
) -> WorkItem:
    """Move an item with its subtree: ``indent``, ``outdent``, ``up``, ``down``, or
    ``before`` / ``after`` / ``into`` a ``target`` (``into`` None: end of the top level).
    WBS codes renumber in the same transaction."""
    _same_org(org, item=item, target=target)
    locked = _lock(org, item.project_id)
    _refuse_archived(locked)
    fresh = WorkItem.objects.for_org(org).get(pk=item.pk)
    old_code = fresh.wbs_code
    if how in ("before", "after") and target is None:
        raise ValidationError({"target": _("Say which work item to move next to.")})
    _move(org, locked, fresh, (how, target))
    _refresh(org, locked)
    fresh.refresh_from_db()
    if fresh.wbs_code != old_code:
        audit.record(
            org=org,
            action="work_item.moved",
            actor=actor,
            obj=fresh,
            changes={"wbs_code": [old_code, fresh.wbs_code]},
        )
        _event(org, "work_item.updated", fresh, actor, {"changed": ["parent", "position"]})
    return fresh


@transaction.atomic
def work_item_delete(*, org: Organization, actor: User | None, item: WorkItem) -> None:
    """Delete an item with its subtree and links; the WBS renumbers."""
    _same_org(org, item=item)
    locked = _lock(org, item.project_id)
    _refuse_archived(locked)
    fresh = WorkItem.objects.for_org(org).get(pk=item.pk)
    for pk in (
        WorkItem.objects.for_org(org)
        .filter(project=locked, wbs_path__startswith=fresh.wbs_path + ".")
        .values_list("pk", flat=True)
    ):
        change_guard.refuse_baselined_item(org, locked, pk)
    change_guard.refuse_baselined_item(org, locked, fresh.pk)
    below = (
        WorkItem.objects.for_org(org)
        .filter(project=locked, wbs_path__startswith=fresh.wbs_path + ".")
        .count()
    )
    audit.record(
        org=org,
        action="work_item.deleted",
        actor=actor,
        obj=fresh,
        changes=audit.diff(audit.snapshot(fresh, exclude=("position",)), {}),
        note=ngettext("With %(n)d item below it.", "With %(n)d items below it.", below)
        % {"n": below}
        if below
        else "",
    )
    _event(org, "work_item.deleted", fresh, actor, {"project": str(locked.pk)})
    parent_id = fresh.parent_id
    fresh.delete()
    siblings = list(
        WorkItem.objects.for_org(org)
        .filter(project=locked, parent_id=parent_id)
        .order_by("position", "id")
    )
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            WorkItem.objects.for_org(org).filter(pk=sibling.pk).update(position=position)
    _refresh(org, locked)


def outline_error_text(error: wbs.OutlineError) -> str:
    return {
        wbs.IndentMismatch: _(
            "Line %(line)d: its indentation does not line up with any line above it."
        ),
        wbs.DepthJump: _("Line %(line)d: it goes more than one level deeper than the line before."),
        wbs.BadDuration: _(
            "Line %(line)d: after “|” write a duration in working days, such as 3d."
        ),
        wbs.EmptyName: _("Line %(line)d: there is no name on it."),
    }.get(type(error), _("Line %(line)d cannot be read.")) % {"line": error.line}


MAX_PASTE_LINES = 2000


@transaction.atomic
def outline_paste(
    *,
    org: Organization,
    actor: User | None,
    project: Project,
    text: str,
    parent: WorkItem | None = None,
    phase: Phase | None = None,
    default_duration: int = 1,
) -> list[WorkItem]:
    """Create the items of a pasted, indented outline (``projects.calc.wbs.parse_outline``)
    after the existing ones (under ``parent`` if given). All or nothing: an unreadable line
    raises ``PasteError`` naming it, and nothing is saved."""
    _same_org(org, project=project, parent=parent, phase=phase)
    try:
        lines = wbs.parse_outline(text)
    except wbs.OutlineError as exc:
        raise PasteError(exc.line, outline_error_text(exc)) from None
    if not lines:
        raise PasteError(0, _("Paste at least one line."))
    if len(lines) > MAX_PASTE_LINES:
        raise PasteError(
            MAX_PASTE_LINES + 1,
            _("At most %(n)d lines at a time.") % {"n": MAX_PASTE_LINES},
        )
    for number, line in enumerate(lines, start=1):
        if len(line.name) > 300:
            raise PasteError(
                number,
                _("Line %(line)d: the name is longer than 300 characters.") % {"line": number},
            )
    locked = _lock(org, project.pk)
    _refuse_archived(locked)
    if parent is not None and parent.project_id != locked.pk:
        raise ValidationError({"parent": _("The parent belongs to another project.")})
    if phase is not None and phase.project_id != locked.pk:
        raise ValidationError({"phase": _("This phase belongs to another project.")})
    phase = phase or locked.phase
    parents = wbs.outline_parents(lines)
    last = (
        (
            WorkItem.objects.for_org(org)
            .filter(project=locked, parent=parent)
            .aggregate(last=Max("position"))["last"]
        )
        or 0
    )
    created: list[WorkItem] = []
    counts: dict[int | None, int] = {}
    for line, up in zip(lines, parents, strict=True):
        counts[up] = counts.get(up, 0) + 1
        created.append(
            WorkItem(
                organization=org,
                project=locked,
                parent=created[up] if up is not None else parent,
                position=counts[up] + (last if up is None else 0),
                phase=phase,
                name=line.name,
                duration_days=line.duration if line.duration is not None else default_duration,
            )
        )
    # Parents first: each row's parent is saved before it (the lines are in outline order).
    WorkItem.objects.bulk_create(created, batch_size=500)
    _becomes_parent(org, parent)
    _refresh(org, locked)
    audit.record(
        org=org,
        action="work_items.pasted",
        actor=actor,
        obj=locked,
        changes={"work_items": [None, len(created)]},
    )
    for item in created:
        _event(org, "work_item.created", item, actor, {"project": str(locked.pk)})
    return list(
        WorkItem.objects.for_org(org).filter(pk__in=[i.pk for i in created]).order_by("wbs_path")
    )


# --- Dependencies ---------------------------------------------------------------------------


def _check_link(
    org: Organization,
    project: Project,
    link: Dependency,
    *,
    ignore: Any = None,
) -> None:
    pred, succ = link.predecessor, link.successor
    errors: dict[str, list[str]] = {}
    for name, item in (("predecessor", pred), ("successor", succ)):
        if item.organization_id != org.pk:
            errors.setdefault(name, []).append(_("Not found in this organization."))
        elif item.project_id != project.pk:
            errors.setdefault(name, []).append(
                _("Both work items must belong to the dependency's project.")
            )
    if link.type not in Dependency.Type.values:
        errors.setdefault("type", []).append(_("Use FS, SS, FF or SF."))
    if errors:
        raise ValidationError(errors)
    if pred.pk == succ.pk:
        raise ValidationError({"successor": _("A work item cannot depend on itself.")})
    others = Dependency.objects.for_org(org).filter(project=project)
    if ignore is not None:
        others = others.exclude(pk=ignore)
    if others.filter(predecessor=pred, successor=succ).exists():
        raise ValidationError({"successor": _("These two work items are already linked.")})
    parents: dict[Hashable, Hashable | None] = dict(
        WorkItem.objects.for_org(org).filter(project=project).values_list("pk", "parent_id")
    )
    try:
        cycle = scheduling.would_close_cycle(
            [
                scheduling.Link(p, s, t, lag)
                for p, s, t, lag in others.values_list(
                    "predecessor_id", "successor_id", "type", "lag_days"
                )
            ],
            scheduling.Link(pred.pk, succ.pk, link.type, link.lag_days),
            parents,
        )
    except scheduling.ScheduleError as exc:
        raise _schedule_error(org, exc) from None
    if cycle is not None:
        raise _schedule_error(org, scheduling.CycleError(cycle, []))


def _link_snapshot(link: Dependency) -> dict[str, Any]:
    return {
        "predecessor": link.predecessor_id,
        "successor": link.successor_id,
        "type": link.type,
        "lag_days": link.lag_days,
    }


@transaction.atomic
def dependency_create(
    *, org: Organization, actor: User | None, data: Mapping[str, Any]
) -> Dependency:
    """Link two work items of one project. A link that would close a loop raises
    ``CycleRefused`` naming the items on it; nothing is saved."""
    pred, succ = data.get("predecessor"), data.get("successor")
    if pred is None or succ is None:
        raise ValidationError(
            {
                name: _("This field is required.")
                for name in ("predecessor", "successor")
                if data.get(name) is None
            }
        )
    _same_org(org, predecessor=pred, successor=succ, project=data.get("project"))
    project = data.get("project") or pred.project
    locked = _lock(org, project.pk)
    _refuse_archived(locked)
    change_guard.refuse_baselined_link(org, locked, pred.pk, succ.pk)
    link = Dependency(
        organization=org,
        project=locked,
        predecessor=pred,
        successor=succ,
        type=data.get("type") or Dependency.Type.FS,
        lag_days=int(data.get("lag_days") or 0),
    )
    _check_link(org, locked, link)
    link.full_clean(exclude=["project", "predecessor", "successor", "organization"])
    link.save()
    _refresh(org, locked)
    audit.record(
        org=org,
        action="dependency.created",
        actor=actor,
        obj=link,
        object_repr=f"{pred} → {succ} ({link.type} {link.lag_days:+d})",
        changes=audit.diff({}, _link_snapshot(link)),
    )
    _event(org, "dependency.created", link, actor, {"project": str(locked.pk)})
    return link


@transaction.atomic
def dependency_update(
    *, org: Organization, actor: User | None, dependency: Dependency, data: Mapping[str, Any]
) -> Dependency:
    _same_org(org, dependency=dependency)
    locked = _lock(org, dependency.project_id)
    _refuse_archived(locked)
    fresh = (
        Dependency.objects.for_org(org)
        .select_related("predecessor", "successor")
        .get(pk=dependency.pk)
    )
    if "project" in data and data["project"] is not None and data["project"].pk != locked.pk:
        raise ValidationError({"project": _("A dependency cannot move to another project.")})
    before = _link_snapshot(fresh)
    before_ends = (fresh.predecessor_id, fresh.successor_id)
    changed = _apply(fresh, data, ("predecessor", "successor", "type", "lag_days"))
    if changed:
        change_guard.refuse_baselined_link(org, locked, before_ends[0], before_ends[1])
        change_guard.refuse_baselined_link(org, locked, fresh.predecessor_id, fresh.successor_id)
        _check_link(org, locked, fresh, ignore=fresh.pk)
        fresh.full_clean(exclude=["project", "predecessor", "successor", "organization"])
        fresh.save(update_fields=changed)
        _refresh(org, locked)
        audit.record(
            org=org,
            action="dependency.updated",
            actor=actor,
            obj=fresh,
            changes=audit.diff(before, _link_snapshot(fresh)),
        )
        _event(org, "dependency.updated", fresh, actor, {"changed": sorted(changed)})
    return fresh


@transaction.atomic
def dependency_delete(*, org: Organization, actor: User | None, dependency: Dependency) -> None:
    _same_org(org, dependency=dependency)
    locked = _lock(org, dependency.project_id)
    _refuse_archived(locked)
    change_guard.refuse_baselined_link(
        org, locked, dependency.predecessor_id, dependency.successor_id
    )
    audit.record(
        org=org,
        action="dependency.deleted",
        actor=actor,
        obj=dependency,
        changes=audit.diff(_link_snapshot(dependency), {}),
    )
    _event(org, "dependency.deleted", dependency, actor, {"project": str(locked.pk)})
    dependency.delete()
    _refresh(org, locked)
