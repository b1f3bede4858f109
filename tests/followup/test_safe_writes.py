"""Follow-up services lock the row, check its state, then write only what they change.

Issue 7, "Editing a follow-up can reopen a completed one": the edit page loaded the row
without a lock and saved every field, so an edit racing a completion in another tab wrote
``status=open`` back over ``done`` and left two open occurrences in one series. And
"``followup_update`` accepts a foreign-organization subject": create checked the subject's
organization, update did not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from followup.engine import services
from followup.engine.models import FollowUp, FollowUpStatus
from followup.engine.web.forms import FollowUpForm


def _fresh(org, followup) -> FollowUp:
    """The row as another tab (another request) loaded it."""
    return FollowUp.objects.for_org(org).select_related("owner", "organization").get(pk=followup.pk)


def _open_in_series(org, followup) -> int:
    return (
        FollowUp.objects.for_org(org)
        .filter(series_id=followup.series_id, status=FollowUpStatus.OPEN)
        .count()
    )


def test_an_edit_from_a_page_loaded_before_completion_is_refused(org, member, make_followup):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    edit_tab = _fresh(org, followup)
    services.followup_complete(followup=_fresh(org, followup), actor=member)

    with pytest.raises(services.TransitionError):
        services.followup_update(followup=edit_tab, actor=member, title="Call ACME again")

    assert FollowUp.objects.for_org(org).get(pk=followup.pk).status == FollowUpStatus.DONE
    assert _open_in_series(org, followup) == 1


def test_the_edit_page_racing_a_completion_in_another_tab_leaves_one_open_occurrence(
    member_client, org, member, make_followup, monkeypatch
):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    page = reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup.pk})
    form_is_valid = FollowUpForm.is_valid

    def another_tab_completes_meanwhile(form: FollowUpForm) -> bool:
        services.followup_complete(followup=_fresh(org, followup), actor=member)
        return form_is_valid(form)

    monkeypatch.setattr(FollowUpForm, "is_valid", another_tab_completes_meanwhile)
    response = member_client.post(
        page,
        {
            "title": "Call ACME, edited",
            "owner": member.pk,
            "due": timezone.localtime(followup.due_at).strftime("%Y-%m-%dT%H:%M"),
            "priority": 2,
            "reminders": [0],
            "frequency": "DAILY",
            "interval": 1,
            "ends": "never",
            "version": followup.version,
        },
    )

    assert response.status_code == 400
    assert "Done" in response.content.decode()
    done = FollowUp.objects.for_org(org).get(pk=followup.pk)
    assert (done.status, done.title) == (FollowUpStatus.DONE, "Call ACME")
    assert _open_in_series(org, followup) == 1


def test_an_edit_saved_over_a_newer_change_is_refused_not_lost(
    member_client, org, member, make_followup
):
    followup = make_followup()
    page = reverse("followup:detail", kwargs={"org_slug": org.slug, "pk": followup.pk})
    seen_version = followup.version
    later = timezone.now() + timedelta(days=3)
    services.followup_snooze(followup=_fresh(org, followup), actor=member, until=later)

    response = member_client.post(
        page,
        {
            "title": "Call ACME, edited",
            "owner": member.pk,
            "due": timezone.localtime(followup.due_at).strftime("%Y-%m-%dT%H:%M"),
            "priority": 2,
            "reminders": [0],
            "ends": "never",
            "version": seen_version,
        },
    )

    assert response.status_code == 400
    assert "changed" in response.content.decode()
    kept = FollowUp.objects.for_org(org).get(pk=followup.pk)
    assert kept.due_at == later and kept.title == "Call ACME"


def test_each_service_writes_only_its_own_fields(org, member, owner, make_followup):
    followup = make_followup()
    stale = _fresh(org, followup)
    # Another request renames it; the services below work from the stale copy.
    services.followup_update(followup=_fresh(org, followup), actor=member, title="Renamed")

    services.followup_snooze(followup=stale, actor=member, until=timezone.now() + timedelta(days=2))
    services.followup_reassign(followup=stale, actor=member, owner=owner)

    row = FollowUp.objects.for_org(org).get(pk=followup.pk)
    assert (row.title, row.owner_id) == ("Renamed", owner.pk)
    # The version grew with every change (1 created, +3), so an ETag never repeats.
    assert row.version == followup.version + 3


def test_snooze_and_reassign_from_a_stale_page_do_not_touch_a_completed_follow_up(
    org, member, owner, make_followup
):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    stale = _fresh(org, followup)
    services.followup_complete(followup=_fresh(org, followup), actor=member)

    with pytest.raises(services.TransitionError):
        services.followup_snooze(
            followup=stale, actor=member, until=timezone.now() + timedelta(days=2)
        )
    with pytest.raises(services.TransitionError):
        services.followup_reassign(followup=stale, actor=member, owner=owner)
    assert _open_in_series(org, followup) == 1


def test_reopening_from_a_stale_page_cannot_reopen_a_done_one(org, member, make_followup):
    followup = make_followup()
    stale = _fresh(org, followup)
    services.followup_complete(followup=_fresh(org, followup), actor=member)
    with pytest.raises(services.TransitionError):
        services.followup_reopen(followup=stale, actor=member)
    assert FollowUp.objects.for_org(org).get(pk=followup.pk).status == FollowUpStatus.DONE


def test_deleting_from_a_stale_page_records_the_row_as_it_was_deleted(org, member, make_followup):
    from followup.kernel.models import Event

    followup = make_followup()
    stale = _fresh(org, followup)
    services.followup_update(followup=_fresh(org, followup), actor=member, title="Renamed")
    services.followup_delete(followup=stale, actor=member)
    deleted = Event.objects.for_org(org).get(type="followup.deleted")
    assert deleted.payload["title"] == "Renamed"
    assert not FollowUp.objects.for_org(org).filter(pk=followup.pk).exists()


# --- Tenancy in the service, whoever calls it -----------------------------------------------


def test_update_refuses_a_subject_of_another_organization(
    org, other_org, outsider, member, make_followup, membership_subject
):
    followup = make_followup()
    foreign = Membership.objects.for_org(other_org).get(user=outsider)
    with pytest.raises(ValidationError) as refused:
        services.followup_update(followup=followup, actor=member, subject=foreign)
    assert "subject_id" in refused.value.message_dict
    row = FollowUp.objects.for_org(org).get(pk=followup.pk)
    assert row.subject_id is None


def test_update_refuses_a_subject_that_is_not_followable(
    org, member, make_followup, membership_subject
):
    followup = make_followup()
    with pytest.raises(ValidationError):
        services.followup_update(followup=followup, actor=member, subject=followup)


def test_update_accepts_a_subject_of_its_own_organization(
    org, member, make_followup, membership_subject
):
    followup = make_followup()
    own = Membership.objects.for_org(org).get(user=member)
    updated = services.followup_update(followup=followup, actor=member, subject=own)
    assert FollowUp.objects.for_org(org).get(pk=followup.pk).subject_id == own.pk
    assert updated.subject == own


def test_saving_a_webhook_endpoint_from_a_stale_page_keeps_a_rotated_secret(org, owner):
    from followup.engine import webhooks
    from followup.engine.models import WebhookEndpoint

    endpoint = webhooks.endpoint_create(
        org=org, actor=owner, url="https://example.com/hook", event_types=["followup.created"]
    )
    stale = WebhookEndpoint.objects.for_org(org).get(pk=endpoint.pk)
    rotated = webhooks.endpoint_rotate_secret(
        endpoint=WebhookEndpoint.objects.for_org(org).get(pk=endpoint.pk)
    )
    webhooks.endpoint_update(endpoint=stale, description="CRM")
    row = WebhookEndpoint.objects.for_org(org).get(pk=endpoint.pk)
    assert (row.secret, row.description) == (rotated.secret, "CRM")
    assert row.version == endpoint.version + 2
