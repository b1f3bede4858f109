"""What every risk service shares: the fields, subject links, validation of a risk's data,
its score history row, the lock, the event."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors as people
from accounts.models import Organization, User
from followup.kernel import events, subjects
from risks.calc import fmea, scoring
from risks.models import (
    Direction,
    Risk,
    RiskRating,
    Side,
    Strategy,
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
        if owner is not None and not people.has_membership(org, owner):
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
