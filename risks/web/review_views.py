"""Pages of the risk register (reviews part): a project's milestone risk reviews and one
review, where it is signed off."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from projects.models import Project
from risks import escalation, reviews
from risks import selectors as risk_selectors
from risks.models import ReviewPolicy, ReviewStatus, Risk, RiskReview
from risks.web.review_forms import ReviewPolicyForm, ReviewRateForm, SignOffForm

VIEW = {"GET": "records.view", "HEAD": "records.view"}
VIEW_POST_EDIT = {**VIEW, "POST": "records.edit"}

STATUS_BADGE = {
    ReviewStatus.SCHEDULED: "neutral",
    ReviewStatus.OPEN: "amber",
    ReviewStatus.DONE: "green",
}


def _review_url(org_slug: str, review: RiskReview) -> str:
    return reverse("risks:review_detail", kwargs={"org_slug": org_slug, "pk": review.pk})


class ProjectReviewsView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """Every milestone risk review of a project, and its review lead time."""

    template_name = "risks/project_reviews.html"
    capabilities = VIEW_POST_EDIT
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project: Project = self.object
        org = self.org
        rows = list(
            RiskReview.objects.for_org(org)
            .filter(project=project)
            .select_related("milestone", "reviewer", "signed_off_by")
            .order_by("planned_date", "id")
        )
        own = ReviewPolicy.objects.for_org(org).filter(project=project).first()
        context.update(
            reviews=[(r, STATUS_BADGE[ReviewStatus(r.status)]) for r in rows],
            org_lead=reviews.org_lead_days(org),
            lead=reviews.lead_days(org, project),
            can_edit=self.membership.can("records.edit") and not project.is_archived,
            form=kwargs.get("form")
            or ReviewPolicyForm(
                initial={"lead_working_days": own.lead_working_days if own else None}
            ),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        form = ReviewPolicyForm(request.POST)
        if form.is_valid():
            try:
                reviews.policy_set(
                    org=request.org,
                    actor=request.user,
                    project=project,
                    lead_working_days=form.cleaned_data["lead_working_days"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Review lead time saved."))
                return redirect(
                    reverse(
                        "risks:project_reviews",
                        kwargs={"org_slug": request.org.slug, "pk": project.pk},
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReviewDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "risks/review_detail.html"
    capabilities = VIEW_POST_EDIT
    model = RiskReview
    context_object_name = "review"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(
            "project", "milestone", "reviewer", "signed_off_by", "project__sponsor"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        review: RiskReview = self.object
        risks = list(
            risk_selectors.open_risks(self.org)
            .filter(project=review.project)
            .select_related("owner")
            .order_by("-score", "title")
        )
        context.update(
            project=review.project,
            risks=risks,
            can_rate=self.membership.can("records.edit") and review.status != ReviewStatus.DONE,
            badge=STATUS_BADGE[ReviewStatus(review.status)],
            can_sign=self.membership.can("records.edit") and review.status != ReviewStatus.DONE,
            form=kwargs.get("form") or SignOffForm(),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = review = cast(RiskReview, self.get_object())
        if request.POST.get("action") in ("confirm", "rate"):
            return self._rate(request, review)
        form = SignOffForm(request.POST)
        if form.is_valid():
            try:
                reviews.sign_off(
                    org=request.org,
                    actor=request.user,
                    review=review,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Milestone risk review signed off."))
                return redirect(_review_url(request.org.slug, review))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def _rate(self, request: OrgRequest, review: RiskReview) -> HttpResponse:
        form = ReviewRateForm(request.POST)
        if review.status == ReviewStatus.DONE or not form.is_valid():
            messages.error(request, _("Give a probability and an impact from 1 to 5."))
            return self.render_to_response(self.get_context_data(), status=400)
        risk = Risk.objects.for_org(request.org).filter(pk=form.cleaned_data["risk"]).first()
        if risk is None:
            messages.error(request, _("Choose an open risk of this project."))
            return self.render_to_response(self.get_context_data(), status=400)
        confirm = request.POST.get("action") == "confirm"
        try:
            reviews.review_rate(
                org=request.org,
                actor=request.user,
                review=review,
                risk=risk,
                probability=None if confirm else form.cleaned_data["probability"],
                impact=None if confirm else form.cleaned_data["impact"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return self.render_to_response(self.get_context_data(), status=400)
        messages.success(
            request, _("Rating confirmed.") if confirm else _("The risk was re-rated.")
        )
        return redirect(_review_url(request.org.slug, review))


class ContingencyDrawView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """The one action that draws an occurred project risk's contingency from the reserve."""

    capabilities = {"POST": "records.edit"}
    model = Risk

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        risk = cast(Risk, self.get_object())
        try:
            escalation.contingency_draw(org=request.org, actor=request.user, risk=risk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The contingency was drawn from the reserve."))
        return redirect(
            reverse("risks:detail", kwargs={"org_slug": request.org.slug, "pk": risk.pk})
            + "#contingency"
        )
