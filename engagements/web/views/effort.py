"""The team effort page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from engagements import selectors


class EffortView(OrgViewMixin, TemplateView):
    template_name = "engagements/effort.html"
    capabilities = {"GET": "team.view", "HEAD": "team.view"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        zone = selectors.org_zone(self.org)
        today = timezone.now().astimezone(zone).date()
        month = today.replace(day=1)
        raw = self.request.GET.get("month", "")
        try:
            year, mon = (int(part) for part in raw.split("-"))
            month = date(year, mon, 1)
        except ValueError:
            if raw:
                context["month_error"] = _("Use a month such as %(example)s.") % {
                    "example": today.strftime("%Y-%m")
                }
        context["report"] = selectors.effort_report(self.org, month)
        context["month_value"] = month.strftime("%Y-%m")
        return context
