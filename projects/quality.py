"""Quality of work packages (issue 9, item 7): acceptance criteria and rework.

A work package may carry acceptance criteria. It can be marked done (progress 100 %, or an
actual finish, which means 100 %) only when each criterion is checked off or waived with a
reason: ``progress_check`` refuses it otherwise, inside the work-item service, so every
route (page, API, import) meets the same rule. Taking a done package back below 100 % is
*rework*: one ``Rework`` row each time, which the status report counts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from accounts.tenancy import require_same_org
from followup.kernel import events
from projects.models import AcceptanceCriterion, CriterionState, Project, Rework, WorkItem

HUNDRED = Decimal(100)
MAX_CRITERIA = 50


def criteria_of(org: Organization, item: WorkItem) -> QuerySet[AcceptanceCriterion]:
    return (
        AcceptanceCriterion.objects.for_org(org).filter(work_item=item).select_related("decided_by")
    )


def unmet(org: Organization, item: WorkItem) -> list[AcceptanceCriterion]:
    return list(criteria_of(org, item).filter(state=CriterionState.OPEN))


def progress_check(
    org: Organization, actor: User | None, item: WorkItem, was: Decimal | None
) -> None:
    """Called by the work-item service with the locked item's new progress and the one it
    had: refuses "done" with open criteria, records rework when a done item reopens."""
    if item.is_summary or was is None:
        return
    now_done = item.percent_complete >= HUNDRED
    was_done = was >= HUNDRED
    if now_done and not was_done:
        open_ = unmet(org, item)
        if open_:
            names = "; ".join(c.text for c in open_[:5])
            raise ValidationError(
                {
                    "percent_complete": _(
                        "Not done yet: check off or waive (with a reason) each acceptance "
                        "criterion first. Open: %(names)s"
                    )
                    % {"names": names}
                }
            )
    elif was_done and not now_done:
        Rework.objects.create(
            organization=org,
            project_id=item.project_id,
            work_item=item,
            percent_after=item.percent_complete,
            actor=actor if actor is not None and actor.pk else None,
        )
        events.record(
            org=org,
            type="work_item.reopened",
            subject=item,
            actor=actor,
            payload={"project": str(item.project_id), "percent": str(item.percent_complete)},
        )


def _lock_item(org: Organization, item: WorkItem) -> tuple[Project, WorkItem]:
    project = Project.objects.for_org(org).select_for_update(of=("self",)).get(pk=item.project_id)
    locked = WorkItem.objects.for_org(org).select_for_update(of=("self",)).get(pk=item.pk)
    return project, locked


@transaction.atomic
def criterion_add(
    *, org: Organization, actor: User | None, item: WorkItem, text: str
) -> AcceptanceCriterion:
    require_same_org(org, work_item=item)
    project, locked = _lock_item(org, item)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Say what must hold for the work to be accepted.")})
    if len(text) > 300:
        raise ValidationError({"text": _("Keep it under 300 characters.")})
    if project.is_archived:
        raise ValidationError({"text": _("This project is closed: its plan can no longer change.")})
    if locked.is_summary:
        raise ValidationError(
            {"work_item": _("Acceptance criteria belong to work packages, not to summaries.")}
        )
    existing = AcceptanceCriterion.objects.for_org(org).filter(work_item=locked)
    if existing.count() >= MAX_CRITERIA:
        raise ValidationError({"text": _("A work item has at most 50 acceptance criteria.")})
    last = existing.aggregate(last=Max("position"))["last"] or 0
    criterion = AcceptanceCriterion.objects.create(
        organization=org, work_item=locked, text=text, position=last + 1
    )
    audit.record(
        org=org,
        action="acceptance.added",
        actor=actor,
        obj=criterion,
        changes=audit.diff({}, {"text": text}),
    )
    events.record(
        org=org,
        type="acceptance.changed",
        subject=locked,
        actor=actor,
        payload={"criterion": str(criterion.pk), "state": criterion.state},
    )
    return criterion


@transaction.atomic
def criterion_decide(
    *,
    org: Organization,
    actor: User | None,
    criterion: AcceptanceCriterion,
    state: str,
    reason: str = "",
) -> AcceptanceCriterion:
    """Check a criterion off, waive it (a reason is required) or open it again. Opening a
    criterion of a done item is refused: reopen the item first (that is rework)."""
    require_same_org(org, criterion=criterion)
    if state not in CriterionState.values:
        raise ValidationError({"state": _("Choose checked, waived or open.")})
    reason = (reason or "").strip()
    if state == CriterionState.WAIVED and not reason:
        raise ValidationError({"reason": _("Say why this criterion is waived.")})
    item = WorkItem.objects.for_org(org).get(pk=criterion.work_item_id)
    project, locked_item = _lock_item(org, item)
    if project.is_archived:
        raise ValidationError(
            {"state": _("This project is closed: its plan can no longer change.")}
        )
    locked = AcceptanceCriterion.objects.for_org(org).select_for_update().get(pk=criterion.pk)
    if state == CriterionState.OPEN and locked_item.is_done:
        raise ValidationError(
            {"state": _("The work item is done: set its progress below 100 percent first.")}
        )
    before: dict[str, Any] = {"state": locked.state, "waive_reason": locked.waive_reason}
    locked.state = state
    locked.waive_reason = reason if state == CriterionState.WAIVED else ""
    locked.decided_by = actor if actor is not None and actor.pk else None
    locked.decided_at = timezone.now() if state != CriterionState.OPEN else None
    locked.save(update_fields=["state", "waive_reason", "decided_by", "decided_at"])
    audit.record(
        org=org,
        action="acceptance.decided",
        actor=actor,
        obj=locked,
        changes=audit.diff(before, {"state": locked.state, "waive_reason": locked.waive_reason}),
    )
    events.record(
        org=org,
        type="acceptance.changed",
        subject=locked_item,
        actor=actor,
        payload={"criterion": str(locked.pk), "state": locked.state},
    )
    return locked
