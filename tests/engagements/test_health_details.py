"""Health details a reader can trust (issue 11, defect 9): points never above the most a
signal can give, a KPI badge that says which side of a "≤" target it is on, a chart whose
text keeps its shape on a phone and that tells each day's value on hover and focus."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from django.utils import timezone, translation

from engagements.calc.health import RECENCY, HealthInputs, HealthSettings, compute
from engagements.models import Kpi
from engagements.web.charts import health_trend_svg
from tests.engagements.factories import log, make_engagement


def test_a_signal_is_worth_its_share_of_the_counted_weights():
    # No rated touchpoints and no risk data: recency (40) shares 40 + 15 counted weights.
    health = compute(HealthInputs(cadence_days=14, days_since_last_touch=3, days_since_start=200))
    recency = next(s for s in health.signals if s.key == RECENCY)
    assert recency.weight == 40 and recency.points > recency.weight  # the reproduction: 53 > 40
    assert recency.max_points == round(
        100 * 40 / sum(s.weight for s in health.signals if s.counted), 1
    )
    for s in health.signals:
        assert s.points <= s.max_points + 0.05
    assert round(sum(s.max_points for s in health.signals if s.counted)) == 100


def test_the_page_shows_points_out_of_the_most_the_signal_can_give(member_client, org, member):
    engagement = make_engagement(org)
    log(org, engagement.customer, actor=member)
    page = html.unescape(
        member_client.get(f"/o/acme/engagements/{engagement.pk}/").content.decode()
    )
    pairs = [(int(a), int(b)) for a, b in re.findall(r"(\d+) of (\d+) points", page)]
    assert pairs, "each counted signal says 'N of M points'"
    assert all(got <= most for got, most in pairs)
    assert "(weight" not in page


def test_a_kpi_above_a_lower_is_better_target_says_above(member_client, org, member):
    engagement = make_engagement(org)
    Kpi.objects.create(
        organization=org,
        engagement=engagement,
        name="Days between visits",
        metric=Kpi.Metric.TOUCH_INTERVAL,
        target=14,
    )
    now = timezone.now()
    log(org, engagement.customer, actor=member, occurred_at=now - timedelta(days=60))
    log(org, engagement.customer, actor=member, occurred_at=now - timedelta(days=30))
    log(org, engagement.customer, actor=member, occurred_at=now)
    page = member_client.get(f"/o/acme/engagements/{engagement.pk}/").content.decode()
    assert "≤ 14" in page
    assert "Above target" in page and "Below target" not in page


def test_the_chart_keeps_its_proportions_and_tells_each_value():
    points = [(date(2026, 11, 1) + timedelta(days=i), 80 - i, "green") for i in range(5)]
    with translation.override("en"):
        svg = str(health_trend_svg(points, HealthSettings()))
    assert 'preserveAspectRatio="none"' not in svg
    assert svg.count('tabindex="0"') == 5
    assert "<title>2026-11-03: 78</title>" in svg
    assert "<title>2026-11-05: 76</title>" in svg  # the last point too
