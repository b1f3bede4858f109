"""Cross-tenant cases for every route of the risk register (pages and API)."""

from engagements.models import Customer
from risks import services
from risks.models import RiskReview
from tests.engagements.factories import make_customer
from tests.projects.factories import make_project
from tests.risks.factories import make_risk
from tests.risks.review_factories import opened_review, project_with_milestone
from tests.tenancy import Target, World, register


def _customer(w: World) -> Customer:
    return w.once("risk_customer", lambda: make_customer(w.org_a, name="Alpha risk customer"))


def _project(w: World):
    return w.once(
        "risk_project", lambda: make_project(w.org_a, code="ALPHA-R", name="Alpha risk project")
    )


def _risk(w: World):
    def make():
        risk = make_risk(
            w.org_a,
            _project(w),
            title="Alpha secret risk",
            probability=4,
            impact=5,
            severity=8,
            occurrence=5,
            detection=4,
            failure_mode="Alpha secret failure mode",
            indicator_name="Alpha price",
            indicator_amber="10",
            indicator_red="20",
            owner=w.owner_a,
        )
        services.indicator_value_add(org=w.org_a, actor=None, risk=risk, value="12")
        return risk

    return w.once("risk", make)


def risk_target(w):
    r = _risk(w)
    return Target({"pk": r.pk}, r.title)


def list_target(w):
    return Target({}, _risk(w).title)


def project_target(w):
    r = _risk(w)
    return Target({"pk": r.project_id}, r.failure_mode)


def customer_target(w):
    c = _customer(w)
    make_risk(w.org_a, c, title="Alpha customer risk")
    return Target({"pk": c.pk}, c.name)


def matrix_target(w):
    _risk(w)
    return Target({}, "ALPHA-R")  # the project filter offers org A's projects


def settings_target(w):
    _risk(w)
    return Target({}, "Alpha secret risk")


def risk_body(w):
    return {
        "subject_type": "project",
        "subject_id": str(_project(w).pk),
        "title": "Another risk",
        "probability": 2,
        "impact": 3,
        "owner": str(w.owner_a.pk),
    }


def risk_form_body(w):
    return {
        "subject": f"project:{_project(w).pk}",
        "title": "Another risk",
        "probability": "2",
        "impact": "3",
        "owner": str(w.owner_a.pk),
        "currency": "EUR",
        "indicator_direction": "up",
    }


def settings_body(w):
    body = {
        f"cell_{p}_{i}": "high" if p * i >= 15 else "medium" if p * i >= 5 else "low"
        for p in range(1, 6)
        for i in range(1, 6)
    }
    for n, word in enumerate(["Rare", "Unlikely", "Possible", "Likely", "Almost certain"], 1):
        body[f"probability_{n}"] = word
    for n, word in enumerate(["Negligible", "Minor", "Moderate", "Major", "Severe"], 1):
        body[f"impact_{n}"] = word
    body["categories"] = "Supply chain\nTechnical"
    return body


# --- Pages -----------------------------------------------------------------------------
register("risks:list", make=list_target)
register("risks:create", make=settings_target, body=risk_form_body)
register("risks:matrix", make=matrix_target)
register("risks:settings", make=settings_target, body=settings_body, body_names_org_a=False)
register("risks:detail", make=risk_target)
register("risks:edit", make=risk_target, body=risk_form_body)
register("risks:transition", make=risk_target, body=lambda w: {"action": "occur"})
register("risks:indicator_value", make=risk_target, body=lambda w: {"value": "25"})
register("risks:project_matrix", make=project_target)
register("risks:customer_matrix", make=customer_target)
register("risks:fmea", make=project_target)
register("risks:fmea_csv", make=project_target)

# --- API -------------------------------------------------------------------------------
register("risk-list", make=list_target, body=risk_body)
register("risk-detail", make=risk_target, body=risk_body)
register("risk-occur", make=risk_target, body=lambda w: {"note": "It happened"})
register("risk-close", make=risk_target, body=lambda w: {})
register("risk-escalate", make=risk_target, body=lambda w: {})
register("risk-indicator-values", make=risk_target, body=lambda w: {"value": "25"})
register("risk-matrix-list", make=lambda w: Target({}, str(_risk(w).pk)))


# --- Milestone risk reviews ---------------------------------------------------------------


def _review(w: World) -> RiskReview:
    def make() -> RiskReview:
        project, _task, _ms = project_with_milestone(
            w.org_a, manager=w.owner_a, code="ALPHA-RV", name="Alpha secret reviewed project"
        )
        return opened_review(w.org_a, project)

    return w.once("review", make)


def review_target(w: World) -> Target:
    review = _review(w)
    return Target({"pk": review.pk}, str(review.pk))


def project_target(w: World) -> Target:
    review = _review(w)
    return Target({"pk": review.project_id}, str(review.pk))


register("risks:project_reviews", make=project_target, body=lambda w: {"lead_working_days": "3"})
register("risks:review_detail", make=review_target, body=lambda w: {"note": "All confirmed"})
register("risk-review-list", make=lambda w: Target({}, str(_review(w).pk)))
register("risk-review-detail", make=review_target)
register("risk-review-sign-off", make=review_target, body=lambda w: {"note": "Confirmed"})


def contingency_target(w: World) -> Target:
    from decimal import Decimal

    def make():
        project = make_project(w.org_a, code="ALPHA-CT", name="Alpha contingency project")
        risk = make_risk(
            w.org_a, project, title="Alpha contingency risk", contingency_amount=Decimal("10")
        )
        return services.risk_occur(org=w.org_a, actor=None, risk=risk)

    risk = w.once("contingency_risk", make)
    return Target({"pk": risk.pk}, risk.title)


register("risks:contingency_draw", make=contingency_target, body=lambda w: {})
