"""The health score, without a database: each signal, the weights and the thresholds."""

from __future__ import annotations

import pytest
from django.utils import translation

from engagements.calc.health import (
    AMBER,
    GREEN,
    OPEN_RISKS,
    OVERDUE_FOLLOWUPS,
    RECENCY,
    RED,
    SATISFACTION,
    SENTIMENT,
    HealthInputs,
    HealthSettings,
    compute,
    level_for,
)
from engagements.health_words import describe


def inputs(**kwargs) -> HealthInputs:
    base = {"cadence_days": 14, "days_since_last_touch": 3, "days_since_start": 200}
    return HealthInputs(**{**base, **kwargs})


def signal(health, key):
    return next(s for s in health.signals if s.key == key)


def test_a_fresh_touch_and_no_ratings_is_full_health():
    health = compute(inputs())
    assert health.score == 100 and health.level == GREEN
    # Nothing rated yet: those signals are left out, not counted as bad.
    assert not signal(health, SENTIMENT).counted
    assert not signal(health, SATISFACTION).counted


# --- Recency -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, 1.0), (14, 1.0), (21, 0.75), (28, 0.5), (35, 0.25), (42, 0.0), (100, 0.0)],
)
def test_recency_falls_linearly_from_one_cadence_to_three(days, expected):
    assert signal(compute(inputs(days_since_last_touch=days)), RECENCY).score == expected


def test_never_touched_counts_from_the_start():
    health = compute(inputs(days_since_last_touch=None, days_since_start=28))
    recency = signal(health, RECENCY)
    assert recency.score == 0.5 and recency.facts["never"] is True


def test_six_weeks_of_silence_is_red_whatever_else():
    health = compute(
        inputs(days_since_last_touch=42, sentiments=[2, 2, 2], satisfactions=[5, 5, 5])
    )
    assert health.level == RED and health.forced_red
    assert health.score < HealthSettings().red_below


def test_recency_with_weight_zero_never_forces_red():
    settings = HealthSettings(weight_recency=0)
    health = compute(inputs(days_since_last_touch=90), settings)
    assert health.level == GREEN and not health.forced_red


# --- Sentiment ---------------------------------------------------------------------------


def test_sentiment_maps_minus_two_to_zero_and_plus_two_to_one():
    assert signal(compute(inputs(sentiments=[2, 2])), SENTIMENT).score == 1.0
    assert signal(compute(inputs(sentiments=[-2, -2])), SENTIMENT).score == 0.0
    assert signal(compute(inputs(sentiments=[0, 0])), SENTIMENT).score == 0.5


def test_a_falling_sentiment_scores_below_a_steady_one_with_the_same_mean():
    steady = signal(compute(inputs(sentiments=[0, 0, 0, 0])), SENTIMENT)
    falling = signal(compute(inputs(sentiments=[-1, -1, 1, 1])), SENTIMENT)  # newest first
    rising = signal(compute(inputs(sentiments=[1, 1, -1, -1])), SENTIMENT)
    assert falling.score < steady.score < rising.score
    assert falling.facts["trend"] == -2.0


def test_only_the_window_of_recent_ratings_counts():
    settings = HealthSettings(window=2)
    health = compute(inputs(sentiments=[2, 2, -2, -2, -2]), settings)
    assert signal(health, SENTIMENT).facts["n"] == 2
    assert signal(health, SENTIMENT).score == 1.0


# --- Satisfaction ------------------------------------------------------------------------


def test_satisfaction_maps_one_to_zero_and_five_to_one():
    assert signal(compute(inputs(satisfactions=[5])), SATISFACTION).score == 1.0
    assert signal(compute(inputs(satisfactions=[1])), SATISFACTION).score == 0.0
    assert signal(compute(inputs(satisfactions=[3])), SATISFACTION).score == 0.5


def test_low_satisfaction_pulls_the_score_down_by_its_weight():
    health = compute(inputs(satisfactions=[1, 1]))
    # Satisfaction weighs 15 of the 70 counted points (no sentiment rated, no risk register).
    assert health.score == round(100 * 55 / 70)


# --- Overdue follow-ups and open risks ----------------------------------------------------


@pytest.mark.parametrize(("count", "expected"), [(0, 1.0), (1, 0.667), (3, 0.0), (9, 0.0)])
def test_overdue_followups(count, expected):
    assert signal(compute(inputs(overdue_followups=count)), OVERDUE_FOLLOWUPS).score == expected


@pytest.mark.parametrize(("count", "expected"), [(0, 1.0), (1, 0.5), (2, 0.0)])
def test_open_business_risks(count, expected):
    assert signal(compute(inputs(open_business_risks=count)), OPEN_RISKS).score == expected


def test_without_a_risk_register_the_risk_signal_is_left_out():
    health = compute(inputs(overdue_followups=3))
    risks = signal(health, OPEN_RISKS)
    assert not risks.counted and risks.points == 0
    # Overdue follow-ups take their whole weight (15 of the 55 counted points).
    assert health.score == round(100 * 40 / 55)
    with translation.override("en"):
        assert describe(risks.as_dict()) == "No risk register in use yet; not counted."


def test_contributions_add_up_to_the_score():
    health = compute(
        inputs(
            days_since_last_touch=20,
            sentiments=[1, 0, -1],
            satisfactions=[4, 3],
            overdue_followups=1,
            open_business_risks=1,
        )
    )
    assert round(sum(s.points for s in health.signals)) == health.score


# --- Thresholds and settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level"), [(100, GREEN), (70, GREEN), (69, AMBER), (40, AMBER), (39, RED), (0, RED)]
)
def test_default_thresholds(score, level):
    assert level_for(score, HealthSettings()) == level


def test_an_organization_moves_the_thresholds():
    settings = HealthSettings.from_dict({"amber_below": 90, "red_below": 60})
    assert level_for(85, settings) == AMBER and level_for(59, settings) == RED


def test_weights_change_what_matters():
    data = inputs(satisfactions=[1])
    heavy = compute(data, HealthSettings(weight_satisfaction=100))
    light = compute(data, HealthSettings(weight_satisfaction=1))
    assert heavy.score < light.score


def test_broken_stored_settings_fall_back_to_defaults():
    assert HealthSettings.from_dict({"red_below": 90, "amber_below": 50}) == HealthSettings()
    assert HealthSettings.from_dict({"weight_recency": "lots"}) == HealthSettings()
    assert HealthSettings.from_dict(None) == HealthSettings()


def test_validate_refuses_impossible_settings():
    with pytest.raises(ValueError):
        HealthSettings(red_below=80, amber_below=70).validate()
    with pytest.raises(ValueError):
        HealthSettings(
            weight_recency=0,
            weight_sentiment=0,
            weight_satisfaction=0,
            weight_overdue_followups=0,
            weight_open_risks=0,
        ).validate()


# --- Words --------------------------------------------------------------------------------


def test_each_signal_is_explained_in_words():
    health = compute(
        inputs(days_since_last_touch=30, sentiments=[-1, -1, 1, 1], overdue_followups=2)
    )
    words = {s.key: describe(s.as_dict()) for s in health.signals}
    assert words[RECENCY] == "Last touchpoint 30 days ago; the cadence is every 14 days."
    assert "falling" in words[SENTIMENT]
    assert words[SATISFACTION] == "No satisfaction score yet; not counted."
    assert words[OVERDUE_FOLLOWUPS] == "2 overdue follow-ups."
    with translation.override("zh-hans"):
        assert "30" in describe(signal(health, RECENCY).as_dict())


@pytest.mark.django_db
def test_a_registered_provider_feeds_open_business_risks_into_health(org):
    """The risk register feeds health through a provider; engagements never imports it."""
    from engagements import health_providers, selectors
    from tests.engagements.factories import make_engagement

    engagement = make_engagement(org)
    # The risk register registers the real provider; take it out to test the registry alone.
    registered = health_providers._providers.get(health_providers.OPEN_BUSINESS_RISKS)
    health_providers.unregister(health_providers.OPEN_BUSINESS_RISKS)
    seen = []

    def provider(org_, customer_of):
        seen.append(dict(customer_of))
        return {engagement.pk: 2}

    try:
        assert selectors.followup_and_risk_counts(org, [engagement.pk])[engagement.pk][1] is None
        health_providers.register(health_providers.OPEN_BUSINESS_RISKS, provider)
        counts = selectors.followup_and_risk_counts(org, [engagement.pk])
        assert counts[engagement.pk][1] == 2
        assert seen == [{engagement.pk: engagement.customer_id}]
    finally:
        health_providers.unregister(health_providers.OPEN_BUSINESS_RISKS)
        if registered is not None:
            health_providers.register(health_providers.OPEN_BUSINESS_RISKS, registered)
