"""Continuous business-risk monitoring: early-warning rules over what the business side
records, raising or updating business risks, deduplicated.

Rules are data (``RULES``): a key, words, the rating a raised risk gets, and parameters
that an organization overrides in ``settings["risks"]["early_warning"][<rule>]`` (for
example ``{"no_touch": {"days": 21}, "satisfaction": {"enabled": false}}``).

``fire`` is the one way a rule raises a risk. One open ``EarlyWarning`` row per (subject,
rule, reason) is the deduplication, backed by a partial unique constraint: a rule firing
again updates that risk (re-rated, a line in its score history, ``signal`` kept) instead
of raising another; two processes firing at once both end on the same risk (the loser's
insert fails inside a savepoint and it updates the winner's). A warning whose risk was
closed is let go, so the next firing raises a fresh risk.

The rules run from the outbox (``on_event``: a touchpoint logged or changed, an
engagement's health level changed, a project's schedule changed) and from the hourly
sweep (``sweep``), which catches what no event names (days passing without a touch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import Organization, User
from accounts.rls import cross_tenant, org_context
from engagements.models import BusinessEvent, Customer, Engagement, HealthLevel, Touchpoint
from followup.kernel.models import Event
from projects import evm
from projects import selectors as project_selectors
from projects.models import Project, ProjectStatus
from risks import selectors, services
from risks.models import EarlyWarning, RatingSource, Risk, RiskRating, RiskStatus


@dataclass(frozen=True)
class Rule:
    key: str
    label: str | Promise
    probability: int
    impact: int
    defaults: Mapping[str, Any] = field(default_factory=dict)


RULES: dict[str, Rule] = {
    rule.key: rule
    for rule in (
        Rule("health_red", _("Engagement health turned red"), 4, 4),
        Rule(
            "no_touch",
            _("No touchpoint for too long on a key engagement"),
            3,
            4,
            {"days": 30, "tiers": ["strategic", "key"]},
        ),
        Rule(
            "satisfaction",
            _("Satisfaction falling"),
            3,
            4,
            # The rolling average of the last ``window`` survey answers below ``below``, or
            # that many points under the average of the ``window`` answers before them.
            {"window": 3, "below": 3.0, "drop": 1.0},
        ),
        Rule("cancellation", _("The customer cancelled an order or an order was lost"), 5, 4),
        Rule("project_slip", _("A project of the customer slips past its target"), 3, 4),
        Rule(
            "project_performance",
            _("A project of the customer under its schedule or cost performance"),
            3,
            3,
            {"spi_below": 0.9, "cpi_below": 0.9},
        ),
    )
}


def rule_settings(org: Organization, key: str) -> dict[str, Any]:
    """The rule's parameters: its defaults, overridden by the organization's settings."""
    rule = RULES[key]
    values: dict[str, Any] = {"enabled": True, **rule.defaults}
    stored = ((org.settings or {}).get("risks") or {}).get("early_warning") or {}
    own = stored.get(key) if isinstance(stored, Mapping) else None
    if isinstance(own, Mapping):
        for name, value in own.items():
            if name in values and type(value) is type(values[name]):
                values[name] = value
            elif name in values and isinstance(values[name], float) and isinstance(value, int):
                values[name] = float(value)
    return values


def enabled(org: Organization, key: str) -> bool:
    return bool(rule_settings(org, key)["enabled"])


# --- Firing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    risk: Risk
    created: bool


def _subject_key(subject: Any) -> str:
    return "engagement" if isinstance(subject, Engagement) else "customer"


def _owner(subject: Any) -> User | None:
    owner: User | None = getattr(subject, "owner", None)
    if owner is None and isinstance(subject, Engagement):
        owner = subject.customer.owner
    return owner


def fire(
    *,
    org: Organization,
    rule: str,
    subject: Engagement | Customer,
    reason_key: str,
    title: str,
    reason: str,
    probability: int | None = None,
    impact: int | None = None,
    occurred: bool = False,
    now: datetime | None = None,
) -> Fired:
    """Raise the rule's business risk on ``subject`` for ``reason_key``, or update the open
    one. ``occurred``: the risk event has already happened (a cancellation)."""
    now = now or timezone.now()
    spec = RULES[rule]
    probability = probability or spec.probability
    impact = impact or spec.impact
    key = _subject_key(subject)
    with transaction.atomic():
        fired = _update_open(
            org, rule, key, subject.pk, reason_key, probability, impact, reason, now
        )
        if fired is None:
            try:
                with transaction.atomic():
                    fired = _create(
                        org, spec, key, subject, reason_key, title, reason, probability, impact, now
                    )
            except IntegrityError:
                # Another process raised it first (the partial unique constraint): update it.
                fired = _update_open(
                    org, rule, key, subject.pk, reason_key, probability, impact, reason, now
                )
                assert fired is not None
        if occurred and fired.risk.status == RiskStatus.OPEN:
            risk = services.risk_occur(org=org, actor=None, risk=fired.risk, note=reason)
            fired = Fired(risk=risk, created=fired.created)
        if occurred:
            from risks import escalation

            escalation.escalate(org=org, actor=None, risk=fired.risk)
    return fired


def _update_open(
    org: Organization,
    rule: str,
    key: str,
    subject_id: Any,
    reason_key: str,
    probability: int,
    impact: int,
    reason: str,
    now: datetime,
) -> Fired | None:
    warning = (
        EarlyWarning.objects.for_org(org)
        .select_for_update(of=("self",))
        .filter(
            subject_type=key, subject_id=subject_id, rule=rule, reason_key=reason_key, is_open=True
        )
        .first()
    )
    if warning is None:
        return None
    risk = Risk.objects.for_org(org).select_for_update(of=("self",)).get(pk=warning.risk_id)
    if risk.status == RiskStatus.CLOSED:
        warning.is_open = False
        warning.save(update_fields=["is_open"])
        return None
    warning.fired_count += 1
    warning.last_fired_at = now
    warning.save(update_fields=["fired_count", "last_fired_at"])
    signal = {**(risk.signal or {}), "rule": rule, "reason": reason, "fired": warning.fired_count}
    Risk.objects.for_org(org).filter(pk=risk.pk).update_versioned(signal=signal)
    if (risk.probability, risk.impact) != (probability, impact) and risk.status == RiskStatus.OPEN:
        risk = services.risk_rate(
            org=org,
            actor=None,
            risk=risk,
            probability=probability,
            impact=impact,
            residual_probability=risk.residual_probability,
            residual_impact=risk.residual_impact,
            reason=reason,
        )
    else:
        # Same rating: the score history still shows that the rule fired again.
        risk.refresh_from_db()
        RiskRating.objects.create(
            organization=org,
            risk=risk,
            source=RatingSource.ASSESSED,
            probability=risk.probability,
            impact=risk.impact,
            score=risk.score,
            level=risk.level,
            residual_probability=risk.residual_probability,
            residual_impact=risk.residual_impact,
            residual_score=risk.residual_score,
            residual_level=risk.residual_level,
            reason=reason[:2000],
        )
    risk.refresh_from_db()
    return Fired(risk=risk, created=False)


def _create(
    org: Organization,
    spec: Rule,
    key: str,
    subject: Engagement | Customer,
    reason_key: str,
    title: str,
    reason: str,
    probability: int,
    impact: int,
    now: datetime,
) -> Fired:
    categories = selectors.risk_settings(org).category_keys()
    owner = _owner(subject)
    risk = services.risk_create(
        org=org,
        actor=None,
        data={
            "subject_type": key,
            "subject_id": subject.pk,
            "title": title[:200],
            "event": reason,
            "category": "customer" if "customer" in categories else "",
            "owner": owner,
            "probability": probability,
            "impact": impact,
            "reason": reason,
        },
    )
    signal = {"rule": spec.key, "reason": reason, "fired": 1}
    Risk.objects.for_org(org).filter(pk=risk.pk).update_versioned(signal=signal)
    EarlyWarning.objects.create(
        organization=org,
        subject_type=key,
        subject_id=subject.pk,
        rule=spec.key,
        reason_key=reason_key,
        risk=risk,
        last_fired_at=now,
    )
    risk.refresh_from_db()
    return Fired(risk=risk, created=True)


# --- The rules ----------------------------------------------------------------------------


def _engagement(org: Organization, engagement_id: Any) -> Engagement | None:
    return (
        Engagement.objects.for_org(org)
        .select_related("customer", "owner", "customer__owner")
        .filter(pk=engagement_id)
        .first()
    )


def check_engagement(
    *, org: Organization, engagement_id: Any, now: datetime | None = None
) -> list[Fired]:
    """Health red, no touch for too long, satisfaction falling."""
    now = now or timezone.now()
    engagement = _engagement(org, engagement_id)
    if engagement is None or engagement.status != Engagement.Status.ACTIVE:
        return []
    out: list[Fired] = []
    name = engagement.name
    if enabled(org, "health_red") and engagement.health_level == HealthLevel.RED:
        out.append(
            fire(
                org=org,
                rule="health_red",
                subject=engagement,
                reason_key="red",
                title=_t("Health of %(name)s is red", name=name),
                reason=_t("Health score %(score)s (red).", score=engagement.health_score),
                now=now,
            )
        )
    silence = rule_settings(org, "no_touch")
    if silence["enabled"] and engagement.customer.tier in silence["tiers"]:
        days = int(silence["days"])
        last = engagement.last_touch_at
        since = last or datetime.combine(engagement.started_on, datetime.min.time(), UTC)
        if since < now - timedelta(days=days):
            quiet = (now - since).days
            out.append(
                fire(
                    org=org,
                    rule="no_touch",
                    subject=engagement,
                    reason_key="silent",
                    title=_t("No touchpoint with %(name)s for %(days)d days", name=name, days=days),
                    reason=_t("Last touchpoint %(n)d days ago.", n=quiet),
                    # Longer silence, likelier loss: one step per further period.
                    probability=min(5, RULES["no_touch"].probability + quiet // days - 1),
                    now=now,
                )
            )
    out += _satisfaction(org, engagement, now)
    return out


def _satisfaction(org: Organization, engagement: Engagement, now: datetime) -> list[Fired]:
    conf = rule_settings(org, "satisfaction")
    if not conf["enabled"]:
        return []
    window = max(1, int(conf["window"]))
    scores = [
        int(score or 0)
        for score in Touchpoint.objects.for_org(org)
        .filter(engagement=engagement, satisfaction__isnull=False)
        .order_by("-occurred_at", "-id")
        .values_list("satisfaction", flat=True)[: 2 * window]
    ]
    if len(scores) < window:
        return []
    recent = Decimal(sum(scores[:window])) / window
    before = scores[window:]
    out = []
    if recent < Decimal(str(conf["below"])):
        out.append(
            fire(
                org=org,
                rule="satisfaction",
                subject=engagement,
                reason_key="low",
                title=_t("Satisfaction of %(name)s is low", name=engagement.name),
                reason=_t(
                    "Average of the last %(n)d answers: %(avg)s of 5.",
                    n=window,
                    avg=f"{recent:.1f}",
                ),
                now=now,
            )
        )
    if len(before) == window:
        previous = Decimal(sum(before)) / window
        if previous - recent >= Decimal(str(conf["drop"])):
            out.append(
                fire(
                    org=org,
                    rule="satisfaction",
                    subject=engagement,
                    reason_key="drop",
                    title=_t("Satisfaction of %(name)s is dropping", name=engagement.name),
                    reason=_t(
                        "Average fell from %(before)s to %(after)s of 5.",
                        before=f"{previous:.1f}",
                        after=f"{recent:.1f}",
                    ),
                    now=now,
                )
            )
    return out


def check_touchpoint(*, org: Organization, touchpoint_id: Any) -> list[Fired]:
    """A cancellation or a lost order: an occurred business risk (which escalates)."""
    touchpoint = (
        Touchpoint.objects.for_org(org)
        .select_related("engagement", "customer", "engagement__customer", "customer__owner")
        .filter(pk=touchpoint_id)
        .first()
    )
    if touchpoint is None:
        return []
    out = []
    if touchpoint.business_event and enabled(org, "cancellation"):
        subject: Engagement | Customer = touchpoint.engagement or touchpoint.customer
        label = BusinessEvent(touchpoint.business_event).label
        out.append(
            fire(
                org=org,
                rule="cancellation",
                subject=subject,
                reason_key=touchpoint.business_event,
                title=_t("%(event)s: %(customer)s", event=label, customer=touchpoint.customer.name),
                reason=(touchpoint.outcome or touchpoint.summary)[:2000],
                occurred=True,
            )
        )
    if touchpoint.engagement_id:
        out += check_engagement(org=org, engagement_id=touchpoint.engagement_id)
    return out


def check_project(
    *, org: Organization, project_id: Any, now: datetime | None = None
) -> list[Fired]:
    """Reverse escalation: a project slipping or under-performing puts its customer
    relationship at risk (a business risk on the project's engagement)."""
    project = (
        Project.objects.for_org(org)
        .select_related("engagement", "engagement__customer", "engagement__owner")
        .filter(pk=project_id)
        .first()
    )
    if project is None or project.engagement is None or project.status != ProjectStatus.ACTIVE:
        return []
    engagement = project.engagement
    out = []
    if enabled(org, "project_slip") and project.slip_days is not None and project.slip_days > 0:
        out.append(
            fire(
                org=org,
                rule="project_slip",
                subject=engagement,
                reason_key=f"project:{project.pk}:slip",
                title=_t(
                    "The customer relationship is at risk: %(project)s is late",
                    project=project.code,
                ),
                reason=_t(
                    "%(project)s finishes %(n)d working days after its target.",
                    project=project.code,
                    n=project.slip_days,
                ),
                now=now,
            )
        )
    conf = rule_settings(org, "project_performance")
    if conf["enabled"]:
        today = project_selectors.org_today(org, now)
        figures = evm.figures(org, project, today)
        for name, value in (("spi", figures.spi), ("cpi", figures.cpi)):
            limit = Decimal(str(conf[f"{name}_below"]))
            if value is not None and value < limit:
                out.append(
                    fire(
                        org=org,
                        rule="project_performance",
                        subject=engagement,
                        reason_key=f"project:{project.pk}:{name}",
                        title=_t(
                            "The customer relationship is at risk: %(project)s %(index)s "
                            "is %(value)s",
                            project=project.code,
                            index=name.upper(),
                            value=f"{value:.2f}",
                        ),
                        reason=_t(
                            "%(index)s %(value)s is under %(limit)s.",
                            index=name.upper(),
                            value=f"{value:.2f}",
                            limit=f"{limit:.2f}",
                        ),
                        now=now,
                    )
                )
    return out


def _t(msgid: str, **params: Any) -> str:
    """A stored sentence in the organization's words: the msgid formatted (risks keep
    their title as text, like any typed by a person)."""
    from django.utils.translation import gettext

    return gettext(msgid) % params


# Marked for the catalogue (``_t`` translates them when a rule fires).
_MSGIDS = (
    gettext_noop("Health of %(name)s is red"),
    gettext_noop("Health score %(score)s (red)."),
    gettext_noop("No touchpoint with %(name)s for %(days)d days"),
    gettext_noop("Last touchpoint %(n)d days ago."),
    gettext_noop("Satisfaction of %(name)s is low"),
    gettext_noop("Average of the last %(n)d answers: %(avg)s of 5."),
    gettext_noop("Satisfaction of %(name)s is dropping"),
    gettext_noop("Average fell from %(before)s to %(after)s of 5."),
    gettext_noop("%(event)s: %(customer)s"),
    gettext_noop("The customer relationship is at risk: %(project)s is late"),
    gettext_noop("%(project)s finishes %(n)d working days after its target."),
    gettext_noop("The customer relationship is at risk: %(project)s %(index)s is %(value)s"),
    gettext_noop("%(index)s %(value)s is under %(limit)s."),
)


# --- Running them -------------------------------------------------------------------------

WATCHED_EVENTS = {
    "touchpoint.created",
    "touchpoint.updated",
    "engagement.health_changed",
    "project.updated",
    "project.status_changed",
    "work_item.updated",
    "work_item.created",
    "dependency.created",
    "dependency.updated",
}


def on_event(event: Event) -> None:
    """Outbox subscriber: run the rules the event may trip. Idempotent (``fire``)."""
    org = event.organization
    with org_context(org.pk):
        if event.type.startswith("touchpoint."):
            check_touchpoint(org=org, touchpoint_id=event.subject_id)
        elif event.type == "engagement.health_changed":
            check_engagement(org=org, engagement_id=event.subject_id)
        else:
            from risks import reviews

            project_id = reviews.project_of_event(org, event)
            if project_id is not None:
                check_project(org=org, project_id=project_id)


def sweep(*, now: datetime | None = None) -> int:
    """Every active engagement and every active project with an engagement, in every
    organization (days without a touch pass without any event)."""
    now = now or timezone.now()
    with cross_tenant("early-warning sweep"):
        # Cross-tenant by nature: the beat visits the engagements and projects of every
        # organization, then works inside each.
        engagements = list(
            Engagement.objects.dangerously_unscoped()
            .filter(status=Engagement.Status.ACTIVE)
            .values_list("organization_id", "pk")
        )
        projects = list(
            Project.objects.dangerously_unscoped()
            .filter(status=ProjectStatus.ACTIVE, engagement__isnull=False)
            .values_list("organization_id", "pk")
        )
    orgs: dict[Any, Organization] = {}
    fired = 0
    for org_id, pk in engagements:
        org = orgs.setdefault(org_id, Organization.objects.get(pk=org_id))
        with org_context(org_id):
            fired += len(check_engagement(org=org, engagement_id=pk, now=now))
    for org_id, pk in projects:
        org = orgs.setdefault(org_id, Organization.objects.get(pk=org_id))
        with org_context(org_id):
            fired += len(check_project(org=org, project_id=pk, now=now))
    return fired
