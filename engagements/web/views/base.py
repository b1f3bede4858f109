"""What the pages of business follow-up share: capabilities, form helpers, the bases
of the service-form and delete pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from accounts import inputs
from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from engagements import selectors

EDIT = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
VIEW = {"GET": "records.view", "HEAD": "records.view"}
PAGE_SIZE = 50


def _form_errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _timeline_page(request: OrgRequest, **subject: Any) -> dict[str, Any]:
    try:
        # An unencoded "+" of the offset arrives as a space.
        before = parse_datetime(request.GET.get("before", "").replace(" ", "+"))
    except ValueError:
        before = None
    if before is not None and timezone.is_naive(before):
        before = timezone.make_aware(before)
    if before is not None:
        before = inputs.clamp_moment(before)  # a bookmark from far away never overflows
    entries = selectors.timeline(request.org, before=before, **subject)
    older = None
    if len(entries) == selectors.TIMELINE_PAGE:
        older = "?" + urlencode({"before": entries[-1].occurred_at.isoformat()})
    return {"timeline": entries, "timeline_older": older, "timeline_paged": before is not None}


def _org_redirect(request: OrgRequest, name: str, **kwargs: Any) -> HttpResponse:
    return redirect(name, org_slug=request.org.slug, **kwargs)


class _ServiceFormView(OrgViewMixin, DetailView):
    """A form about the object of the URL, saved through a service.

    GET shows the form; POST saves, or shows the form again with the service's refusals as
    field errors (400). Subclasses say how to build the form, save it and where to go next.
    """

    capabilities = EDIT
    success_message = ""

    def make_form(self, data: Any = None) -> Any:
        raise NotImplementedError

    def save(self, form: Any) -> Any:
        raise NotImplementedError

    def done(self, saved: Any) -> HttpResponse:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.make_form())
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                saved = self.save(form)
            except ValidationError as exc:
                _form_errors_into(form, exc)
            else:
                messages.success(request, self.success_message or _("Saved."))
                return self.done(saved)
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _errors_text(form: Any) -> str:
    return " ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".strip(": ")
        for f, e in form.errors.items()
    )


def _customer_path(request: OrgRequest, customer_id: Any) -> str:
    return reverse(
        "engagements:customer_detail", kwargs={"org_slug": request.org.slug, "pk": customer_id}
    )


class _DeleteView(OrgViewMixin, DetailView):
    """GET asks (saying what goes with it), POST deletes through the service."""

    template_name = "engagements/confirm_delete.html"
    context_object_name = "target"
    capabilities = EDIT

    def consequences(self) -> list[str]:
        return []

    def delete(self) -> None:
        raise NotImplementedError

    def after(self) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "consequences": self.consequences(),
            "cancel_url": self.after(),
        }

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        target = self.after()
        self.delete()
        messages.success(request, _("%(name)s was deleted.") % {"name": self.label()})
        return redirect(target)

    def label(self) -> str:
        return str(self.object)
