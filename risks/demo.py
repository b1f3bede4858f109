"""The risk register's part of the demo story (GLOSSARY.md).

- A supply-chain business risk on the manufacturer's engagement: raw-material prices,
  watched continuously through a copper-price indicator with eight weekly readings; the
  latest ones crossed into amber, which re-rated the risk and told its owner.
- The key software customer's integration project with a risk matrix of a few amber risks
  and one red one (with a response action owed by a person), some with FMEA ratings.
- The production line's project risks with an FMEA worksheet (pre- and post-action).
- The retail customer's seasonal-peak risk.

Everything goes through ``risks.services``; a second run finds each risk by its subject and
title and changes nothing. The cancelled order and its escalation belong to the escalation
part of the register.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from followup.kernel.demo import DemoContext
from risks import services
from risks.models import Risk

SUBJECT_KEYS = {"customer": "customer", "engagement": "engagement", "project": "project"}


def _subject_key(subject: Any) -> str:
    return SUBJECT_KEYS[subject._meta.model_name]


def _ensure(ctx: DemoContext, subject: Any, title: str, data: dict[str, Any]) -> tuple[Risk, bool]:
    existing = (
        Risk.objects.for_org(ctx.org)
        .filter(subject_type=_subject_key(subject), subject_id=subject.pk, title=title)
        .first()
    )
    if existing is not None:
        return existing, False
    risk = services.risk_create(
        org=ctx.org,
        actor=ctx.users.get("manager"),
        data={
            "subject_type": _subject_key(subject),
            "subject_id": subject.pk,
            "title": title,
            "reason": "Initial assessment",
            **data,
        },
    )
    return risk, True


def seed(ctx: DemoContext) -> None:
    engagements: dict[str, Any] = ctx.extra.get("engagements", {})
    customers: dict[str, Any] = ctx.extra.get("customers", {})
    projects: dict[str, Any] = ctx.extra.get("projects", {})
    users = ctx.users
    if engagements.get("manufacturer") is not None:
        _raw_material(ctx, engagements["manufacturer"])
    if customers.get("retailer") is not None:
        _ensure(
            ctx,
            customers["retailer"],
            "Seasonal peak overwhelms the service team",
            {
                "category": "resource",
                "owner": users.get("rep"),
                "cause": "Holiday season doubles store openings and service calls",
                "event": "Response times exceed the service plan",
                "effect": "Satisfaction drops in the peak, renewal at risk",
                "probability": 3,
                "impact": 3,
                "residual_probability": 2,
                "residual_impact": 3,
                "strategy": "mitigate",
                "response_plan": "Shift two reps to Lumen Retail for November and December.",
            },
        )
    if projects.get("software") is not None:
        _software(ctx, projects["software"])
    if projects.get("production_line") is not None:
        _production_line(ctx, projects["production_line"])
    from risks.monitoring_demo import seed_monitoring

    seed_monitoring(ctx)


def _raw_material(ctx: DemoContext, engagement: Any) -> None:
    risk, created = _ensure(
        ctx,
        engagement,
        "Raw-material prices rise (copper, steel)",
        {
            "category": "supply_chain",
            "owner": ctx.users.get("manager"),
            "cause": "Volatile copper and steel markets; single-region sourcing",
            "event": "Material cost of the line's output rises above plan",
            "effect": "Margins shrink; price renegotiation strains the relationship",
            "trigger": "Copper above 9,000 USD/t for two weeks",
            "probability": 2,
            "impact": 4,
            "residual_probability": 2,
            "residual_impact": 3,
            "strategy": "transfer",
            "response_plan": "Index clauses in the supply contract; hedge three months ahead.",
            "contingency_amount": Decimal("50000.00"),
            "currency": "EUR",
            "fallback_plan": "Qualify a second supplier in Vietnam.",
            "indicator_name": "Copper price",
            "indicator_unit": "USD/t",
            "indicator_amber": Decimal("9000"),
            "indicator_red": Decimal("10000"),
            "indicator_direction": "up",
        },
    )
    if not created:
        return
    weekly = [8350, 8420, 8610, 8790, 8880, 9040, 9210, 9380]
    for weeks_ago, value in zip(range(len(weekly) - 1, -1, -1), weekly, strict=True):
        services.indicator_value_add(
            org=ctx.org,
            actor=None,
            risk=risk,
            value=Decimal(value),
            observed_at=ctx.now - timedelta(weeks=weeks_ago, hours=2),
        )


SOFTWARE_RISKS: list[tuple[str, dict[str, Any]]] = [
    (
        "Customer's ERP interface not delivered in time",
        {
            "category": "technical",
            "cause": "Northwind's ERP team is also upgrading its own platform",
            "event": "The interface specification and test system arrive late",
            "effect": "Release 1 integration tests slip; the milestone review fails",
            "probability": 4,
            "impact": 5,
            "residual_probability": 3,
            "residual_impact": 4,
            "strategy": "mitigate",
            "response_plan": "Agree a delivery date with Northwind's CTO; build against a mock.",
            "contingency_amount": Decimal("30000.00"),
            "failure_mode": "Interface contract changes after integration starts",
            "severity": 8,
            "occurrence": 6,
            "detection": 5,
            "owner_key": "rep2",
            "action": "Agree the ERP interface delivery date with Northwind's CTO",
        },
    ),
    (
        "Data migration quality below acceptance",
        {
            "category": "technical",
            "probability": 3,
            "impact": 4,
            "strategy": "mitigate",
            "response_plan": "Profile the legacy data early; two trial migrations.",
            "failure_mode": "Duplicate customer master records",
            "severity": 6,
            "occurrence": 5,
            "detection": 4,
            "owner_key": "rep2",
        },
    ),
    (
        "Key developer leaves the project",
        {
            "category": "resource",
            "probability": 2,
            "impact": 4,
            "strategy": "accept",
            "response_plan": "Pair programming on the integration layer.",
            "owner_key": "manager",
        },
    ),
    (
        "Acceptance criteria of release 2 still vague",
        {
            "category": "schedule",
            "probability": 3,
            "impact": 3,
            "strategy": "avoid",
            "response_plan": "Workshop with Northwind's product owner before the review.",
            "owner_key": "manager",
        },
    ),
    (
        "Cloud hosting costs above budget",
        {
            "category": "cost",
            "probability": 2,
            "impact": 2,
            "strategy": "accept",
            "owner_key": "manager",
        },
    ),
]

LINE_RISKS: list[tuple[str, dict[str, Any]]] = [
    (
        "Machining centres held at customs",
        {
            "category": "supply_chain",
            "probability": 3,
            "impact": 4,
            "residual_probability": 2,
            "residual_impact": 4,
            "strategy": "mitigate",
            "response_plan": "Customs broker engaged; documents checked before shipping.",
            "failure_mode": "Import documents incomplete",
            "controls": "Checklist from the freight forwarder",
            "severity": 7,
            "occurrence": 4,
            "detection": 6,
            "post_severity": 7,
            "post_occurrence": 2,
            "post_detection": 3,
            "owner_key": "rep",
        },
    ),
    (
        "Spindle bearings fail during trial runs",
        {
            "category": "technical",
            "probability": 2,
            "impact": 4,
            "strategy": "mitigate",
            "failure_mode": "Bearing overheating under full load",
            "effect": "Trial runs stop; ramp-up delayed",
            "cause": "Insufficient lubrication at commissioning",
            "controls": "Vendor commissioning procedure",
            "severity": 8,
            "occurrence": 3,
            "detection": 4,
            "owner_key": "rep2",
        },
    ),
    (
        "Operators not trained before the ramp-up",
        {
            "category": "resource",
            "probability": 3,
            "impact": 3,
            "strategy": "mitigate",
            "failure_mode": "Operators run the line without certification",
            "severity": 6,
            "occurrence": 4,
            "detection": 3,
            "post_severity": 6,
            "post_occurrence": 2,
            "post_detection": 3,
            "owner_key": "manager",
        },
    ),
]


def _project_risks(ctx: DemoContext, project: Any, rows: list[tuple[str, dict[str, Any]]]) -> None:
    for title, spec in rows:
        data = dict(spec)
        owner = ctx.users.get(data.pop("owner_key", "manager"))
        action = data.pop("action", None)
        risk, created = _ensure(ctx, project, title, {**data, "owner": owner})
        if created and action and owner is not None:
            services.risk_action_add(
                org=ctx.org,
                actor=ctx.users.get("manager"),
                risk=risk,
                title=action,
                owner=owner,
                due_at=ctx.now + timedelta(days=2),
            )


def _software(ctx: DemoContext, project: Any) -> None:
    _project_risks(ctx, project, SOFTWARE_RISKS)


def _production_line(ctx: DemoContext, project: Any) -> None:
    _project_risks(ctx, project, LINE_RISKS)
