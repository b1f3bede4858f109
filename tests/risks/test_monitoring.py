"""Early-warning rules: one open business risk per subject, rule and reason, however often
and however concurrently the rule fires; a re-fire updates it and its score history."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.rls import org_context
from engagements.models import Customer, Engagement
from risks import monitoring, services
from risks.models import EarlyWarning, Risk, RiskRating, RiskStatus, Side
from tests.engagements.factories import log, make_customer, make_engagement

pytestmark = pytest.mark.django_db


def warnings_of(org, rule):
    return Risk.objects.for_org(org).filter(signal__rule=rule)


def key_engagement(org, member, **fields):
    customer = make_customer(org, tier=Customer.Tier.KEY, name="Key customer")
    return make_engagement(org, customer=customer, owner=member, **fields)


def make_red(org, engagement):
    Engagement.objects.for_org(org).filter(pk=engagement.pk).update(
        health_level="red", health_score=20
    )


def test_health_red_raises_one_business_risk_however_often_it_fires(org, member):
    engagement = key_engagement(org, member)
    log(org, engagement.customer, engagement=engagement)  # touched: only the red rule fires
    make_red(org, engagement)
    for _ in range(4):
        monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    risks = warnings_of(org, "health_red")
    assert risks.count() == 1
    risk = risks.get()
    assert risk.side == Side.BUSINESS
    assert risk.engagement_id == engagement.pk
    assert risk.owner == member
    assert risk.signal["rule"] == "health_red" and risk.signal["fired"] == 4
    # Every firing is in the score history: the first rating and three re-fires.
    assert RiskRating.objects.for_org(org).filter(risk=risk).count() == 4


def test_a_re_fire_with_another_rating_re_rates_the_same_risk(org, member):
    engagement = key_engagement(org, member)
    now = timezone.now()
    Engagement.objects.for_org(org).filter(pk=engagement.pk).update(
        last_touch_at=now - timedelta(days=31)
    )
    monitoring.check_engagement(org=org, engagement_id=engagement.pk, now=now)
    first = warnings_of(org, "no_touch").get()
    monitoring.check_engagement(org=org, engagement_id=engagement.pk, now=now + timedelta(days=61))
    again = warnings_of(org, "no_touch").get()
    assert again.pk == first.pk
    assert again.probability > first.probability
    assert list(
        RiskRating.objects.for_org(org).filter(risk=again).values_list("probability", flat=True)
    ) == [first.probability, again.probability]


def test_a_standard_customer_or_a_recent_touch_raises_no_silence_risk(org, member):
    standard = make_engagement(org, customer=make_customer(org), owner=member)
    touched = key_engagement(org, member)
    log(org, touched.customer, engagement=touched)
    Engagement.objects.for_org(org).filter(pk=standard.pk).update(
        last_touch_at=timezone.now() - timedelta(days=90)
    )
    monitoring.sweep()
    assert not warnings_of(org, "no_touch").exists()


def test_organization_settings_change_the_rule(org, member):
    engagement = key_engagement(org, member)
    Engagement.objects.for_org(org).filter(pk=engagement.pk).update(
        last_touch_at=timezone.now() - timedelta(days=10)
    )
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    assert not warnings_of(org, "no_touch").exists()
    org.settings = {"risks": {"early_warning": {"no_touch": {"days": 7}}}}
    org.save()
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    assert warnings_of(org, "no_touch").count() == 1
    org.settings = {"risks": {"early_warning": {"health_red": {"enabled": False}}}}
    org.save()
    make_red(org, engagement)
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    assert not warnings_of(org, "health_red").exists()


def test_satisfaction_below_the_threshold_and_dropping(org, member):
    engagement = key_engagement(org, member)
    now = timezone.now()
    for n, score in enumerate([5, 5, 4, 2, 2, 3]):
        log(
            org,
            engagement.customer,
            engagement=engagement,
            satisfaction=score,
            occurred_at=now - timedelta(days=10 - n),
        )
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    reasons = set(
        EarlyWarning.objects.for_org(org)
        .filter(rule="satisfaction")
        .values_list("reason_key", flat=True)
    )
    # Last three: (3 + 2 + 2) / 3 = 2.3 < 3; the three before: 4.7, a drop of 2.3 points.
    assert reasons == {"low", "drop"}


def test_good_satisfaction_raises_nothing(org, member):
    engagement = key_engagement(org, member)
    for score in [4, 5, 4]:
        log(org, engagement.customer, engagement=engagement, satisfaction=score)
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    assert not warnings_of(org, "satisfaction").exists()


def test_a_closed_warning_lets_the_rule_raise_a_new_risk(org, member):
    engagement = key_engagement(org, member)
    log(org, engagement.customer, engagement=engagement)
    make_red(org, engagement)
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    first = warnings_of(org, "health_red").get()
    services.risk_close(org=org, actor=member, risk=first)
    monitoring.check_engagement(org=org, engagement_id=engagement.pk)
    rows = list(warnings_of(org, "health_red").order_by("created_at"))
    assert [r.status for r in rows] == [RiskStatus.CLOSED, RiskStatus.OPEN]


def test_the_rule_does_not_reach_into_another_organization(org, other_org, member, outsider):
    ours = key_engagement(org, member)
    theirs = make_engagement(other_org, owner=outsider)
    log(org, ours.customer, engagement=ours)
    make_red(org, ours)
    monitoring.check_engagement(org=org, engagement_id=theirs.pk)  # a foreign id: nothing
    monitoring.check_engagement(org=org, engagement_id=ours.pk)
    assert not Risk.objects.for_org(other_org).exists()
    assert Risk.objects.for_org(org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_firing_raises_one_risk(org, member):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    engagement = key_engagement(org, member)
    log(org, engagement.customer, engagement=engagement)
    make_red(org, engagement)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            with org_context(org):  # as the task that fires it runs
                _fire()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def _fire() -> None:
        monitoring.fire(
            org=org,
            rule="health_red",
            subject=Engagement.objects.for_org(org).get(pk=engagement.pk),
            reason_key="red",
            title="Health is red",
            reason="red",
        )

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert warnings_of(org, "health_red").count() == 1
    warning = EarlyWarning.objects.for_org(org).get()
    assert warning.fired_count == 4
