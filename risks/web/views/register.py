"""The register, a risk's page, its forms, status moves and indicator readings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from accounts.mixins import OrgViewMixin
from accounts.tenancy import access_by_id
from followup.engine.models import FollowUpStatus
from followup.engine.selectors import for_subject, with_subjects
from risks import selectors, services
from risks.calc import fmea, scoring
from risks.models import Risk, Side
from risks.web import charts
from risks.web.forms import (
    IndicatorValueForm,
    RiskFilterForm,
    RiskForm,
    TransitionForm,
    initial_of,
)
from risks.web.views.base import (
    EDIT,
    PAGE_SIZE,
    POST_EDIT,
    VIEW,
    _errors_into,
    _url,
    decorate,
)

# --- The register --------------------------------------------------------------------------


class RiskListView(OrgViewMixin, TemplateView):
    template_name = "risks/risk_list.html"
    capabilities = VIEW
    model = Risk

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        qs = queryset.select_related(
            "organization", "owner", "customer", "engagement", "project", "work_item"
        )
        return selectors.filter_risks(qs, self.filters)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        settings = selectors.risk_settings(request.org)
        form = RiskFilterForm(request.GET or None, org=request.org, settings=settings)
        self.filters = form.filters()
        # Business risks first, then project risks: the two halves of the register.
        queryset = self.get_queryset().order_by(
            "side", *selectors.SORT_ORDERS.get(self.filters.sort, ("-score", "id"))
        )
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        rows = [decorate(risk, settings) for risk in page.object_list]
        groups = [
            {
                "side": side,
                "label": label,
                "rows": [row for row in rows if row["r"].side == side],
            }
            for side, label in (
                (Side.BUSINESS, _("Business risks: watched continuously")),
                (Side.PROJECT, _("Project risks: reviewed stage by stage")),
            )
        ]
        context = self.get_context_data(
            page=page,
            groups=[g for g in groups if g["rows"]],
            filter_form=form,
            query=query.urlencode(),
            can_edit=request.membership.can("records.edit"),
            can_admin=request.membership.can("org.manage"),
        )
        if request.htmx and request.htmx.target == "risk-results":
            return render(request, f"{self.template_name}#results", context)
        return self.render_to_response(context)


def _history_points(org: Any, risk: Risk) -> list[Any]:
    return list(selectors.ratings_of(org, risk))


class RiskDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "risks/risk_detail.html"
    capabilities = VIEW
    model = Risk
    context_object_name = "risk"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(
            "organization",
            "owner",
            "customer",
            "engagement",
            "project",
            "work_item",
            "escalated_from",
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        risk: Risk = self.object
        org = self.org
        settings = selectors.risk_settings(org)
        ratings = _history_points(org, risk)
        readings = list(selectors.indicator_values_of(org, risk).order_by("observed_at", "id"))
        followups = with_subjects(
            org,
            for_subject(org, risk).filter(status=FollowUpStatus.OPEN).order_by("due_at", "pk")[:20],
        )
        improvement = None
        if risk.has_fmea and risk.has_post_fmea:
            improvement = fmea.improvement(
                fmea.FmeaRating(risk.severity, risk.occurrence, risk.detection),  # type: ignore[arg-type]
                fmea.FmeaRating(risk.post_severity, risk.post_occurrence, risk.post_detection),  # type: ignore[arg-type]
            )
        context.update(
            row=decorate(risk, settings),
            probability_word=settings.probability_word(risk.probability),
            impact_word=settings.impact_word(risk.impact),
            residual_probability_word=settings.probability_word(risk.residual_probability),
            residual_impact_word=settings.impact_word(risk.residual_impact),
            residual_warning=(
                risk.residual_score is not None
                and (
                    risk.residual_score > risk.score
                    or scoring.LEVELS.index(risk.residual_level) > scoring.LEVELS.index(risk.level)
                )
            ),
            ratings=list(reversed(ratings)),
            rating_badges={"low": "green", "medium": "amber", "high": "red"},
            trend=charts.score_trend_svg([(r.created_at, r.score, r.level) for r in ratings]),
            readings=list(reversed(readings))[:20],
            kri_chart=(
                charts.indicator_svg(
                    [(v.observed_at, v.value, v.zone) for v in readings],
                    amber=risk.indicator_amber,  # type: ignore[arg-type]
                    red=risk.indicator_red,  # type: ignore[arg-type]
                    direction=risk.indicator_direction,
                    name=risk.indicator_name,
                )
                if risk.has_indicator
                else None
            ),
            zone_badge={"green": "green", "amber": "amber", "red": "red"}.get(
                risk.indicator_zone, "neutral"
            ),
            followups=followups,
            now=timezone.now(),
            fmea_words=selectors.fmea_words(),
            improvement=improvement,
            value_form=kwargs.get("value_form") or IndicatorValueForm(org=org),
            can_edit=self.org_request.membership.can("records.edit"),
            escalation_available=services.escalation_available(),
            escalations=list(
                selectors.risks(org).filter(escalated_from=risk).order_by("created_at")[:20]
            ),
        )
        return context


class RiskCreateView(OrgViewMixin, TemplateView):
    template_name = "risks/risk_form.html"
    capabilities = EDIT
    model = Risk

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        settings = selectors.risk_settings(request.org)
        initial: dict[str, Any] = {"owner": request.user.pk, "probability": 3, "impact": 3}
        key, pk = request.GET.get("subject_type", ""), request.GET.get("subject_id", "")
        if key and pk:
            initial["subject"] = f"{key}:{pk}"
        form = RiskForm(org=request.org, settings=settings, initial=initial)
        return self.render_to_response(self.get_context_data(form=form, risk=None))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        settings = selectors.risk_settings(request.org)
        form = RiskForm(request.POST, org=request.org, settings=settings)
        if form.is_valid():
            data = form.data_for_service()
            data["reason"] = form.cleaned_data.get("reason") or ""
            try:
                risk = services.risk_create(org=request.org, actor=request.user, data=data)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("The risk was added to the register."))
                return redirect(_url(request.org.slug, "detail", pk=risk.pk))
        return self.render_to_response(self.get_context_data(form=form, risk=None), status=400)


class RiskEditView(OrgViewMixin, TemplateView):
    template_name = "risks/risk_form.html"
    capabilities = EDIT
    model = Risk

    def _risk(self, pk: Any) -> Risk:
        return access_by_id(
            Risk.objects.for_org(self.org).select_related("organization"), self.org, pk
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        risk = self._risk(kwargs["pk"])
        settings = selectors.risk_settings(request.org)
        form = RiskForm(org=request.org, settings=settings, initial=initial_of(risk))
        return self.render_to_response(self.get_context_data(form=form, risk=risk))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        risk = self._risk(kwargs["pk"])
        settings = selectors.risk_settings(request.org)
        form = RiskForm(request.POST, org=request.org, settings=settings)
        if form.is_valid():
            try:
                services.risk_update(
                    org=request.org,
                    actor=request.user,
                    risk=risk,
                    data=form.data_for_service(),
                    reason=form.cleaned_data.get("reason") or "",
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("The risk was saved."))
                return redirect(_url(request.org.slug, "detail", pk=risk.pk))
        return self.render_to_response(self.get_context_data(form=form, risk=risk), status=400)


class RiskTransitionView(OrgViewMixin, TemplateView):
    """Occur, close, reopen or escalate (a form post from the risk's page)."""

    capabilities = POST_EDIT
    model = Risk

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        risk = access_by_id(Risk.objects.for_org(request.org), request.org, kwargs["pk"])
        form = TransitionForm(request.POST, org=request.org)
        target = _url(request.org.slug, "detail", pk=risk.pk)
        if not form.is_valid():
            messages.error(request, _("Choose what happened to the risk."))
            return redirect(target)
        action, note = form.cleaned_data["action"], form.cleaned_data.get("note") or ""
        try:
            if action == "occur":
                services.risk_occur(org=request.org, actor=request.user, risk=risk, note=note)
            elif action == "close":
                services.risk_close(org=request.org, actor=request.user, risk=risk, note=note)
            elif action == "reopen":
                services.risk_reopen(org=request.org, actor=request.user, risk=risk, note=note)
            else:
                services.risk_escalate(org=request.org, actor=request.user, risk=risk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The risk was updated."))
        return redirect(target)


class IndicatorValueView(OrgViewMixin, TemplateView):
    """Record a reading of the risk's key risk indicator."""

    template_name = "risks/risk_detail.html"
    capabilities = POST_EDIT
    model = Risk

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        risk = access_by_id(Risk.objects.for_org(request.org), request.org, kwargs["pk"])
        form = IndicatorValueForm(request.POST, org=request.org)
        target = _url(request.org.slug, "detail", pk=risk.pk)
        if form.is_valid():
            try:
                services.indicator_value_add(
                    org=request.org,
                    actor=request.user,
                    risk=risk,
                    value=form.cleaned_data["value"],
                    observed_at=form.cleaned_data.get("observed_at"),
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("The reading was recorded."))
                return redirect(target)
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(target)
