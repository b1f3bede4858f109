"""The organization's risk settings (matrix, words per level, categories)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Organization, User
from risks import selectors
from risks.calc import scoring
from risks.models import (
    RatingSource,
    Risk,
    RiskRating,
)
from risks.selectors import RiskSettings

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
