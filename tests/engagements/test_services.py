"""Logging touchpoints and keeping health: the effects every channel shares."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from engagements import services
from engagements.models import Engagement, HealthSnapshot, Touchpoint
from followup.engine.models import Notification
from followup.kernel.models import Event
from tests.engagements.factories import log, make_contact, make_customer, make_engagement
from tests.factories import MembershipFactory


def _events(org, type_):
    return list(Event.objects.for_org(org).filter(type=type_))


def test_it_picks_the_customers_only_active_engagement(org, member):
    engagement = make_engagement(org)
    make_engagement(org, customer=engagement.customer, status=Engagement.Status.PAUSED)
    tp = log(org, engagement.customer, actor=member)
    assert tp.engagement == engagement
    assert tp.logged_by == member


def test_it_asks_which_engagement_when_there_are_several(org, member):
    engagement = make_engagement(org)
    make_engagement(org, customer=engagement.customer)
    with pytest.raises(ValidationError) as exc:
        log(org, engagement.customer, actor=member)
    assert "engagement" in exc.value.message_dict
    assert not Touchpoint.objects.for_org(org).exists()


def test_a_customer_without_engagement_still_gets_its_touchpoint(org):
    customer = make_customer(org)
    tp = log(org, customer)
    assert tp.engagement is None
    customer.refresh_from_db()
    assert customer.last_touch_at == tp.occurred_at


def test_it_refuses_an_engagement_or_contact_of_another_customer(org):
    engagement = make_engagement(org)
    stranger = make_engagement(org)
    with pytest.raises(ValidationError, match="another customer"):
        log(org, engagement.customer, engagement=stranger)
    with pytest.raises(ValidationError, match="belong to the customer"):
        log(org, engagement.customer, contacts=[make_contact(org, customer=stranger.customer)])


def test_it_refuses_out_of_range_scores_and_the_future(org):
    engagement = make_engagement(org)
    with pytest.raises(ValidationError) as exc:
        log(org, engagement.customer, sentiment=3, satisfaction=0)
    assert {"sentiment", "satisfaction"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError, match="future"):
        log(org, engagement.customer, occurred_at=timezone.now() + timedelta(days=3))
    assert not Touchpoint.objects.for_org(org).exists()


def test_logging_moves_last_touch_recomputes_health_and_records_an_event(org, member):
    engagement = make_engagement(org, started_on=timezone.localdate() - timedelta(days=60))
    engagement.refresh_from_db()
    assert engagement.health_level == "red"  # sixty days, never touched
    tp = log(org, engagement.customer, actor=member, sentiment=2)
    engagement.refresh_from_db()
    assert engagement.last_touch_at == tp.occurred_at
    assert engagement.health_level == "green" and engagement.health_score == 100
    assert (
        engagement.customer.__class__.objects.for_org(org)
        .get(pk=engagement.customer_id)
        .health_level
        == "green"
    )
    created = _events(org, "touchpoint.created")
    assert [e.subject_id for e in created] == [tp.pk]
    assert created[0].actor == member
    changes = _events(org, "engagement.health_changed")
    assert changes[-1].payload["from"] == "red" and changes[-1].payload["to"] == "green"


def test_an_older_touchpoint_does_not_move_last_touch_back(org):
    engagement = make_engagement(org)
    recent = log(org, engagement.customer)
    log(org, engagement.customer, occurred_at=timezone.now() - timedelta(days=20))
    engagement.refresh_from_db()
    assert engagement.last_touch_at == recent.occurred_at


def test_turning_red_notifies_owner_and_managers_once_per_episode(org, member):
    manager = MembershipFactory(organization=org, role=Role.MANAGER).user
    engagement = make_engagement(org, owner=member)
    log(org, engagement.customer, occurred_at=timezone.now() - timedelta(days=1))
    assert not Notification.objects.for_org(org).exists()

    later = timezone.now() + timedelta(days=50)  # fifty days of silence
    for _ in range(3):  # the nightly job and every recompute after it
        services.engagement_health_refresh(org=org, engagement_id=engagement.pk, now=later)
    notes = Notification.objects.for_org(org).filter(kind="engagement.turned_red")
    assert sorted(n.recipient_id for n in notes) == sorted([member.pk, manager.pk])

    # Back to green, then red again: a new episode, a new notification.
    log(org, engagement.customer)
    engagement.refresh_from_db()
    assert engagement.health_level == "green" and engagement.red_since is None
    services.engagement_health_refresh(
        org=org, engagement_id=engagement.pk, now=timezone.now() + timedelta(days=60)
    )
    assert notes.all().count() == 4


def test_owners_hear_about_red_when_there_is_no_manager(org, owner, member):
    engagement = make_engagement(
        org, owner=None, started_on=timezone.localdate() - timedelta(days=90)
    )
    notes = Notification.objects.for_org(org).filter(kind="engagement.turned_red")
    assert [n.recipient for n in notes] == [owner]
    assert notes[0].url == f"/o/acme/engagements/{engagement.pk}/"


def test_snapshots_are_one_per_engagement_per_day(org):
    engagement = make_engagement(org)
    log(org, engagement.customer)
    now = timezone.now()
    assert services.health_snapshot_take(org=org, engagement_ids=[engagement.pk], now=now) == 1
    services.health_snapshot_take(org=org, engagement_ids=[engagement.pk], now=now)
    assert HealthSnapshot.objects.for_org(org).count() == 1
    services.health_snapshot_take(
        org=org, engagement_ids=[engagement.pk], now=now + timedelta(days=1)
    )
    assert HealthSnapshot.objects.for_org(org).count() == 2


def test_the_snapshot_tick_covers_active_engagements_of_every_org(org, other_org, settings):
    from engagements import tasks
    from followup.site.celery import app

    active = make_engagement(org)
    make_engagement(org, status=Engagement.Status.PAUSED)
    make_engagement(other_org)
    app.conf.task_always_eager = True
    try:
        tasks.health_snapshots_tick.delay()
        tasks.health_snapshots_tick.delay()  # twice the same day: still one row each
    finally:
        app.conf.task_always_eager = False
    assert list(HealthSnapshot.objects.for_org(org).values_list("engagement", flat=True)) == [
        active.pk
    ]
    assert HealthSnapshot.objects.for_org(other_org).count() == 1


def test_engagement_status_moves_follow_the_pipeline(org):
    engagement = make_engagement(org)
    services.engagement_save(org=org, actor=None, data={"status": "closed"}, engagement=engagement)
    with pytest.raises(ValidationError, match="cannot go from"):
        services.engagement_save(
            org=org, actor=None, data={"status": "paused"}, engagement=engagement
        )
    services.engagement_save(org=org, actor=None, data={"status": "active"}, engagement=engagement)


def test_a_closed_engagement_no_longer_colours_its_customer(org):
    engagement = make_engagement(org, started_on=timezone.localdate() - timedelta(days=90))
    customer = engagement.customer
    customer.refresh_from_db()
    assert customer.health_level == "red"
    services.engagement_save(org=org, actor=None, data={"status": "closed"}, engagement=engagement)
    customer.refresh_from_db()
    assert customer.health_level == "" and customer.health_score is None


def test_external_ids_are_unique_per_organization_only(org, other_org):
    make_customer(org, external_id="crm-1")
    make_customer(other_org, external_id="crm-1")
    with pytest.raises(ValidationError):
        make_customer(org, external_id="crm-1")


def test_one_primary_contact_per_customer(org):
    customer = make_customer(org)
    first = make_contact(org, customer=customer, is_primary=True)
    second = make_contact(org, customer=customer, is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary


def test_health_settings_are_validated_and_stored(org):
    with pytest.raises(ValidationError):
        services.health_settings_update(
            org=org, actor=None, values={"red_below": 80, "amber_below": 60}
        )
    services.health_settings_update(org=org, actor=None, values={"amber_below": 80})
    org.refresh_from_db()
    assert org.settings["health"]["amber_below"] == 80


def test_saving_a_stale_engagement_keeps_its_health_and_last_touch(org):
    engagement = make_engagement(org)
    stale = Engagement.objects.for_org(org).get(pk=engagement.pk)
    tp = log(org, engagement.customer, sentiment=-2)
    services.engagement_save(org=org, actor=None, data={"name": "Renamed"}, engagement=stale)
    fresh = Engagement.objects.for_org(org).get(pk=engagement.pk)
    assert fresh.name == "Renamed" and fresh.last_touch_at == tp.occurred_at
    assert fresh.health_signals and fresh.version > stale.version - 1


def test_effort_per_month_uses_the_organizations_months_and_shows_quiet_ones(org, member):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from engagements import selectors

    org.timezone = "Asia/Shanghai"
    org.save()
    customer = make_customer(org)
    shanghai = ZoneInfo("Asia/Shanghai")
    # 23:30 on 31 October in Shanghai is still October there (15:30 UTC).
    log(
        org,
        customer,
        occurred_at=datetime(2026, 10, 31, 23, 30, tzinfo=shanghai),
        effort_minutes=30,
    )
    log(org, customer, occurred_at=datetime(2026, 11, 1, 0, 30, tzinfo=shanghai), effort_minutes=45)
    rows = selectors._effort_by_month(org, date(2026, 11, 1), 3, shanghai)
    assert [(row["month"].date(), row["touches"], row["minutes"]) for row in rows] == [
        (date(2026, 9, 1), 0, 0),
        (date(2026, 10, 1), 1, 30),
        (date(2026, 11, 1), 1, 45),
    ]
