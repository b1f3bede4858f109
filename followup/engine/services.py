"""State changes of follow-ups: one keyword-only function each, one transaction each.

Status moves go through ``_transition``: a conditional UPDATE from the allowed states
(``models.TRANSITIONS``), so of two requests that complete the same follow-up at the same
moment exactly one wins and creates the next occurrence; the other gets
``TransitionError`` (409 in the API). The unique (series, sequence) pair backs that up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, inputs
from accounts import selectors as people
from accounts.models import Organization, User
from followup.engine import notifications, reminders
from followup.engine.calc import recurrence
from followup.engine.models import TRANSITIONS, FollowUp, FollowUpStatus, Priority
from followup.kernel import events, subjects
from followup.kernel.mail import user_zone

MAX_OFFSET_MINUTES = 60 * 24 * 30


class TransitionError(Exception):
    """The follow-up is not in a state from which this move is allowed."""

    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(
            _("This follow-up is %(current)s; it cannot become %(target)s.")
            % {
                "current": FollowUpStatus(current).label,
                "target": FollowUpStatus(target).label,
            }
        )


@dataclass(frozen=True)
class Outcome:
    followup: FollowUp
    next: FollowUp | None = None


# --- Helpers ------------------------------------------------------------------------------


def followup_path(followup: FollowUp) -> str:
    return reverse(
        "followup:detail", kwargs={"org_slug": followup.organization.slug, "pk": followup.pk}
    )


def followup_payload(followup: FollowUp) -> dict[str, Any]:
    """The follow-up as events and webhooks carry it."""
    subject_key = None
    if followup.subject_type_id:
        entry = subjects.for_content_type(followup.subject_type_id)
        subject_key = entry.key if entry else None
    return {
        "id": str(followup.pk),
        "title": followup.title,
        "status": followup.status,
        "priority": followup.priority,
        "due_at": followup.due_at.isoformat(),
        "owner": str(followup.owner_id),
        "subject_type": subject_key,
        "subject_id": str(followup.subject_id) if followup.subject_id else None,
        "recurrence": followup.recurrence or None,
        "series_id": str(followup.series_id) if followup.series_id else None,
        "completed_at": followup.completed_at.isoformat() if followup.completed_at else None,
        "answered_by_type": followup.answered_by_type or None,
        "answered_by_id": str(followup.answered_by_id) if followup.answered_by_id else None,
        "version": followup.version,
    }


def _record_change(followup: FollowUp, actor: User | None, type: str = "followup.updated") -> None:
    """Every change a sync client or a subject's health must know about, in its transaction."""
    events.record(
        org=followup.organization,
        type=type,
        subject=followup,
        payload=followup_payload(followup),
        actor=actor if actor is not None and actor.pk else None,
    )


def _require_member(org: Organization, user: User, field: str = "owner") -> None:
    if not people.has_membership(org, user):
        raise ValidationError({field: _("Choose a member of this organization.")})


def _require_subject(org: Organization, subject: Any) -> None:
    """A subject must be registered and of this organization, whoever the caller is: a
    service is the last line of tenancy, not a form's or a serializer's courtesy."""
    if subject is None:
        return
    if (
        (entry := subjects.for_model(type(subject))) is None
        or not entry.followable
        or getattr(subject, "organization_id", None) != org.pk
    ):
        # The words of ``subjects.resolve``: unknown and foreign read the same.
        raise ValidationError({"subject_id": _("No such subject in this organization.")})


def _locked(followup: FollowUp) -> FollowUp:
    """The row as it is now, locked until the transaction ends.

    Every change is checked against this copy and written onto it, never onto the instance
    the caller loaded: that one may be minutes old (an edit page, another tab), and saving
    it would write back its old status and its old ``version + 1``.
    """
    row = (
        FollowUp.objects.for_org(followup.organization)
        .select_for_update(of=("self",))
        .select_related("owner", "organization")
        .filter(pk=followup.pk)
        .first()
    )
    if row is None:
        raise ValidationError(_("This follow-up was deleted meanwhile."))
    return row


def _require_open(followup: FollowUp) -> None:
    if followup.status != FollowUpStatus.OPEN:
        raise TransitionError(followup.status, FollowUpStatus.OPEN)


class StaleEdit(ValidationError):
    """The follow-up changed after the editor loaded it; saving would undo that change."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone changed this follow-up while you were editing it, so your changes "
                "were not saved. Check the form and save again to keep your version."
            ),
            code="stale",
        )


def clean_offsets(offsets: Any) -> list[int]:
    if offsets is None:
        return [0]
    try:
        values = sorted({int(v) for v in offsets})
    except (TypeError, ValueError):
        raise ValidationError(
            {"reminder_offsets": _("Give minutes before due as whole numbers.")}
        ) from None
    if len(values) > 5 or any(v < 0 or v > MAX_OFFSET_MINUTES for v in values):
        raise ValidationError(
            {"reminder_offsets": _("Up to 5 reminders, each 0 to 30 days before due.")}
        )
    return values


def _check_due(due_at: datetime) -> None:
    if timezone.is_naive(due_at):
        raise ValidationError({"due_at": _("Give the due time with its time zone.")})
    inputs.check_date(due_at, "due_at")


def _clean_rule(text: str | None) -> str:
    if not text:
        return ""
    try:
        rule = recurrence.parse(text)
    except recurrence.RuleError as exc:
        raise ValidationError({"recurrence": str(exc)}) from None
    if rule.until is not None and not inputs.in_range(rule.until):
        raise ValidationError(
            {
                "recurrence": _("UNTIL must lie between %(first)s and %(last)s.")
                % {"first": inputs.FIRST_DAY.isoformat(), "last": inputs.LAST_DAY.isoformat()}
            }
        )
    return rule.to_text()


def _local_anchor(followup: FollowUp, at: datetime, local_time: time | None) -> None:
    """Start the rule on ``at``'s local date (owner's zone), at ``local_time`` or ``at``'s."""
    local = at.astimezone(user_zone(followup.owner))
    followup.recurrence_start = local.date()
    followup.recurrence_time = (local_time or local.time()).replace(second=0, microsecond=0)


def _schedule_reminders(followup: FollowUp, *, now: datetime | None = None) -> None:
    slot = reminders.first_slot(followup.due_at, followup.reminder_offsets, now or timezone.now())
    followup.next_remind_at = slot.at if slot else None
    followup.next_remind_offset = slot.offset if slot else None
    followup.remind_claimed_at = None
    followup.remind_claim = None


# --- Create, change, delete ---------------------------------------------------------------


def followup_create(
    *,
    org: Organization,
    actor: User | None,
    title: str,
    owner: User,
    due_at: datetime,
    notes: str = "",
    priority: int = Priority.NORMAL,
    subject: Any = None,
    recurrence_rule: str | None = None,
    recurrence_time: time | None = None,
    reminder_offsets: Any = None,
) -> FollowUp:
    _check_due(due_at)
    _require_member(org, owner)
    _require_subject(org, subject)
    rule = _clean_rule(recurrence_rule)
    followup = FollowUp(
        organization=org,
        title=title.strip(),
        notes=notes,
        owner=owner,
        due_at=due_at,
        priority=priority,
        created_by=actor,
        reminder_offsets=clean_offsets(reminder_offsets),
        recurrence=rule,
    )
    if subject is not None:
        followup.subject = subject
    if rule:
        followup.series_id = uuid.uuid4()
        followup.occurrence_at = due_at
        _local_anchor(followup, due_at, recurrence_time)
    _schedule_reminders(followup)
    followup.full_clean(exclude=["owner", "subject_type", "created_by", "completed_by"])
    with transaction.atomic():
        followup.save()
        events.record(
            org=org,
            type="followup.created",
            subject=followup,
            payload=followup_payload(followup),
            actor=actor,
        )
    return followup


EDITABLE = {"title", "notes", "due_at", "priority", "reminder_offsets", "owner", "subject"}
REMINDER_STATE = ["next_remind_at", "next_remind_offset", "remind_claimed_at", "remind_claim"]


def followup_update(
    *,
    followup: FollowUp,
    actor: User | None,
    recurrence_rule: str | None = None,
    recurrence_time: time | None = None,
    expected_version: int | None = None,
    **changes: Any,
) -> FollowUp:
    """Change fields of an open follow-up and return the saved row.

    A new rule applies from this occurrence on: the current due time stays; the next
    occurrences follow the new rule. ``expected_version`` is the version the editor saw
    (the edit page sends it): if the row changed since, nothing is saved (``StaleEdit``).
    Only the fields whose value changes are written, onto the row locked here.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    org = followup.organization
    if "subject" in changes:
        _require_subject(org, changes["subject"])
    if "reminder_offsets" in changes:
        changes["reminder_offsets"] = clean_offsets(changes["reminder_offsets"])
    if "due_at" in changes:
        _check_due(changes["due_at"])
    if "title" in changes:
        changes["title"] = changes["title"].strip()
    rule = _clean_rule(recurrence_rule) if recurrence_rule is not None else None
    with transaction.atomic():
        row = _locked(followup)
        _require_open(row)
        if expected_version is not None and row.version != expected_version:
            raise StaleEdit
        if "owner" in changes and changes["owner"].pk != row.owner_id:
            _require_member(org, changes["owner"])
        changed = _apply_changes(row, changes, rule, recurrence_time)
        if not changed:
            return row
        row.full_clean(exclude=["owner", "subject_type", "created_by", "completed_by"])
        row.save(update_fields=changed)
        _record_change(row, actor)
    return row


def _apply_changes(
    row: FollowUp, changes: dict[str, Any], rule: str | None, recurrence_time: time | None
) -> list[str]:
    """Set ``changes`` (and a new rule) on the locked row; the names of the changed fields."""
    changed: set[str] = set()
    for name, value in changes.items():
        if name == "subject":
            current = (row.subject_type_id, row.subject_id)
            if value is None:
                row.subject_type, row.subject_id = None, None
            else:
                row.subject = value
            if (row.subject_type_id, row.subject_id) != current:
                changed |= {"subject_type", "subject_id"}
        elif name == "owner":
            if value.pk != row.owner_id:
                row.owner = value
                changed.add("owner")
        elif getattr(row, name) != value:
            setattr(row, name, value)
            changed.add(name)
    before = (row.recurrence, row.series_id, row.occurrence_at, row.recurrence_start,
              row.recurrence_time)  # fmt: skip
    if rule is not None:
        if rule and not row.series_id:
            row.series_id = uuid.uuid4()
        row.recurrence = rule
        if rule:
            row.occurrence_at = row.occurrence_at or row.due_at
            _local_anchor(row, row.occurrence_at, recurrence_time)
    elif recurrence_time is not None and row.recurrence:
        row.recurrence_time = recurrence_time.replace(second=0, microsecond=0)
    after = (row.recurrence, row.series_id, row.occurrence_at, row.recurrence_start,
             row.recurrence_time)  # fmt: skip
    if before != after:
        changed |= {"recurrence", "series_id", "occurrence_at", "recurrence_start",
                    "recurrence_time"}  # fmt: skip
    if {"due_at", "reminder_offsets"} & changed:
        _schedule_reminders(row)
        changed |= set(REMINDER_STATE)
    return sorted(changed)


def followup_delete(*, followup: FollowUp, actor: User | None) -> None:
    with transaction.atomic():
        row = _locked(followup)
        _record_change(row, actor, "followup.deleted")
        audit.record(
            org=row.organization,
            action="followup.deleted",
            actor=actor,
            obj=row,
            changes=audit.diff(audit.snapshot(row, exclude=_BOOKKEEPING), {}),
        )
        row.delete()


# Reminder claims and series plumbing: not what a person reads in the trail.
_BOOKKEEPING = (
    "next_remind_at",
    "next_remind_offset",
    "remind_claimed_at",
    "remind_claim",
    "series_id",
    "previous",
    "subject_type",
)


# --- Status moves -------------------------------------------------------------------------


def _transition(followup: FollowUp, target: str, actor: User | None, **extra: Any) -> FollowUp:
    org = followup.organization
    sources = [state for state, targets in TRANSITIONS.items() if target in targets]
    now = timezone.now()
    fields: dict[str, Any] = {"status": target, **extra}
    if target == FollowUpStatus.OPEN:
        fields.update(completed_at=None, completed_by=None)
    else:
        fields.update(
            completed_at=now,
            completed_by=actor if actor is not None and actor.pk else None,
            next_remind_at=None,
            next_remind_offset=None,
            remind_claimed_at=None,
            remind_claim=None,
        )
    changed = (
        FollowUp.objects.for_org(org)
        .filter(pk=followup.pk, status__in=sources)
        .update_versioned(**fields)
    )
    if not changed:
        current = (
            FollowUp.objects.for_org(org)
            .filter(pk=followup.pk)
            .values_list("status", flat=True)
            .first()
        )
        raise TransitionError(current or followup.status, target)
    followup.refresh_from_db()
    return followup


def _next_occurrence(followup: FollowUp, actor: User | None) -> FollowUp | None:
    if not followup.recurrence or followup.recurrence_start is None:
        return None
    rule = recurrence.parse(followup.recurrence)
    scheduled = followup.occurrence_at or followup.due_at
    # Catch up to the future: finishing late does not create a backlog of overdue copies.
    after = max(scheduled, timezone.now())
    at = recurrence.next_occurrence(
        rule,
        start=followup.recurrence_start,
        at=followup.recurrence_time or time(9, 0),
        tz=followup.owner.timezone or "UTC",
        after=after,
    )
    if at is None or not inputs.in_range(at):
        return None  # the rule ended, or its next date is past the supported range
    nxt = FollowUp(
        organization=followup.organization,
        title=followup.title,
        notes=followup.notes,
        owner=followup.owner,
        due_at=at,
        priority=followup.priority,
        subject_type_id=followup.subject_type_id,
        subject_id=followup.subject_id,
        created_by=actor if actor is not None and actor.pk else None,
        recurrence=followup.recurrence,
        recurrence_start=followup.recurrence_start,
        recurrence_time=followup.recurrence_time,
        series_id=followup.series_id,
        sequence=followup.sequence + 1,
        occurrence_at=at,
        previous=followup,
        reminder_offsets=list(followup.reminder_offsets or [0]),
    )
    _schedule_reminders(nxt)
    nxt.save()
    events.record(
        org=followup.organization,
        type="followup.created",
        subject=nxt,
        payload=followup_payload(nxt),
        actor=actor if actor is not None and actor.pk else None,
    )
    return nxt


def followup_complete(
    *,
    followup: FollowUp,
    actor: User | None,
    answered_by_type: str = "",
    answered_by_id: uuid.UUID | None = None,
) -> Outcome:
    """Done. ``answered_by_*`` names what answered it (a touchpoint, by type and id)."""
    with transaction.atomic():
        done = _transition(
            followup,
            FollowUpStatus.DONE,
            actor,
            answered_by_type=answered_by_type or "",
            answered_by_id=answered_by_id,
        )
        nxt = _next_occurrence(done, actor)
        events.record(
            org=done.organization,
            type="followup.completed",
            subject=done,
            payload={
                **followup_payload(done),
                "next_id": str(nxt.pk) if nxt else None,
            },
            actor=actor if actor is not None and actor.pk else None,
        )
    return Outcome(followup=done, next=nxt)


def followup_skip(*, followup: FollowUp, actor: User | None) -> Outcome:
    """Not done this time; a recurring follow-up moves on to its next occurrence."""
    with transaction.atomic():
        skipped = _transition(followup, FollowUpStatus.SKIPPED, actor)
        nxt = _next_occurrence(skipped, actor)
        _record_change(skipped, actor)
    return Outcome(followup=skipped, next=nxt)


def followup_cancel(*, followup: FollowUp, actor: User | None) -> Outcome:
    """Cancelled: the series stops here (no next occurrence)."""
    with transaction.atomic():
        cancelled = _transition(followup, FollowUpStatus.CANCELLED, actor)
        _record_change(cancelled, actor)
    return Outcome(followup=cancelled)


def followup_reopen(*, followup: FollowUp, actor: User | None) -> Outcome:
    with transaction.atomic():
        reopened = _transition(followup, FollowUpStatus.OPEN, actor)
        _schedule_reminders(reopened)
        reopened.save(update_fields=REMINDER_STATE)
        _record_change(reopened, actor)
    return Outcome(followup=reopened)


SNOOZE_CHOICES = {
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "tomorrow": None,  # tomorrow at the same local time
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "1w": timedelta(weeks=1),
}


def snooze_target(followup: FollowUp, choice: str, *, now: datetime | None = None) -> datetime:
    """When a snooze choice moves the follow-up to (always in the future)."""
    now = now or timezone.now()
    if choice not in SNOOZE_CHOICES:
        raise ValidationError({"until": _("Choose one of the offered snooze times.")})
    step = SNOOZE_CHOICES[choice]
    try:
        if step is not None:
            start = max(now, followup.due_at) if choice.endswith(("d", "w")) else now
            return start + step
        zone = user_zone(followup.owner)
        local_due = followup.due_at.astimezone(zone)
        tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
        local = datetime.combine(tomorrow, local_due.time().replace(tzinfo=None))
        return recurrence.to_utc(local, zone.key)
    except OverflowError:
        raise ValidationError(
            {"until": _("This snooze would move the follow-up past the last supported date.")}
        ) from None


def followup_snooze(*, followup: FollowUp, actor: User | None, until: datetime) -> FollowUp:
    """Move the due time to ``until`` (in the future); reminders start again from there."""
    if timezone.is_naive(until):
        raise ValidationError({"until": _("Give the time with its time zone.")})
    if until <= timezone.now():
        raise ValidationError({"until": _("Snooze to a time in the future.")})
    inputs.check_date(until, "until")
    with transaction.atomic():
        row = _locked(followup)
        _require_open(row)
        row.due_at = until
        _schedule_reminders(row)
        row.save(update_fields=["due_at", *REMINDER_STATE])
        _record_change(row, actor)
    return row


def followup_reassign(*, followup: FollowUp, actor: User | None, owner: User) -> FollowUp:
    org = followup.organization
    _require_member(org, owner)
    with transaction.atomic():
        row = _locked(followup)
        _require_open(row)
        if row.owner_id == owner.pk:
            return row
        row.owner = owner
        row.save(update_fields=["owner"])
        _record_change(row, actor)
        if actor is None or actor.pk != owner.pk:
            notifications.notify(
                org=org,
                recipients=[owner],
                kind="followup.assigned",
                params={
                    "title": row.title,
                    "by": actor.name if actor is not None and actor.pk else "API",
                },
                url=followup_path(row),
                subject=row,
                dedupe_key=f"assigned:{row.pk}:{row.version}",
            )
    return row


HANDED_OVER_KIND = "followup.handed_over"


def followups_hand_over(
    *, org: Organization, person: User, successor: User | None, actor: User | None
) -> int:
    """``person`` is leaving ``org``: give their open follow-ups to ``successor``, or cancel
    them (``successor`` None). Returns how many. Done and skipped ones stay theirs: history
    says who did the work.

    Rows are locked in primary-key order and their reminder claims dropped, so a reminder
    being sent to the person right now loses its claim and rolls back (``reminders.deliver``),
    and the next tick sends it to the successor. Each change is a ``followup.updated``
    event, like any reassignment; the successor gets one notification for all of them.
    """
    with transaction.atomic():
        mine = FollowUp.objects.for_org(org).filter(owner=person, status=FollowUpStatus.OPEN)
        ids = list(mine.select_for_update().order_by("pk").values_list("pk", flat=True))
        if not ids:
            return 0
        rows = FollowUp.objects.for_org(org).filter(pk__in=ids)
        if successor is not None:
            _require_member(org, successor)
            rows.update_versioned(owner=successor, remind_claimed_at=None, remind_claim=None)
        else:
            rows.update_versioned(
                status=FollowUpStatus.CANCELLED,
                completed_at=timezone.now(),
                completed_by=actor if actor is not None and actor.pk else None,
                next_remind_at=None,
                next_remind_offset=None,
                remind_claimed_at=None,
                remind_claim=None,
            )
        for followup in rows.select_related("organization", "owner").order_by("pk"):
            _record_change(followup, actor)
        if successor is not None and (actor is None or actor.pk != successor.pk):
            notifications.notify(
                org=org,
                recipients=[successor],
                kind=HANDED_OVER_KIND,
                params={"count": len(ids), "name": person.name},
                url=reverse("followup:list", kwargs={"org_slug": org.slug}),
                dedupe_key=f"handed-over:{person.pk}:{timezone.now().isoformat()}",
            )
    return len(ids)


def followups_for_deleted_subject(*, subject: Any, on_delete: str) -> int:
    """A registered subject is being deleted: cancel (or delete) its follow-ups."""
    org_id = getattr(subject, "organization_id", None)
    if org_id is None:
        return 0
    org = Organization.objects.get(pk=org_id)
    entry = subjects.for_model(type(subject))
    if entry is None:
        return 0
    rows = FollowUp.objects.for_org(org).filter(
        subject_type=subjects.content_type_for(entry.key), subject_id=subject.pk
    )
    if on_delete == "delete":
        deleted, _per_model = rows.delete()
        return deleted
    return rows.filter(status=FollowUpStatus.OPEN).update_versioned(
        status=FollowUpStatus.CANCELLED,
        completed_at=timezone.now(),
        next_remind_at=None,
        next_remind_offset=None,
        remind_claimed_at=None,
        remind_claim=None,
    )


# --- Undo of a completion (bulk actions keep a few minutes to take them back) --------------


def followup_undo_completion(
    *,
    followup: FollowUp,
    actor: User | None,
    completed_at: datetime,
    next_id: uuid.UUID | None,
) -> FollowUp:
    """Take back a completion made moments ago (the undo of ``followup.engine.bulk``).

    Done is final for people (``TRANSITIONS``); an undo is not a transition but the
    restoring of what was: the follow-up is open again, without its completion, and the next
    occurrence that completing it created is removed. Only that completion is undone: if the
    follow-up was completed again, or the next occurrence was already done, snoozed or given
    to someone else, nothing changes (``ValidationError``), so an undo never throws away work
    done after it.
    """
    org = followup.organization
    with transaction.atomic():
        row = FollowUp.objects.for_org(org).select_for_update().get(pk=followup.pk)
        if row.status != FollowUpStatus.DONE or row.completed_at != completed_at:
            raise ValidationError(
                _("“%(title)s” changed since; it can no longer be undone.") % {"title": row.title}
            )
        if next_id is not None:
            nxt = FollowUp.objects.for_org(org).select_for_update().filter(pk=next_id).first()
            if nxt is not None:
                untouched = (
                    nxt.status == FollowUpStatus.OPEN
                    and nxt.due_at == nxt.occurrence_at
                    and nxt.owner_id == row.owner_id
                )
                if not untouched:
                    raise ValidationError(
                        _("The next “%(title)s” changed since; it can no longer be undone.")
                        % {"title": row.title}
                    )
                _record_change(nxt, actor, "followup.deleted")
                nxt.delete()
        FollowUp.objects.for_org(org).filter(pk=row.pk).update_versioned(
            status=FollowUpStatus.OPEN,
            completed_at=None,
            completed_by=None,
            answered_by_type="",
            answered_by_id=None,
        )
        row.refresh_from_db()
        _schedule_reminders(row)
        row.save(
            update_fields=[
                "next_remind_at",
                "next_remind_offset",
                "remind_claimed_at",
                "remind_claim",
            ]
        )
        _record_change(row, actor)
    return row
