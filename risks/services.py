"""State changes of the risk register: one keyword-only function each, one transaction each.

Public (stable names other modules build on):

- ``risk_create(*, org, actor, data)``; ``risk_update(*, org, actor, risk, data, reason="")``;
  ``risk_rate(*, org, actor, risk, probability, impact, residual_probability=None,
  residual_impact=None, reason="")`` (a re-rating, kept in the score history);
- ``risk_occur``, ``risk_close``, ``risk_reopen`` (``*, org, actor, risk, note=""``; status
  moves are data: ``models.TRANSITIONS``); ``risk_occur`` on an occurred risk is a no-op;
- ``risk_escalate(*, org, actor, risk)``: ``risks.escalation.escalate`` when that module
  exists, else the strategy becomes "escalate";
- ``risk_delete``; ``indicator_value_add(*, org, actor, risk, value, observed_at)`` (a KRI
  reading: a zone crossing re-rates the risk and notifies its owner);
- ``risk_action_add(*, org, actor, risk, title, owner, due_at)`` (a follow-up on the risk);
- ``risk_settings_update(*, org, actor, settings)`` (matrix, words, categories; re-levels
  every risk of the organization).

Every change locks the risk row through ``for_org(org)``, writes what changed, records the
audit row and the outbox event (``risk.created``, ``risk.updated``, ``risk.occurred``,
``risk.closed``, ``risk.escalated``, ``risk.deleted``) in the same transaction.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts import selectors as people
from accounts.models import Organization, User
from followup.engine import notifications
from followup.engine import services as followups
from followup.engine.models import FollowUp
from followup.kernel import events, subjects
from risks import selectors
from risks.calc import fmea, scoring
from risks.models import (
    TRANSITIONS,
    Direction,
    IndicatorValue,
    RatingSource,
    Risk,
    RiskRating,
    RiskStatus,
    Side,
    Strategy,
    Zone,
)
from risks.selectors import RiskSettings

SUBJECT_TYPES = ("customer", "engagement", "project", "work_item")
TEXT_FIELDS = (
    "title",
    "cause",
    "event",
    "effect",
    "trigger",
    "failure_mode",
    "controls",
    "response_plan",
    "fallback_plan",
    "indicator_name",
    "indicator_unit",
)
PLAIN_FIELDS = (
    *TEXT_FIELDS,
    "category",
    "owner",
    "strategy",
    "contingency_amount",
    "currency",
    "severity",
    "occurrence",
    "detection",
    "post_severity",
    "post_occurrence",
    "post_detection",
    "indicator_amber",
    "indicator_red",
    "indicator_direction",
)
RATING_FIELDS = ("probability", "impact", "residual_probability", "residual_impact")
FMEA_FIELDS = ("severity", "occurrence", "detection")
POST_FMEA_FIELDS = ("post_severity", "post_occurrence", "post_detection")
INDICATOR_FIELDS = ("indicator_amber", "indicator_red", "indicator_direction")
SNAPSHOT_FIELDS = (
    "subject_type",
    "subject_id",
    *PLAIN_FIELDS,
    *RATING_FIELDS,
    "status",
    "score",
    "level",
)


class TransitionRefused(ValidationError):
    """A status move that ``TRANSITIONS`` does not allow (a 409 in the API)."""


# --- Helpers ------------------------------------------------------------------------------


def _event(
    org: Organization,
    type: str,
    risk: Risk,
    actor: User | None,
    payload: dict[str, Any] | None = None,
) -> None:
    events.record(
        org=org,
        type=type,
        subject=risk,
        actor=actor,
        payload={
            "side": risk.side,
            "status": risk.status,
            "level": risk.level,
            "customer": str(risk.customer_id) if risk.customer_id else None,
            "engagement": str(risk.engagement_id) if risk.engagement_id else None,
            "project": str(risk.project_id) if risk.project_id else None,
            **(payload or {}),
        },
    )


def _snapshot(risk: Risk) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(risk, f"{name}_id" if name == "owner" else name)
        out[name] = value
    return out


def _lock(org: Organization, risk_id: Any) -> Risk:
    return Risk.objects.for_org(org).select_for_update(of=("self",)).get(pk=risk_id)


def risk_url(risk: Risk) -> str:
    return reverse("risks:detail", kwargs={"org_slug": risk.organization.slug, "pk": risk.pk})


def _subject_links(org: Organization, key: Any, obj_id: Any) -> dict[str, Any]:
    """Side and links of a risk about ``key``/``obj_id`` (a ValidationError naming the field
    for an unknown type, a foreign or missing id)."""
    if key not in SUBJECT_TYPES:
        raise ValidationError(
            {
                "subject_type": _("A risk is about one of: %(types)s.")
                % {"types": ", ".join(SUBJECT_TYPES)}
            }
        )
    subject: Any = subjects.resolve(org, key, obj_id)
    links: dict[str, Any] = {
        "subject_type": key,
        "subject_id": subject.pk,
        "customer": None,
        "engagement": None,
        "project": None,
        "work_item": None,
    }
    if key == "customer":
        links.update(side=Side.BUSINESS, customer=subject)
    elif key == "engagement":
        links.update(side=Side.BUSINESS, engagement=subject, customer=subject.customer)
    else:
        project = subject if key == "project" else subject.project
        engagement = project.engagement
        links.update(
            side=Side.PROJECT,
            project=project,
            work_item=subject if key == "work_item" else None,
            engagement=engagement,
            customer=engagement.customer if engagement is not None else None,
        )
    return links


def _rating_error(error: scoring.ScoringError, field: str) -> ValidationError:
    message = _(error.message) % error.params if error.params else _(error.message)
    return ValidationError({field: message}, code=error.code)


def _int_or_none(value: Any, field: str, top: int) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise ValidationError(
            {field: _("Use a whole number from 1 to %(top)d.") % {"top": top}}, code="out_of_range"
        )
    return value


def _decimal_or_none(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}, code="invalid") from None
    if not number.is_finite() or abs(number) >= Decimal("1e13"):
        raise ValidationError({field: _("Enter a number.")}, code="invalid")
    return number


def _apply_rating(risk: Risk, matrix: scoring.Matrix) -> None:
    """Store score/level (inherent and residual) from the ratings on ``risk``."""
    try:
        assessment = scoring.assess(
            risk.probability,
            risk.impact,
            risk.residual_probability,
            risk.residual_impact,
            matrix,
        )
    except scoring.ScoringError as error:
        field = {
            "residual_incomplete": "residual_impact"
            if risk.residual_impact is None
            else "residual_probability",
        }.get(error.code, "probability")
        if error.code == "out_of_range":
            field = str(error.params.get("name", "probability"))
        raise _rating_error(error, field) from None
    risk.score = assessment.inherent.score
    risk.level = assessment.inherent.level
    if assessment.residual is not None:
        risk.residual_score = assessment.residual.score
        risk.residual_level = assessment.residual.level
    else:
        risk.residual_score = None
        risk.residual_level = ""


def _apply_fmea(risk: Risk) -> None:
    for fields, rpn_name, ap_name in (
        (FMEA_FIELDS, "rpn", "action_priority"),
        (POST_FMEA_FIELDS, "post_rpn", "post_action_priority"),
    ):
        values = [getattr(risk, f) for f in fields]
        if all(v is None for v in values):
            setattr(risk, rpn_name, None)
            setattr(risk, ap_name, "")
            continue
        missing = [f for f, v in zip(fields, values, strict=True) if v is None]
        if missing:
            raise ValidationError(
                {missing[0]: _("An FMEA rating needs a severity, an occurrence and a detection.")},
                code="incomplete",
            )
        rating = fmea.FmeaRating(*values)
        setattr(risk, rpn_name, rating.rpn)
        setattr(risk, ap_name, rating.action_priority)
    if risk.has_post_fmea and not risk.has_fmea:
        raise ValidationError(
            {"severity": _("Rate the failure mode before rating it after the actions.")},
            code="incomplete",
        )


def _check_indicator(risk: Risk) -> None:
    amber, red = risk.indicator_amber, risk.indicator_red
    if amber is None and red is None:
        return
    if amber is None or red is None:
        raise ValidationError(
            {
                "indicator_amber" if amber is None else "indicator_red": _(
                    "An indicator needs both an amber and a red threshold."
                )
            },
            code="incomplete",
        )
    try:
        scoring.Indicator(amber, red, risk.indicator_direction)  # type: ignore[arg-type]
    except scoring.ScoringError as error:
        raise _rating_error(error, "indicator_red") from None


def _clean(org: Organization, risk: Risk, data: Mapping[str, Any], settings: RiskSettings) -> None:
    """Validate ``data`` and set it on ``risk`` (not saved)."""
    for name in TEXT_FIELDS:
        if name in data:
            setattr(risk, name, (data[name] or "").strip())
    if not risk.title:
        raise ValidationError({"title": _("Give the risk a title.")}, code="required")
    if "category" in data:
        category = data["category"] or ""
        if category and category not in settings.category_keys():
            raise ValidationError(
                {
                    "category": _("Unknown category. Use one of: %(keys)s.")
                    % {"keys": ", ".join(sorted(settings.category_keys()))}
                },
                code="invalid_choice",
            )
        risk.category = category
    if "owner" in data:
        owner = data["owner"]
        if owner is not None and not people.is_member(org, owner):
            raise ValidationError(
                {"owner": _("The owner must be a member of this organization.")}, code="invalid"
            )
        risk.owner = owner
    if "strategy" in data:
        strategy = data["strategy"] or ""
        if strategy and strategy not in Strategy.values:
            raise ValidationError({"strategy": _("Unknown response strategy.")}, code="invalid")
        risk.strategy = strategy
    if "contingency_amount" in data:
        amount = _decimal_or_none(data["contingency_amount"], "contingency_amount")
        if amount is not None and amount < 0:
            raise ValidationError(
                {"contingency_amount": _("A contingency amount cannot be negative.")},
                code="min_value",
            )
        risk.contingency_amount = amount
    if "currency" in data:
        currency = (data["currency"] or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError(
                {"currency": _("Use a three-letter ISO 4217 currency code, e.g. EUR.")},
                code="invalid",
            )
        risk.currency = currency
    for name in ("probability", "impact"):
        if name in data:
            value = _int_or_none(data[name], name, 5)
            if value is None:
                raise ValidationError({name: _("Rate it from 1 to 5.")}, code="required")
            setattr(risk, name, value)
    for name in ("residual_probability", "residual_impact"):
        if name in data:
            setattr(risk, name, _int_or_none(data[name], name, 5))
    for name in (*FMEA_FIELDS, *POST_FMEA_FIELDS):
        if name in data:
            setattr(risk, name, _int_or_none(data[name], name, 10))
    for name in ("indicator_amber", "indicator_red"):
        if name in data:
            setattr(risk, name, _decimal_or_none(data[name], name))
    if "indicator_direction" in data:
        direction = data["indicator_direction"] or Direction.UP
        if direction not in Direction.values:
            raise ValidationError(
                {"indicator_direction": _('The direction must be "up" or "down".')},
                code="invalid",
            )
        risk.indicator_direction = direction
    if risk.probability is None or risk.impact is None:
        raise ValidationError(
            {"probability" if risk.probability is None else "impact": _("Rate it from 1 to 5.")},
            code="required",
        )
    _apply_rating(risk, settings.matrix)
    _apply_fmea(risk)
    _check_indicator(risk)


def _history(
    org: Organization, risk: Risk, actor: User | None, source: str, reason: str
) -> RiskRating:
    return RiskRating.objects.create(
        organization=org,
        risk=risk,
        source=source,
        probability=risk.probability,
        impact=risk.impact,
        score=risk.score,
        level=risk.level,
        residual_probability=risk.residual_probability,
        residual_impact=risk.residual_impact,
        residual_score=risk.residual_score,
        residual_level=risk.residual_level,
        actor=actor if actor is not None and actor.pk else None,
        reason=reason[:2000],
    )


def _rating_key(risk: Risk) -> tuple[Any, ...]:
    return tuple(getattr(risk, name) for name in RATING_FIELDS)


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


# --- Key risk indicators ------------------------------------------------------------------


@transaction.atomic
def indicator_value_add(
    *,
    org: Organization,
    actor: User | None,
    risk: Risk,
    value: Any,
    observed_at: datetime | None = None,
) -> IndicatorValue:
    """Record a reading of the risk's indicator. A reading in another zone than the latest
    one re-rates the risk's probability (``scoring.rerate``; score history, source
    "indicator") and notifies its owner, if still a member."""
    settings = selectors.risk_settings(org)
    locked = _lock(org, risk.pk)
    if not locked.has_indicator:
        raise ValidationError(
            {"value": _("This risk watches no indicator: set its amber and red thresholds.")},
            code="no_indicator",
        )
    number = _decimal_or_none(value, "value")
    if number is None:
        raise ValidationError({"value": _("Enter a number.")}, code="required")
    observed_at = observed_at or timezone.now()
    assert locked.indicator_amber is not None and locked.indicator_red is not None
    indicator = scoring.Indicator(
        locked.indicator_amber,
        locked.indicator_red,
        locked.indicator_direction,  # type: ignore[arg-type]
    )
    zone = indicator.zone(number)
    latest = (
        IndicatorValue.objects.for_org(org).filter(risk=locked).order_by("-observed_at", "-id")
    ).first()
    reading = IndicatorValue.objects.create(
        organization=org,
        risk=locked,
        value=number,
        observed_at=observed_at,
        zone=zone,
        actor=actor if actor is not None and actor.pk else None,
    )
    if latest is not None and latest.observed_at > observed_at:
        return reading  # a late reading of the past: history only, the current zone stays
    previous_zone = locked.indicator_zone or Zone.GREEN
    crossing = None if previous_zone == zone else _crossing(previous_zone, zone)
    locked.indicator_value = number
    locked.indicator_zone = zone
    fields = ["indicator_value", "indicator_zone"]
    if crossing is not None:
        baseline_probability = locked.baseline_probability or locked.probability
        rating = scoring.rerate(
            scoring.Rating(baseline_probability, locked.impact, 0, "low"),
            zone,
            settings.matrix,
        )
        old = (locked.probability, locked.score, locked.level)
        locked.probability = rating.probability
        _apply_rating(locked, settings.matrix)
        fields += ["probability", "score", "level", "residual_score", "residual_level"]
        locked.save(update_fields=fields)
        reason = _("%(indicator)s at %(value)s: %(zone)s (was %(previous)s).") % {
            "indicator": locked.indicator_name or _("Indicator"),
            "value": _plain(number),
            "zone": Zone(zone).label,
            "previous": Zone(previous_zone).label,
        }
        _history(org, locked, None, RatingSource.INDICATOR, reason)
        audit.record(
            org=org,
            action="risk.rerated",
            actor=actor,
            obj=locked,
            changes={"probability": [old[0], locked.probability], "level": [old[2], locked.level]},
            note=reason[:300],
        )
        _event(
            org,
            "risk.updated",
            locked,
            actor,
            {
                "changed": ["indicator_zone", "probability"],
                "zone": zone,
                "previous_zone": previous_zone,
            },
        )
        if locked.owner is not None:
            notifications.notify(
                org=org,
                recipients=[locked.owner],
                kind="risk.indicator_crossed",
                params={
                    "risk": locked.title,
                    "zone": zone,
                    "value": _plain(number),
                    "indicator": locked.indicator_name,
                },
                url=risk_url(locked),
                subject=locked,
                dedupe_key=f"risk-kri-{reading.pk}",
            )
    else:
        locked.save(update_fields=fields)
    return reading


def _crossing(previous: str, zone: str) -> scoring.Crossing:
    rank = {Zone.GREEN: 0, Zone.AMBER: 1, Zone.RED: 2}
    change = "worse" if rank[zone] > rank[previous] else "better"  # type: ignore[index]
    return scoring.Crossing(previous, zone, change)  # type: ignore[arg-type]


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


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


# --- Organization settings ----------------------------------------------------------------


@transaction.atomic
def risk_settings_update(
    *, org: Organization, actor: User | None, settings: RiskSettings
) -> RiskSettings:
    """Store the organization's risk settings and re-read every risk's level from the new
    matrix (score history for each risk whose level changed, source "matrix")."""
    locked = Organization.objects.select_for_update().get(pk=org.pk)
    before = selectors.RiskSettings.from_dict((locked.settings or {}).get("risks"))
    locked.settings = {**(locked.settings or {}), "risks": settings.as_dict()}
    locked.save(update_fields=["settings"])
    org.settings = locked.settings
    if before.matrix != settings.matrix:
        relevel(org=org, matrix=settings.matrix)
    audit.record(
        org=org,
        action="risk_settings.updated",
        actor=actor,
        object_type="organization",
        object_id=org.pk,
        object_repr=org.name,
        changes=audit.diff(
            {"risks": before.as_dict()},
            {"risks": settings.as_dict()},
        ),
    )
    return settings


def relevel(*, org: Organization, matrix: scoring.Matrix) -> int:
    """Re-read the stored levels of every risk from ``matrix`` (25 updates per rating, not
    one per risk); the risks whose level changes get a history row."""
    changed_ids: set[uuid.UUID] = set()
    qs = Risk.objects.for_org(org)
    for p in scoring.SCALE:
        for i in scoring.SCALE:
            level = matrix.level(p, i)
            moved = qs.filter(probability=p, impact=i).exclude(level=level)
            changed_ids |= set(moved.values_list("pk", flat=True))
            moved.update_versioned(level=level)
            qs.filter(residual_probability=p, residual_impact=i).exclude(
                residual_level=level
            ).update_versioned(residual_level=level)
    reason = _("The organization's risk matrix changed.")
    RiskRating.objects.bulk_create(
        RiskRating(
            organization=org,
            risk=risk,
            source=RatingSource.MATRIX,
            probability=risk.probability,
            impact=risk.impact,
            score=risk.score,
            level=risk.level,
            residual_probability=risk.residual_probability,
            residual_impact=risk.residual_impact,
            residual_score=risk.residual_score,
            residual_level=risk.residual_level,
            reason=reason,
        )
        for risk in qs.filter(pk__in=changed_ids)
    )
    return len(changed_ids)


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
