"""Pages of weekly status reports: a project's report history with the SPI/CPI trend (a
small SVG), one report (print-friendly; the manager's narrative and red/amber/green form
while it is a draft), drafting this week's report now, and following a project's reports.
Thin: forms in, ``projects.reports`` out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from projects import reports
from projects.models import Project, Rag, StatusReport

VIEW = {"GET": "records.view", "HEAD": "records.view"}
VIEW_POST_EDIT = {**VIEW, "POST": "records.edit"}
POST_VIEW = {"POST": "records.view"}
DIMENSION_LABELS = {
    "schedule": gettext_lazy("Schedule"),
    "cost": gettext_lazy("Cost"),
    "scope": gettext_lazy("Scope"),
    "quality": gettext_lazy("Quality"),
    "risk": gettext_lazy("Risk"),
}
RAG_CHOICES = [("", gettext_lazy("Not rated")), *Rag.choices]

# The trend chart: a fixed viewBox, scaled by CSS.
CHART_W, CHART_H, PAD = 320, 120, 24


class ReportForm(InputRulesFormMixin, forms.Form):
    narrative = forms.CharField(
        label=gettext_lazy("Narrative"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What happened this week, why, and what comes next."),
    )
    # Each rating is required only to publish (the service says so); a draft may lack them.
    rag_schedule = forms.ChoiceField(
        label=DIMENSION_LABELS["schedule"], choices=RAG_CHOICES, required=False
    )
    rag_cost = forms.ChoiceField(
        label=DIMENSION_LABELS["cost"], choices=RAG_CHOICES, required=False
    )
    rag_scope = forms.ChoiceField(
        label=DIMENSION_LABELS["scope"], choices=RAG_CHOICES, required=False
    )
    rag_quality = forms.ChoiceField(
        label=DIMENSION_LABELS["quality"], choices=RAG_CHOICES, required=False
    )
    rag_risk = forms.ChoiceField(
        label=DIMENSION_LABELS["risk"], choices=RAG_CHOICES, required=False
    )


def trend_chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Polylines of SPI and CPI per report, on one scale around 1.0 (on plan)."""
    values = [p[k] for p in points for k in ("spi", "cpi") if p[k] is not None]
    if not values:
        return None
    low = min([*values, Decimal("0.8")])
    high = max([*values, Decimal("1.2")])
    span = high - low or Decimal(1)
    count = len(points)

    def x(i: int) -> float:
        if count == 1:
            return CHART_W / 2
        return PAD + (CHART_W - 2 * PAD) * i / (count - 1)

    def y(v: Decimal) -> float:
        return float(PAD + (CHART_H - 2 * PAD) * (high - v) / span)

    def line(key: str) -> dict[str, Any]:
        marks = []
        for i, p in enumerate(points):
            if p[key] is None:
                continue
            mx, my = round(x(i), 1), round(y(p[key]), 1)
            marks.append(
                {
                    "x": mx,
                    "y": my,
                    "bx": mx - 3,
                    "by": my - 3,
                    "value": p[key],
                    "day": p["period_end"],
                }
            )
        return {"points": " ".join(f"{m['x']},{m['y']}" for m in marks), "marks": marks}

    return {
        "width": CHART_W,
        "height": CHART_H,
        "spi": line("spi"),
        "cpi": line("cpi"),
        "one": round(y(Decimal(1)), 1),
        "left": PAD,
        "right": CHART_W - PAD,
    }


class ReportListView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """A project's status reports, newest first, with the SPI/CPI trend across them.
    POST drafts this week's report now."""

    template_name = "projects/report_list.html"
    capabilities = VIEW_POST_EDIT
    model = Project
    context_object_name = "project"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("manager", "sponsor")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project: Project = self.object
        rows = list(reports.reports_of(self.org, project)[:104])
        context.update(
            reports=rows,
            chart=trend_chart(reports.trend(rows)),
            following=reports.followers(self.org, project)
            .filter(user=self.membership.user_id)
            .exists(),
            can_publish=reports.can_publish(self.membership, project),
            can_edit=self.membership.can("records.edit"),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        try:
            report = reports.draft_now(org=request.org, actor=request.user, project=project)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.path)
        messages.success(request, _("This week's report is drafted."))
        return redirect(
            reverse(
                "projects:report_detail", kwargs={"org_slug": request.org.slug, "pk": report.pk}
            )
        )


class ReportDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """One report, laid out for print; while a draft, the manager's form."""

    template_name = "projects/report_detail.html"
    capabilities = VIEW_POST_EDIT
    model = StatusReport
    context_object_name = "report"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project", "project__manager", "published_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report: StatusReport = self.object
        editable = report.status == StatusReport.Status.DRAFT and reports.can_publish(
            self.membership, report.project
        )
        if editable:
            context.setdefault(
                "form",
                ReportForm(
                    initial={
                        "narrative": report.narrative,
                        **{f"rag_{d}": getattr(report, f"rag_{d}") for d in reports.DIMENSIONS},
                    }
                ),
            )
        context.update(
            project=report.project,
            data=report.data or {},
            editable=editable,
            ratings=[
                {
                    "label": DIMENSION_LABELS[d],
                    "value": getattr(report, f"rag_{d}"),
                    "display": getattr(report, f"get_rag_{d}_display")(),
                }
                for d in reports.DIMENSIONS
            ],
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = report = cast(StatusReport, self.get_object())
        form = ReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reports.report_update(
                    org=request.org,
                    actor=request.user,
                    report=report,
                    narrative=data["narrative"],
                    rag={d: data[f"rag_{d}"] for d in reports.DIMENSIONS},
                    publish="publish" in request.POST,
                )
            except PermissionDenied:
                raise
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                published = "publish" in request.POST
                messages.success(request, _("Published.") if published else _("Saved."))
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FollowView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """Follow a project's published status reports, or stop."""

    capabilities = POST_VIEW
    model = Project

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        on = request.POST.get("follow") == "1"
        reports.follow(org=request.org, actor=request.user, project=project, on=on)
        messages.success(
            request,
            _("You will receive its status reports.") if on else _("You no longer follow it."),
        )
        return redirect(
            reverse("projects:report_list", kwargs={"org_slug": request.org.slug, "pk": project.pk})
        )
