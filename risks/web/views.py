"""Pages of the risk register. Thin: forms in, services and selectors out.

The register (business risks, watched continuously, beside project risks, reviewed by
stage), a risk's page with its score history and indicator, the create and edit forms, the
5x5 matrix (organization-wide, per project, per customer), the FMEA worksheet of a project
(with its CSV) and the organization's risk settings.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from accounts.mixins import OrgViewMixin
from accounts.tenancy import access_by_id
from engagements.models import Customer
from followup.engine.models import FollowUpStatus
from followup.engine.selectors import for_subject, with_subjects
from projects.models import Project
from risks import selectors, services
from risks.calc import fmea, scoring
from risks.models import Risk, RiskStatus, Side
from risks.web import charts
from risks.web.forms import (
    IndicatorValueForm,
    MatrixForm,
    RiskFilterForm,
    RiskForm,
    TransitionForm,
    initial_of,
)

VIEW = {"GET": "records.view", "HEAD": "records.view"}
EDIT = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
POST_EDIT = {"POST": "records.edit"}
ADMIN_EDITS = {**VIEW, "POST": "org.manage"}
PAGE_SIZE = 50
LEVEL_BADGE = {"low": "green", "medium": "amber", "high": "red"}
STATUS_BADGE = {RiskStatus.OPEN: "neutral", RiskStatus.OCCURRED: "red", RiskStatus.CLOSED: "plain"}
AP_BADGE = {"H": "red", "M": "amber", "L": "green"}


def _errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _url(org_slug: str, name: str, **kwargs: Any) -> str:
    return reverse(f"risks:{name}", kwargs={"org_slug": org_slug, **kwargs})


def decorate(risk: Risk, settings: selectors.RiskSettings) -> dict[str, Any]:
    """What a row shows beside the risk itself (no query)."""
    return {
        "r": risk,
        "level_badge": LEVEL_BADGE.get(risk.level, "neutral"),
        "residual_badge": LEVEL_BADGE.get(risk.residual_level, "neutral"),
        "status_badge": STATUS_BADGE.get(RiskStatus(risk.status), "neutral"),
        "ap_badge": AP_BADGE.get(risk.action_priority, "neutral"),
        "category": settings.category_name(risk.category) if risk.category else "",
        "subject": subject_text(risk),
        "subject_url": subject_url(risk),
    }


def subject_text(risk: Risk) -> str:
    if risk.work_item is not None and risk.project is not None:
        return f"{risk.project.code} {risk.work_item.wbs_code} {risk.work_item.name}"
    if risk.project is not None:
        return f"{risk.project.code} {risk.project.name}"
    if risk.engagement is not None:
        return risk.engagement.name + (f" · {risk.customer.name}" if risk.customer else "")
    if risk.customer is not None:
        return risk.customer.name
    return _("(deleted)")


def subject_url(risk: Risk) -> str:
    slug = risk.organization.slug
    if risk.work_item_id is not None:
        return reverse(
            "projects:work_item_detail", kwargs={"org_slug": slug, "pk": risk.work_item_id}
        )
    if risk.project_id is not None:
        return reverse("projects:project_detail", kwargs={"org_slug": slug, "pk": risk.project_id})
    if risk.engagement_id is not None:
        return reverse(
            "engagements:engagement_detail", kwargs={"org_slug": slug, "pk": risk.engagement_id}
        )
    if risk.customer_id is not None:
        return reverse(
            "engagements:customer_detail", kwargs={"org_slug": slug, "pk": risk.customer_id}
        )
    return ""


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


# --- The matrix ----------------------------------------------------------------------------


class RiskMatrixView(OrgViewMixin, TemplateView):
    """The 5x5 heat map of the filtered risks; each cell links to the filtered register.
    Organization-wide, or fixed to one project or one customer."""

    template_name = "risks/matrix.html"
    capabilities = VIEW
    model = Risk
    scope: str = ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        org = request.org
        settings = selectors.risk_settings(org)
        fixed: dict[str, Any] = {}
        heading = _("Risk matrix")
        back: tuple[str, str] | None = None
        if self.scope == "project":
            project = access_by_id(Project.objects.for_org(org), org, kwargs["pk"])
            fixed["project"] = project
            heading = _("Risk matrix of %(name)s") % {"name": f"{project.code} {project.name}"}
            back = (
                reverse("projects:project_detail", kwargs={"org_slug": org.slug, "pk": project.pk}),
                f"{project.code} {project.name}",
            )
        elif self.scope == "customer":
            customer = access_by_id(Customer.objects.for_org(org), org, kwargs["pk"])
            fixed["customer"] = customer
            heading = _("Risk matrix of %(name)s") % {"name": customer.name}
            back = (
                reverse(
                    "engagements:customer_detail", kwargs={"org_slug": org.slug, "pk": customer.pk}
                ),
                customer.name,
            )
        form = RiskFilterForm(request.GET or None, org=org, settings=settings)
        filters = form.filters(**fixed)
        cells = selectors.matrix_cells(org, filters, settings)
        register = _url(org.slug, "list")
        base = request.GET.copy()
        for name in ("p", "i", "page", "residual"):
            base.pop(name, None)
        if "project" in fixed:
            base["project"] = str(fixed["project"].pk)
        if "customer" in fixed:
            base["customer"] = str(fixed["customer"].pk)

        def link(p: int, i: int) -> str:
            query = base.copy()
            query["p"], query["i"] = str(p), str(i)
            if filters.residual:
                query["residual"] = "on"
            return f"{register}?{query.urlencode()}"

        toggle = request.GET.copy()
        if filters.residual:
            toggle.pop("residual", None)
        else:
            toggle["residual"] = "on"
        svg = charts.matrix_svg(
            cells,
            link,
            title=_("Residual ratings") if filters.residual else _("Inherent ratings"),
        )
        context = self.get_context_data(
            heading=heading,
            back=back,
            svg=svg,
            cells=cells,
            filters=filters,
            filter_form=form,
            scope=self.scope,
            toggle_query=toggle.urlencode(),
            total=sum(c.count for c in cells),
            probability_words=[(n, settings.probability_word(n)) for n in range(5, 0, -1)],
            impact_words=[(n, settings.impact_word(n)) for n in range(1, 6)],
        )
        return self.render_to_response(context)


# --- FMEA ----------------------------------------------------------------------------------

FMEA_SORTS: dict[str, tuple[str, ...]] = {
    "-rpn": ("-rpn", "-severity", "id"),
    "rpn": ("rpn", "id"),
    "ap": ("-ap_rank", "-rpn", "id"),
    "-severity": ("-severity", "-rpn", "id"),
    "failure_mode": ("failure_mode", "title", "id"),
    "-post_rpn": ("-post_rpn", "id"),
}


class FmeaSheetView(OrgViewMixin, TemplateView):
    """A project's FMEA worksheet: its risks that carry an FMEA rating, sortable."""

    template_name = "risks/fmea.html"
    capabilities = VIEW
    model = Risk

    def rows(self, project: Project, sort: str) -> QuerySet[Risk]:
        from django.db.models import Case, IntegerField, Value, When

        return (
            Risk.objects.for_org(self.org)
            .filter(project=project, severity__isnull=False)
            .select_related("owner", "work_item")
            .annotate(
                ap_rank=Case(
                    When(action_priority="H", then=Value(3)),
                    When(action_priority="M", then=Value(2)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by(*FMEA_SORTS.get(sort, FMEA_SORTS["-rpn"]))
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        project = access_by_id(Project.objects.for_org(request.org), request.org, kwargs["pk"])
        sort = request.GET.get("sort", "-rpn")
        sort = sort if sort in FMEA_SORTS else "-rpn"
        risks = list(self.rows(project, sort))
        actions = selectors.action_titles(request.org, [r.pk for r in risks])
        rows = [
            {
                "r": r,
                "ap_badge": AP_BADGE.get(r.action_priority, "neutral"),
                "post_ap_badge": AP_BADGE.get(r.post_action_priority, "neutral"),
                "actions": actions.get(r.pk, []),
            }
            for r in risks
        ]
        context = self.get_context_data(
            project=project,
            rows=rows,
            sort=sort,
            sorts=[
                ("-rpn", _("RPN")),
                ("ap", _("Action priority")),
                ("-severity", _("Severity")),
                ("failure_mode", _("Failure mode")),
                ("-post_rpn", _("RPN after actions")),
            ],
        )
        return self.render_to_response(context)


class FmeaCsvView(FmeaSheetView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        project = access_by_id(Project.objects.for_org(request.org), request.org, kwargs["pk"])
        sort = request.GET.get("sort", "-rpn")
        risks = list(self.rows(project, sort if sort in FMEA_SORTS else "-rpn"))
        actions = selectors.action_titles(request.org, [r.pk for r in risks])
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                _("Failure mode"),
                _("Effect"),
                _("Cause"),
                _("Current controls"),
                "S",
                "O",
                "D",
                "RPN",
                "AP",
                _("Actions"),
                _("Severity after actions"),
                _("Occurrence after actions"),
                _("Detection after actions"),
                _("RPN after actions"),
                _("AP after actions"),
                _("Risk"),
                "id",
            ]
        )
        for r in risks:
            writer.writerow(
                [
                    _csv_safe(r.failure_mode or r.title),
                    _csv_safe(r.effect),
                    _csv_safe(r.cause),
                    _csv_safe(r.controls),
                    r.severity,
                    r.occurrence,
                    r.detection,
                    r.rpn,
                    r.action_priority,
                    _csv_safe("; ".join(actions.get(r.pk, []))),
                    r.post_severity or "",
                    r.post_occurrence or "",
                    r.post_detection or "",
                    r.post_rpn or "",
                    r.post_action_priority,
                    _csv_safe(r.title),
                    r.pk,
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="fmea-{project.code}.csv"'
        return response


def _csv_safe(text: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Settings ------------------------------------------------------------------------------


class RiskSettingsView(OrgViewMixin, TemplateView):
    """The organization's matrix (a level per cell), words per level and categories."""

    template_name = "risks/settings.html"
    capabilities = ADMIN_EDITS
    model = Risk

    def _context(self, form: MatrixForm) -> dict[str, Any]:
        rows = [
            {
                "p": p,
                "cells": [form[f"cell_{p}_{i}"] for i in range(1, 6)],
            }
            for p in range(5, 0, -1)
        ]
        words = [(form[f"probability_{n}"], form[f"impact_{n}"]) for n in range(1, 6)]
        return self.get_context_data(
            form=form,
            rows=rows,
            words=words,
            can_admin=self.org_request.membership.can("org.manage"),
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        settings = selectors.risk_settings(request.org)
        return self.render_to_response(
            self._context(MatrixForm(org=request.org, settings=settings))
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        settings = selectors.risk_settings(request.org)
        form = MatrixForm(request.POST, org=request.org, settings=settings)
        if form.is_valid():
            try:
                matrix = scoring.Matrix.from_data({"levels": form.grid()}, strict=True)
            except scoring.MatrixError as error:
                message = _(error.message) % error.params if error.params else _(error.message)
                field = f"cell_{error.cell[0]}_{error.cell[1]}" if error.cell else None
                form.add_error(field, message)
            else:
                new = selectors.settings_from_form(
                    matrix=matrix,
                    probability={n: form.cleaned_data[f"probability_{n}"] for n in range(1, 6)},
                    impact={n: form.cleaned_data[f"impact_{n}"] for n in range(1, 6)},
                    categories=form.cleaned_data["categories"],
                )
                if isinstance(new, str):
                    form.add_error("categories", new)
                else:
                    services.risk_settings_update(org=request.org, actor=request.user, settings=new)
                    messages.success(request, _("The risk settings were saved."))
                    return redirect(_url(request.org.slug, "settings"))
        return self.render_to_response(self._context(form), status=400)
