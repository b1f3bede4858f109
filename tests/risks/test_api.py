"""The Risks section of docs/API.md through the API: fields, formulas, actions, the matrix."""

from __future__ import annotations

import pytest

from followup.engine.models import Notification
from followup.kernel.models import Event
from risks.models import Risk
from tests.engagements.factories import make_customer, make_engagement
from tests.projects.factories import item, make_project
from tests.risks.factories import make_risk
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def create(api, **fields):
    response = api.post("/api/v1/risks/", fields, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_risk_carries_the_contract_fields(api, org, owner):
    engagement = make_engagement(org)
    data = create(
        api,
        subject_type="engagement",
        subject_id=str(engagement.pk),
        title="Key account may cancel",
        cause="Budget cuts",
        effect="Revenue drop",
        category="customer",
        owner=str(owner.pk),
        probability=4,
        impact=5,
        residual_probability=2,
        residual_impact=4,
        fmea={"severity": 10, "occurrence": 10, "detection": 10},
        response={"strategy": "mitigate", "plan": "Weekly exec check-in"},
        contingency_amount="25000.00",
        trigger="No reply for two weeks",
    )
    assert data["side"] == "business"
    assert (data["score"], data["level"]) == (20, "high")
    assert (data["residual_score"], data["residual_level"]) == (8, "medium")
    assert data["fmea"] == {
        "severity": 10,
        "occurrence": 10,
        "detection": 10,
        "rpn": 1000,
        "action_priority": "H",
    }
    assert data["response"] == {"strategy": "mitigate", "plan": "Weekly exec check-in"}
    assert data["status"] == "open" and data["escalated_from"] is None and data["signal"] is None
    assert data["contingency_amount"] == "25000.00"
    assert Event.objects.for_org(org).filter(type="risk.created").count() == 1


def test_rpn_of_the_lowest_ratings_is_one(api, org):
    project = make_project(org)
    data = create(
        api,
        subject_type="project",
        subject_id=str(project.pk),
        title="Tiny",
        probability=1,
        impact=1,
        fmea={"severity": 1, "occurrence": 1, "detection": 1},
    )
    assert data["fmea"]["rpn"] == 1 and data["fmea"]["action_priority"] == "L"
    assert (data["side"], data["level"]) == ("project", "low")


def test_a_milestone_is_a_work_item_subject(api, org):
    project = make_project(org)
    milestone = item(org, project, "Go-live", days=0)
    data = create(
        api,
        subject_type="work_item",
        subject_id=str(milestone.pk),
        title="Late",
        probability=3,
        impact=3,
    )
    assert data["side"] == "project"


def test_bad_input_names_the_field(api, org):
    project = make_project(org)
    base = {"subject_type": "project", "subject_id": str(project.pk), "title": "X"}
    response = api.post("/api/v1/risks/", {**base, "probability": 6, "impact": 2}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["probability"]
    response = api.post(
        "/api/v1/risks/",
        {
            **base,
            "probability": 2,
            "impact": 2,
            "fmea": {"severity": 11, "occurrence": 1, "detection": 1},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "fmea.severity"
    response = api.post(
        "/api/v1/risks/",
        {**base, "probability": 2, "impact": 2, "category": "astrology"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "category"
    response = api.post(
        "/api/v1/risks/",
        {**base, "probability": 2, "impact": 2, "indicator": {"amber": 10, "red": 5}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "indicator.red"
    assert not Risk.objects.for_org(org).exists()


def test_a_foreign_subject_is_a_400(api, other_org):
    foreign = make_customer(other_org)
    response = api.post(
        "/api/v1/risks/",
        {
            "subject_type": "customer",
            "subject_id": str(foreign.pk),
            "title": "X",
            "probability": 2,
            "impact": 2,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "subject_id"


def test_a_rerating_by_patch_is_kept_in_the_history(api, org):
    risk = make_risk(org, make_customer(org), probability=2, impact=2)
    response = api.patch(
        f"/api/v1/risks/{risk.pk}/", {"probability": 5, "reason": "Strike"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["score"], response.json()["level"]) == (10, "medium")
    assert list(risk.ratings.values_list("reason", flat=True)) == ["", "Strike"]


def test_occur_close_and_status_rules(api, org):
    risk = make_risk(org, make_customer(org))
    assert api.post(f"/api/v1/risks/{risk.pk}/occur/", {}, format="json").json()["status"] == (
        "occurred"
    )
    assert api.post(f"/api/v1/risks/{risk.pk}/occur/", {}, format="json").status_code == 200
    assert Event.objects.for_org(org).filter(type="risk.occurred").count() == 1
    assert api.post(f"/api/v1/risks/{risk.pk}/close/", {}, format="json").json()["status"] == (
        "closed"
    )
    response = api.post(f"/api/v1/risks/{risk.pk}/close/", {}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")


def test_escalate_marks_the_strategy_without_the_escalation_module(api, org):
    from risks import services

    if services.escalation_available():
        pytest.skip("risks.escalation is present: its own tests cover escalate")
    risk = make_risk(org, make_customer(org))
    data = api.post(f"/api/v1/risks/{risk.pk}/escalate/", {}, format="json").json()
    assert data["response"]["strategy"] == "escalate"
    assert Event.objects.for_org(org).filter(type="risk.escalated").count() == 1


def test_indicator_values_rerate_and_notify_the_owner_both_ways(api, org, member):
    risk = make_risk(
        org,
        make_customer(org),
        owner=member,
        probability=2,
        impact=4,
        indicator_name="Steel price",
        indicator_amber="700",
        indicator_red="800",
    )
    url = f"/api/v1/risks/{risk.pk}/indicator-values/"
    up = api.post(url, {"value": "820", "observed_at": "2026-11-01T09:00:00+00:00"}, format="json")
    assert up.status_code == 201 and up.json()["zone"] == "red"
    data = api.get(f"/api/v1/risks/{risk.pk}/").json()
    assert (data["probability"], data["level"], data["indicator"]["zone"]) == (4, "high", "red")
    down = api.post(
        url, {"value": "650", "observed_at": "2026-11-08T09:00:00+00:00"}, format="json"
    )
    assert down.json()["zone"] == "green"
    data = api.get(f"/api/v1/risks/{risk.pk}/").json()
    assert (data["probability"], data["level"]) == (2, "medium")
    assert (
        Notification.objects.for_org(org)
        .filter(recipient=member, kind="risk.indicator_crossed")
        .count()
        == 2
    )
    assert [v["value"] for v in api.get(url).json()] == ["820.0000", "650.0000"]


def test_a_former_member_owner_is_not_notified(api, org, member):
    from accounts.models import Membership

    risk = make_risk(org, make_customer(org), owner=member, indicator_amber="1", indicator_red="2")
    Membership.objects.for_org(org).filter(user=member).delete()
    api.post(f"/api/v1/risks/{risk.pk}/indicator-values/", {"value": "3"}, format="json")
    assert not Notification.objects.for_org(org).filter(recipient=member).exists()


def test_a_reading_without_an_indicator_is_a_400(api, org):
    risk = make_risk(org, make_customer(org))
    response = api.post(f"/api/v1/risks/{risk.pk}/indicator-values/", {"value": "3"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "value"


def test_filters(api, org):
    customer, project = make_customer(org), make_project(org)
    a = make_risk(org, customer, probability=5, impact=5, category="market")
    make_risk(org, project, probability=1, impact=1)
    ids = lambda q: [r["id"] for r in api.get(f"/api/v1/risks/?{q}").json()["results"]]  # noqa: E731
    assert ids("side=business") == [str(a.pk)]
    assert ids("level=high") == [str(a.pk)]
    assert ids("category=market") == [str(a.pk)]
    assert ids(f"subject={customer.pk}") == [str(a.pk)]
    assert len(ids(f"project={project.pk}")) == 1


def test_the_list_has_constant_queries(api, org):
    customer = make_customer(org)
    assert_constant_queries(
        lambda n: [make_risk(org, customer) for _ in range(n)],
        lambda: api.get("/api/v1/risks/?page_size=100"),
    )


def test_the_matrix_endpoint_gives_25_cells(api, org):
    project = make_project(org)
    make_risk(org, project, probability=5, impact=5, residual_probability=1, residual_impact=2)
    make_risk(org, make_customer(org), probability=5, impact=5)
    cells = api.get("/api/v1/risk-matrix/").json()["cells"]
    assert len(cells) == 25
    top = next(c for c in cells if (c["probability"], c["impact"]) == (5, 5))
    assert top == {"probability": 5, "impact": 5, "count": 2, "level": "high"}
    scoped = api.get(f"/api/v1/risk-matrix/?project={project.pk}&residual=true").json()["cells"]
    assert {(c["probability"], c["impact"]): c["count"] for c in scoped if c["count"]} == {
        (1, 2): 1
    }
    business = api.get("/api/v1/risk-matrix/?side=business").json()["cells"]
    assert sum(c["count"] for c in business) == 1
