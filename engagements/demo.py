"""The business half of the demo story (GLOSSARY.md), a year of it.

A manufacturer aiming to lead its industry in five years, a retailer followed with
check-ins and satisfaction surveys through a seasonal peak, a key software customer, a
customer who has just cancelled an order, and one engagement drifting to red because
nobody has touched it for six weeks. Later apps find what they need in ``ctx.extra``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engagements import selectors, services
from engagements.calc.health import HealthInputs, compute
from engagements.models import (
    Contact,
    Customer,
    Engagement,
    HealthSnapshot,
    Kpi,
    Touchpoint,
)
from followup.kernel.demo import DemoContext

HISTORY_DAYS = 365
SNAPSHOT_DAYS = 120


@dataclass(frozen=True)
class Story:
    key: str
    customer: dict[str, Any]
    contacts: list[tuple[str, str, str]]  # name, title, e-mail
    engagement: dict[str, Any]
    kpis: list[dict[str, Any]]
    owner: str  # ctx.users key
    every_days: int  # usual gap between touchpoints
    last_touch_days_ago: int
    mood: float  # mean sentiment, -2..2
    surveys: bool = False
    peak_months: tuple[int, ...] = ()


STORIES = [
    Story(
        key="manufacturer",
        customer={
            "name": "Huaxin Precision Manufacturing",
            "industry": "Manufacturing",
            "tier": Customer.Tier.STRATEGIC,
            "annual_value": Decimal("2400000"),
            "currency": "CNY",
            "notes": "Machined parts for automotive and robotics; new production line in 2026.",
        },
        contacts=[
            ("Chen Wei", "COO", "chen.wei@huaxin.example"),
            ("Liu Yang", "Head of procurement", "liu.yang@huaxin.example"),
        ],
        engagement={
            "name": "Become the industry leader in five years",
            "objective": (
                "Help Huaxin become the industry leader in five years: be their first "
                "supplier for precision tooling, grow share of wallet and keep satisfaction high."
            ),
            "cadence_days": 14,
        },
        kpis=[
            {
                "name": "Customer satisfaction",
                "metric": Kpi.Metric.SATISFACTION,
                "target": Decimal("4.5"),
            },
            {
                "name": "Touch every 14 days",
                "metric": Kpi.Metric.TOUCH_INTERVAL,
                "target": Decimal("14"),
            },
            {
                "name": "Renewal value",
                "metric": Kpi.Metric.MANUAL,
                "target": Decimal("2600000"),
                "unit": "CNY",
                "manual_value": Decimal("2400000"),
            },
        ],
        owner="rep",
        every_days=9,
        last_touch_days_ago=3,
        mood=1.2,
        surveys=True,
    ),
    Story(
        key="retailer",
        customer={
            "name": "Lumen Retail Group",
            "industry": "Retail",
            "tier": Customer.Tier.KEY,
            "annual_value": Decimal("850000"),
            "currency": "EUR",
            "notes": "120 stores; peak season October to December.",
        },
        contacts=[
            ("Sophie Martin", "Head of store operations", "s.martin@lumen.example"),
            ("Jonas Weber", "Customer service lead", "j.weber@lumen.example"),
        ],
        engagement={
            "name": "Regular check-ins and customised service plans",
            "objective": (
                "Keep Lumen's stores running smoothly with monthly check-ins, a service "
                "plan per region and a satisfaction survey after each visit."
            ),
            "cadence_days": 10,
        },
        kpis=[
            {
                "name": "Survey satisfaction",
                "metric": Kpi.Metric.SATISFACTION,
                "target": Decimal("4.2"),
            },
            {
                "name": "Touchpoints a month",
                "metric": Kpi.Metric.TOUCHPOINTS_30D,
                "target": Decimal("3"),
            },
            {
                "name": "Effort hours a month",
                "metric": Kpi.Metric.EFFORT_HOURS_30D,
                "target": Decimal("10"),
            },
        ],
        owner="rep2",
        every_days=8,
        last_touch_days_ago=2,
        mood=0.8,
        surveys=True,
        peak_months=(10, 11, 12),
    ),
    Story(
        key="software",
        customer={
            "name": "Northwind Software",
            "industry": "Software",
            "tier": Customer.Tier.STRATEGIC,
            "annual_value": Decimal("1200000"),
            "currency": "EUR",
            "notes": "Key customer; custom integration project in the executing phase.",
        },
        contacts=[("Priya Nair", "CTO", "priya@northwind.example")],
        engagement={
            "name": "Key account: platform partnership",
            "objective": "Be Northwind's long-term platform partner; expand to two new products.",
            "cadence_days": 7,
        },
        kpis=[
            {"name": "Satisfaction", "metric": Kpi.Metric.SATISFACTION, "target": Decimal("4.0")}
        ],
        owner="rep",
        every_days=6,
        last_touch_days_ago=1,
        mood=0.9,
        surveys=True,
    ),
    Story(
        key="cancelled",
        customer={
            "name": "Delta Components",
            "industry": "Electronics",
            "tier": Customer.Tier.KEY,
            "status": Customer.Status.AT_RISK,
            "annual_value": Decimal("640000"),
            "currency": "EUR",
            "notes": "Cancelled the Q3 order; custom IT project proposed for hold.",
        },
        contacts=[("Marco Rossi", "Purchasing director", "m.rossi@delta.example")],
        engagement={
            "name": "Recover the account after the cancelled order",
            "objective": "Understand the cancellation, keep the relationship and win back volume.",
            "cadence_days": 7,
        },
        kpis=[
            {"name": "Satisfaction", "metric": Kpi.Metric.SATISFACTION, "target": Decimal("4.0")}
        ],
        owner="rep2",
        every_days=12,
        last_touch_days_ago=9,
        mood=0.2,
        surveys=True,
    ),
    Story(
        key="drifting",
        customer={
            "name": "Sunrise Logistics",
            "industry": "Logistics",
            "tier": Customer.Tier.STANDARD,
            "annual_value": Decimal("310000"),
            "currency": "EUR",
        },
        contacts=[("Anna Kowalski", "Fleet manager", "a.kowalski@sunrise.example")],
        engagement={
            "name": "Fleet service renewal",
            "objective": "Renew the fleet service contract and add the new depots.",
            "cadence_days": 14,
        },
        kpis=[
            {
                "name": "Touch every 14 days",
                "metric": Kpi.Metric.TOUCH_INTERVAL,
                "target": Decimal("14"),
            }
        ],
        owner="rep",
        every_days=13,
        last_touch_days_ago=43,  # six weeks of silence: red
        mood=0.3,
    ),
]

FILLER = [
    ("Baltic Foods", "Food", Customer.Tier.STANDARD, Customer.Status.ACTIVE, "rep2"),
    ("Kestrel Aerospace", "Aerospace", Customer.Tier.KEY, Customer.Status.ACTIVE, "rep"),
    ("Meridian Health", "Healthcare", Customer.Tier.STANDARD, Customer.Status.PROSPECT, "rep2"),
    ("Orion Textiles", "Textiles", Customer.Tier.SMALL, Customer.Status.CHURNED, "rep"),
    ("Pacific Solar", "Energy", Customer.Tier.STANDARD, Customer.Status.ACTIVE, "rep2"),
    ("Quarry Stone Works", "Construction", Customer.Tier.SMALL, Customer.Status.ACTIVE, "rep"),
]

SUMMARIES = {
    Touchpoint.Channel.CALL: ["Weekly call on open orders", "Call about delivery dates"],
    Touchpoint.Channel.EMAIL: ["Sent the quarterly report", "Answered questions on pricing"],
    Touchpoint.Channel.MEETING: ["Quarterly business review", "Planning meeting for next year"],
    Touchpoint.Channel.VISIT: ["Site visit at the plant", "Visited two stores with the team"],
    Touchpoint.Channel.CHAT: ["Quick chat about an invoice"],
    Touchpoint.Channel.NOTE: ["Internal note after the review"],
}


def seed(ctx: DemoContext) -> None:
    org = ctx.org
    existing = {
        c.external_id: c
        for c in Customer.objects.for_org(org).filter(external_id__startswith="demo-")
    }
    if existing:
        _remember(ctx, existing)
        seed_followups(ctx)
        return
    rng = random.Random(ctx.rng.random())
    today = ctx.now.astimezone(selectors.org_zone(org)).date()
    for story in STORIES:
        _tell(ctx, story, rng, today)
    for name, industry, tier, status, owner in FILLER:
        customer = services.customer_save(
            org=org,
            actor=ctx.users[owner],
            data={
                "name": name,
                "industry": industry,
                "tier": tier,
                "status": status,
                "owner": ctx.users[owner],
                "external_id": f"demo-{name.split()[0].lower()}",
            },
        )
        if status == Customer.Status.ACTIVE:
            story = Story(
                key=customer.external_id,
                customer={},
                contacts=[],
                engagement={"name": f"{name}: account care", "cadence_days": 21},
                kpis=[],
                owner=owner,
                every_days=rng.choice((12, 16, 20)),
                last_touch_days_ago=rng.randint(1, 15),
                mood=rng.choice((0.4, 0.8, 1.0)),
            )
            _engage(ctx, story, customer, [], rng, today)
    _remember(
        ctx,
        {
            c.external_id: c
            for c in Customer.objects.for_org(org).filter(external_id__startswith="demo-")
        },
    )
    seed_followups(ctx)


def _tell(ctx: DemoContext, story: Story, rng: random.Random, today: date) -> None:
    org, owner = ctx.org, ctx.users[story.owner]
    customer = services.customer_save(
        org=org,
        actor=owner,
        data={**story.customer, "owner": owner, "external_id": f"demo-{story.key}"},
    )
    contacts = [
        services.contact_save(
            org=org,
            actor=owner,
            data={
                "customer": customer,
                "name": name,
                "title": title,
                "email": email,
                "is_primary": index == 0,
                "external_id": f"demo-{story.key}-contact-{index}",
            },
        )
        for index, (name, title, email) in enumerate(story.contacts)
    ]
    _engage(ctx, story, customer, contacts, rng, today)


def _engage(
    ctx: DemoContext,
    story: Story,
    customer: Customer,
    contacts: list[Contact],
    rng: random.Random,
    today: date,
) -> Engagement:
    org, owner = ctx.org, ctx.users[story.owner]
    team = [owner, ctx.users["manager"]]
    engagement = services.engagement_save(
        org=org,
        actor=owner,
        data={
            **story.engagement,
            "customer": customer,
            "owner": owner,
            "team": team,
            # Started today at first, so that the engagement is not "silent for a year" (and
            # red, notifying everyone) before its history is logged; backdated below.
            "started_on": today,
            "external_id": f"{customer.external_id}-engagement",
        },
    )
    for kpi in story.kpis:
        services.kpi_save(org=org, actor=owner, engagement=engagement, data=kpi)

    items = _history(ctx, story, customer, engagement, contacts, rng, today)
    services.touchpoints_log_many(
        org=org, actor=owner, items=[(None, item) for item in items], source=Touchpoint.Source.UI
    )
    engagement = services.engagement_save(
        org=org,
        actor=owner,
        data={"started_on": today - timedelta(days=HISTORY_DAYS + 30)},
        engagement=engagement,
    )
    _backfill_snapshots(ctx, engagement, items, today)
    return engagement


def _history(
    ctx: DemoContext,
    story: Story,
    customer: Customer,
    engagement: Engagement,
    contacts: list[Contact],
    rng: random.Random,
    today: date,
) -> list[dict[str, Any]]:
    zone = selectors.org_zone(ctx.org)
    reps = [ctx.users[story.owner], ctx.users[story.owner], ctx.users["manager"]]
    items: list[dict[str, Any]] = []
    day = today - timedelta(days=HISTORY_DAYS)
    last = today - timedelta(days=story.last_touch_days_ago)
    n = 0
    while day <= last:
        peak = day.month in story.peak_months
        channel = rng.choice(
            [Touchpoint.Channel.CALL, Touchpoint.Channel.EMAIL, Touchpoint.Channel.MEETING]
            + ([Touchpoint.Channel.VISIT] * (3 if peak else 1))
        )
        mood = story.mood
        if story.key == "cancelled" and (last - day).days < 60:
            mood = -1.6  # the order wobbled, then was cancelled
        sentiment = max(-2, min(2, round(rng.gauss(mood, 0.7))))
        at = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), zone)
        item = {
            "customer": customer,
            "engagement": engagement,
            "channel": channel,
            "occurred_at": at,
            "summary": rng.choice(SUMMARIES[channel]),
            "sentiment": sentiment,
            "satisfaction": (
                max(1, min(5, round(rng.gauss(3.2 + mood, 0.6))))
                if story.surveys and n % 3 == 0
                else None
            ),
            "effort_minutes": rng.choice((15, 30, 45, 60)) * (3 if peak else 1),
            "contacts": contacts[:1] if contacts and channel != Touchpoint.Channel.EMAIL else [],
            "logged_by": rng.choice(reps),
            "external_id": f"{engagement.external_id}-tp-{n}",
        }
        items.append(item)
        n += 1
        gap = story.every_days // 2 if peak else story.every_days
        day += timedelta(days=max(2, gap + rng.randint(-2, 2)))
    if items:
        # The story's last touch falls on its day exactly (the loop may stop short of it).
        final = items[-1]["occurred_at"]
        items[-1]["occurred_at"] = datetime.combine(last, final.timetz())
    if items and story.key == "cancelled":
        items[-1].update(
            channel=Touchpoint.Channel.CALL,
            summary="Customer cancelled the Q3 order of 40,000 units: budget freeze.",
            outcome="Order cancelled; their IT project may go on hold.",
            next_step="Meet the purchasing director next week.",
            sentiment=-2,
            satisfaction=2,
        )
    if items and story.key == "drifting":
        items[-1].update(
            summary="Renewal proposal sent; they will come back after the depot audit.",
            next_step="Follow up on the renewal proposal.",
        )
    return items


def _backfill_snapshots(
    ctx: DemoContext, engagement: Engagement, items: list[dict[str, Any]], today: date
) -> None:
    """Daily health as it was, from the history itself (the pure function, as of each day)."""
    settings = selectors.health_settings(ctx.org)
    zone = selectors.org_zone(ctx.org)
    ordered = sorted(items, key=lambda i: i["occurred_at"])
    snapshots = []
    for back in range(SNAPSHOT_DAYS, 0, -1):
        day = today - timedelta(days=back)
        seen = [i for i in ordered if i["occurred_at"].astimezone(zone).date() <= day]
        newest_first = list(reversed(seen))
        last = seen[-1]["occurred_at"].astimezone(zone).date() if seen else None
        health = compute(
            HealthInputs(
                cadence_days=engagement.cadence_days,
                days_since_last_touch=(day - last).days if last else None,
                days_since_start=(day - engagement.started_on).days,
                sentiments=[i["sentiment"] for i in newest_first if i["sentiment"] is not None],
                satisfactions=[
                    i["satisfaction"] for i in newest_first if i["satisfaction"] is not None
                ],
            ),
            settings,
        )
        snapshots.append(
            HealthSnapshot(
                organization=ctx.org,
                engagement=engagement,
                day=day,
                score=health.score,
                level=health.level,
            )
        )
    HealthSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
    services.health_snapshot_take(org=ctx.org, engagement_ids=[engagement.pk], now=ctx.now)


def _remember(ctx: DemoContext, customers: dict[str, Customer]) -> None:
    by_key = {external_id.removeprefix("demo-"): c for external_id, c in customers.items()}
    ctx.extra["customers"] = by_key
    ctx.extra["engagements"] = {
        e.external_id.removeprefix("demo-").removesuffix("-engagement"): e
        for e in Engagement.objects.for_org(ctx.org).filter(external_id__startswith="demo-")
    }


# --- Follow-ups: what the reps owe these customers ---------------------------------------

# (subject key, engagement or customer, owner, title, due in days from today (local), local
# hour, cadence rule or "", priority)
FOLLOWUPS = [
    ("drifting", "engagement", "rep2", "Re-engage Sunrise Logistics: call the fleet manager",
     -9, 10, "", 3),
    ("retailer", "customer", "rep", "Send the revised service plan before the seasonal peak",
     -2, 11, "", 3),
    ("cancelled", "engagement", "rep2", "Confirm the impact of the cancelled order with finance",
     -1, 16, "", 2),
    ("manufacturer", "engagement", "rep", "Call Chen Wei about the production line ramp-up",
     0, 15, "", 2),
    ("software", "engagement", "rep2", "Prepare the milestone review with Northwind", 0, 17, "", 2),
    ("retailer", "engagement", "rep", "Check in with Lumen Retail", 4, 9,
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", 2),
    ("software", "customer", "manager", "Quarterly business review with Northwind", 6, 10, "", 2),
    ("manufacturer", "customer", "manager", "Satisfaction survey follow-up call", 12, 14,
     "FREQ=MONTHLY;BYMONTHDAY=1", 1),
]  # fmt: skip


def seed_followups(ctx: DemoContext) -> None:
    """Overdue, due-today and upcoming follow-ups for the reps, and two cadences."""
    from followup.engine import services as followup_services
    from followup.engine.calc.recurrence import to_utc
    from followup.engine.models import FollowUp

    org = ctx.org
    for key, kind, owner_key, title, days, hour, rule, priority in FOLLOWUPS:
        subject = ctx.extra[f"{kind}s"].get(key)
        if subject is None or FollowUp.objects.for_org(org).filter(title=title).exists():
            continue
        owner = ctx.users[owner_key]
        local_day = ctx.now.astimezone(ZoneInfo(owner.timezone)).date() + timedelta(days=days)
        due_at = to_utc(datetime.combine(local_day, time(hour, 0)), owner.timezone)
        followup_services.followup_create(
            org=org,
            actor=ctx.users["manager"],
            title=title,
            owner=owner,
            due_at=due_at,
            priority=priority,
            subject=subject,
            recurrence_rule=rule or None,
            reminder_offsets=[0, 24 * 60] if days > 0 else [0],
        )
