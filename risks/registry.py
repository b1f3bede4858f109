"""What the risk register registers at start-up: audit actions, event types, the "risk"
follow-up subject, the notification kind of indicator crossings, the health provider of open
business risks, the gate criteria it judges, the search kind and the subject delete hook."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import audit, departures
from accounts.departures import Departure, Tally
from accounts.models import Organization, User
from followup.engine import lists, notifications
from followup.kernel import events, search, subjects
from followup.kernel.models import Event
from followup.kernel.search import Result

EVENT_TYPES = {
    "risk.created": _("A risk was added to the register."),
    "risk.updated": _("A risk was changed or re-rated."),
    "risk.occurred": _("A risk occurred."),
    "risk.closed": _("A risk was closed."),
    "risk.escalated": _("A risk was escalated."),
    "risk.deleted": _("A risk was deleted."),
}

AUDIT_ACTIONS = {
    "risk.created": _("Risk created"),
    "risk.updated": _("Risk changed"),
    "risk.rerated": _("Risk re-rated by its indicator"),
    "risk.occurred": _("Risk occurred"),
    "risk.closed": _("Risk closed"),
    "risk.reopened": _("Risk reopened"),
    "risk.escalated": _("Risk escalated"),
    "risk.deleted": _("Risk deleted"),
    "risk_settings.updated": _("Risk settings changed"),
}


def register() -> None:
    from engagements import health_providers
    from projects import gates, reports
    from risks import gate_kinds, selectors, services
    from risks.models import Risk

    reports.register_risk_provider(top_risks_for_report)
    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    subjects.register(
        "risk",
        Risk,
        label=_("Risk"),
        url=services.risk_url,
        describe=lambda risk: risk.title,
        related=("organization",),
        on_delete="delete",
    )
    subjects.on_delete_of_any_subject(_risks_let_go)
    notifications.register_kind(
        "risk.indicator_crossed",
        title=_("%(risk)s: its indicator moved to %(zone)s (%(value)s)"),
        description=_("A key risk indicator of a risk you own crossed a threshold"),
    )
    health_providers.register(
        health_providers.OPEN_BUSINESS_RISKS, selectors.open_business_risk_counts
    )
    gates.register_kind(
        "no_open_high_risk",
        _("No open high risk on the project"),
        gate_kinds.no_open_high_risk,
        help=_("Holds when no open risk of the project is rated high."),
    )
    gates.register_kind(
        "no_high_risk_without_response",
        _("No open high risk without a response"),
        gate_kinds.no_high_risk_without_response,
        help=_("Holds when every open high risk of the project has a response strategy."),
    )
    search.register("risks", _("Risks"), find_risks, order=60)
    lists.register("risks", "risks:list", _("Risk register"))
    departures.register("risks", holdings=_held, leave=_leave)
    events.subscribe("risks.health", refresh_health_on_risk_change, types=set(EVENT_TYPES))


def _held(org: Organization, person: User) -> list[Tally]:
    from risks.models import Risk

    count = Risk.objects.for_org(org).filter(owner=person).count()
    return [
        Tally(
            "risks", count, ngettext("%(count)d risk", "%(count)d risks", count) % {"count": count}
        )
    ]


def _leave(departure: Departure) -> list[Tally]:
    """A member leaves: the risks they own go to the same person as their follow-ups (or
    keep no owner when those are cancelled)."""
    from risks import services

    successor = departure.successor
    count = services.risks_hand_over(
        org=departure.org, actor=departure.actor, person=departure.person, successor=successor
    )
    if successor is not None:
        text = ngettext(
            "%(count)d risk went to %(name)s", "%(count)d risks went to %(name)s", count
        ) % {"count": count, "name": successor.name}
        return [Tally("risks_handed_over", count, text)]
    text = ngettext("%(count)d risk has no owner now", "%(count)d risks have no owner now", count)
    return [Tally("risks_unowned", count, text % {"count": count})]


def refresh_health_on_risk_change(event: Event) -> None:
    """Outbox subscriber: a business risk changed, so may the health of its engagement (or
    of its customer's active engagements). Recomputing is idempotent."""
    from engagements import services as engagement_services
    from engagements.models import Engagement

    payload = event.payload or {}
    if payload.get("side") != "business":
        return
    org = event.organization
    engagements = Engagement.objects.for_org(org)
    if payload.get("engagement"):
        ids = list(engagements.filter(pk=payload["engagement"]).values_list("pk", flat=True))
    elif payload.get("customer"):
        ids = list(
            engagements.filter(
                customer_id=payload["customer"], status=Engagement.Status.ACTIVE
            ).values_list("pk", flat=True)
        )
    else:
        return
    for engagement_id in ids:
        engagement_services.engagement_health_refresh(org=org, engagement_id=engagement_id)


def _risks_let_go(entry: subjects.SubjectType, instance: Any) -> None:
    from risks import services

    if entry.key in services.SUBJECT_TYPES:
        org = instance.organization
        services.risks_for_deleted_subject(org=org, key=entry.key, subject_id=instance.pk)


def find_risks(org: Organization, user: User, query: str, limit: int) -> list[Result]:
    from django.urls import reverse

    from risks.models import Risk

    rows = (
        search.ranked(
            Risk.objects.for_org(org).filter(
                search.matching(query, ["title", "cause", "event", "effect"])
            ),
            query,
            "title",
        )
        .order_by("search_rank", Lower("title"), "id")
        .only("id", "title", "status", "level", "side")[:limit]
    )
    return [
        Result(
            kind="risks",
            title=risk.title,
            subtitle=" · ".join(
                str(p)
                for p in (
                    risk.get_side_display(),
                    risk.get_level_display(),
                    risk.get_status_display(),
                )
            ),
            url=reverse("risks:detail", kwargs={"org_slug": org.slug, "pk": risk.pk}),
        )
        for risk in rows
    ]


def top_risks_for_report(org: Organization, project: Any, limit: int) -> list[Any]:
    """The status report's "top risks": the project's open and occurred risks, highest
    current score first (residual where rated, else inherent), as report lines."""
    from projects.reports import Line
    from risks.models import Risk, RiskStatus
    from risks.services import risk_url

    rows = (
        Risk.objects.for_org(org)
        .select_related("organization")
        .filter(project=project)
        .exclude(status=RiskStatus.CLOSED)
        .order_by("-score", "-created_at")[:limit]
    )
    lines = []
    for risk in rows:
        detail = _("%(level)s, score %(score)s (P%(p)s, I%(i)s), %(status)s") % {
            "level": risk.get_level_display(),
            "score": risk.score,
            "p": risk.probability,
            "i": risk.impact,
            "status": risk.get_status_display(),
        }
        lines.append(Line(title=risk.title, detail=str(detail), url=risk_url(risk)))
    return lines
