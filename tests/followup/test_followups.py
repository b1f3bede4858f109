"""Follow-up services: status moves as data, recurrence in the owner's zone, snooze,
reassign, subjects through the registry, and exactly one next occurrence under a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from accounts.rls import org_context
from accounts.roles import Role
from followup.engine import services
from followup.engine.models import TRANSITIONS, FollowUp, FollowUpStatus, Notification
from followup.kernel import subjects
from followup.kernel.models import Event
from tests.factories import MembershipFactory


def test_it_creates_a_follow_up_with_an_event(org, member, make_followup):
    followup = make_followup(title="  Call ACME  ")
    assert followup.title == "Call ACME"
    assert followup.status == FollowUpStatus.OPEN
    assert followup.next_remind_at == followup.due_at  # default reminder: at due time
    event = Event.objects.for_org(org).get(type="followup.created")
    assert event.payload["id"] == str(followup.pk)


def test_the_owner_must_be_a_member(org, make_followup, outsider):
    with pytest.raises(ValidationError):
        make_followup(owner=outsider)


def test_a_naive_due_time_is_refused(make_followup):
    with pytest.raises(ValidationError):
        make_followup(due_at=datetime(2026, 1, 1, 9))


def test_transitions_are_data_and_illegal_moves_are_refused(make_followup, member):
    assert TRANSITIONS[FollowUpStatus.DONE] == frozenset()
    followup = make_followup()
    services.followup_complete(followup=followup, actor=member)
    for move in (services.followup_complete, services.followup_skip, services.followup_cancel):
        with pytest.raises(services.TransitionError):
            move(followup=followup, actor=member)
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.DONE


def test_cancel_and_reopen(make_followup, member):
    followup = make_followup()
    services.followup_cancel(followup=followup, actor=member)
    outcome = services.followup_reopen(followup=followup, actor=member)
    assert outcome.followup.status == FollowUpStatus.OPEN
    assert outcome.followup.completed_at is None


def test_completing_records_who_and_what_answered_it(org, make_followup, member):
    import uuid

    followup = make_followup()
    touchpoint_id = uuid.uuid4()
    outcome = services.followup_complete(
        followup=followup, actor=member, answered_by_type="touchpoint", answered_by_id=touchpoint_id
    )
    assert outcome.followup.completed_by == member
    assert outcome.followup.answered_by_id == touchpoint_id
    assert outcome.next is None
    assert Event.objects.for_org(org).filter(type="followup.completed").count() == 1


def test_completing_a_recurring_one_schedules_the_next_at_local_nine(make_followup, member):
    member.timezone = "Europe/Berlin"
    member.save()
    # Monday 2026-10-19 09:00 Berlin (CEST); the next, two weeks later, is after fall-back.
    due = datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    followup = make_followup(due_at=due, recurrence_rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO")
    assert followup.recurrence_time.strftime("%H:%M") == "09:00"
    with freeze(datetime(2026, 10, 19, 10, 0, tzinfo=UTC)):
        outcome = services.followup_complete(followup=followup, actor=member)
    nxt = outcome.next
    assert nxt.due_at == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert (nxt.series_id, nxt.sequence, nxt.previous_id) == (followup.series_id, 1, followup.pk)
    assert nxt.status == FollowUpStatus.OPEN and nxt.next_remind_at == nxt.due_at


def test_finishing_late_catches_up_to_the_future(make_followup, member):
    due = timezone.now() - timedelta(days=10)
    followup = make_followup(due_at=due, recurrence_rule="FREQ=DAILY")
    nxt = services.followup_skip(followup=followup, actor=member).next
    assert timezone.now() < nxt.due_at <= timezone.now() + timedelta(days=1)


def test_a_series_with_count_ends(make_followup, member):
    followup = make_followup(recurrence_rule="FREQ=DAILY;COUNT=2")
    second = services.followup_complete(followup=followup, actor=member).next
    assert second is not None
    assert services.followup_complete(followup=second, actor=member).next is None


def test_cancelling_stops_the_series(make_followup, member):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    assert services.followup_cancel(followup=followup, actor=member).next is None


def test_editing_the_rule_applies_to_future_occurrences(make_followup, member):
    member.timezone = "UTC"
    member.save()
    due = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday
    followup = make_followup(due_at=due, recurrence_rule="FREQ=WEEKLY;BYDAY=MO")
    services.followup_update(
        followup=followup, actor=member, recurrence_rule="FREQ=WEEKLY;BYDAY=FR"
    )
    followup.refresh_from_db()
    assert followup.due_at == due  # this occurrence keeps its date
    nxt = services.followup_complete(followup=followup, actor=member).next
    assert nxt.due_at == datetime(2030, 1, 11, 9, 0, tzinfo=UTC)  # the next Friday
    assert nxt.recurrence == "FREQ=WEEKLY;BYDAY=FR"


def test_a_bad_rule_is_a_validation_error(make_followup):
    with pytest.raises(ValidationError) as info:
        make_followup(recurrence_rule="FREQ=SOMETIMES")
    assert "recurrence" in info.value.message_dict


def test_snooze_moves_the_due_time_but_not_the_cadence(make_followup, member):
    member.timezone = "UTC"
    member.save()
    due = timezone.now() + timedelta(hours=1)
    followup = make_followup(due_at=due, recurrence_rule="FREQ=DAILY")
    later = timezone.now() + timedelta(days=2)
    snoozed = services.followup_snooze(followup=followup, actor=member, until=later)
    assert snoozed.due_at == later and snoozed.next_remind_at == later
    assert snoozed.occurrence_at == followup.occurrence_at
    with pytest.raises(ValidationError):
        services.followup_snooze(
            followup=followup, actor=member, until=timezone.now() - timedelta(1)
        )


def test_snooze_choices_land_in_the_future(make_followup):
    followup = make_followup(due_at=timezone.now() - timedelta(days=3))
    for choice in services.SNOOZE_CHOICES:
        assert services.snooze_target(followup, choice) > timezone.now()
    with pytest.raises(ValidationError):
        services.snooze_target(followup, "forever")


@pytest.mark.parametrize("choice", list(services.SNOOZE_CHOICES))
def test_snoozing_a_follow_up_due_later_never_makes_it_due_earlier(make_followup, member, choice):
    """Issue 11, defect 2: "Snooze for 1 hour" on a follow-up due in two days made it due in
    one hour; "Tomorrow" too."""
    member.timezone = "Europe/Paris"
    member.save()
    due = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    followup = make_followup(due_at=due)
    until = services.snooze_target(followup, choice)
    assert until > due
    snoozed = services.followup_snooze(followup=followup, actor=member, until=until)
    assert snoozed.due_at > due


def test_one_hour_later_counts_from_the_due_time_or_from_now_when_overdue(make_followup):
    now = timezone.now()
    upcoming = make_followup(due_at=now + timedelta(days=2))
    assert services.snooze_target(upcoming, "1h", now=now) == upcoming.due_at + timedelta(hours=1)
    overdue = make_followup(due_at=now - timedelta(days=2))
    assert services.snooze_target(overdue, "1h", now=now) == now + timedelta(hours=1)


def test_one_day_later_keeps_the_time_of_day(make_followup, member):
    member.timezone = "UTC"
    member.save()
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    followup = make_followup(due_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    assert services.snooze_target(followup, "tomorrow", now=now) == datetime(
        2026, 12, 4, 10, 0, tzinfo=UTC
    )
    overdue = make_followup(due_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    assert services.snooze_target(overdue, "tomorrow", now=now) == datetime(
        2026, 12, 2, 10, 0, tzinfo=UTC
    )


def test_a_snooze_to_before_the_due_time_is_refused(make_followup, member):
    due = timezone.now() + timedelta(days=2)
    followup = make_followup(due_at=due)
    with pytest.raises(ValidationError) as info:
        services.followup_snooze(
            followup=followup, actor=member, until=timezone.now() + timedelta(hours=1)
        )
    assert "until" in info.value.message_dict
    followup.refresh_from_db()
    assert followup.due_at == due


def test_reassign_tells_the_new_owner(org, make_followup, member, owner):
    followup = make_followup()
    services.followup_reassign(followup=followup, actor=member, owner=owner)
    followup.refresh_from_db()
    assert followup.owner == owner
    note = Notification.objects.for_org(org).get(recipient=owner)
    assert note.kind == "followup.assigned"


def test_reassign_to_an_outsider_is_refused(make_followup, member, outsider):
    with pytest.raises(ValidationError):
        services.followup_reassign(followup=make_followup(), actor=member, owner=outsider)


# --- Subjects through the registry -------------------------------------------------------------


def test_a_subject_is_resolved_inside_the_organization(
    org, other_org, member, outsider, membership_subject
):
    mine = Membership.objects.for_org(org).get(user=member)
    theirs = Membership.objects.for_org(other_org).get(user=outsider)
    assert subjects.resolve(org, "membership", str(mine.pk)) == mine
    for key, obj_id in [("membership", theirs.pk), ("membership", "nope"), ("unknown", mine.pk)]:
        with pytest.raises(ValidationError):
            subjects.resolve(org, key, obj_id)


def test_deleting_a_subject_cancels_its_open_follow_ups(
    org, member, make_followup, membership_subject
):
    subject = MembershipFactory(organization=org, role=Role.VIEWER)
    open_one = make_followup(subject=subject)
    done_one = make_followup(subject=subject)
    services.followup_complete(followup=done_one, actor=member)
    other = make_followup()
    subject.delete()
    statuses = dict(FollowUp.objects.for_org(org).values_list("pk", "status"))
    assert statuses[open_one.pk] == FollowUpStatus.CANCELLED
    assert statuses[done_one.pk] == FollowUpStatus.DONE
    assert statuses[other.pk] == FollowUpStatus.OPEN


def test_subjects_are_attached_without_a_query_per_row(
    org, member, make_followup, membership_subject, django_assert_max_num_queries
):
    from followup.engine import selectors

    people = [MembershipFactory(organization=org) for _ in range(5)]
    for person in people:
        make_followup(subject=person)
    subjects.content_type_for("membership")  # cached for the process, like in production
    with django_assert_max_num_queries(2):
        rows = selectors.with_subjects(org, selectors.followups(org))
    assert {r.subject_ref.title for r in rows} == {p.user.email for p in people}


# --- Two requests complete at the same moment --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_completion_creates_exactly_one_next_occurrence(org, member):
    followup = services.followup_create(
        org=org,
        actor=member,
        title="Weekly check-in",
        owner=member,
        due_at=timezone.now() + timedelta(hours=1),
        recurrence_rule="FREQ=WEEKLY",
    )
    barrier = threading.Barrier(2)
    results: list[str] = []

    def complete():
        try:
            copy = FollowUp.objects.for_org(org).select_related("organization").get(pk=followup.pk)
            barrier.wait(5)
            with org_context(org):  # as the request that completes it runs
                services.followup_complete(followup=copy, actor=member)
            results.append("done")
        except services.TransitionError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(results) == ["done", "refused"]
    series = FollowUp.objects.for_org(org).filter(series_id=followup.series_id)
    assert series.count() == 2
    assert series.filter(status=FollowUpStatus.OPEN, sequence=1).count() == 1


class freeze:
    """Patch django.utils.timezone.now for a block (no extra dependency)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __enter__(self):
        from unittest import mock

        self.patch = mock.patch("django.utils.timezone.now", return_value=self.moment)
        self.patch.start()
        return self

    def __exit__(self, *exc):
        self.patch.stop()


def test_the_api_refuses_a_snooze_that_would_make_it_due_earlier(api, member, make_followup):
    due = timezone.now() + timedelta(days=2)
    followup = make_followup(due_at=due)
    earlier = (timezone.now() + timedelta(hours=1)).isoformat()
    response = api.post(
        f"/api/v1/followups/{followup.pk}/snooze/", {"until": earlier}, format="json"
    )
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["until"]
    followup.refresh_from_db()
    assert followup.due_at == due
    later = api.post(f"/api/v1/followups/{followup.pk}/snooze/", {"preset": "1h"}, format="json")
    assert later.status_code == 200
    assert datetime.fromisoformat(later.json()["due_at"]) == due + timedelta(hours=1)
