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
        if level is None or level not in self.probability_words:
            return ""
        return gettext(self.probability_words[level])

    def impact_word(self, level: int | None) -> str:
        if level is None or level not in self.impact_words:
            return ""
        return gettext(self.impact_words[level])


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


SORT_ORDERS: dict[str, tuple[str, ...]] = {
    "-score": ("-score", "-created_at", "id"),
    "score": ("score", "-created_at", "id"),
    "-residual": ("-residual_score", "-score", "id"),
    "title": ("title", "id"),
    "-updated": ("-updated_at", "id"),
    "-rpn": ("-rpn", "-score", "id"),
}


@dataclass(frozen=True)
class RiskFilters:
    q: str = ""
    side: str = ""
    status: str = RiskStatus.OPEN
    level: str = ""
    owner: Any = None
    category: str = ""
    project: Any = None
    customer: Any = None
    probability: int | None = None
    impact: int | None = None
    residual: bool = False
    sort: str = "-score"


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
    customer (the health signal; one query however many engagements)."""
    engagement_ids = list(customer_of)
    customer_ids = {c for c in customer_of.values() if c is not None}
    rows = (
        Risk.objects.for_org(org)
        .filter(status=RiskStatus.OPEN, side=Side.BUSINESS)
        .filter(
            Q(engagement_id__in=engagement_ids)
            | Q(customer_id__in=customer_ids, engagement__isnull=True)
        )
        .order_by()
        .values_list("engagement_id", "customer_id")
        .annotate(n=Count("id"))
    )
    on_engagements: dict[Any, int] = {}
    on_customers: dict[Any, int] = {}
    for engagement_id, customer_id, n in rows:
        if engagement_id is not None:
            on_engagements[engagement_id] = on_engagements.get(engagement_id, 0) + n
        else:
            on_customers[customer_id] = on_customers.get(customer_id, 0) + n
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


def filter_risks(
    queryset: QuerySet[Risk], f: RiskFilters, *, rating: bool = True
) -> QuerySet[Risk]:
    """Apply the register's filters (and, with ``rating``, the matrix cell ones)."""
    qs = queryset
    if f.status != "all":
        qs = qs.filter(status=f.status or RiskStatus.OPEN)
    if f.side:
        qs = qs.filter(side=f.side)
    if f.level:
        qs = qs.filter(**{"residual_level" if f.residual else "level": f.level})
    if f.owner is not None:
        qs = qs.filter(owner=f.owner)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.project is not None:
        qs = qs.filter(project=f.project)
    if f.customer is not None:
        qs = qs.filter(customer=f.customer)
    if f.q:
        for word in f.q.split()[:5]:
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(cause__icontains=word)
                | Q(event__icontains=word)
                | Q(effect__icontains=word)
            )
    if rating and f.probability is not None:
        qs = qs.filter(**{"residual_probability" if f.residual else "probability": f.probability})
    if rating and f.impact is not None:
        qs = qs.filter(**{"residual_impact" if f.residual else "impact": f.impact})
    return qs.order_by(*SORT_ORDERS.get(f.sort, SORT_ORDERS["-score"]))


def matrix_cells(org: Organization, f: RiskFilters, settings: RiskSettings) -> list[scoring.Cell]:
    """The 25 cells with the number of filtered risks in each (one query)."""
    qs = filter_risks(Risk.objects.for_org(org), f, rating=False).order_by()
    if f.residual:
        rows = (
            qs.filter(residual_probability__isnull=False, residual_impact__isnull=False)
            .values_list("residual_probability", "residual_impact")
            .annotate(n=Count("id"))
        )
    else:
        rows = qs.values_list("probability", "impact").annotate(n=Count("id"))
    pairs: list[tuple[int, int]] = []
    for p, i, n in rows:
        pairs.extend([(p, i)] * n)
    return scoring.matrix_cells(pairs, settings.matrix)


def action_titles(org: Organization, risk_ids: list[Any]) -> dict[Any, list[str]]:
    """The open follow-ups (response actions) of each risk, by title (one query)."""
    from followup.engine.models import FollowUp, FollowUpStatus
    from followup.kernel import subjects

    out: dict[Any, list[str]] = {}
    if not risk_ids:
        return out
    rows = (
        FollowUp.objects.for_org(org)
        .filter(
            subject_type=subjects.content_type_for("risk"),
            subject_id__in=risk_ids,
            status=FollowUpStatus.OPEN,
        )
        .order_by("due_at", "id")
        .values_list("subject_id", "title")
    )
    for risk_id, title in rows:
        out.setdefault(risk_id, []).append(title)
    return out


def settings_from_form(
    *,
    matrix: scoring.Matrix,
    probability: Mapping[int, str],
    impact: Mapping[int, str],
    categories: str,
) -> RiskSettings | str:
    """Settings from what an admin typed; an error message (str) for bad categories.

    A word or category name equal to the translated default keeps the default msgid, so it
    stays translated for every reader."""

    def word(defaults: Mapping[int, str], n: int, text: str) -> str:
        text = text.strip()
        return defaults[n] if not text or text == gettext(defaults[n]) else text

    by_translation = {gettext(name): (key, name) for key, name in DEFAULT_CATEGORIES.items()}
    chosen: list[tuple[str, str]] = []
    for line in categories.splitlines():
        name = line.strip()
        if not name:
            continue
        key, stored = by_translation.get(name, (category_key(name), name))
        if not key:
            return gettext("“%(name)s” cannot be a category name.") % {"name": name}
        if key in dict(chosen):
            return gettext("“%(name)s” is listed twice.") % {"name": name}
        chosen.append((key, stored[:60]))
    if not chosen:
        return gettext("List at least one category.")
    return RiskSettings(
        matrix=matrix,
        probability_words={
            n: word(scoring.PROBABILITY_WORDS, n, probability[n]) for n in range(1, 6)
        },
        impact_words={n: word(scoring.IMPACT_WORDS, n, impact[n]) for n in range(1, 6)},
        categories=tuple(chosen),
    )
