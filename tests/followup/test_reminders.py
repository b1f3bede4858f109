"""Reminders: the due state in the database, claims, exactly one delivery per (occurrence,
offset, channel), stuck claims re-sent, two ticks at once, preferences, e-mail in the
recipient's language and zone, and the daily digest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from followup.engine import notifications, reminders, services, tasks
from followup.engine.models import (
    Channel,
    DigestDelivery,
    EmailMode,
    FollowUp,
    Notification,
    ReminderDelivery,
)
from followup.kernel.models import Event


@pytest.fixture
def queued(monkeypatch):
    """Capture the batches a tick hands to workers instead of using the broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.send_reminders, "delay", lambda *args: sent.append(args))
    return sent


def run_tick(queued) -> int:
    claimed = tasks.dispatch_reminders()
    batches = list(queued)
    queued.clear()
    for org_id, ids, token in batches:
        tasks.send_reminders(org_id, ids, token)
    return claimed


def due_now(make_followup, **kwargs):
    followup = make_followup(**kwargs)
    FollowUp.objects.for_org(followup.organization).filter(pk=followup.pk).update(
        next_remind_at=timezone.now() - timedelta(seconds=1)
    )
    followup.refresh_from_db()
    return followup


# --- When ----------------------------------------------------------------------------------


def test_slots_always_include_the_due_time():
    due = datetime(2026, 5, 4, 9, tzinfo=UTC)
    assert [(s.offset, s.at.hour) for s in reminders.slots(due, [1440, 60])] == [
        (1440, 9),
        (60, 8),
        (0, 9),
    ]


def test_reminders_in_the_past_are_not_sent_after_the_fact(settings):
    now = datetime(2026, 5, 4, 9, tzinfo=UTC)
    due = now + timedelta(hours=2)
    assert reminders.first_slot(due, [1440, 60], now).offset == 60
    assert reminders.first_slot(now - timedelta(days=1), [0], now) is None


def test_the_due_state_follows_the_follow_up(make_followup, member):
    due = timezone.now() + timedelta(days=3)
    followup = make_followup(due_at=due, reminder_offsets=[1440])
    assert followup.next_remind_at == due - timedelta(days=1)
    assert followup.next_remind_offset == 1440
    services.followup_complete(followup=followup, actor=member)
    followup.refresh_from_db()
    assert followup.next_remind_at is None


# --- Sending once -----------------------------------------------------------------------------


def test_a_tick_sends_each_channel_once(org, member, make_followup, queued):
    followup = due_now(make_followup)
    assert run_tick(queued) == 1
    channels = set(
        ReminderDelivery.objects.for_org(org)
        .filter(followup=followup)
        .values_list("channel", flat=True)
    )
    assert channels == {Channel.IN_APP, Channel.EMAIL, Channel.EVENT}
    assert Notification.objects.for_org(org).filter(kind="followup.reminder").count() == 1
    assert Event.objects.for_org(org).filter(type="followup.due").count() == 1
    assert len(mail.outbox) == 1
    # The next tick finds nothing: the due state moved on.
    assert run_tick(queued) == 0
    assert len(mail.outbox) == 1
    followup.refresh_from_db()
    assert followup.next_remind_at is None and followup.remind_claim is None


def test_a_re_run_of_the_same_batch_is_a_no_op(org, make_followup, monkeypatch, queued):
    followup = due_now(make_followup)
    tasks.dispatch_reminders()
    (batch,) = queued
    tasks.send_reminders(*batch)
    tasks.send_reminders(*batch)  # redelivered message (acks_late)
    assert ReminderDelivery.objects.for_org(org).filter(followup=followup).count() == 3
    assert len(mail.outbox) == 1


def test_a_stuck_claim_is_re_sent_by_a_later_tick(org, make_followup, queued, settings):
    followup = due_now(make_followup)
    tasks.dispatch_reminders()
    queued.clear()  # the worker that got this batch died before sending
    assert run_tick(queued) == 0  # still claimed: not yet stuck
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
        remind_claimed_at=timezone.now() - settings.FOLLOWUP_CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    assert run_tick(queued) == 1
    assert len(mail.outbox) == 1


def test_a_late_worker_with_a_stolen_claim_sends_nothing(org, make_followup, queued):
    followup = due_now(make_followup)
    tasks.dispatch_reminders()
    (stale_batch,) = queued
    queued.clear()
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
        remind_claimed_at=timezone.now() - timedelta(hours=1)
    )
    run_tick(queued)  # a later tick took it over and sent it
    tasks.send_reminders(*stale_batch)  # the slow worker wakes up
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.for_org(org).filter(followup=followup).count() == 3


def test_a_failing_mail_server_rolls_back_and_retries(org, make_followup, queued, monkeypatch):
    followup = due_now(make_followup)
    from followup.kernel import mail as followup_mail

    real = followup_mail.send_to_user
    monkeypatch.setattr(
        followup_mail, "send_to_user", lambda **kw: (_ for _ in ()).throw(OSError("smtp down"))
    )
    tasks.dispatch_reminders()
    (batch,) = queued
    queued.clear()
    with pytest.raises(OSError):
        tasks.send_reminders(*batch)
    assert not ReminderDelivery.objects.for_org(org).filter(followup=followup).exists()
    assert not Notification.objects.for_org(org).exists()
    monkeypatch.setattr(followup_mail, "send_to_user", real)
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
        remind_claimed_at=timezone.now() - timedelta(hours=1)
    )
    run_tick(queued)
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.for_org(org).filter(followup=followup).count() == 3


def test_a_snooze_starts_a_new_round(org, member, make_followup, queued):
    followup = due_now(make_followup)
    run_tick(queued)
    services.followup_snooze(
        followup=followup,
        actor=member,
        until=max(timezone.now(), followup.due_at) + timedelta(minutes=1),
    )
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
        next_remind_at=timezone.now() - timedelta(seconds=1)
    )
    run_tick(queued)
    assert len(mail.outbox) == 2


def test_each_offset_is_its_own_reminder(org, make_followup, queued):
    due = timezone.now() + timedelta(minutes=10)
    followup = make_followup(due_at=due, reminder_offsets=[0, 60])
    assert followup.next_remind_offset == 0  # an hour before is already past: skipped
    followup = make_followup(due_at=timezone.now() + timedelta(hours=2), reminder_offsets=[0, 60])
    FollowUp.objects.for_org(org).filter(pk=followup.pk).update(
        next_remind_at=timezone.now() - timedelta(seconds=1)
    )
    run_tick(queued)
    followup.refresh_from_db()
    assert followup.next_remind_offset == 0  # the due-time one is next
    assert ReminderDelivery.objects.for_org(org).filter(offset_minutes=60).count() == 2
    assert not ReminderDelivery.objects.for_org(org).filter(channel=Channel.EVENT).exists()


# --- Preferences and language --------------------------------------------------------------------


def test_email_off_sends_in_app_only(org, member, make_followup, queued):
    notifications.preference_set(
        org=org, user=member, kind="followup.reminder", in_app=True, email=EmailMode.OFF
    )
    due_now(make_followup)
    run_tick(queued)
    assert mail.outbox == []
    assert Notification.objects.for_org(org).filter(recipient=member).count() == 1


def test_the_email_speaks_the_recipients_language_and_zone(org, member, make_followup, queued):
    member.language = "zh-hans"
    member.timezone = "Asia/Shanghai"
    member.save()
    due_now(make_followup, title="拜访客户", due_at=datetime(2030, 3, 1, 1, 0, tzinfo=UTC))
    run_tick(queued)
    (message,) = mail.outbox
    assert "拜访客户" in message.subject
    assert "09:00" in message.body  # 01:00 UTC is 09:00 in Shanghai
    assert "http://testserver" in message.body or "http" in message.body
    html = message.alternatives[0][0]
    assert "/o/acme/followups/" in html


# --- Two ticks at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_claim_disjoint_rows(org, member, monkeypatch):
    followups = [
        services.followup_create(
            org=org, actor=member, title=f"F{n}", owner=member, due_at=timezone.now()
        )
        for n in range(40)
    ]
    FollowUp.objects.for_org(org).update(next_remind_at=timezone.now() - timedelta(seconds=1))
    claimed: list[list] = []
    barrier = threading.Barrier(2)

    def tick():
        try:
            barrier.wait(5)
            result = reminders.claim(batch=40)
            claimed.append([pk for _org, pk in result.rows])
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    first, second = claimed
    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == len(followups)


# --- Digest --------------------------------------------------------------------------------


def test_the_digest_comes_once_at_eight_local_instead_of_each_mail(
    org, member, make_followup, queued
):
    member.timezone = "America/New_York"
    member.save()
    notifications.preference_set(
        org=org, user=member, kind="followup.reminder", in_app=True, email=EmailMode.DIGEST
    )
    due_now(make_followup, title="Overdue thing", due_at=timezone.now() - timedelta(days=1))
    run_tick(queued)
    assert mail.outbox == []  # no single reminder mail: it goes into the digest
    seven = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # 07:00 in New York
    make_followup(title="Today thing", due_at=datetime(2030, 1, 15, 20, 0, tzinfo=UTC))
    make_followup(title="Tomorrow thing", due_at=datetime(2030, 1, 16, 15, 0, tzinfo=UTC))
    assert reminders.send_digests(now=seven) == 0
    eight = seven + timedelta(hours=1)
    assert reminders.send_digests(now=eight) == 1
    assert reminders.send_digests(now=eight + timedelta(minutes=5)) == 0
    (message,) = mail.outbox
    assert "Overdue thing" in message.body and "Today thing" in message.body
    assert "Tomorrow thing" not in message.body
    assert DigestDelivery.objects.for_org(org).get(user=member).local_date.isoformat() == (
        "2030-01-15"
    )


def test_digest_is_only_offered_where_it_makes_sense(org, member):
    with pytest.raises(ValueError):
        notifications.preference_set(
            org=org, user=member, kind="followup.assigned", in_app=True, email=EmailMode.DIGEST
        )


def test_notification_email_is_sent_once(org, member, monkeypatch):
    queued: list = []
    monkeypatch.setattr(tasks.send_notification_email, "delay", lambda *a: queued.append(a))
    (note,) = notifications.notify(
        org=org, recipients=[member], kind="followup.assigned", params={"title": "X", "by": "Y"}
    )
    assert note.email_pending
    assert notifications.send_email(org=org, notification_id=note.pk) is True
    assert notifications.send_email(org=org, notification_id=note.pk) is False
    assert len(mail.outbox) == 1
    assert "X" in mail.outbox[0].subject
