"""Reads of business follow-up, shared by pages, the API and tasks; always scoped."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connections
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import zones
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from engagements.calc.health import HealthInputs, HealthSettings
from engagements.models import (
    Contact,
    Customer,
    Engagement,
    HealthSnapshot,
    ImportJob,
    Kpi,
    Touchpoint,
)


def health_settings(org: Organization) -> HealthSettings:
    return HealthSettings.from_dict((org.settings or {}).get("health"))


def org_zone(org: Organization) -> zoneinfo.ZoneInfo:
    return zones.zone(org.timezone)


# --- Customers -------------------------------------------------------------------------

# Lifecycle and tier read in their business order, not alphabetically.
_STATUS_ORDER = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(Customer.Status.values)),
    default=Value(99),
    output_field=IntegerField(),
)
_TIER_ORDER = Case(
    *(When(tier=value, then=Value(rank)) for rank, value in enumerate(Customer.Tier.values)),
    default=Value(99),
    output_field=IntegerField(),
)

CUSTOMER_SORTS = {
    "name": (Lower("name").asc(), "id"),
    "-name": (Lower("name").desc(), "id"),
    "status": (_STATUS_ORDER.asc(), Lower("name").asc(), "id"),
    "-status": (_STATUS_ORDER.desc(), Lower("name").asc(), "id"),
    "tier": (_TIER_ORDER.asc(), Lower("name").asc(), "id"),
    "-tier": (_TIER_ORDER.desc(), Lower("name").asc(), "id"),
    "owner": (Lower("owner__display_name").asc(nulls_last=True), Lower("name").asc(), "id"),
    "-owner": (Lower("owner__display_name").desc(nulls_last=True), Lower("name").asc(), "id"),
    "health": (F("health_score").asc(nulls_last=True), "id"),
    "-health": (F("health_score").desc(nulls_last=True), "id"),
    "last_touch": (F("last_touch_at").asc(nulls_first=True), "id"),
    "-last_touch": (F("last_touch_at").desc(nulls_last=True), "id"),
    "-value": (F("annual_value").desc(nulls_last=True), "id"),
    "value": (F("annual_value").asc(nulls_last=True), "id"),
}
HEALTH_NONE = "none"


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    owner: User | None = None
    status: str = ""
    tier: str = ""
    health: str = ""  # green, amber, red or "none" (no active engagement)
    sort: str = "name"


def customers(org: Organization) -> QuerySet[Customer]:
    return Customer.objects.for_org(org).select_related("owner")


def filter_customers(qs: QuerySet[Customer], filters: CustomerFilters) -> QuerySet[Customer]:
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(industry__icontains=term) | Q(external_id=term))
    if filters.owner is not None:
        qs = qs.filter(owner=filters.owner)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.health == HEALTH_NONE:
        qs = qs.filter(health_level="")
    elif filters.health:
        qs = qs.filter(health_level=filters.health)
    return qs.order_by(*CUSTOMER_SORTS.get(filters.sort, CUSTOMER_SORTS["name"]))


def customer_list(org: Organization, filters: CustomerFilters) -> QuerySet[Customer]:
    return filter_customers(customers(org), filters)


def with_customer_detail(qs: QuerySet[Customer], org: Organization) -> QuerySet[Customer]:
    return qs.prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.for_org(org)),
        Prefetch(
            "engagements",
            queryset=Engagement.objects.for_org(org)
            .select_related("owner")
            .order_by("status", "name"),
        ),
    )


def active_engagements_of(customer: Customer) -> QuerySet[Engagement]:
    return Engagement.objects.for_org(customer.organization).filter(
        customer=customer, status=Engagement.Status.ACTIVE
    )


def org_people(org: Organization) -> QuerySet[User]:
    return User.objects.filter(memberships__organization=org).order_by("display_name", "email")


# --- Timelines -------------------------------------------------------------------------


def touchpoints(org: Organization) -> QuerySet[Touchpoint]:
    return (
        Touchpoint.objects.for_org(org)
        .select_related("customer", "engagement", "logged_by")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.for_org(org)))
    )


TIMELINE_PAGE = 20


def timeline(
    org: Organization,
    *,
    customer: Customer | None = None,
    engagement: Engagement | None = None,
    before: datetime | None = None,
    limit: int = TIMELINE_PAGE,
) -> list[Touchpoint]:
    """Newest first; ``before`` pages back through older entries (keyset, not offset, so
    a long history costs the same on every page)."""
    qs = touchpoints(org)
    if engagement is not None:
        qs = qs.filter(engagement=engagement)
    elif customer is not None:
        qs = qs.filter(customer=customer)
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    return list(qs.order_by("-occurred_at", "-id")[:limit])


def recent_touchpoints_by(org: Organization, user: User, limit: int = 10) -> list[Touchpoint]:
    return list(
        touchpoints(org).filter(logged_by=user).order_by("-occurred_at", "-created_at")[:limit]
    )


# --- Engagements -----------------------------------------------------------------------


def engagements(org: Organization) -> QuerySet[Engagement]:
    return Engagement.objects.for_org(org).select_related("customer", "owner")


def with_engagement_detail(qs: QuerySet[Engagement], org: Organization) -> QuerySet[Engagement]:
    contacts: Prefetch[Any] = Prefetch("customer__contacts", queryset=Contact.objects.for_org(org))
    return qs.select_related("customer", "owner").prefetch_related(
        "team", Prefetch("kpis", queryset=Kpi.objects.for_org(org)), contacts
    )


def health_trend(engagement: Engagement, days: int = 120) -> list[HealthSnapshot]:
    since = timezone.now().date() - timedelta(days=days)
    return list(
        HealthSnapshot.objects.for_org(engagement.organization)
        .filter(engagement=engagement, day__gte=since)
        .order_by("day")
    )


def customer_footprint(org: Organization, customer: Customer) -> dict[str, int]:
    """What deleting a customer would take with it, for the confirmation page."""
    return {
        "engagements": Engagement.objects.for_org(org).filter(customer=customer).count(),
        "touchpoints": Touchpoint.objects.for_org(org).filter(customer=customer).count(),
        "contacts": Contact.objects.for_org(org).filter(customer=customer).count(),
    }


def followup_and_risk_counts(
    org: Organization,
    engagement_ids: Iterable[Any],
    *,
    now: datetime | None = None,
    customer_of: Mapping[Any, Any] | None = None,
) -> dict[Any, tuple[int, int | None]]:
    """Overdue follow-ups and open business risks per engagement, for the health score.

    A follow-up counts against an engagement when it is about the engagement or about its
    customer (one query for both). Open business risks come from the provider the risk
    register registers (``engagements.health_providers``); None (not counted) while there
    is none. ``customer_of`` ({engagement id: customer id}) saves a query when the caller
    already knows it.
    """
    from engagements import health_providers
    from followup.engine.selectors import overdue_counts_by_type

    ids = list(engagement_ids)
    if customer_of is None:
        customer_of = dict(
            Engagement.objects.for_org(org).filter(pk__in=ids).values_list("pk", "customer_id")
        )
    overdue = overdue_counts_by_type(
        org, [(Engagement, ids), (Customer, set(customer_of.values()))], now=now
    )
    on_engagements, on_customers = overdue[Engagement], overdue[Customer]
    risks = health_providers.counts(health_providers.OPEN_BUSINESS_RISKS, org, customer_of)
    return {
        pk: (
            on_engagements.get(pk, 0) + on_customers.get(customer_of.get(pk), 0),
            risks.get(pk, 0) if risks is not None else None,
        )
        for pk in ids
    }


def recent_ratings(
    org: Organization, engagement_id: Any, window: int
) -> tuple[list[int], list[int]]:
    """The engagement's latest ``window`` sentiments and satisfactions, newest first, in
    one query (a UNION ALL of the two rated series)."""
    rated = (
        Touchpoint.objects.for_org(org).filter(engagement=engagement_id).order_by("-occurred_at")
    )
    sentiments = rated.filter(sentiment__isnull=False).annotate(kind=Value(0), value=F("sentiment"))
    satisfactions = rated.filter(satisfaction__isnull=False).annotate(
        kind=Value(1), value=F("satisfaction")
    )
    first = sentiments.values_list("kind", "value", "occurred_at")[:window]
    second = satisfactions.values_list("kind", "value", "occurred_at")[:window]
    if connections[first.db].features.supports_slicing_ordering_in_compound:
        rows = list(first.union(second, all=True))
    else:  # SQLite: no LIMIT inside a UNION's parts, so the two series are two queries
        rows = [*first, *second]
    rows.sort(key=lambda row: row[2], reverse=True)  # a UNION keeps no order
    return [v for k, v, _at in rows if k == 0], [v for k, v, _at in rows if k == 1]


def recent_ratings_many(
    org: Organization, engagement_ids: Sequence[Any], window: int
) -> dict[Any, tuple[list[int], list[int]]]:
    """``recent_ratings`` of many engagements in one query (a row number per engagement
    and series, newest first)."""
    if not engagement_ids:
        return {}
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    base = Touchpoint.objects.for_org(org).filter(engagement__in=list(engagement_ids))
    found: dict[Any, tuple[list[int], list[int]]] = {pk: ([], []) for pk in engagement_ids}
    parts = [
        base.filter(**{f"{field}__isnull": False})
        .order_by()
        .annotate(
            kind=Value(kind),
            value=F(field),
            n=Window(
                RowNumber(), partition_by=[F("engagement_id")], order_by=F("occurred_at").desc()
            ),
        )
        .filter(n__lte=window)
        .values_list("engagement_id", "kind", "value", "occurred_at")
        for kind, field in ((0, "sentiment"), (1, "satisfaction"))
    ]
    series: list[Any]
    if connections[base.db].features.supports_slicing_ordering_in_compound:
        series = list(parts[0].union(parts[1], all=True))
    else:  # SQLite: no ORDER BY (the window's) inside a UNION's parts: two queries
        series = [*parts[0], *parts[1]]
    for engagement_id, kind, value, _at in sorted(series, key=lambda row: row[3], reverse=True):
        found[engagement_id][kind].append(value)
    return found


def health_inputs(
    engagement: Engagement,
    *,
    now: datetime,
    settings: HealthSettings,
    counts: tuple[int, int | None] | None = None,
    ratings: tuple[list[int], list[int]] | None = None,
) -> HealthInputs:
    org = engagement.organization
    sentiments, satisfactions = ratings or recent_ratings(org, engagement.pk, settings.window)
    if counts is None:
        counts = followup_and_risk_counts(
            org, [engagement.pk], now=now, customer_of={engagement.pk: engagement.customer_id}
        )[engagement.pk]
    zone = org_zone(org)
    today = now.astimezone(zone).date()
    last = engagement.last_touch_at
    return HealthInputs(
        cadence_days=engagement.cadence_days,
        days_since_last_touch=(today - last.astimezone(zone).date()).days if last else None,
        days_since_start=max(0, (today - engagement.started_on).days),
        sentiments=sentiments,
        satisfactions=satisfactions,
        overdue_followups=counts[0],
        open_business_risks=counts[1],
    )


@dataclass(frozen=True)
class KpiValue:
    kpi: Kpi
    current: Decimal | None
    met: bool | None  # None: nothing to compare yet


def kpi_values(engagement: Engagement, kpis: Iterable[Kpi], *, now: datetime) -> list[KpiValue]:
    """Each KPI with its current value, computed from touchpoints in one query."""
    kpis = list(kpis)
    if not kpis:
        return []
    org = engagement.organization
    since90, since30 = now - timedelta(days=90), now - timedelta(days=30)
    stats = (
        Touchpoint.objects.for_org(org)
        .filter(engagement=engagement, occurred_at__gte=since90, occurred_at__lte=now)
        .aggregate(
            satisfaction=Avg("satisfaction"),
            count90=Count("id"),
            count30=Count("id", filter=Q(occurred_at__gte=since30)),
            minutes30=Sum("effort_minutes", filter=Q(occurred_at__gte=since30)),
        )
    )
    computed: dict[str, Decimal | None] = {
        Kpi.Metric.SATISFACTION: _dec(stats["satisfaction"]),
        Kpi.Metric.TOUCH_INTERVAL: _dec(90 / stats["count90"]) if stats["count90"] else None,
        Kpi.Metric.TOUCHPOINTS_30D: Decimal(stats["count30"] or 0),
        Kpi.Metric.EFFORT_HOURS_30D: _dec((stats["minutes30"] or 0) / 60),
    }
    values = []
    for kpi in kpis:
        current = kpi.manual_value if kpi.metric == Kpi.Metric.MANUAL else computed[kpi.metric]
        met = None
        if current is not None:
            met = current <= kpi.target if kpi.lower_is_better else current >= kpi.target
        values.append(KpiValue(kpi=kpi, current=current, met=met))
    return values


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 1)))


def notify_on_red(engagement: Engagement) -> list[User]:
    """Who hears that an engagement turned red: its owner and the organization's managers
    (the owners and admins when it has no manager, so that somebody always does)."""
    org = engagement.organization
    people = Membership.objects.for_org(org).select_related("user")
    managers = [m.user for m in people.filter(role=Role.MANAGER)]
    if not managers:
        managers = [m.user for m in people.filter(role__in=(Role.OWNER, Role.ADMIN))]
    recipients = [engagement.owner, *managers] if engagement.owner_id else managers
    return [r for r in recipients if r is not None]


# --- Effort ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EffortReport:
    computed_at: datetime
    month_start: date
    by_customer: list[dict[str, Any]]
    by_rep: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    untouched: list[Engagement]
    total_minutes: int


def month_bounds(month: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time.min, tzinfo=zone)
    nxt = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, datetime.combine(nxt, time.min, tzinfo=zone)


logger = logging.getLogger(__name__)

EFFORT_CACHE_SECONDS = 300


def _effort_version_key(org_id: Any) -> str:
    return f"engagements:effort-version:{org_id}"


def effort_changed(org_id: Any) -> None:
    """Touchpoints or engagements changed: cached effort reports of the org are stale."""
    key = _effort_version_key(org_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # not cached yet (or evicted): any new value does
            cache.set(key, int(timezone.now().timestamp()), None)
    except Exception:  # noqa: BLE001 - the cache is down: runs after the commit, must not fail
        # Reports cached before the outage may be up to EFFORT_CACHE_SECONDS stale.
        logger.warning("Could not mark the effort reports of %s stale (cache down)", org_id)


def effort_report(org: Organization, month: date, *, months: int = 12) -> EffortReport:
    """The effort report, cached until the next touchpoint or engagement change (five
    minutes at most).

    Aggregating a year of a large organization's touchpoints takes about a second (see
    bench/engagements.py); a manager who flips between months should not wait each time.
    """
    try:
        version = cache.get_or_set(_effort_version_key(org.pk), 1, None)
        key = f"engagements:effort:{org.pk}:{month.isoformat()}:{months}:{version}"
        report = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is down: compute it, uncached
        logger.warning("Cache unreachable; computing the effort report of %s uncached", org.pk)
        return _effort_report(org, month, months=months)
    if report is None:
        report = _effort_report(org, month, months=months)
        try:
            cache.set(key, report, EFFORT_CACHE_SECONDS)
        except Exception:  # noqa: BLE001 - not cached this time
            logger.warning("Cache unreachable; effort report of %s not cached", org.pk)
    return report


def _effort_by_month(
    org: Organization, month: date, months: int, zone: zoneinfo.ZoneInfo
) -> list[dict[str, Any]]:
    """Minutes and touchpoints per month, oldest first, months without any included: from
    the roll-up (``engagements.effort``), a few dozen rows instead of a year of
    touchpoints."""
    from engagements.models import EffortMonth

    firsts = [month.replace(day=1)]
    for _i in range(months - 1):
        firsts.insert(0, (firsts[0] - timedelta(days=1)).replace(day=1))
    totals: dict[Any, Any] = {
        row["month"]: row
        for row in EffortMonth.objects.for_org(org)
        .filter(month__gte=firsts[0], month__lte=firsts[-1])
        .order_by()
        .values("month")
        .annotate(minutes=Sum("minutes"), touches=Sum("touches"))
    }
    return [
        {
            "month": month_bounds(first, zone)[0],  # its first moment, as before the roll-up
            "minutes": (totals.get(first) or {}).get("minutes") or 0,
            "touches": (totals.get(first) or {}).get("touches") or 0,
        }
        for first in firsts
    ]


def _effort_report(org: Organization, month: date, *, months: int) -> EffortReport:
    """The effort page's figures, read from the monthly roll-up that the touchpoint
    services keep (``engagements.effort``): the month's people and top customers and a
    year of months are a few hundred rows, whatever the number of touchpoints."""
    from engagements import effort
    from engagements.models import CustomerEffortMonth, EffortMonth

    zone = org_zone(org)
    start, _end = month_bounds(month, zone)
    first = month.replace(day=1)
    by_customer = [
        {
            "customer_id": row["customer_id"],
            "customer__name": row["customer__name"],
            "minutes": row["minutes"],
            "touches": row["touches"],
        }
        for row in CustomerEffortMonth.objects.for_org(org)
        .filter(month=first, touches__gt=0)
        .order_by("-minutes", "customer__name")
        .values("customer_id", "customer__name", "minutes", "touches")[:25]
    ]
    people: list[Any] = list(
        EffortMonth.objects.for_org(org)
        .filter(month=first, touches__gt=0)
        .order_by("-minutes", "person_id")
        .values("person_id", "minutes", "touches")
    )
    names = {
        user.pk: user
        for user in User.objects.filter(
            pk__in=[row["person_id"] for row in people if row["person_id"] != effort.NOBODY]
        ).only("pk", "display_name", "email")
    }
    by_rep: list[dict[str, Any]] = []
    for row in people:
        user = names.get(row["person_id"])
        by_rep.append(
            {
                "logged_by_id": user.pk if user else None,
                "logged_by__display_name": user.display_name if user else "",
                "logged_by__email": user.email if user else "",
                "minutes": row["minutes"],
                "touches": row["touches"],
            }
        )
    by_month = _effort_by_month(org, month, months, zone)
    peak = max((row["minutes"] or 0 for row in by_month), default=0)
    for row in by_month:
        row["hours"] = round((row["minutes"] or 0) / 60, 1)
        row["share"] = round(100 * (row["minutes"] or 0) / peak) if peak else 0
    for row in (*by_customer, *by_rep):
        row["hours"] = round((row["minutes"] or 0) / 60, 1)
    untouched = list(
        engagements(org)
        .filter(status=Engagement.Status.ACTIVE)
        .filter(Q(last_touch_at__lt=start) | Q(last_touch_at__isnull=True))
        .order_by(F("last_touch_at").asc(nulls_first=True), "name")[:100]
    )
    total = sum(row["minutes"] or 0 for row in by_rep)
    return EffortReport(
        computed_at=timezone.now(),
        month_start=month.replace(day=1),
        by_customer=by_customer,
        by_rep=by_rep,
        by_month=by_month,
        untouched=untouched,
        total_minutes=total,
    )


# --- Imports ---------------------------------------------------------------------------


def import_jobs(org: Organization) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_org(org).select_related("created_by").defer("content")
