"""Business follow-up services lock the row they change, check its state as it is now, and
refuse related objects of another organization whoever calls them (issue 7: "Editing a
follow-up can reopen a completed one" audited here, and "services must not depend on their
callers for tenancy")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from engagements import services
from engagements.models import Contact, Customer, Engagement, Kpi, Touchpoint
from tests.engagements.factories import log, make_contact, make_customer, make_engagement


def _fresh(model, org, obj):
    """The row as another tab loaded it."""
    return model.objects.for_org(org).get(pk=obj.pk)


def test_a_status_change_from_a_stale_page_is_checked_against_the_current_status(org):
    engagement = make_engagement(org)
    stale = _fresh(Engagement, org, engagement)
    services.engagement_save(
        org=org,
        actor=None,
        engagement=_fresh(Engagement, org, engagement),
        data={"status": "closed"},
    )

    # The stale page still says "active", from where "paused" would be legal; closed -> paused
    # is not.
    with pytest.raises(ValidationError) as refused:
        services.engagement_save(org=org, actor=None, engagement=stale, data={"status": "paused"})
    assert "status" in refused.value.message_dict
    assert _fresh(Engagement, org, engagement).status == Engagement.Status.CLOSED


def test_an_edit_from_a_stale_page_keeps_the_concurrent_change_and_bumps_the_version(org):
    customer = make_customer(org, name="ACME", industry="Retail")
    stale = _fresh(Customer, org, customer)
    services.customer_save(
        org=org, actor=None, customer=_fresh(Customer, org, customer), data={"name": "ACME Corp"}
    )

    saved = services.customer_save(
        org=org, actor=None, customer=stale, data={"name": "ACME", "industry": "Wholesale"}
    )

    row = _fresh(Customer, org, customer)
    # The stale page did not change the name (it sent what it had loaded): the rename stays.
    assert (row.name, row.industry) == ("ACME Corp", "Wholesale")
    # Two changes, two versions: an ETag taken after the rename is stale now.
    assert row.version == customer.version + 2 == saved.version


def test_a_touchpoint_correction_from_a_stale_page_bumps_the_version(org):
    customer = make_customer(org)
    touchpoint = log(org, customer, summary="First call")
    stale = _fresh(Touchpoint, org, touchpoint)
    services.touchpoint_update(
        org=org, actor=None, touchpoint=_fresh(Touchpoint, org, touchpoint), data={"outcome": "ok"}
    )
    services.touchpoint_update(org=org, actor=None, touchpoint=stale, data={"summary": "Call"})
    row = _fresh(Touchpoint, org, touchpoint)
    assert (row.summary, row.outcome) == ("Call", "ok")
    assert row.version == touchpoint.version + 2


def test_a_kpi_edit_from_a_stale_page_keeps_the_other_change(org):
    engagement = make_engagement(org)
    kpi = services.kpi_save(
        org=org, actor=None, engagement=engagement, data={"name": "Renewal", "target": 10}
    )
    stale = _fresh(Kpi, org, kpi)
    services.kpi_save(
        org=org,
        actor=None,
        engagement=engagement,
        kpi=_fresh(Kpi, org, kpi),
        data={"manual_value": Decimal("4")},
    )
    services.kpi_save(org=org, actor=None, engagement=engagement, kpi=stale, data={"unit": "k EUR"})
    row = _fresh(Kpi, org, kpi)
    assert (row.unit, row.manual_value, row.version) == ("k EUR", Decimal("4"), kpi.version + 2)


# --- Tenancy in the service ------------------------------------------------------------------


@pytest.fixture
def foreign(other_org):
    customer = make_customer(other_org, name="Globex's customer")
    engagement = make_engagement(other_org, customer=customer)
    return {
        "customer": customer,
        "engagement": engagement,
        "contact": make_contact(other_org, customer=customer),
        "touchpoint": log(other_org, customer, summary="Globex's call"),
        "kpi": services.kpi_save(
            org=other_org, actor=None, engagement=engagement, data={"name": "K", "target": 1}
        ),
    }


def test_services_refuse_to_change_another_organizations_rows(org, foreign):
    attempts = [
        lambda: services.customer_save(
            org=org, actor=None, customer=foreign["customer"], data={"name": "Mine now"}
        ),
        lambda: services.contact_save(
            org=org, actor=None, contact=foreign["contact"], data={"name": "Mine now"}
        ),
        lambda: services.engagement_save(
            org=org, actor=None, engagement=foreign["engagement"], data={"name": "Mine now"}
        ),
        lambda: services.touchpoint_update(
            org=org, actor=None, touchpoint=foreign["touchpoint"], data={"summary": "Mine now"}
        ),
        lambda: services.kpi_save(
            org=org,
            actor=None,
            engagement=foreign["engagement"],
            kpi=foreign["kpi"],
            data={"name": "Mine now"},
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert Customer.objects.for_org(org).count() == 0
    for name, obj in foreign.items():
        fresh = type(obj).objects.get(pk=obj.pk)
        assert getattr(fresh, "name", getattr(fresh, "summary", "")) != "Mine now", name


def test_services_refuse_to_delete_another_organizations_rows(org, other_org, foreign):
    attempts = [
        lambda: services.customer_delete(org=org, actor=None, customer=foreign["customer"]),
        lambda: services.contact_delete(org=org, actor=None, contact=foreign["contact"]),
        lambda: services.engagement_delete(org=org, actor=None, engagement=foreign["engagement"]),
        lambda: services.touchpoint_delete(org=org, actor=None, touchpoint=foreign["touchpoint"]),
        lambda: services.kpi_delete(org=org, actor=None, kpi=foreign["kpi"]),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    for name, obj in foreign.items():
        assert type(obj).objects.for_org(other_org).filter(pk=obj.pk).exists(), name


def test_a_contact_cannot_be_moved_to_another_organizations_customer(org, foreign):
    contact = make_contact(org)
    with pytest.raises(ValidationError):
        services.contact_save(
            org=org, actor=None, contact=contact, data={"customer": foreign["customer"]}
        )
    assert _fresh(Contact, org, contact).customer.organization_id == org.pk


def test_a_touchpoint_cannot_answer_another_organizations_follow_up(org, other_org, outsider):
    from django.utils import timezone

    from followup.engine import services as followups

    theirs = followups.followup_create(
        org=other_org, actor=outsider, title="Globex call", owner=outsider, due_at=timezone.now()
    )
    customer = make_customer(org)
    with pytest.raises(ValidationError):
        log(org, customer, answers=theirs)
    assert not Touchpoint.objects.for_org(org).exists()
