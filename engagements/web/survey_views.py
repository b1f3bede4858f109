"""Satisfaction surveys: sending one to a contact (a page of the organization), and the
public page where the contact answers through the link's signed token."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from engagements import surveys
from engagements.models import Contact
from engagements.web.survey_forms import SurveyAnswerForm, SurveySendForm


def _errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class SurveySendView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "engagements/survey_send.html"
    capabilities = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
    model = Contact
    context_object_name = "contact"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("customer")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contact: Contact = self.object
        context.update(
            customer=contact.customer,
            form=kwargs.get("form") or SurveySendForm(org=self.org, contact=contact),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = contact = cast(Contact, self.get_object())
        form = SurveySendForm(request.POST, org=request.org, contact=contact)
        if form.is_valid():
            try:
                surveys.survey_send(
                    org=request.org,
                    actor=request.user,
                    contact=contact,
                    engagement=form.cleaned_data["engagement"],
                    language=form.cleaned_data["language"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Survey sent to %(name)s.") % {"name": contact.name})
                return redirect(
                    reverse(
                        "engagements:customer_detail",
                        kwargs={"org_slug": request.org.slug, "pk": contact.customer_id},
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SurveyAnswerView(View):
    """Public: the token is the credential. Shows only the survey's organization name and
    the contact's first name; a forged, altered or unknown token is 404."""

    template_name = "engagements/survey_answer.html"

    def _render(
        self, request: HttpRequest, opened: surveys.Opened | None, status: int = 200, **extra: Any
    ) -> HttpResponse:
        language = opened.survey.language if opened else translation.get_language()
        with translation.override(language):
            response = render(
                request, self.template_name, {"opened": opened, **extra}, status=status
            )
        response["Content-Language"] = language
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        opened = surveys.open_token(token)
        if opened is None:
            return self._render(request, None, status=404)
        if opened.answered or opened.expired:
            return self._render(request, opened, status=410)
        with translation.override(opened.survey.language):
            form = SurveyAnswerForm()
        return self._render(request, opened, form=form)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        opened = surveys.open_token(token)
        if opened is None:
            return self._render(request, None, status=404)
        if opened.answered or opened.expired:
            return self._render(request, opened, status=410)
        with translation.override(opened.survey.language):
            form = SurveyAnswerForm(request.POST)
            valid = form.is_valid()
        if valid:
            try:
                surveys.answer(
                    survey=opened.survey,
                    csat=int(form.cleaned_data["csat"]),
                    nps=form.cleaned_data["nps"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError:
                return self._render(request, surveys.open_token(token), status=410)
            return self._render(request, opened, thanks=True)
        return self._render(request, opened, status=400, form=form)
