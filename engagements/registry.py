"""The event types and notification kinds this app emits (webhook subscriptions list them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from followup.engine import notifications
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


def register() -> None:
    from engagements import followups

    followups.register()
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    notifications.register_kind(
        "engagement.turned_red",
        title=_("%(engagement)s (%(customer)s) turned red"),
        description=_("An engagement you own or manage crossed into red health."),
    )
