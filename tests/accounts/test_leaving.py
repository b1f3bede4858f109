"""A person who leaves an organization takes none of its data with them.

Removing a member hands their open follow-ups (and the customers and engagements they
own) to a person the remover chooses, or cancels them; it deletes their notification
choices, notifications and calendar addresses and revokes the API keys they created, all
in one transaction. (That every send path also checks membership when it sends:
tests/followup/test_former_members.py.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import departures, services
from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.engine import calendar, notifications, tasks
from followup.engine import services as followups
from followup.engine.models import (
    CalendarFeed,
    EmailMode,
    FollowUp,
    FollowUpStatus,
    Notification,
    NotificationPreference,
)
from followup.kernel.models import Event
from tests.conftest import api_client
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import MembershipFactory, make_api_key
from tests.followup.test_api_conventions import assert_problem


def _membership(org, user):
    return Membership.objects.for_org(org).get(user=user)


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


@pytest.fixture
def tick(monkeypatch):
    """Run the reminder beat tick and its batches in this process."""
    batches: list[tuple] = []
    monkeypatch.setattr(tasks.send_reminders, "delay", lambda *args: batches.append(args))

    def run():
        tasks.dispatch_reminders()
        while batches:
            tasks.send_reminders(*batches.pop(0))

    return run


def _mail_to(user):
    return [m for m in mail.outbox if user.email in m.to]


# --- The reproduction: a removed member keeps receiving the organization's data ----------


def test_a_removed_member_gets_no_reminder_of_the_organizations_follow_ups(
    owner_client, org, owner, member, tick
):
    followup = _followup(org, member)
    _due_now(followup)
    response = owner_client.post(f"/o/acme/members/{_membership(org, member).pk}/remove/")
    assert response.status_code == 302
    tick()
    assert _mail_to(member) == []
    # The reminder went to who took the follow-up over: the remover, by default.
    followup.refresh_from_db()
    assert followup.owner == owner and followup.status == FollowUpStatus.OPEN
    assert [m.subject for m in _mail_to(owner)] and "secret merger" in _mail_to(owner)[0].subject


# --- What removing does -----------------------------------------------------------------


def test_removing_hands_open_work_to_the_chosen_person_and_drops_what_was_only_theirs(
    org, owner, member
):
    manager = MembershipFactory(organization=org, role=Role.MANAGER).user
    open_one = _followup(org, member)
    done = _followup(org, member, title="Done already")
    followups.followup_complete(followup=done, actor=member)
    customer = make_customer(org, owner=member)
    engagement = make_engagement(org, customer=customer, owner=member, team=[member, owner])
    notifications.preference_set(
        org=org, user=member, kind="followup.reminder", in_app=False, email=EmailMode.OFF
    )
    calendar.feed_create(org=org, user=member)
    notifications.notify(
        org=org, recipients=[member], kind="followup.assigned", params={"title": "T", "by": "B"}
    )
    key = make_api_key(org, Role.MEMBER, name="member's script")[0]
    ApiKey.objects.for_org(org).filter(pk=key.pk).update(created_by=member)

    removal = services.membership_remove(
        actor=_membership(org, owner), membership=_membership(org, member), successor=manager
    )

    assert not Membership.objects.for_org(org).filter(user=member).exists()
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert open_one.owner == manager and open_one.status == FollowUpStatus.OPEN
    assert done.owner == member  # history stays as it happened
    customer.refresh_from_db()
    engagement.refresh_from_db()
    assert customer.owner == manager and engagement.owner == manager
    assert set(engagement.team.all()) == {owner}
    assert not NotificationPreference.objects.for_org(org).filter(user=member).exists()
    assert not CalendarFeed.objects.for_org(org).filter(user=member).exists()
    assert not Notification.objects.for_org(org).filter(recipient=member).exists()
    key.refresh_from_db()
    assert key.revoked_at is not None
    counts = {t.key: t.count for t in removal.tallies}
    assert counts["followups_handed_over"] == 1
    assert counts["customers_handed_over"] == 1 and counts["engagements_handed_over"] == 1
    assert counts["api_keys_revoked"] == 1 and counts["calendar_feeds_deleted"] == 1
    # The successor hears of it; sync clients see each change.
    assert (
        Notification.objects.for_org(org)
        .filter(recipient=manager, kind="followup.handed_over")
        .exists()
    )
    changed = set(
        Event.objects.for_org(org)
        .filter(type__in=["followup.updated", "customer.updated", "engagement.updated"])
        .values_list("subject_id", flat=True)
    )
    assert {open_one.pk, customer.pk, engagement.pk} <= changed


def test_cancelling_leaves_the_records_without_an_owner(org, owner, member):
    open_one = _followup(org, member)
    customer = make_customer(org, owner=member)
    removal = services.membership_remove(
        actor=_membership(org, owner), membership=_membership(org, member), successor=None
    )
    open_one.refresh_from_db()
    customer.refresh_from_db()
    assert open_one.status == FollowUpStatus.CANCELLED and open_one.next_remind_at is None
    assert customer.owner is None
    assert {t.key: t.count for t in removal.tallies}["followups_cancelled"] == 1


@pytest.mark.parametrize("who", ["leaving", "viewer", "outsider"])
def test_the_successor_is_another_member_who_can_edit(org, owner, member, viewer, outsider, who):
    successor = {"leaving": member, "viewer": viewer, "outsider": outsider}[who]
    with pytest.raises(ValidationError):
        services.membership_remove(
            actor=_membership(org, owner),
            membership=_membership(org, member),
            successor=successor,
        )
    assert Membership.objects.for_org(org).filter(user=member).exists()


def test_a_failing_hook_leaves_the_member_in_place(org, owner, member, monkeypatch):
    """One transaction: the person leaves with everything handed over, or not at all."""
    followup = _followup(org, member)

    def broken(departure):
        raise RuntimeError("a hook failed")

    monkeypatch.setitem(
        departures._HOOKS, "broken", departures.Hook(holdings=lambda o, p: [], leave=broken)
    )
    with pytest.raises(RuntimeError):
        services.membership_remove(
            actor=_membership(org, owner), membership=_membership(org, member), successor=owner
        )
    assert Membership.objects.for_org(org).filter(user=member).exists()
    followup.refresh_from_db()
    assert followup.owner == member


# --- The members page ---------------------------------------------------------------------


def test_the_page_shows_what_the_person_holds_and_offers_the_choice(owner_client, org, member):
    for _n in range(3):
        _followup(org, member)
    make_customer(org, owner=member)
    page = owner_client.get(f"/o/acme/members/{_membership(org, member).pk}/remove/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 open follow-ups" in html and "1 customer" in html
    assert "Hand their open follow-ups to" in html and "Cancel them" in html
    form = page.context["form"]
    assert form["hand_over_to"].value() == str(page.wsgi_request.user.pk)  # the remover


def test_the_remover_picks_who_takes_over_and_reads_what_happened(owner_client, org, member):
    manager = MembershipFactory(organization=org, role=Role.MANAGER).user
    followup = _followup(org, member)
    response = owner_client.post(
        f"/o/acme/members/{_membership(org, member).pk}/remove/",
        {"hand_over_to": str(manager.pk)},
        follow=True,
    )
    followup.refresh_from_db()
    assert followup.owner == manager
    assert f"1 open follow-up went to {manager.name}" in response.content.decode()


def test_the_remover_may_cancel_instead(owner_client, org, member):
    followup = _followup(org, member)
    owner_client.post(
        f"/o/acme/members/{_membership(org, member).pk}/remove/", {"hand_over_to": "cancel"}
    )
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.CANCELLED


def test_a_member_who_leaves_hands_over_to_an_owner_by_default(member_client, org, owner, member):
    followup = _followup(org, member)
    response = member_client.post(f"/o/acme/members/{_membership(org, member).pk}/remove/")
    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.owner == owner


# --- The members API ----------------------------------------------------------------------


def test_the_api_removes_a_member_and_says_what_happened(api, org, owner, member):
    followup = _followup(org, member)
    customer = make_customer(org, owner=member)
    response = api.post(
        f"/api/v1/members/{_membership(org, member).pk}/remove/",
        {"hand_over_to": str(owner.pk)},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"] == str(member.pk) and body["hand_over_to"] == str(owner.pk)
    assert body["counts"]["followups_handed_over"] == 1
    assert body["counts"]["customers_handed_over"] == 1
    followup.refresh_from_db()
    customer.refresh_from_db()
    assert followup.owner == owner and customer.owner == owner
    assert not Membership.objects.for_org(org).filter(user=member).exists()


def test_the_api_cancels_with_null(api, org, member):
    followup = _followup(org, member)
    response = api.post(
        f"/api/v1/members/{_membership(org, member).pk}/remove/",
        {"hand_over_to": None},
        format="json",
    )
    assert response.status_code == 200 and response.json()["counts"]["followups_cancelled"] == 1
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.CANCELLED


def test_the_api_asks_who_takes_over_when_the_key_has_no_person(api, org, member):
    body = assert_problem(
        api.post(f"/api/v1/members/{_membership(org, member).pk}/remove/", {}, format="json"),
        400,
    )
    assert body["errors"][0]["field"] == "hand_over_to"
    assert Membership.objects.for_org(org).filter(user=member).exists()


def test_an_admin_key_cannot_remove_an_owner_and_a_member_key_nobody(org, owner, member, api):
    owner_membership = _membership(org, owner)
    MembershipFactory(organization=org, role=Role.OWNER)
    assert_problem(
        api.post(
            f"/api/v1/members/{owner_membership.pk}/remove/", {"hand_over_to": None}, format="json"
        ),
        403,
    )
    member_api = api_client(make_api_key(org, Role.MEMBER)[1])
    assert_problem(
        member_api.post(
            f"/api/v1/members/{_membership(org, member).pk}/remove/",
            {"hand_over_to": None},
            format="json",
        ),
        403,
    )
    assert Membership.objects.for_org(org).filter(user__in=[owner, member]).count() == 2


def test_only_an_owner_removes_an_owner_whoever_asks(org, owner):
    admin = MembershipFactory(organization=org, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.membership_remove(
            actor=admin, membership=_membership(org, owner), successor=admin.user
        )


def test_what_a_person_holds_is_counted_by_every_app_that_holds_it(org, member):
    customer = make_customer(org, owner=member)
    make_engagement(org, customer=customer, owner=member)
    make_engagement(org, customer=customer, owner=member)
    _followup(org, member)
    make_api_key(org, Role.MEMBER)
    held = {t.key: t.count for t in departures.holdings(org, member)}
    assert held == {"open_followups": 1, "customers": 1, "engagements": 2}
