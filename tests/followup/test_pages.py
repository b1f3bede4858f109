"""Pages: My day (htmx and plain posts), lists, team view, notifications and the bell,
preferences, the calendar page and the webhook pages; roles and constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership
from accounts.roles import Role
from followup.engine import notifications, services, webhooks
from followup.engine.models import (
    CalendarFeed,
    FollowUp,
    FollowUpStatus,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import MembershipFactory
from tests.utils import assert_constant_queries

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, **kwargs) -> str:
    from django.urls import reverse

    return reverse(name, kwargs={"org_slug": "acme", **kwargs})


def test_my_day_is_the_home_page(member_client, member, make_followup):
    make_followup(title="Late one", due_at=timezone.now() - timedelta(days=2))
    make_followup(title="Later today", due_at=timezone.now() + timedelta(minutes=1))
    make_followup(title="Next week", due_at=timezone.now() + timedelta(days=5))
    make_followup(title="Next month", due_at=timezone.now() + timedelta(days=30))
    page = member_client.get("/o/acme/").content.decode()
    overdue, rest = page.split('id="today-h"')
    assert "Late one" in overdue and "Later today" not in overdue
    today, week = rest.split('id="week-h"')
    assert "Later today" in today
    assert "Next week" in week and "Next month" not in page


def test_my_day_shows_only_my_follow_ups(member_client, owner, make_followup):
    make_followup(title="Somebody else's", owner=owner)
    assert "Somebody else" not in member_client.get("/o/acme/").content.decode()


def test_complete_from_my_day_with_htmx(member_client, member, make_followup):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    response = member_client.post(
        url("followup:action", pk=followup.pk, action="complete"), {"row": "day"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="fu-{followup.pk}"' in body and "Done" in body and "<html" not in body
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.DONE
    assert FollowUp.objects.for_org(followup.organization).filter(status="open").count() == 1


def test_snooze_without_javascript_redirects_back(member_client, make_followup):
    followup = make_followup(due_at=timezone.now() - timedelta(hours=1))
    response = member_client.post(
        url("followup:action", pk=followup.pk, action="snooze"), {"until": "1w", "next": "/o/acme/"}
    )
    assert response.status_code == 302 and response["Location"] == "/o/acme/"
    followup.refresh_from_db()
    assert followup.due_at > timezone.now() + timedelta(days=6)


def test_a_bad_snooze_is_a_message_not_a_crash(member_client, make_followup):
    followup = make_followup()
    response = member_client.post(
        url("followup:action", pk=followup.pk, action="snooze"), {"until": "never"}, **HTMX
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert (
        member_client.post(url("followup:action", pk=followup.pk, action="explode")).status_code
        == 404
    )


def test_completing_twice_says_so(member_client, make_followup):
    followup = make_followup()
    target = url("followup:action", pk=followup.pk, action="complete")
    member_client.post(target)
    response = member_client.post(target, follow=True)
    assert "cannot become" in response.content.decode()


def test_a_viewer_sees_but_cannot_act(viewer_client, viewer, org, make_followup):
    followup = make_followup(owner=viewer)
    page = viewer_client.get("/o/acme/").content.decode()
    assert followup.title in page and "followups/" + str(followup.pk) + "/complete" not in page
    response = viewer_client.post(url("followup:action", pk=followup.pk, action="complete"))
    assert response.status_code == 403
    assert viewer_client.post(url("followup:create"), {}).status_code == 403


def test_create_and_edit_through_the_form(member_client, member, org):
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = member_client.post(
        url("followup:create"),
        {
            "title": "Visit ACME",
            "owner": member.pk,
            "due": due,
            "priority": 3,
            "reminders": [0, 1440],
            "frequency": "WEEKLY",
            "interval": 2,
            "weekdays": ["MO"],
            "at": "09:00",
            "ends": "never",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    followup = FollowUp.objects.for_org(org).get()
    assert followup.recurrence == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    assert followup.reminder_offsets == [0, 1440]
    page = member_client.get(url("followup:detail", pk=followup.pk)).content.decode()
    assert "Every 2 weeks on Monday at 09:00" in page
    assert page.count("<time") >= 5  # the next five dates


def test_form_errors_are_shown_and_nothing_is_saved(member_client, outsider, org):
    response = member_client.post(
        url("followup:create"),
        {"title": "", "owner": outsider.pk, "due": "soon", "priority": 2, "ends": "until",
         "frequency": "DAILY"},
    )  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count('class="errorlist') >= 3
    assert not FollowUp.objects.for_org(org).exists()


def test_the_cadence_preview_speaks_plain_words(member_client):
    response = member_client.get(
        url("followup:cadence_preview"),
        {"frequency": "MONTHLY", "monthday": "-1", "at": "10:00", "ends": "count", "count": "3",
         "due": "2030-01-10T10:00"},
        **HTMX,
    )  # fmt: skip
    body = response.content.decode()
    assert "Every month on the last day of the month at 10:00, 3 times" in body
    assert body.count("<li>") == 3


def test_team_view_is_for_managers(owner_client, member_client, member, owner, make_followup):
    make_followup(title="Member's late one", due_at=timezone.now() - timedelta(days=1))
    page = owner_client.get(url("followup:team")).content.decode()
    assert "Member&#x27;s late one" in page or "Member's late one" in page
    assert member.name in page
    assert member_client.get(url("followup:team")).status_code == 403


def test_notifications_bell_and_mark_read(member_client, member, org):
    for n in range(3):
        notifications.notify(
            org=org, recipients=[member], kind="followup.assigned",
            params={"title": f"T{n}", "by": "Ann"}, url="/o/acme/", email=False,
        )  # fmt: skip
    bell = member_client.get(url("followup:bell"), **HTMX).content.decode()
    assert 'class="bell-count" aria-hidden="true">3<' in bell and 'hx-trigger="every 30s"' in bell
    assert "bell-count" in member_client.get("/o/acme/").content.decode()
    note = notifications.inbox(org, member).first()
    response = member_client.post(url("followup:notification_read", pk=note.pk), {"open": "1"})
    assert response["Location"] == "/o/acme/"
    assert notifications.unread_count(org, member) == 2
    member_client.post(url("followup:notifications"))
    assert notifications.unread_count(org, member) == 0
    assert "bell-count" not in member_client.get(url("followup:bell")).content.decode()


def test_someone_elses_notification_is_not_found(member_client, owner, org):
    (note,) = notifications.notify(
        org=org, recipients=[owner], kind="followup.assigned", params={"title": "x", "by": "y"}
    )
    assert member_client.post(url("followup:notification_read", pk=note.pk)).status_code == 404


def test_preferences(member_client, member, org):
    page = member_client.get(url("followup:preferences")).content.decode()
    assert "Reminders of my follow-ups" in page
    # Like a browser: every kind's fields as shown, with the changes on top.
    current = {}
    for key, _spec, choice in notifications.preferences(org, member):
        prefix = key.replace(".", "-")
        current[f"{prefix}-email"] = choice.email
        if choice.in_app:
            current[f"{prefix}-in_app"] = "on"
    changes = {"followup-reminder-email": "digest", "followup-assigned-email": "off"}
    response = member_client.post(url("followup:preferences"), {**current, **changes})
    assert response.status_code == 302
    prefs = dict(
        NotificationPreference.objects.for_org(org).filter(user=member).values_list("kind", "email")
    )
    assert prefs["followup.reminder"] == "digest" and prefs["followup.assigned"] == "off"
    bad = member_client.post(url("followup:preferences"), {"followup-assigned-email": "digest"})
    assert bad.status_code == 400


def test_calendar_page_creates_and_revokes(member_client, member, org):
    response = member_client.post(url("followup:calendar"), {"action": "create"})
    assert response["Cache-Control"] == "no-store"
    assert "/calendar/cal_" in response.content.decode()
    assert CalendarFeed.objects.for_org(org).filter(revoked_at__isnull=True).count() == 1
    member_client.post(url("followup:calendar"), {"action": "revoke"})
    assert not CalendarFeed.objects.for_org(org).filter(revoked_at__isnull=True).exists()


def test_webhook_pages_are_for_admins(owner_client, member_client, org):
    assert member_client.get(url("followup:webhooks")).status_code == 403
    response = owner_client.post(
        url("followup:webhooks"),
        {"url": "http://127.0.0.1:9/hook", "event_types": ["followup.due"], "enabled": "on"},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.for_org(org).get()
    assert endpoint.secret in response.content.decode()  # shown once, here
    detail = owner_client.get(url("followup:webhook_detail", pk=endpoint.pk)).content.decode()
    assert endpoint.secret not in detail
    bad = owner_client.post(url("followup:webhooks"), {"url": "ftp://x", "event_types": []})
    assert bad.status_code == 400
    rotated = owner_client.post(
        url("followup:webhook_detail", pk=endpoint.pk), {"action": "rotate"}
    )
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()


def test_webhook_log_and_replay(owner_client, org, monkeypatch):
    from followup.engine import tasks

    queued = []
    monkeypatch.setattr(tasks.replay_webhook, "delay", lambda *a: queued.append(a))
    endpoint = webhooks.endpoint_create(
        org=org, actor=None, url="http://127.0.0.1:9/h", event_types=["followup.due"]
    )
    delivery = WebhookDelivery.objects.create(
        organization=org, endpoint=endpoint, event_type="followup.due", message_id="msg_x",
        body="{}", status="failed", last_status_code=500, attempt_count=11,
    )  # fmt: skip
    page = owner_client.get(url("followup:webhook_detail", pk=endpoint.pk)).content.decode()
    assert "msg_x" in page and "500" in page and "Failed" in page
    response = owner_client.post(url("followup:webhook_replay", pk=delivery.pk))
    assert response.status_code == 302 and queued == [(str(org.pk), str(delivery.pk))]


# --- Constant queries ----------------------------------------------------------------------------


@pytest.fixture
def subject_rows(org, member, membership_subject):
    subject = Membership.objects.for_org(org).get(user=member)

    def make(n):
        for i in range(n):
            services.followup_create(
                org=org, actor=member, title=f"F{i}", owner=member, subject=subject,
                due_at=timezone.now() + timedelta(hours=i % 48 - 24),
            )  # fmt: skip

    return make


def test_my_day_takes_constant_queries(member_client, subject_rows):
    count = assert_constant_queries(subject_rows, lambda: member_client.get("/o/acme/"))
    assert count <= 12


def test_the_list_and_team_take_constant_queries(owner_client, org, member, subject_rows):
    assert_constant_queries(
        subject_rows, lambda: owner_client.get(url("followup:list") + "?who=all")
    )


def test_team_takes_constant_queries(owner_client, org, member):
    people = [MembershipFactory(organization=org, role=Role.MEMBER).user for _ in range(3)]

    def make(n):
        for i in range(n):
            services.followup_create(
                org=org, actor=None, title=f"F{i}", owner=people[i % 3],
                due_at=timezone.now() - timedelta(hours=1 + i),
            )  # fmt: skip

    assert_constant_queries(make, lambda: owner_client.get(url("followup:team")))


def test_notifications_take_constant_queries(member_client, org, member):
    def make(n):
        for i in range(n):
            notifications.notify(
                org=org, recipients=[member], kind="followup.assigned",
                params={"title": str(i), "by": "x"}, dedupe_key=f"{timezone.now().timestamp()}-{i}",
            )  # fmt: skip

    assert_constant_queries(make, lambda: member_client.get(url("followup:notifications")))
