"""The organization's risk settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from risks import selectors, services
from risks.calc import scoring
from risks.models import Risk
from risks.web.forms import (
    MatrixForm,
)
from risks.web.views.base import (
    ADMIN_EDITS,
    _url,
)

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
