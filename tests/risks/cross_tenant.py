"""Cross-tenant cases for every route of the risk register (reviews part)."""

from risks.models import RiskReview
from tests.risks.review_factories import opened_review, project_with_milestone
from tests.tenancy import Target, World, register


def _review(w: World) -> RiskReview:
    def make() -> RiskReview:
        project, _task, _ms = project_with_milestone(
            w.org_a, manager=w.owner_a, code="ALPHA-R", name="Alpha secret reviewed project"
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
