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
    "work_item.reopened": _("A done work item was reopened (rework)."),
    "acceptance.changed": _("An acceptance criterion was added, checked off, waived or opened."),
    "resource.created": _("A resource (person, material, equipment) was added."),
    "resource.updated": _("A resource was changed."),
    "resource.deleted": _("A resource was removed."),
    "allocation.created": _("A resource was allocated to a work package."),
    "allocation.updated": _("A resource allocation was changed."),
    "allocation.deleted": _("A resource allocation was removed."),
    "status_report.drafted": _("A project's weekly status report was drafted."),
    "status_report.published": _("A project's status report was published."),
    "baseline.created": _(
        "A project's baseline was set (the first, or the next one by a change request)."
    ),
    "budget_line.created": _("A budget line was added to a project."),
    "budget_line.updated": _("A budget line was changed."),
    "budget_line.deleted": _("A budget line was removed."),
    "cost_entry.created": _("An actual cost was recorded."),
    "cost_entry.updated": _("An actual cost was changed."),
    "cost_entry.deleted": _("An actual cost was removed."),
    "reserve.drawn": _("A project's contingency reserve was drawn down."),
    "change_request.created": _("A change request was drafted."),
    "change_request.submitted": _("A change request was submitted for a decision."),
    "change_request.approved": _("A change request was approved."),
    "change_request.rejected": _("A change request was rejected."),
    "change_request.implemented": _("An approved change request was implemented."),
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
    "resource.created": _("Resource added"),
    "resource.updated": _("Resource changed"),
    "resource.deleted": _("Resource removed"),
    "allocation.created": _("Resource allocated"),
    "allocation.updated": _("Allocation changed"),
    "allocation.deleted": _("Allocation removed"),
    "acceptance.added": _("Acceptance criterion added"),
    "acceptance.decided": _("Acceptance criterion decided"),
    "status_report.drafted": _("Status report drafted"),
    "status_report.updated": _("Status report changed"),
    "status_report.published": _("Status report published"),
    "project.followed": _("Project followed"),
    "project.unfollowed": _("Project no longer followed"),
    "baseline.created": _("Baseline set"),
    "budget_line.created": _("Budget line added"),
    "budget_line.updated": _("Budget line changed"),
    "budget_line.deleted": _("Budget line removed"),
    "cost_entry.created": _("Actual cost recorded"),
    "cost_entry.updated": _("Actual cost changed"),
    "cost_entry.deleted": _("Actual cost removed"),
    "cost_entries.imported": _("Actual costs imported"),
    "reserve.moved": _("Reserve changed"),
    "labour_rate.set": _("Labour rate set"),
    "change_request.created": _("Change request drafted"),
    "change_request.updated": _("Change request edited"),
    "change_request.submitted": _("Change request submitted"),
    "change_request.approved": _("Change request approved"),
    "change_request.rejected": _("Change request rejected"),
    "change_request.implemented": _("Change request implemented"),
}


def register() -> None:
    from followup.engine import notifications
    from projects import cost_import, followups, gate_kinds, reports

    for action, label in AUDIT_ACTIONS.items():
        audit.register_action(action, label)
    for event_type, description in EVENT_TYPES.items():
        events.register_type(event_type, description)
    followups.register()
    cost_import.register()
    gate_kinds.register_builtin_kinds()
    reports.register_indices_provider(reports.earned_value_indices)
    reports.register_change_request_provider(reports.open_change_requests)
    notifications.register_kind(
        "status_report.published",
        title=_("Status report of %(code)s %(name)s for the week to %(period)s"),
        description=_("A project I sponsor or follow published its status report"),
    )
