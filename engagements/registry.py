"""The event types and notification kinds this app emits (webhook subscriptions list them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import audit, departures
from accounts.departures import Departure, Tally
from accounts.models import Organization, User
from engagements.models import Customer, Engagement
from followup.engine import lists, notifications
from followup.kernel import events

EVENT_TYPES = {
    "customer.created": _("A customer was created."),
    "customer.updated": _("A customer was changed."),
    "customer.deleted": _("A customer was deleted."),
    "contact.created": _("A contact was created."),
    "contact.updated": _("A contact was changed."),
    "contact.deleted": _("A contact was deleted."),
    "engagement.created": _("An engagement was created."),
    "engagement.updated": _("An engagement was changed."),
    "engagement.deleted": _("An engagement was deleted."),
    "engagement.health_changed": _("An engagement's health level changed (green, amber, red)."),
    "touchpoint.created": _("A touchpoint was logged."),
    "touchpoint.updated": _("A touchpoint was changed."),
    "touchpoint.deleted": _("A touchpoint was deleted."),
}


AUDIT_ACTIONS = {
    "survey.sent": _("Satisfaction survey sent"),
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer changed"),
    "contact.created": _("Contact created"),
    "contact.updated": _("Contact changed"),
    "engagement.created": _("Engagement created"),
    "engagement.updated": _("Engagement changed"),
    "customer.deleted": _("Customer deleted"),
    "contact.deleted": _("Contact deleted"),
    "engagement.deleted": _("Engagement deleted"),
    "kpi.deleted": _("KPI deleted"),
    "touchpoint.updated": _("Touchpoint corrected"),
    "touchpoint.deleted": _("Touchpoint deleted"),
    "health_settings.updated": _("Health settings changed"),
}


def register() -> None:
    from engagements import answers, bulk, followups, search

    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    followups.register()
    search.register()
    bulk.register()
    answers.register()
    lists.register("customers", "engagements:customer_list", _("Customers"))
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    notifications.register_kind(
        "engagement.turned_red",
        title=_("%(engagement)s (%(customer)s) turned red"),
        description=_("An engagement you own or manage crossed into red health."),
    )
    departures.register("engagements", holdings=_held, leave=_leave)


def _held(org: Organization, person: User) -> list[Tally]:
    customers = Customer.objects.for_org(org).filter(owner=person).count()
    engagements = Engagement.objects.for_org(org).filter(owner=person).count()
    return [
        Tally(
            "customers",
            customers,
            ngettext("%(count)d customer", "%(count)d customers", customers) % {"count": customers},
        ),
        Tally(
            "engagements",
            engagements,
            ngettext("%(count)d engagement", "%(count)d engagements", engagements)
            % {"count": engagements},
        ),
    ]


def _leave(departure: Departure) -> list[Tally]:
    """A member leaves: the customers and engagements they own go to the same person as
    their follow-ups (or keep no owner when those are cancelled); they leave every team."""
    from engagements import services

    successor = departure.successor
    done = services.records_hand_over(
        org=departure.org, actor=departure.actor, person=departure.person, successor=successor
    )
    name = successor.name if successor is not None else ""
    handed = (done.customers, done.engagements) if successor is not None else (0, 0)
    unowned = (0, 0) if successor is not None else (done.customers, done.engagements)
    return [
        Tally(
            "customers_handed_over",
            handed[0],
            ngettext(
                "%(count)d customer went to %(name)s",
                "%(count)d customers went to %(name)s",
                handed[0],
            )
            % {"count": handed[0], "name": name},
        ),
        Tally(
            "engagements_handed_over",
            handed[1],
            ngettext(
                "%(count)d engagement went to %(name)s",
                "%(count)d engagements went to %(name)s",
                handed[1],
            )
            % {"count": handed[1], "name": name},
        ),
        Tally(
            "customers_unowned",
            unowned[0],
            ngettext(
                "%(count)d customer has no owner now",
                "%(count)d customers have no owner now",
                unowned[0],
            )
            % {"count": unowned[0]},
        ),
        Tally(
            "engagements_unowned",
            unowned[1],
            ngettext(
                "%(count)d engagement has no owner now",
                "%(count)d engagements have no owner now",
                unowned[1],
            )
            % {"count": unowned[1]},
        ),
        Tally(
            "engagement_teams_left",
            done.teams,
            ngettext(
                "taken off %(count)d engagement team",
                "taken off %(count)d engagement teams",
                done.teams,
            )
            % {"count": done.teams},
        ),
    ]
