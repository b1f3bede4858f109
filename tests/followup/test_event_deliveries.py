"""Each subscriber of each event succeeds or fails on its own (issue 7, "One failing
subscriber stops the event relay": the periodic relay aborted its sweep at the first
exception, and the same event headed the queue every minute after)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from followup.engine.models import Notification
from followup.kernel import events, subjects
from followup.kernel.models import Event, EventDelivery, EventDeliveryStatus
from tests.utils import assert_constant_queries


@pytest.fixture
def outbox(monkeypatch):
    """An outbox with two test subscribers: ``tests.boom`` fails on poison events (and can
    be fixed), ``tests.seen`` records what it got."""
    monkeypatch.setattr(events, "_subscribers", {})
    monkeypatch.setitem(events.EVENT_TYPES, "thing.happened", "A test event")
    state = {"seen": [], "broken": True}

    def boom(event: Event) -> None:
        if event.payload.get("poison") and state["broken"]:
            raise RuntimeError("subscriber bug")

    events.subscribe("tests.boom", boom)
    events.subscribe("tests.seen", lambda event: state["seen"].append(event.pk))
    return state


def lost(org, **payload) -> Event:
    """An event whose on-commit relay was lost (the worker died), a while ago."""
    event = events.record(org=org, type="thing.happened", payload=payload)
    Event.objects.for_org(org).filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    return event


def delivery(org, event, name) -> EventDelivery:
    return EventDelivery.objects.for_org(org).get(event=event, subscriber=name)


def later(minutes: float) -> None:
    """Move every pending retry ``minutes`` earlier, as if that much time had passed."""
    for row in EventDelivery.objects.dangerously_unscoped().filter(next_attempt_at__isnull=False):
        EventDelivery.objects.dangerously_unscoped().filter(pk=row.pk).update(
            next_attempt_at=row.next_attempt_at - timedelta(minutes=minutes)
        )


def test_a_poison_event_does_not_stop_the_sweep_or_the_other_subscribers(org, other_org, outbox):
    poison = lost(org, poison=True)
    fine = [lost(org), lost(other_org)]

    events.relay_pending()  # it used to raise here, every minute, at the same event

    assert set(outbox["seen"]) == {poison.pk, *(e.pk for e in fine)}
    failing = delivery(org, poison, "tests.boom")
    assert failing.status == EventDeliveryStatus.PENDING and failing.attempts == 1
    assert failing.last_error == "RuntimeError: subscriber bug"
    assert failing.next_attempt_at > timezone.now()
    for event in fine:
        assert delivery(event.organization, event, "tests.boom").status == "succeeded"
    # The next tick runs nothing twice, and the poison event waits for its retry time.
    outbox["seen"].clear()
    events.relay_pending()
    assert outbox["seen"] == []
    assert delivery(org, poison, "tests.boom").attempts == 1


def test_a_failing_delivery_is_retried_with_exponential_backoff_until_it_gives_up(org, outbox):
    poison = lost(org, poison=True)
    waits = []
    for attempt in range(1, events.MAX_ATTEMPTS + 1):
        events.relay_pending()
        row = delivery(org, poison, "tests.boom")
        assert row.attempts == attempt
        if row.next_attempt_at is not None:
            waits.append(row.next_attempt_at - row.last_attempt_at)
        later(60 * 24)
    assert [round(w.total_seconds()) for w in waits[:4]] == [30, 60, 120, 240]
    assert waits[-1] <= events.MAX_BACKOFF
    assert row.status == EventDeliveryStatus.FAILED and row.next_attempt_at is None
    events.relay_pending()
    assert delivery(org, poison, "tests.boom").attempts == events.MAX_ATTEMPTS


def test_a_fixed_subscriber_succeeds_on_retry_and_runs_once(org, outbox):
    poison = lost(org, poison=True)
    events.relay_pending()
    outbox["broken"] = False
    later(1)
    events.relay_pending()
    row = delivery(org, poison, "tests.boom")
    assert (row.status, row.attempts, row.last_error) == ("succeeded", 2, "")
    assert outbox["seen"].count(poison.pk) == 1


def test_a_failed_attempt_leaves_none_of_its_writes(org, member, monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {})
    monkeypatch.setitem(events.EVENT_TYPES, "thing.happened", "A test event")
    calls = []

    def notify_then_fail(event: Event) -> None:
        Notification.objects.create(organization=org, recipient=member, kind="x")
        calls.append(event.pk)
        if len(calls) == 1:
            raise RuntimeError("after writing")

    events.subscribe("tests.writer", notify_then_fail)
    lost(org)
    events.relay_pending()
    assert not Notification.objects.for_org(org).exists()
    later(1)
    events.relay_pending()
    assert Notification.objects.for_org(org).count() == 1


def test_the_relay_after_commit_and_the_tick_run_a_subscriber_once(
    org, outbox, django_capture_on_commit_callbacks
):
    from followup.site.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = events.record(org=org, type="thing.happened")
    finally:
        app.conf.task_always_eager = False
    Event.objects.for_org(org).filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    events.relay_pending()
    assert events.relay(Event.objects.for_org(org).get(pk=event.pk)) is False
    assert outbox["seen"] == [event.pk]


def test_subscribers_get_only_the_event_types_they_asked_for(org, monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {})
    monkeypatch.setitem(events.EVENT_TYPES, "thing.happened", "A test event")
    monkeypatch.setitem(events.EVENT_TYPES, "thing.other", "Another")
    got = []
    events.subscribe("tests.picky", got.append, types={"thing.other"})
    lost(org)
    events.relay_pending()
    assert got == [] and not EventDelivery.objects.for_org(org).exists()


def test_a_subscriber_name_is_taken_once(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {})
    events.subscribe("tests.one", print)
    events.subscribe("tests.one", print)  # the same again: fine
    with pytest.raises(ValueError, match=r"tests\.one"):
        events.subscribe("tests.one", repr)


def test_the_real_subscribers_have_stable_names():
    names = {s.name for s in events.subscribers()}
    assert {"webhooks.fan_out", "engagements.health"} <= names


# --- Subject types are registry keys ----------------------------------------------------------


def test_events_name_their_subject_by_registry_key_or_app_and_model(
    org, member, make_followup, membership_subject
):
    from followup.engine.models import FollowUp

    own = Membership.objects.for_org(org).get(user=member)
    followup = make_followup()
    events.record(org=org, type="followup.updated", subject=own)
    assert Event.objects.for_org(org).get(type="followup.updated").subject_type == "membership"
    created = Event.objects.for_org(org).get(type="followup.created")
    # A follow-up is a registered subject (comments are about it) under the key "followup".
    assert (created.subject_type, created.subject_id) == ("followup", followup.pk)
    assert subjects.type_key(FollowUp) == "followup"
    # A model nobody registered is named by app label and model.
    assert subjects.type_key(Event) == "kernel.event"


def test_two_apps_models_of_the_same_name_do_not_collide():
    def model(app_label: str):
        meta = type("Meta", (), {"label_lower": f"{app_label}.review", "model_name": "review"})
        return type("Review", (), {"_meta": meta})

    assert subjects.type_key(model("projects")) == "projects.review"
    assert subjects.type_key(model("risks")) == "risks.review"


# --- Admins see failing deliveries and retry them ---------------------------------------------


def page(org) -> str:
    return reverse("followup:event_deliveries", kwargs={"org_slug": org.slug})


def test_admins_see_failing_deliveries_with_their_error_and_retry_them(
    owner_client, org, outbox, django_capture_on_commit_callbacks
):
    poison = lost(org, poison=True)
    events.relay_pending()
    body = owner_client.get(page(org)).content.decode()
    assert "tests.boom" in body and "RuntimeError: subscriber bug" in body
    assert "thing.happened" in body and "tests.seen" not in body  # only the failing ones

    outbox["broken"] = False
    row = delivery(org, poison, "tests.boom")
    retry = reverse("followup:event_delivery_retry", kwargs={"org_slug": org.slug, "pk": row.pk})
    from followup.site.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_client.post(retry)
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302
    assert delivery(org, poison, "tests.boom").status == EventDeliveryStatus.SUCCEEDED
    assert "tests.boom" not in owner_client.get(page(org)).content.decode()


def test_a_given_up_delivery_can_be_retried_once_more(owner_client, org, outbox):
    poison = lost(org, poison=True)
    events.relay_pending()
    EventDelivery.objects.for_org(org).filter(subscriber="tests.boom").update(
        status=EventDeliveryStatus.FAILED, attempts=events.MAX_ATTEMPTS, next_attempt_at=None
    )
    row = delivery(org, poison, "tests.boom")
    assert "Failed" in owner_client.get(page(org)).content.decode()
    owner_client.post(
        reverse("followup:event_delivery_retry", kwargs={"org_slug": org.slug, "pk": row.pk})
    )
    assert delivery(org, poison, "tests.boom").status == EventDeliveryStatus.PENDING
    events.relay_pending()  # the tick runs it if the queued relay was lost
    row = delivery(org, poison, "tests.boom")
    assert (row.status, row.attempts) == (EventDeliveryStatus.FAILED, events.MAX_ATTEMPTS + 1)


def test_only_admins_see_the_event_deliveries(member_client, viewer_client, owner_client, org):
    assert member_client.get(page(org)).status_code == 403
    assert viewer_client.get(page(org)).status_code == 403
    assert owner_client.get(page(org)).status_code == 200


def test_the_event_deliveries_page_takes_constant_queries(owner_client, org, outbox):
    def rows(n):
        for _ in range(n):
            lost(org, poison=True)
        events.relay_pending()

    assert_constant_queries(rows, lambda: owner_client.get(page(org)))


def test_the_webhooks_page_links_to_failing_event_deliveries(owner_client, org, outbox):
    lost(org, poison=True)
    events.relay_pending()
    body = owner_client.get(
        reverse("followup:webhooks", kwargs={"org_slug": org.slug})
    ).content.decode()
    assert page(org) in body


def test_a_retry_whose_worker_died_is_run_by_the_tick_once_its_claim_is_stale(
    org, outbox, settings
):
    import uuid

    poison = lost(org, poison=True)
    events.relay_pending()
    outbox["broken"] = False
    later(1)
    # A tick claimed the retry and died before finishing it.
    EventDelivery.objects.for_org(org).filter(subscriber="tests.boom").update(
        claim=uuid.uuid4(), claimed_at=timezone.now()
    )
    events.relay_pending()
    assert delivery(org, poison, "tests.boom").attempts == 1  # fresh claim: left alone
    EventDelivery.objects.for_org(org).filter(subscriber="tests.boom").update(
        claimed_at=timezone.now() - settings.FOLLOWUP_CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    events.relay_pending()
    row = delivery(org, poison, "tests.boom")
    assert (row.status, row.attempts) == (EventDeliveryStatus.SUCCEEDED, 2)


def test_a_relay_that_dies_before_its_commit_is_handed_out_again_by_the_tick(
    org, outbox, monkeypatch
):
    event = lost(org)

    def die(self, objs, *args, **kwargs):
        raise KeyboardInterrupt  # the worker is killed between subscribers and commit

    with monkeypatch.context() as m:
        m.setattr(type(EventDelivery.objects), "bulk_create", die)
        with pytest.raises(KeyboardInterrupt):
            events.relay(Event.objects.for_org(org).get(pk=event.pk))
    assert Event.objects.for_org(org).get(pk=event.pk).relayed_at is None
    assert not EventDelivery.objects.for_org(org).exists()
    outbox["seen"].clear()
    events.relay_pending()
    assert outbox["seen"] == [event.pk]
    assert EventDelivery.objects.for_org(org).filter(status="succeeded").count() == 2
