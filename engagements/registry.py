"""The event types and notification kinds this app emits (webhook subscriptions list them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts import audit
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


AUDIT_ACTIONS = {
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
    from engagements import followups

    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    followups.register()
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    notifications.register_kind(
        "engagement.turned_red",
        title=_("%(engagement)s (%(customer)s) turned red"),
        description=_("An engagement you own or manage crossed into red health."),
    )
