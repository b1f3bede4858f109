"""Where the register meets the rest: engagement health, phase gates, search, follow-ups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements import selectors as engagement_selectors
from followup.kernel.search import run as run_search
from projects import gates
from projects.models import GateCriterion
from risks import services
from tests.engagements.factories import make_customer, make_engagement
from tests.projects.factories import make_project
from tests.risks.factories import make_risk

pytestmark = pytest.mark.django_db


def test_health_counts_open_business_risks_of_the_engagement_and_its_customer(org):
    customer = make_customer(org)
    engagement = make_engagement(org, customer=customer)
    other = make_engagement(org, customer=make_customer(org))
    make_risk(org, engagement)
    make_risk(org, customer)
    closed = make_risk(org, customer)
    services.risk_close(org=org, actor=None, risk=closed)
    project = make_project(org, engagement=engagement)
    make_risk(org, project)  # a project risk is not a business risk
    counts = engagement_selectors.followup_and_risk_counts(org, [engagement.pk, other.pk])
    assert counts[engagement.pk][1] == 2
    assert counts[other.pk][1] == 0


def test_an_open_business_risk_lowers_the_engagement_health_score(org):
    engagement = make_engagement(org)
    now = timezone.now()
    settings = engagement_selectors.health_settings(org)

    def score():
        from engagements.calc.health import compute

        inputs = engagement_selectors.health_inputs(engagement, now=now, settings=settings)
        return compute(inputs, settings)

    before = score()
    for _ in range(3):
        make_risk(org, engagement)
    after = score()
    assert after.score < before.score
    signal = next(s for s in after.signals if s.key == "open_risks")
    assert signal.facts == {"count": 3}


def _criterion(project, kind):
    return GateCriterion.objects.create(
        organization=project.organization, phase=project.phase, kind=kind, position=99
    )


def test_the_gate_criterion_no_open_high_risk(org):
    project = make_project(org)
    criterion = _criterion(project, "no_open_high_risk")
    assert gates.evaluate(project, project.phase, criterion).met
    high = make_risk(org, project, title="Crane delivery late", probability=5, impact=5)
    verdict = gates.evaluate(project, project.phase, criterion)
    assert not verdict.met and "Crane delivery late" in verdict.text()
    services.risk_close(org=org, actor=None, risk=high)
    assert gates.evaluate(project, project.phase, criterion).met


def test_the_gate_criterion_no_high_risk_without_a_response(org):
    project = make_project(org)
    criterion = _criterion(project, "no_high_risk_without_response")
    risk = make_risk(org, project, title="Vendor lock-in", probability=5, impact=4)
    assert not gates.evaluate(project, project.phase, criterion).met
    services.risk_update(
        org=org,
        actor=None,
        risk=risk,
        data={"strategy": "mitigate", "response_plan": "Dual source"},
    )
    assert gates.evaluate(project, project.phase, criterion).met


def test_search_finds_risks(org, member):
    make_risk(org, make_customer(org), title="Raw-material prices rise")
    groups = run_search(org, member, "raw-material", limit=5)
    risks = [g for g in groups if g.key == "risks"]
    assert risks and risks[0].results[0].title == "Raw-material prices rise"


def test_a_response_action_is_a_follow_up_about_the_risk(org, member):
    risk = make_risk(org, make_customer(org))
    followup = services.risk_action_add(
        org=org,
        actor=member,
        risk=risk,
        title="Qualify a second supplier",
        owner=member,
        due_at=timezone.now() + timedelta(days=7),
    )
    assert followup.subject == risk


def test_deleting_the_subject_deletes_its_risks(org):
    customer = make_customer(org)
    risk = make_risk(org, customer)
    customer.delete()
    from risks.models import Risk

    assert not Risk.objects.for_org(org).filter(pk=risk.pk).exists()


def test_risk_events_refresh_engagement_health_through_the_outbox(org):
    from engagements import services as engagement_services
    from followup.kernel import events
    from followup.kernel.models import Event

    engagement = make_engagement(org)
    engagement_services.engagement_health_refresh(org=org, engagement_id=engagement.pk)
    engagement.refresh_from_db()
    before = engagement.health_score
    for _ in range(3):
        make_risk(org, engagement)
    for event in Event.objects.for_org(org).filter(type="risk.created"):
        events.relay(event)
    engagement.refresh_from_db()
    assert engagement.health_score < before


def test_the_status_report_lists_the_projects_top_open_risks(org):
    """The risk register feeds the weekly report's "top risks": highest score first, closed
    risks and other projects left out, each line linking to its risk."""
    from projects import reports
    from risks import services as risk_services
    from risks.registry import top_risks_for_report

    assert top_risks_for_report in reports._risks
    project = make_project(org)
    other = make_project(org)
    high = make_risk(org, project, title="Supplier late", probability=5, impact=4)
    make_risk(org, project, title="Minor drift", probability=1, impact=2)
    gone = make_risk(org, project, title="Solved", probability=5, impact=5)
    risk_services.risk_close(org=org, actor=None, risk=gone, note="done")
    make_risk(org, other, title="Elsewhere", probability=5, impact=5)

    lines = top_risks_for_report(org, project, 5)
    assert [line.title for line in lines] == ["Supplier late", "Minor drift"]
    assert "20" in lines[0].detail
    assert lines[0].url.endswith(f"/risks/{high.pk}/")
