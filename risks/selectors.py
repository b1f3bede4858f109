"""Reads of the risk register shared by pages, the API, health and gates: scoped and prefetched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from accounts.models import Organization
from risks.calc import scoring
from risks.calc.fmea import DETECTION_WORDS, OCCURRENCE_WORDS, SEVERITY_WORDS
from risks.models import IndicatorValue, Level, Risk, RiskRating, RiskStatus, Side

# Default categories: key -> msgid (an organization's own names are shown as written).
DEFAULT_CATEGORIES: dict[str, str] = {
    "supply_chain": N_("Supply chain"),
    "customer": N_("Customer"),
    "market": N_("Market"),
    "technical": N_("Technical"),
    "schedule": N_("Schedule"),
    "cost": N_("Cost"),
    "resource": N_("Resource"),
    "regulatory": N_("Regulatory"),
}


@dataclass(frozen=True)
class RiskSettings:
    """An organization's risk settings (``Organization.settings["risks"]``), with defaults."""

    matrix: scoring.Matrix = scoring.DEFAULT_MATRIX
    probability_words: Mapping[int, str] = field(
        default_factory=lambda: dict(scoring.PROBABILITY_WORDS)
    )
    impact_words: Mapping[int, str] = field(default_factory=lambda: dict(scoring.IMPACT_WORDS))
    # [(key, name)]: a name equal to the default msgid is translated when shown.
    categories: tuple[tuple[str, str], ...] = tuple(DEFAULT_CATEGORIES.items())

    @classmethod
    def from_dict(cls, data: object) -> RiskSettings:
        data = data if isinstance(data, Mapping) else {}
        categories: list[tuple[str, str]] = []
        stored = data.get("categories")
        if isinstance(stored, list):
            for entry in stored:
                if isinstance(entry, Mapping):
                    key, name = str(entry.get("key", "")), str(entry.get("name", "")).strip()
                    if key and name and key not in dict(categories):
                        categories.append((key, name))
        return cls(
            matrix=scoring.Matrix.from_data(data.get("matrix")),
            probability_words=scoring.scale_words(
                scoring.PROBABILITY_WORDS, _mapping(data.get("probability_words"))
            ),
            impact_words=scoring.scale_words(
                scoring.IMPACT_WORDS, _mapping(data.get("impact_words"))
            ),
            categories=tuple(categories) or tuple(DEFAULT_CATEGORIES.items()),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "matrix": self.matrix.to_data(),
            "probability_words": {str(k): v for k, v in self.probability_words.items()},
            "impact_words": {str(k): v for k, v in self.impact_words.items()},
            "categories": [{"key": k, "name": n} for k, n in self.categories],
        }

    def category_keys(self) -> set[str]:
        return {key for key, _name in self.categories}

    def category_name(self, key: str) -> str:
        name = dict(self.categories).get(key)
        return gettext(name) if name else key

    def category_choices(self) -> list[tuple[str, str]]:
        return [(key, gettext(name)) for key, name in self.categories]

    def probability_word(self, level: int | None) -> str:
        return gettext(self.probability_words[level]) if level in self.probability_words else ""

    def impact_word(self, level: int | None) -> str:
        return gettext(self.impact_words[level]) if level in self.impact_words else ""


def _mapping(value: object) -> Mapping[object, object] | None:
    return value if isinstance(value, Mapping) else None


def category_key(name: str) -> str:
    return slugify(name).replace("-", "_")[:40]


def risk_settings(org: Organization) -> RiskSettings:
    return RiskSettings.from_dict((org.settings or {}).get("risks"))


def fmea_words() -> dict[str, dict[int, str]]:
    return {
        "severity": SEVERITY_WORDS,
        "occurrence": OCCURRENCE_WORDS,
        "detection": DETECTION_WORDS,
    }


# --- Querysets ------------------------------------------------------------------------------


def risks(org: Organization) -> QuerySet[Risk]:
    """Every risk of the organization with what a list row shows (constant queries)."""
    return Risk.objects.for_org(org).select_related(
        "owner", "customer", "engagement", "project", "work_item", "escalated_from"
    )


def open_risks(org: Organization) -> QuerySet[Risk]:
    return risks(org).filter(status=RiskStatus.OPEN)


def ratings_of(org: Organization, risk: Risk) -> QuerySet[RiskRating]:
    return RiskRating.objects.for_org(org).filter(risk=risk).select_related("actor")


def indicator_values_of(org: Organization, risk: Risk) -> QuerySet[IndicatorValue]:
    return IndicatorValue.objects.for_org(org).filter(risk=risk)


def open_business_risk_counts(org: Organization, customer_of: Mapping[Any, Any]) -> dict[Any, int]:
    """Open business risks per engagement: those about the engagement plus those about its
    customer (the health signal; two queries however many engagements)."""
    engagement_ids = list(customer_of)
    customer_ids = {c for c in customer_of.values() if c is not None}
    base = Risk.objects.for_org(org).filter(status=RiskStatus.OPEN, side=Side.BUSINESS)
    on_engagements = dict(
        base.filter(engagement_id__in=engagement_ids)
        .values_list("engagement_id")
        .annotate(n=Count("id"))
        .values_list("engagement_id", "n")
    )
    on_customers = dict(
        base.filter(customer_id__in=customer_ids, engagement__isnull=True)
        .values_list("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    return {
        pk: on_engagements.get(pk, 0) + on_customers.get(customer_of[pk], 0)
        for pk in engagement_ids
    }


def open_high_risks_of_project(org: Organization, project_id: Any) -> QuerySet[Risk]:
    return Risk.objects.for_org(org).filter(
        project_id=project_id, status=RiskStatus.OPEN, level=Level.HIGH
    )


def without_response(queryset: QuerySet[Risk]) -> QuerySet[Risk]:
    """Risks with no response: no strategy, or a strategy other than accept with no plan and
    no action follow-up."""
    return queryset.filter(Q(strategy="") | (~Q(strategy="accept") & Q(response_plan="")))
