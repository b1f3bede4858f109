"""Create, change, re-rate and delete risks; response actions; a deleted subject's risks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts import selectors as people
from accounts.models import Organization, User
from followup.engine import services as followups
from followup.engine.models import FollowUp
from followup.kernel import subjects
from risks import selectors
from risks.models import (
    RatingSource,
    Risk,
    RiskStatus,
)
from risks.services.shared import (
    SNAPSHOT_FIELDS,
    _clean,
    _event,
    _history,
    _lock,
    _rating_key,
    _snapshot,
    _subject_links,
)

# --- Create, change, delete ---------------------------------------------------------------


@transaction.atomic
def risk_create(*, org: Organization, actor: User | None, data: Mapping[str, Any]) -> Risk:
    """A new open risk about a subject of either side, rated and put in the score history.

    ``data``: ``subject_type`` and ``subject_id`` (required), ``title``, ``probability``,
    ``impact`` (required) and any of the editable fields."""
    settings = selectors.risk_settings(org)
    links = _subject_links(org, data.get("subject_type"), data.get("subject_id"))
    risk = Risk(organization=org, status=RiskStatus.OPEN, **links)
    if "currency" not in data and risk.project is not None:
        risk.currency = risk.project.currency
    _clean(org, risk, data, settings)
    risk.baseline_probability = risk.probability
    risk.save()
    _history(org, risk, actor, RatingSource.ASSESSED, str(data.get("reason") or ""))
    audit.record(
        org=org,
        action="risk.created",
        actor=actor,
        obj=risk,
        changes=audit.diff({}, _snapshot(risk)),
    )
    _event(org, "risk.created", risk, actor, {"title": risk.title})
    return risk


@transaction.atomic
def risk_update(
    *,
    org: Organization,
    actor: User | None,
    risk: Risk,
    data: Mapping[str, Any],
    reason: str = "",
) -> Risk:
    """Change a risk's fields; a change of its ratings is a re-rating kept with ``reason``.
    Its subject may change (its side follows); its status moves only by the actions."""
    settings = selectors.risk_settings(org)
    locked = _lock(org, risk.pk)
    before = _snapshot(locked)
    rating_before = _rating_key(locked)
    if "subject_type" in data or "subject_id" in data:
        links = _subject_links(
            org,
            data.get("subject_type", locked.subject_type),
            data.get("subject_id", locked.subject_id),
        )
        for name, value in links.items():
            setattr(locked, name, value)
    _clean(org, locked, data, settings)
    rated = _rating_key(locked) != rating_before
    if rated and "probability" in data and locked.probability != before["probability"]:
        locked.baseline_probability = locked.probability
    after = _snapshot(locked)
    changed = [name for name in SNAPSHOT_FIELDS if before[name] != after[name]]
    if not changed:
        return locked
    locked.save()
    if rated:
        _history(org, locked, actor, RatingSource.ASSESSED, reason)
    audit.record(
        org=org,
        action="risk.updated",
        actor=actor,
        obj=locked,
        changes=audit.diff({k: before[k] for k in changed}, {k: after[k] for k in changed}),
        note=reason[:300],
    )
    _event(org, "risk.updated", locked, actor, {"changed": sorted(changed)})
    return locked


def risk_rate(
    *,
    org: Organization,
    actor: User | None,
    risk: Risk,
    probability: int,
    impact: int,
    residual_probability: int | None = None,
    residual_impact: int | None = None,
    reason: str = "",
) -> Risk:
    """Re-rate a risk (inherent and residual), kept in the score history with ``reason``."""
    return risk_update(
        org=org,
        actor=actor,
        risk=risk,
        data={
            "probability": probability,
            "impact": impact,
            "residual_probability": residual_probability,
            "residual_impact": residual_impact,
        },
        reason=reason,
    )


@transaction.atomic
def risk_delete(*, org: Organization, actor: User | None, risk: Risk) -> None:
    locked = _lock(org, risk.pk)
    audit.record(
        org=org,
        action="risk.deleted",
        actor=actor,
        obj=locked,
        changes=audit.diff(_snapshot(locked), {}),
    )
    _event(org, "risk.deleted", locked, actor, {"title": locked.title})
    FollowUp.objects.for_org(org).filter(
        subject_type=subjects.content_type_for("risk"), subject_id=locked.pk
    ).delete()
    locked.delete()


# --- Actions (follow-ups on the risk) -----------------------------------------------------


def risk_action_add(
    *,
    org: Organization,
    actor: User | None,
    risk: Risk,
    title: str,
    owner: User,
    due_at: datetime,
    notes: str = "",
) -> FollowUp:
    """A response action: a follow-up owned by a person, with the risk as its subject."""
    current = Risk.objects.for_org(org).get(pk=risk.pk)
    if not (title or "").strip():
        raise ValidationError({"title": _("Say what the action is.")}, code="required")
    return followups.followup_create(
        org=org,
        actor=actor,
        title=title,
        owner=owner,
        due_at=due_at,
        notes=notes,
        subject=current,
    )


def risks_for_deleted_subject(*, org: Organization, key: str, subject_id: Any) -> int:
    """A subject is being deleted: its risks go with it (their follow-ups too)."""
    ids = list(
        Risk.objects.for_org(org)
        .filter(subject_type=key, subject_id=subject_id)
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    FollowUp.objects.for_org(org).filter(
        subject_type=subjects.content_type_for("risk"), subject_id__in=ids
    ).delete()
    Risk.objects.for_org(org).filter(pk__in=ids).delete()
    return len(ids)


@transaction.atomic
def risks_hand_over(
    *, org: Organization, actor: User | None, person: User, successor: User | None
) -> int:
    """``person`` is leaving ``org``: the risks they own go to ``successor`` (None: no owner,
    for a manager to assign). Locked in pk order; each is a ``risk.updated`` event."""
    if successor is not None and not people.has_membership(org, successor):
        raise ValidationError({"owner": _("The owner must be a member of this organization.")})
    owned = list(
        Risk.objects.for_org(org)
        .filter(owner=person)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    Risk.objects.for_org(org).filter(pk__in=[r.pk for r in owned]).update_versioned(owner=successor)
    for risk in owned:
        _event(org, "risk.updated", risk, actor, {"changed": ["owner"]})
    return len(owned)
