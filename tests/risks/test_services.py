"""The risk register's services: subjects and sides, ratings and history, status, KRIs."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from followup.kernel.models import Event
from risks import selectors, services
from risks.calc.scoring import Matrix
from risks.models import RiskRating, RiskStatus
from tests.engagements.factories import make_customer, make_engagement
from tests.projects.factories import item, make_project
from tests.risks.factories import make_risk

pytestmark = pytest.mark.django_db


def test_the_side_and_links_follow_the_subject(org):
    customer = make_customer(org)
    engagement = make_engagement(org, customer=customer)
    project = make_project(org, engagement=engagement)
    milestone = item(org, project, "Go-live", days=0)

    on_customer = make_risk(org, customer)
    on_engagement = make_risk(org, engagement)
    on_project = make_risk(org, project)
    on_milestone = make_risk(org, milestone)

    assert (on_customer.side, on_customer.customer) == ("business", customer)
    assert (on_engagement.side, on_engagement.customer) == ("business", customer)
    assert (on_project.side, on_project.project, on_project.customer) == (
        "project",
        project,
        customer,
    )
    assert (on_milestone.side, on_milestone.work_item, on_milestone.project) == (
        "project",
        milestone,
        project,
    )


def test_a_subject_of_another_organization_is_refused(org, other_org):
    foreign = make_customer(other_org)
    with pytest.raises(ValidationError) as error:
        make_risk(org, foreign)
    assert "subject_id" in error.value.message_dict


def test_score_and_level_come_from_the_organizations_custom_matrix(org, owner):
    customer = make_customer(org)
    assert make_risk(org, customer, probability=2, impact=3).level == "medium"
    strict = Matrix.from_scores(medium_from=2, high_from=6)
    settings = selectors.risk_settings(org)
    services.risk_settings_update(
        org=org,
        actor=owner,
        settings=selectors.RiskSettings(matrix=strict, categories=settings.categories),
    )
    risk = make_risk(org, customer, probability=2, impact=3)
    assert (risk.score, risk.level) == (6, "high")
    assert make_risk(org, customer, probability=1, impact=1).level == "low"
    assert make_risk(org, customer, probability=1, impact=2).level == "medium"


def test_changing_the_matrix_relevels_existing_risks_and_keeps_history(org, owner):
    risk = make_risk(org, make_customer(org), probability=2, impact=3)
    services.risk_settings_update(
        org=org,
        actor=owner,
        settings=selectors.RiskSettings(matrix=Matrix.from_scores(medium_from=2, high_from=6)),
    )
    risk.refresh_from_db()
    assert risk.level == "high"
    assert list(
        RiskRating.objects.for_org(org).filter(risk=risk).values_list("source", "level")
    ) == [("assessed", "medium"), ("matrix", "high")]


def test_every_rerating_is_kept_with_who_and_why(org, member):
    risk = make_risk(org, make_customer(org), actor=member, probability=2, impact=2)
    services.risk_rate(
        org=org, actor=member, risk=risk, probability=4, impact=5, reason="Supplier strike"
    )
    history = list(selectors.ratings_of(org, risk))
    assert [(r.probability, r.impact, r.score, r.level) for r in history] == [
        (2, 2, 4, "low"),
        (4, 5, 20, "high"),
    ]
    assert history[1].actor == member and history[1].reason == "Supplier strike"


def test_the_fmea_rating_stores_rpn_and_action_priority(org):
    risk = make_risk(org, make_project(org), severity=9, occurrence=4, detection=5)
    assert (risk.rpn, risk.action_priority) == (180, "H")
    with pytest.raises(ValidationError) as error:
        make_risk(org, make_project(org), severity=9, occurrence=4)
    assert "detection" in error.value.message_dict


def test_status_moves_are_data_and_occurring_twice_is_one_event(org):
    risk = make_risk(org, make_customer(org))
    services.risk_occur(org=org, actor=None, risk=risk)
    services.risk_occur(org=org, actor=None, risk=risk)
    assert Event.objects.for_org(org).filter(type="risk.occurred").count() == 1
    closed = services.risk_close(org=org, actor=None, risk=risk)
    assert closed.status == RiskStatus.CLOSED
    with pytest.raises(services.TransitionRefused):
        services.risk_occur(org=org, actor=None, risk=risk)


def test_escalate_without_the_escalation_module_marks_the_strategy(org):
    risk = make_risk(org, make_customer(org))
    if services.escalation_available():
        pytest.skip("the escalation module is there; its own tests cover escalate")
    escalated = services.risk_escalate(org=org, actor=None, risk=risk)
    assert escalated.strategy == "escalate"
    assert Event.objects.for_org(org).filter(type="risk.escalated").count() == 1


def test_an_indicator_crossing_rerates_the_risk_in_both_directions(org, member):
    risk = make_risk(
        org,
        make_customer(org),
        owner=member,
        probability=2,
        impact=4,
        indicator_name="Copper price",
        indicator_amber="8000",
        indicator_red="9000",
    )
    services.indicator_value_add(org=org, actor=None, risk=risk, value=Decimal("7500"))
    risk.refresh_from_db()
    assert (risk.indicator_zone, risk.probability) == ("green", 2)

    services.indicator_value_add(org=org, actor=None, risk=risk, value=Decimal("9100"))
    risk.refresh_from_db()
    assert (risk.indicator_zone, risk.probability, risk.level) == ("red", 4, "high")

    services.indicator_value_add(org=org, actor=None, risk=risk, value=Decimal("8500"))
    risk.refresh_from_db()
    assert (risk.indicator_zone, risk.probability) == ("amber", 3)

    services.indicator_value_add(org=org, actor=None, risk=risk, value=Decimal("7000"))
    risk.refresh_from_db()
    assert (risk.indicator_zone, risk.probability, risk.level) == ("green", 2, "medium")
    sources = list(selectors.ratings_of(org, risk).values_list("source", flat=True))
    assert sources == ["assessed", "indicator", "indicator", "indicator"]


def test_a_leaving_member_hands_their_risks_over(org, owner, member):
    from accounts import services as account_services
    from accounts.models import Membership

    risk = make_risk(org, make_customer(org), owner=member)
    memberships = Membership.objects.for_org(org)
    account_services.membership_remove(
        actor=memberships.get(user=owner), membership=memberships.get(user=member), successor=owner
    )
    risk.refresh_from_db()
    assert risk.owner == owner
