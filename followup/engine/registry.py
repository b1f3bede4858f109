"""What the follow-up engine registers at start-up: its event types, its notification kinds,
and the webhook subscriber of the outbox. Called once from ``FollowUpEngineConfig.ready()``."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import audit, departures
from accounts.departures import Departure, Tally
from accounts.models import Organization, User
from followup.engine import notifications
from followup.engine.models import EmailMode, FollowUp, FollowUpStatus
from followup.kernel import events, subjects


def register() -> None:
    for action, label in (
        ("webhook.created", _("Webhook endpoint created")),
        ("webhook.updated", _("Webhook endpoint changed")),
        ("webhook.secret_rotated", _("Webhook secret rotated")),
        ("webhook.deleted", _("Webhook endpoint deleted")),
        ("webhook.disabled", _("Webhook endpoint disabled")),
        ("followup.deleted", _("Follow-up deleted")),
        ("bulk.applied", _("Bulk change applied")),
        ("bulk.undone", _("Bulk change undone")),
        ("comment.updated", _("Comment edited")),
        ("comment.deleted", _("Comment deleted")),
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
    events.register_type("comment.created", _("A comment was written"))
    events.register_type("comment.updated", _("A comment was edited"))
    events.register_type("comment.deleted", _("A comment was deleted"))

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
        "followup.handed_over",
        title=_("%(name)s left: their open follow-ups (%(count)s) are yours now"),
        description=_("Somebody's open follow-ups were handed to me when they left"),
    )
    notifications.register_kind(
        "comment.mentioned",
        title=_("%(author)s mentioned you on %(subject)s: “%(excerpt)s”"),
        description=_("Someone mentioned me in a comment"),
    )
    notifications.register_kind(
        "webhooks.endpoint_disabled",
        title=_("Webhook endpoint %(url)s was disabled after failing for a day"),
        description=_("A webhook endpoint was disabled (admins)"),
    )

    # Follow-ups carry comments (and their history), so they are subjects too; nothing
    # is a follow-up about a follow-up, though.
    subjects.register(
        "followup",
        FollowUp,
        label=_("Follow-up"),
        url=lambda f: reverse(
            "followup:detail", kwargs={"org_slug": f.organization.slug, "pk": f.pk}
        ),
        describe=lambda f: f.title,
        related=("organization",),
        on_delete="delete",
        followable=False,
    )
    subjects.on_delete_of_any_subject(_followups_let_go)
    departures.register("followup", holdings=_held, leave=_leave)
    subjects.on_delete_of_any_subject(_comments_let_go)

    from followup.engine import bulk, lists, search  # noqa: F401 - bulk registers its scope

    search.register()
    lists.register("followups", "followup:list", _("Follow-ups"))
    lists.register("team", "followup:team", _("Team overdue"))
    lists.register("notifications", "followup:notifications", _("Notifications"))

    from followup.engine import webhooks  # noqa: F401 - subscribes the webhook fan-out to the outbox


def _followups_let_go(entry: subjects.SubjectType, instance: models.Model) -> None:
    """A subject is being deleted: cancel (or delete, per its registration) its follow-ups."""
    from followup.engine import services

    services.followups_for_deleted_subject(subject=instance, on_delete=entry.on_delete)


def _held(org: Organization, person: User) -> list[Tally]:
    count = FollowUp.objects.for_org(org).filter(owner=person, status=FollowUpStatus.OPEN).count()
    text = ngettext("%(count)d open follow-up", "%(count)d open follow-ups", count)
    return [Tally("open_followups", count, text % {"count": count})]


def _leave(departure: Departure) -> list[Tally]:
    """A member leaves: their open follow-ups go to the successor (or are cancelled), and
    their notification choices, notifications and calendar addresses here are deleted."""
    from followup.engine import calendar, services

    org, person, successor = departure.org, departure.person, departure.successor
    moved = services.followups_hand_over(
        org=org, person=person, successor=successor, actor=departure.actor
    )
    choices, notes = notifications.person_forget(org=org, person=person)
    feeds = calendar.feeds_delete(org=org, user=person)
    handed = moved if successor is not None else 0
    cancelled = moved - handed
    name = successor.name if successor is not None else ""
    return [
        Tally(
            "followups_handed_over",
            handed,
            ngettext(
                "%(count)d open follow-up went to %(name)s",
                "%(count)d open follow-ups went to %(name)s",
                handed,
            )
            % {"count": handed, "name": name},
        ),
        Tally(
            "followups_cancelled",
            cancelled,
            ngettext(
                "%(count)d open follow-up was cancelled",
                "%(count)d open follow-ups were cancelled",
                cancelled,
            )
            % {"count": cancelled},
        ),
        Tally(
            "notification_settings_deleted",
            choices,
            ngettext(
                "%(count)d notification setting deleted",
                "%(count)d notification settings deleted",
                choices,
            )
            % {"count": choices},
        ),
        Tally(
            "notifications_deleted",
            notes,
            ngettext("%(count)d notification deleted", "%(count)d notifications deleted", notes)
            % {"count": notes},
        ),
        Tally(
            "calendar_feeds_deleted",
            feeds,
            ngettext(
                "%(count)d calendar address deleted", "%(count)d calendar addresses deleted", feeds
            )
            % {"count": feeds},
        ),
    ]


def _comments_let_go(entry: subjects.SubjectType, instance: models.Model) -> None:
    from followup.engine import comments

    comments.comments_let_go(entry, instance)
