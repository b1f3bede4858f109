"""The 5x5 risk matrix: organization-wide, per project, per customer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.tenancy import access_by_id
from engagements.models import Customer
from projects.models import Project
from risks import selectors
from risks.models import Risk
from risks.web import charts
from risks.web.forms import (
    RiskFilterForm,
)
from risks.web.views.base import (
    VIEW,
    _url,
)

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
