"""Nothing of an organization reaches a person who is no longer its member.

Every send path checks membership when it sends, not when the work was queued or claimed:
a person removed meanwhile (or a row that still names them) gets nothing. (The calendar
feed: tests/followup/test_calendar.py; removing a member: tests/accounts/test_leaving.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from followup.engine import notifications, reminders, tasks
from followup.engine import services as followups
from followup.engine.models import EmailMode, FollowUp, Notification


def _followup(org, owner, **fields):
    values = {
        "org": org,
        "actor": owner,
        "title": "Call ACME about the secret merger",
        "notes": "Their CFO's private number is 555-0100",
        "owner": owner,
        "due_at": timezone.now() + timedelta(minutes=5),
        **fields,
    }
    return followups.followup_create(**values)


def _due_now(followup):
    FollowUp.objects.for_org(followup.organization).filter(pk=followup.pk).update(
        next_remind_at=timezone.now() - timedelta(seconds=1)
    )


def _mail_to(user):
    return [m for m in mail.outbox if user.email in m.to]


def _leaves(org, user):
    """Gone from the organization, whatever rows still name them (a race, old data)."""
    Membership.objects.for_org(org).filter(user=user).delete()


def test_a_reminder_claimed_before_the_removal_is_not_sent_to_the_former_member(org, member):
    """Send paths check membership when they send, not when the work was queued."""
    followup = _followup(org, member)
    _due_now(followup)
    claimed = reminders.claim()
    _leaves(org, member)  # between the claim and the send
    for org_id, ids in reminders.chunks(claimed.rows, 50):
        tasks.send_reminders(org_id, ids, str(claimed.token))
    assert _mail_to(member) == []
    assert not Notification.objects.for_org(org).filter(recipient=member).exists()


def test_a_former_member_gets_no_digest(org, member):
    notifications.preference_set(
        org=org, user=member, kind="followup.reminder", in_app=True, email=EmailMode.DIGEST
    )
    _followup(org, member, due_at=timezone.now() - timedelta(days=1))
    _leaves(org, member)
    assert reminders.send_digests(now=datetime(2030, 1, 15, 12, 0, tzinfo=UTC)) == 0
    assert _mail_to(member) == []


def test_a_notification_email_queued_before_the_removal_is_not_sent(org, member, monkeypatch):
    monkeypatch.setattr(tasks.send_notification_email, "delay", lambda *args: None)
    (note,) = notifications.notify(
        org=org, recipients=[member], kind="followup.assigned", params={"title": "X", "by": "Y"}
    )
    assert note.email_pending
    _leaves(org, member)
    assert notifications.send_email(org=org, notification_id=note.pk) is False
    assert _mail_to(member) == []


def test_nobody_outside_the_organization_is_notified(org, member, outsider):
    created = notifications.notify(
        org=org,
        recipients=[member, outsider],
        kind="followup.assigned",
        params={"title": "X", "by": "Y"},
    )
    assert [n.recipient for n in created] == [member]
