"""A risk's status moves (``models.TRANSITIONS``) and escalation."""

from __future__ import annotations

import importlib.util

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from risks.models import (
    TRANSITIONS,
    Risk,
    RiskStatus,
    Strategy,
)
from risks.services.shared import (
    TransitionRefused,
    _event,
    _lock,
)

# --- Status -------------------------------------------------------------------------------


def _move(
    org: Organization,
    actor: User | None,
    risk: Risk,
    target: str,
    *,
    note: str,
    event: str,
) -> Risk:
    locked = _lock(org, risk.pk)
    if target not in TRANSITIONS[locked.status]:
        raise TransitionRefused(
            _("A risk that is %(status)s cannot become %(target)s.")
            % {
                "status": RiskStatus(locked.status).label.lower(),
                "target": RiskStatus(target).label.lower(),
            },
            code="transition",
        )
    previous = locked.status
    locked.status = target
    now = timezone.now()
    fields = ["status"]
    if target == RiskStatus.OCCURRED:
        locked.occurred_at = now
        fields.append("occurred_at")
    if target == RiskStatus.CLOSED:
        locked.closed_at = now
        fields.append("closed_at")
    if target == RiskStatus.OPEN:
        locked.closed_at = None
        fields.append("closed_at")
    locked.save(update_fields=fields)
    audit.record(
        org=org,
        action=f"risk.{target}" if target != RiskStatus.OPEN else "risk.reopened",
        actor=actor,
        obj=locked,
        changes={"status": [previous, target]},
        note=note[:300],
    )
    _event(org, event, locked, actor, {"previous": previous, "note": note[:2000]})
    return locked


@transaction.atomic
def risk_occur(*, org: Organization, actor: User | None, risk: Risk, note: str = "") -> Risk:
    """The risk event happened. Reporting it again is a no-op (no second event)."""
    locked = _lock(org, risk.pk)
    if locked.status == RiskStatus.OCCURRED:
        return locked
    return _move(org, actor, locked, RiskStatus.OCCURRED, note=note, event="risk.occurred")


@transaction.atomic
def risk_close(*, org: Organization, actor: User | None, risk: Risk, note: str = "") -> Risk:
    return _move(org, actor, risk, RiskStatus.CLOSED, note=note, event="risk.closed")


@transaction.atomic
def risk_reopen(*, org: Organization, actor: User | None, risk: Risk, note: str = "") -> Risk:
    return _move(org, actor, risk, RiskStatus.OPEN, note=note, event="risk.updated")


def escalation_available() -> bool:
    return importlib.util.find_spec("risks.escalation") is not None


@transaction.atomic
def risk_escalate(*, org: Organization, actor: User | None, risk: Risk) -> Risk:
    """Escalate a risk. With ``risks.escalation.escalate`` (the escalation module), that
    function does it; without it the risk's response strategy becomes "escalate" and a
    ``risk.escalated`` event says so (``escalated_to`` empty)."""
    if escalation_available():
        escalation = importlib.import_module("risks.escalation")
        result: Risk = escalation.escalate(org=org, actor=actor, risk=risk)
        return result
    locked = _lock(org, risk.pk)
    if locked.status == RiskStatus.CLOSED:
        raise TransitionRefused(_("A closed risk cannot be escalated."), code="transition")
    previous = locked.strategy
    if previous != Strategy.ESCALATE:
        locked.strategy = Strategy.ESCALATE
        locked.save(update_fields=["strategy"])
    audit.record(
        org=org,
        action="risk.escalated",
        actor=actor,
        obj=locked,
        changes={"strategy": [previous, Strategy.ESCALATE]},
    )
    _event(org, "risk.escalated", locked, actor, {"escalated_to": []})
    return locked
