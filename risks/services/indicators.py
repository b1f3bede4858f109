"""Key risk indicators: a reading, its zone, and the re-rating of a crossing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from followup.engine import notifications
from risks import selectors
from risks.calc import scoring
from risks.models import (
    IndicatorValue,
    RatingSource,
    Risk,
    Zone,
)
from risks.services.shared import (
    _apply_rating,
    _decimal_or_none,
    _event,
    _history,
    _lock,
    risk_url,
)

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
