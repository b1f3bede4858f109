from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from followup.engine import notifications
from followup.engine.models import Notification
from followup.kernel import events
from followup.kernel.models import Event


@pytest.fixture
def received(monkeypatch):
    seen: list[Event] = []
    monkeypatch.setattr(events, "_subscribers", {})
    events.subscribe("tests.seen", seen.append)
    monkeypatch.setitem(events.EVENT_TYPES, "thing.happened", "A test event")
    return seen


def test_an_event_is_relayed_once_after_commit(
    org, received, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from followup.site.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = events.record(org=org, type="thing.happened", payload={"n": 1})
        assert [e.pk for e in received] == [event.pk]
        assert events.relay(Event.objects.for_org(org).get(pk=event.pk)) is False
        assert len(received) == 1
    finally:
        app.conf.task_always_eager = False


def test_a_rolled_back_change_leaves_no_event(org, received):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record(org=org, type="thing.happened")
        raise RuntimeError
    assert not Event.objects.for_org(org).exists()


def test_the_periodic_relay_catches_lost_dispatches(org, other_org, received):
    old = events.record(org=org, type="thing.happened")
    events.record(org=other_org, type="thing.happened")
    Event.objects.for_org(org).filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert events.relay_pending() == 1
    assert [e.pk for e in received] == [old.pk]


def test_unknown_event_types_are_refused(org):
    with pytest.raises(ValueError, match="register"):
        events.record(org=org, type="made.up")


def test_notify_dedupes_and_renders_in_the_readers_language(org, member, viewer, monkeypatch):
    monkeypatch.setitem(
        notifications.KINDS,
        "test.kind",
        notifications.Kind(title=gettext_lazy("Members"), description="for tests"),
    )
    first = notifications.notify(
        org=org, recipients=[member, viewer, member], kind="test.kind", dedupe_key="k1"
    )
    again = notifications.notify(org=org, recipients=[member], kind="test.kind", dedupe_key="k1")
    assert len(first) == 2 and again == []
    assert Notification.objects.for_org(org).count() == 2
    with translation.override("zh-hans"):
        assert notifications.render_title(first[0]) == "成员"
