"""Cross-tenant cases of the follow-up engine's pages and API resources."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiKey
from followup.engine import notifications, services, webhooks
from followup.engine.models import WebhookDelivery
from tests.tenancy import Target, World, register


def _followup(world: World):
    def make():
        return services.followup_create(
            org=world.org_a,
            actor=world.owner_a,
            title="alpha-secret-followup",
            owner=world.owner_a,
            due_at=timezone.now() - timedelta(hours=1),
            recurrence_rule="FREQ=WEEKLY;BYDAY=MO",
        )

    return world.once("followup", make)


def _notification(world: World):
    def make():
        # The API acts for the key's creator: make org A's key a person's key.
        ApiKey.objects.for_org(world.org_a).update(created_by=world.owner_a)
        (note,) = notifications.notify(
            org=world.org_a,
            recipients=[world.owner_a],
            kind="followup.assigned",
            params={"title": "alpha-secret-note", "by": "x"},
            url="/o/alpha/",
            email=False,
        )
        return note

    return world.once("notification", make)


def _endpoint(world: World):
    return world.once(
        "endpoint",
        lambda: webhooks.endpoint_create(
            org=world.org_a,
            actor=world.owner_a,
            url="http://127.0.0.1:9/alpha-secret-hook",
            event_types=["followup.created"],
        ),
    )


def _delivery(world: World):
    def make():
        return WebhookDelivery.objects.create(
            organization=world.org_a,
            endpoint=_endpoint(world),
            event_type="followup.created",
            message_id="msg_alphasecret",
            body="{}",
            next_attempt_at=timezone.now() + timedelta(days=1),
        )

    return world.once("delivery", make)


def _event_delivery(world: World):
    def make():
        from followup.kernel.models import Event, EventDelivery, EventDeliveryStatus

        event = Event.objects.create(
            organization=world.org_a,
            type="followup.created",
            payload={"title": "alpha-secret-event"},
            relayed_at=timezone.now(),
        )
        return EventDelivery.objects.create(
            organization=world.org_a,
            event=event,
            subscriber="alpha.subscriber",
            status=EventDeliveryStatus.FAILED,
            attempts=10,
            last_error="alpha-secret-error",
            last_attempt_at=timezone.now(),
        )

    return world.once("event_delivery", make)


def event_delivery_list(world):
    _event_delivery(world)
    return Target({}, "alpha-secret-error")


def event_delivery_item(world):
    delivery = _event_delivery(world)
    return Target({"pk": delivery.pk}, "alpha-secret-error")


def followup_list(world):
    _followup(world)
    return Target({}, "alpha-secret-followup")


def followup_item(world):
    followup = _followup(world)
    return Target({"pk": followup.pk}, "alpha-secret-followup")


def followup_action(world):
    followup = _followup(world)
    return Target({"pk": followup.pk, "action": "complete"}, "alpha-secret-followup")


def owner_body(world):
    return {
        "title": "from elsewhere",
        "owner": str(world.owner_a.pk),
        "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }


def page_body(world):
    return {
        "title": "from elsewhere",
        "owner": str(world.owner_a.pk),
        "due": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "priority": "2",
        "ends": "never",
    }


def notification_list(world):
    _notification(world)
    return Target({}, "alpha-secret-note")


def notification_item(world):
    note = _notification(world)
    return Target({"pk": note.pk}, str(note.pk))


def endpoint_list(world):
    _endpoint(world)
    return Target({}, "alpha-secret-hook")


def endpoint_item(world):
    endpoint = _endpoint(world)
    return Target({"pk": endpoint.pk}, "alpha-secret-hook")


def delivery_item(world):
    delivery = _delivery(world)
    return Target({"pk": delivery.pk}, "msg_alphasecret")


def delivery_replay(world):
    delivery = _delivery(world)
    return Target({"pk": delivery.endpoint_id, "delivery_id": delivery.pk}, "msg_alphasecret")


def endpoint_body(world):
    return {"url": "http://127.0.0.1:9/other", "event_types": ["followup.due"]}


def preferences_body(world):
    """Every kind's choice, as the preferences page posts them."""
    return {
        f"{key.replace('.', '-')}-{field}": value
        for key in notifications.KINDS
        for field, value in (("in_app", "on"), ("email", "off"))
    }


def no_data(world):
    _followup(world)
    return Target({}, "alpha-secret-followup")


# API
register("followup-list", make=followup_list, body=owner_body)
register("followup-detail", make=followup_item, body=owner_body)
register("followup-complete", "followup-skip", make=followup_item)
register("followup-snooze", make=followup_item, body=lambda w: {"preset": "1d"})
register("followup-reassign", make=followup_item, body=lambda w: {"owner": str(w.owner_a.pk)})
register("notification-list", "notification-read-all", make=notification_list)
register("notification-detail", "notification-read", make=notification_item)
register("webhook-list", make=endpoint_list, body=endpoint_body, body_names_org_a=False)
register("webhook-detail", "webhook-deliveries", make=endpoint_item, body=endpoint_body)
register("webhook-replay", make=delivery_replay)
register("webhook-event-types", make=no_data)

# Pages
register("followup:list", "followup:team", make=followup_list)
register("followup:create", make=no_data, body=page_body)
register("followup:detail", make=followup_item, body=page_body)
register("followup:action", make=followup_action)
register("followup:cadence_preview", "followup:bell", "followup:calendar", make=no_data)
register("followup:preferences", make=no_data, body=preferences_body, body_names_org_a=False)
register("followup:notifications", make=notification_list)
register("followup:notification_read", make=notification_item)
register("followup:webhooks", make=endpoint_list, body=endpoint_body, body_names_org_a=False)
register("followup:webhook_detail", make=endpoint_item, body=endpoint_body)
register("followup:webhook_replay", make=delivery_item)
register("followup:event_deliveries", make=event_delivery_list)
register("followup:event_delivery_retry", make=event_delivery_item)

# Search everywhere: without a query the page lists nothing; tests/test_search.py searches
# org A's names from org B.
register("followup:search", make=followup_list)


def _saved_view(world: World):
    from followup.engine import lists

    return world.once(
        "saved_view",
        lambda: lists.saved_filter_save(
            org=world.org_a,
            user=world.owner_a,
            list_key="followups",
            name="alpha-secret-view",
            query="who=all",
        ),
    )


# A saved view names nothing of another organization: org B saving one saves its own.
register(
    "followup:saved_filter_create",
    make=lambda w: Target({}, _saved_view(w).name),
    body=lambda w: {"list": "followups", "name": "mine", "query": "who=all"},
    body_names_org_a=False,
)
register(
    "followup:saved_filter_delete",
    make=lambda w: Target({"pk": _saved_view(w).pk}, _saved_view(w).name),
)


# Bulk work: org A's ids posted in org B are unknown there (400); an undo is the actor's own.
def _bulk_change(world: World):
    from followup.engine import bulk

    return world.once(
        "bulk_change",
        lambda: (
            bulk.followups_bulk(
                org=world.org_a,
                actor=world.owner_a,
                followups=[_followup(world)],
                action="snooze",
                snooze="1w",
            ).change
        ),
    )


register(
    "followup:bulk",
    make=followup_list,
    body=lambda w: {"ids": [str(_followup(w).pk)], "action": "complete", "confirm": "1"},
)
register("followup:bulk_undo", make=lambda w: Target({"pk": _bulk_change(w).pk}, "alpha-secret"))


# Comments on any subject: org A's subject is unknown in org B (400), its comments 404.
def _comment(world: World):
    from followup.engine import comments

    return world.once(
        "comment",
        lambda: comments.comment_post(
            org=world.org_a,
            writer=comments.Writer(user=world.owner_a),
            subject=_followup(world),
            body="alpha-secret-comment",
        ),
    )


def comment_list(world):
    _comment(world)
    return Target({}, "alpha-secret-comment")


def comment_item(world):
    comment = _comment(world)
    return Target({"pk": comment.pk}, "alpha-secret-comment")


def comment_body(world):
    return {"subject_type": "followup", "subject_id": str(_followup(world).pk), "body": "hi"}


register("followup:comment_create", make=comment_list, body=comment_body)
register("followup:comment_edit", "followup:comment_delete", make=comment_item, body=comment_body)
register(
    "followup:mention_search",
    make=lambda w: Target({}, w.owner_a.email),
)
register("comment-list", make=comment_list, body=comment_body)


def comment_by_key(world):
    """A comment written through org A's API key: only its author may change it."""
    from accounts.models import ApiKey
    from followup.engine import comments

    key = ApiKey.objects.for_org(world.org_a).get()  # the world's one key of org A
    comment = world.once(
        "comment_by_key",
        lambda: comments.comment_post(
            org=world.org_a,
            writer=comments.Writer(user=None, api_key=key),
            subject=_followup(world),
            body="alpha-secret-comment",
        ),
    )
    return Target({"pk": comment.pk}, "alpha-secret-comment")


register("comment-detail", make=comment_by_key, body=lambda w: {"body": "changed"})
