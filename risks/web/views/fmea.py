"""A project's FMEA worksheet and its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.tenancy import access_by_id
from projects.models import Project
from risks import selectors
from risks.models import Risk
from risks.web.views.base import (
    AP_BADGE,
    VIEW,
)

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
