"""What project follow-up registers at start-up: audit actions, event types, follow-up
subjects, My day and calendar-feed providers, and the gate criteria it checks itself."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts import audit
from followup.kernel import events

EVENT_TYPES = {
    "project.created": _("A project was created."),
    "project.updated": _("A project was changed."),
    "project.deleted": _("A project was deleted."),
    "project.phase_changed": _("A project moved to another phase (a gate decision)."),
    "project.status_changed": _("A project's status changed (hold, resume, cancel, close)."),
    "work_item.created": _("A work item was added to a project's WBS."),
    "work_item.updated": _("A work item was changed or moved."),
    "work_item.deleted": _("A work item was deleted."),
    "dependency.created": _("Two work items were linked."),
    "dependency.updated": _("A dependency was changed."),
    "dependency.deleted": _("A dependency was removed."),
}

AUDIT_ACTIONS = {
    "project.created": _("Project created"),
    "project.updated": _("Project changed"),
    "project.deleted": _("Project deleted"),
    "project.decided": _("Gate decision"),
    "project.success_marked": _("Success criteria marked"),
    "gate.attested": _("Gate criterion attested"),
    "gate.withdrawn": _("Gate attestation withdrawn"),
    "work_item.created": _("Work item created"),
    "work_item.updated": _("Work item changed"),
    "work_item.moved": _("Work item moved"),
    "work_item.deleted": _("Work item deleted"),
    "work_items.pasted": _("Outline pasted"),
    "dependency.created": _("Dependency created"),
    "dependency.updated": _("Dependency changed"),
    "dependency.deleted": _("Dependency removed"),
    "phase_template.created": _("Phase template created"),
    "phase_template.updated": _("Phase template changed"),
    "phase_template.deleted": _("Phase template deleted"),
    "project_calendar.updated": _("Default working calendar changed"),
}


def register() -> None:
    from projects import followups, gate_kinds

    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    followups.register()
    gate_kinds.register_builtin_kinds()
