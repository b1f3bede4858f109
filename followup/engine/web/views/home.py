"""My day: the organization home page."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from followup.engine import (
    myday,
    selectors,
)
from followup.engine.models import (
    FollowUp,
)
from followup.engine.web.bulk import bulk_form
from followup.engine.web.forms import (
    SNOOZE_LABELS,
)


class HomeView(OrgViewMixin, TemplateView):
    """My day: the organization's home page, the page a rep opens first."""

    template_name = "followup/home.html"
    model = FollowUp

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, user = self.org, self.request.user
        context["day"] = day = selectors.my_day(org, user)
        # Other apps' rows (followup.engine.myday), for the signed-in person.
        context["extra_sections"] = myday.sections(org, self.org_request.user, day)
        context["snooze_choices"] = SNOOZE_LABELS
        context["can_edit"] = self.membership.can("records.edit")
        context["can_team"] = self.membership.can("team.view")
        if context["can_edit"]:
            context["bulk"] = bulk_form(org)
        return context
