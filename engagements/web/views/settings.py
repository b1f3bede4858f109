"""Health settings of the organization."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from engagements import selectors, services
from engagements.web.forms import (
    HealthSettingsForm,
)
from engagements.web.views.base import (
    _org_redirect,
)


class HealthSettingsView(OrgViewMixin, TemplateView):
    template_name = "engagements/health_settings.html"
    capabilities = {"GET": "records.view", "HEAD": "records.view", "POST": "org.manage"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        settings = selectors.health_settings(self.org)
        context.setdefault(
            "form", HealthSettingsForm(initial=HealthSettingsForm.initial_from(settings))
        )
        context["can_manage"] = self.membership.can("org.manage")
        context["settings"] = settings
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = HealthSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.health_settings_update(
                    org=request.org, actor=request.user, values=form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Health settings saved. Scores are being recomputed."))
                return _org_redirect(request, "engagements:health_settings")
        return self.render_to_response(self.get_context_data(form=form), status=400)
