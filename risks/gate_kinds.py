"""The gate criteria the risk register checks from evidence (``projects.gates`` registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from projects import gates, selectors
from projects.gates import Verdict
from projects.models import Phase, Project
from risks.models import ReviewStatus, RiskReview

_SHOWN = 3


def milestone_reviews_signed_off(project: Project, phase: Phase) -> Verdict:
    """Every milestone of the phase has a signed-off risk review and none pending."""
    org = project.organization
    milestones = list(
        selectors.leaves_of_phase(org, phase).filter(duration_days=0).order_by("wbs_path")
    )
    signed = set(
        RiskReview.objects.for_org(org)
        .filter(milestone__in=milestones, status=ReviewStatus.DONE)
        .values_list("milestone_id", flat=True)
    )
    pending = set(
        RiskReview.objects.for_org(org)
        .filter(milestone__in=milestones, status__in=RiskReview.PENDING)
        .values_list("milestone_id", flat=True)
    )
    missing = [m for m in milestones if m.pk in pending or m.pk not in signed]
    if missing:
        names = ", ".join(f"{m.wbs_code} {m.name}" for m in missing[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Milestone risk reviews not signed off yet (%(n)d): %(names)s."),
            {"n": len(missing), "names": names + (" …" if len(missing) > _SHOWN else "")},
        )
    return Verdict(
        True,
        gettext_noop("The risk reviews of this phase's milestones are signed off (%(n)d)."),
        {"n": len(milestones)},
    )


def register() -> None:
    gates.register_kind(
        "milestone_reviews_signed_off",
        _("Risk review of this phase's milestones signed off"),
        milestone_reviews_signed_off,
    )
