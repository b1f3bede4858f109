"""Answering a follow-up with a touchpoint, and taking that back in one click.

Logging a touchpoint that answers a follow-up completes the follow-up (a cadence schedules
its next one). The rep sees what happened and an Undo that lasts ``bulk.UNDO_WINDOW``: it
deletes that touchpoint (last touch and health are recomputed without it) and reopens the
follow-up as it was, removing the next occurrence completing it created. The answer is kept
as a ``BulkChange`` of the scope ``touchpoint_answer``, so it shares the undo rules of bulk
work: only its author, only within the window, only once, and never over a later change
(the touchpoint edited, the follow-up completed again, the next one snoozed or given away).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from engagements import services
from engagements.models import Touchpoint
from followup.engine import bulk
from followup.engine import services as followup_services
from followup.engine.models import BulkChange, FollowUp

SCOPE = "touchpoint_answer"


@dataclass(frozen=True)
class Answered:
    touchpoint: Touchpoint
    followup: FollowUp  # as it is now: done
    next: FollowUp | None  # the next occurrence, when it recurs
    change: BulkChange  # what Undo restores


def touchpoint_answer(
    *, org: Organization, actor: User, answers: FollowUp, **fields: Any
) -> Answered:
    """``services.touchpoint_log`` answering ``answers``, kept for Undo, in one transaction."""
    with transaction.atomic():
        touchpoint = services.touchpoint_log(org=org, actor=actor, answers=answers, **fields)
        done = FollowUp.objects.for_org(org).get(pk=answers.pk)
        nxt = FollowUp.objects.for_org(org).filter(previous=done).order_by("-created_at").first()
        item = {
            "touchpoint": str(touchpoint.pk),
            "touchpoint_version": touchpoint.version,
            "followup": str(done.pk),
            "completed_at": done.completed_at.isoformat() if done.completed_at else None,
            "next": str(nxt.pk) if nxt is not None else None,
        }
        change = bulk.record(
            org=org,
            actor=actor,
            scope=SCOPE,
            action="answer",
            items=[item],
            label=_("Touchpoint logged; “%(title)s” done") % {"title": done.title},
        )
    return Answered(touchpoint=touchpoint, followup=done, next=nxt, change=change)


def undo_answer(org: Organization, actor: User, change: BulkChange) -> None:
    """The undo handler of the scope (inside ``bulk.undo``'s transaction)."""
    item = change.items[0]
    touchpoint = (
        Touchpoint.objects.for_org(org)
        .select_for_update()
        .filter(pk=uuid.UUID(item["touchpoint"]))
        .first()
    )
    if touchpoint is None:
        raise ValidationError(_("The touchpoint was deleted since; there is nothing to undo."))
    if touchpoint.version != item["touchpoint_version"]:
        raise ValidationError(
            _(
                "The touchpoint was changed since; it can no longer be undone. Delete it "
                "from its page."
            )
        )
    followup = FollowUp.objects.for_org(org).filter(pk=uuid.UUID(item["followup"])).first()
    completed_at = parse_datetime(item["completed_at"] or "")
    if followup is None or completed_at is None:
        raise ValidationError(_("The follow-up was deleted since; it can no longer be undone."))
    followup_services.followup_undo_completion(
        followup=followup,
        actor=actor,
        completed_at=completed_at,
        next_id=uuid.UUID(item["next"]) if item["next"] else None,
    )
    services.touchpoint_delete(org=org, actor=actor, touchpoint=touchpoint)


def undo_of(org: Organization, actor: User, pk: uuid.UUID) -> BulkChange | None:
    """The actor's own answer change ``pk`` (None for anyone else's, or another scope)."""
    return BulkChange.objects.for_org(org).filter(pk=pk, actor=actor, scope=SCOPE).first()


def register() -> None:
    bulk.register_scope(SCOPE, undo=undo_answer)
