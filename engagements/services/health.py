"""Health: recompute an engagement's (and its customer's), daily snapshots, settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import Organization, User
from accounts.tenancy import bulk_update_rows
from engagements import selectors
from engagements.calc.health import RED, Health, HealthSettings, compute
from engagements.models import (
    Customer,
    Engagement,
    HealthSnapshot,
)
from followup.engine import notifications
from followup.kernel import events

RED_KIND = "engagement.turned_red"


def _red_dedupe_key(engagement: Engagement) -> str:
    return f"engagement-red:{engagement.pk}:{engagement.red_since:%Y%m%dT%H%M%S.%f}"


def engagement_health_refresh(
    *,
    org: Organization,
    engagement_id: Any,
    now: datetime | None = None,
    settings: HealthSettings | None = None,
    counts: tuple[int, int | None] | None = None,
    locked: Engagement | None = None,
) -> Health:
    """Recompute one engagement's health; on a change of level, record it and, on turning
    red, notify the owner and managers once for the episode.

    ``locked``: the engagement's row, already locked and read in this transaction (the
    quick log's UPDATE of last touch returns it)."""
    now = now or timezone.now()
    settings = settings or selectors.health_settings(org)
    with transaction.atomic():
        # The row lock serializes recomputes, so two of them cannot both see "not red yet"
        # and open two red episodes.
        engagement = locked or (
            Engagement.objects.for_org(org)
            .select_for_update(of=("self",), no_key=True)
            .select_related("organization", "owner", "customer")
            .get(pk=engagement_id)
        )
        health = compute(
            selectors.health_inputs(engagement, now=now, settings=settings, counts=counts), settings
        )
        found = _health_updates(engagement, health, now)
        if found is None:
            return health
        updates, old_level = found
        Engagement.objects.for_org(org).filter(pk=engagement.pk).update_versioned(**updates)
        _health_moved(org, engagement, updates, old_level)
        _customer_health_refresh(org, engagement.customer_id)
    return health


def engagements_health_refresh(
    *,
    org: Organization,
    engagement_ids: Iterable[Any],
    now: datetime | None = None,
    settings: HealthSettings | None = None,
) -> None:
    """``engagement_health_refresh`` for many engagements (a bulk write), set-based: the
    engagements locked and read in one query (pk order), their ratings, follow-up and risk
    counts in one query each, the changed ones written in one UPDATE, their customers'
    worst health in one read and one UPDATE. Events and red notifications as one by one."""
    now = now or timezone.now()
    settings = settings or selectors.health_settings(org)
    ids = sorted(engagement_ids)
    if not ids:
        return
    with transaction.atomic():
        engagements = list(
            Engagement.objects.for_org(org)
            .select_for_update(of=("self",), no_key=True)
            .select_related("organization", "owner", "customer")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        counts = selectors.followup_and_risk_counts(
            org,
            [e.pk for e in engagements],
            now=now,
            customer_of={e.pk: e.customer_id for e in engagements},
        )
        ratings = selectors.recent_ratings_many(org, [e.pk for e in engagements], settings.window)
        changed: list[Engagement] = []
        moved: list[tuple[Engagement, dict[str, Any], str]] = []
        for engagement in engagements:
            health = compute(
                selectors.health_inputs(
                    engagement,
                    now=now,
                    settings=settings,
                    counts=counts[engagement.pk],
                    ratings=ratings.get(engagement.pk, ([], [])),
                ),
                settings,
            )
            found = _health_updates(engagement, health, now)
            if found is None:
                continue
            updates, old_level = found
            for name, value in updates.items():
                setattr(engagement, name, value)
            engagement.version += 1
            engagement.updated_at = now
            changed.append(engagement)
            moved.append((engagement, updates, old_level))
        if not changed:
            return
        bulk_update_rows(
            org,
            changed,
            [
                "health_score",
                "health_level",
                "health_signals",
                "health_computed_at",
                "red_since",
                "version",
                "updated_at",
            ],
        )
        for engagement, updates, old_level in moved:
            _health_moved(org, engagement, updates, old_level)
        _customers_health_refresh(org, {e.customer_id for e in changed})


def _health_updates(
    engagement: Engagement, health: Health, now: datetime
) -> tuple[dict[str, Any], str] | None:
    """The fields a recompute changes on ``engagement`` and its old level; None when
    nothing changes."""
    old_level, old_score = engagement.health_level, engagement.health_score
    signals = health.signals_as_json()
    if (health.score, health.level, signals) == (old_score, old_level, engagement.health_signals):
        return None
    updates: dict[str, Any] = {
        "health_score": health.score,
        "health_level": health.level,
        "health_signals": signals,
        "health_computed_at": now,
        "red_since": engagement.red_since,
    }
    if health.level == RED and old_level != RED:
        updates["red_since"] = now
    elif health.level != RED:
        updates["red_since"] = None
    return updates, old_level


def _health_moved(
    org: Organization, engagement: Engagement, updates: dict[str, Any], old_level: str
) -> None:
    """The event of a change of level and, on turning red, the notification (once per
    episode). ``updates`` come from ``_health_updates`` (already written)."""
    for name, value in updates.items():
        setattr(engagement, name, value)
    level = updates["health_level"]
    if old_level != level:
        events.record(
            org=org,
            type="engagement.health_changed",
            subject=engagement,
            payload={
                "from": old_level or None,
                "to": level,
                "score": updates["health_score"],
                "customer": str(engagement.customer_id),
            },
        )
    if level == RED and old_level != RED:
        notifications.notify(
            org=org,
            recipients=selectors.notify_on_red(engagement),
            kind=RED_KIND,
            params={"engagement": engagement.name, "customer": engagement.customer.name},
            url=reverse(
                "engagements:engagement_detail",
                kwargs={"org_slug": org.slug, "pk": engagement.pk},
            ),
            subject=engagement,
            dedupe_key=_red_dedupe_key(engagement),
        )


def _customers_health_refresh(org: Organization, customer_ids: set[Any]) -> None:
    """``_customer_health_refresh`` for many customers: one read, one UPDATE."""
    if len(customer_ids) == 1:
        _customer_health_refresh(org, next(iter(customer_ids)))
        return
    worst: dict[Any, tuple[int | None, str]] = {}
    for customer_id, score, level in (
        Engagement.objects.for_org(org)
        .filter(
            customer__in=list(customer_ids),
            status=Engagement.Status.ACTIVE,
            health_score__isnull=False,
        )
        .order_by("customer_id", "health_score")
        .values_list("customer_id", "health_score", "health_level")
    ):
        worst.setdefault(customer_id, (score, level))
    now = timezone.now()
    moved = []
    for customer in (
        Customer.objects.for_org(org)
        .filter(pk__in=list(customer_ids))
        .only("pk", "health_score", "health_level", "version", "updated_at")
        .order_by("pk")
    ):
        score, level = worst.get(customer.pk, (None, ""))
        if (customer.health_score, customer.health_level) != (score, level):
            customer.health_score, customer.health_level = score, level
            customer.version, customer.updated_at = customer.version + 1, now
            moved.append(customer)
    if moved:
        bulk_update_rows(org, moved, ["health_score", "health_level", "version", "updated_at"])


def _customer_health_refresh(org: Organization, customer_id: Any) -> None:
    """The customer shows its worst active engagement."""
    worst = (
        Engagement.objects.for_org(org)
        .filter(customer=customer_id, status=Engagement.Status.ACTIVE, health_score__isnull=False)
        .order_by("health_score")
        .values("health_score", "health_level")
        .first()
    ) or {"health_score": None, "health_level": ""}
    Customer.objects.for_org(org).filter(pk=customer_id).exclude(**worst).update_versioned(**worst)


def health_snapshot_take(
    *, org: Organization, engagement_ids: Iterable[Any], now: datetime | None = None
) -> int:
    """Refresh health and store today's snapshot (org's time zone) for each engagement.

    Idempotent per engagement per day: a second run the same day overwrites the row with
    the current value instead of adding one.
    """
    now = now or timezone.now()
    day = now.astimezone(selectors.org_zone(org)).date()
    settings = selectors.health_settings(org)
    ids = list(engagement_ids)
    counts = selectors.followup_and_risk_counts(org, ids, now=now)
    taken = 0
    for engagement_id in ids:
        if not Engagement.objects.for_org(org).filter(pk=engagement_id).exists():
            continue  # deleted since the tick listed it
        health = engagement_health_refresh(
            org=org,
            engagement_id=engagement_id,
            now=now,
            settings=settings,
            counts=counts[engagement_id],
        )
        HealthSnapshot.objects.for_org(org).update_or_create(
            organization=org,
            engagement_id=engagement_id,
            day=day,
            defaults={"score": health.score, "level": health.level},
        )
        taken += 1
    return taken


@transaction.atomic
def health_settings_update(
    *, org: Organization, actor: User | None, values: Mapping[str, Any]
) -> HealthSettings:
    settings = HealthSettings(**{**HealthSettings().as_dict(), **values})
    try:
        settings.validate()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    org = Organization.objects.select_for_update().get(pk=org.pk)
    before = HealthSettings.from_dict((org.settings or {}).get("health")).as_dict()
    org.settings = {**(org.settings or {}), "health": settings.as_dict()}
    org.save(update_fields=["settings"])
    audit.record(
        org=org,
        action="health_settings.updated",
        actor=actor,
        obj=org,
        changes=audit.diff(before, settings.as_dict()),
    )
    org_id = str(org.pk)

    def recompute() -> None:
        from engagements.tasks import refresh_org_health

        refresh_org_health.delay(org_id)

    transaction.on_commit(recompute, robust=True)
    return settings
