"""What the monitoring part of the risk register registers at start-up (milestone reviews,
early warnings, escalation, surveys): event types, notification kinds, audit actions, the
gate criterion of reviews and outbox subscribers. ``risks.registry`` has the register's own."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts import audit
from followup.engine import notifications
from followup.kernel import events

EVENT_TYPES = {
    "milestone.review_due": _("A milestone risk review was opened for its project manager."),
    "risk_review.completed": _("A milestone risk review was signed off."),
}

AUDIT_ACTIONS = {
    "risk_review.signed_off": _("Milestone risk review signed off"),
    "risk_review.policy_set": _("Milestone review lead time changed"),
}

# Project follow-up events after which a milestone may have moved.
SCHEDULE_EVENTS = {
    "project.updated",
    "project.status_changed",
    "work_item.created",
    "work_item.updated",
    "work_item.deleted",
    "dependency.created",
    "dependency.updated",
    "dependency.deleted",
}


def register() -> None:
    from projects import gates
    from risks import escalation, monitoring, reviews

    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    notifications.register_kind(
        "risk_review.due",
        title=_("Milestone risk review due: %(milestone)s (%(project)s)"),
        description=_("A milestone risk review of your project is due."),
    )
    notifications.register_kind(
        "risk_review.overdue",
        title=_("Milestone risk review overdue: %(milestone)s (%(project)s)"),
        description=_("A milestone risk review of a project you sponsor is overdue."),
    )
    events.subscribe("risks.reviews.schedule", reviews.on_schedule_event, types=SCHEDULE_EVENTS)
    events.subscribe("risks.monitoring", monitoring.on_event, types=monitoring.WATCHED_EVENTS)
    events.subscribe("risks.escalation", escalation.on_risk_occurred, types={"risk.occurred"})
    notifications.register_kind(
        "risk.escalated_to_project",
        title=_("Escalated to %(project)s: %(risk)s"),
        description=_("A customer's business risk was escalated into a project you manage."),
    )
    notifications.register_kind(
        "risk.hold_requested",
        title=_("Hold requested for %(project)s: %(risk)s"),
        description=_("A change request to put a project you sponsor on hold was drafted."),
    )
    gates.register_kind(
        "milestone_reviews_signed_off",
        _("Risk review of this phase's milestones signed off"),
        reviews.milestone_reviews_signed_off,
        help=_("Holds when every milestone of the phase has a signed-off risk review."),
    )
