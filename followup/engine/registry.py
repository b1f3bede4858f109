"""What the follow-up engine registers at start-up: its event types, its notification kinds,
and the webhook subscriber of the outbox. Called once from ``FollowUpEngineConfig.ready()``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts import audit
from followup.engine import notifications
from followup.engine.models import EmailMode
from followup.kernel import events, subjects


def register() -> None:
    for action, label in (
        ("webhook.created", _("Webhook endpoint created")),
        ("webhook.updated", _("Webhook endpoint changed")),
        ("webhook.secret_rotated", _("Webhook secret rotated")),
        ("webhook.deleted", _("Webhook endpoint deleted")),
        ("webhook.disabled", _("Webhook endpoint disabled")),
        ("followup.deleted", _("Follow-up deleted")),
    ):
        audit.register_action(action, label)
    events.register_type("followup.created", _("A follow-up was created"))
    events.register_type("followup.due", _("A follow-up became due"))
    events.register_type("followup.completed", _("A follow-up was completed"))
    events.register_type(
        "followup.updated",
        _("A follow-up was changed (edited, snoozed, reassigned, skipped, cancelled, reopened)"),
    )
    events.register_type("followup.deleted", _("A follow-up was deleted"))

    notifications.register_kind(
        "followup.reminder",
        title=_("Reminder: %(title)s"),
        description=_("Reminders of my follow-ups"),
        email_default=EmailMode.INSTANT,
        digestible=True,
    )
    notifications.register_kind(
        "followup.assigned",
        title=_("%(by)s gave you the follow-up “%(title)s”"),
        description=_("A follow-up was assigned to me"),
    )
    notifications.register_kind(
        "webhooks.endpoint_disabled",
        title=_("Webhook endpoint %(url)s was disabled after failing for a day"),
        description=_("A webhook endpoint was disabled (admins)"),
    )

    subjects.on_delete_of_any_subject(_followups_let_go)

    from followup.engine import webhooks  # noqa: F401 - subscribes the webhook fan-out to the outbox


def _followups_let_go(entry: subjects.SubjectType, instance: models.Model) -> None:
    """A subject is being deleted: cancel (or delete, per its registration) its follow-ups."""
    from followup.engine import services

    services.followups_for_deleted_subject(subject=instance, on_delete=entry.on_delete)
