"""Bulk work on the customer list: a new owner or status for the ticked customers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.mixins import OrgFormMixin, OrgViewMixin
from accounts.models import Organization, User
from engagements import bulk, selectors
from engagements.models import Customer
from engagements.web.forms import PersonChoiceField
from followup.engine.web.bulk import back_to, confirmation, selected_ids, undo_message


class CustomerBulkForm(OrgFormMixin, forms.Form):
    field = forms.ChoiceField(
        label=gettext_lazy("With the selected"),
        choices=[("owner", gettext_lazy("Give to owner")), ("status", gettext_lazy("Set status"))],
        widget=forms.Select(attrs={"data-bulk-action": ""}),
    )
    owner = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=gettext_lazy("New owner"),
        empty_label=gettext_lazy("Nobody"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("New status"), choices=Customer.Status.choices, required=False
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = selectors.org_people(org)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("field") == "status" and not cleaned.get("status"):
            self.add_error("status", _("Choose a status."))
        return cleaned

    @property
    def value(self) -> Any:
        return self.cleaned_data[self.cleaned_data["field"]]

    def words(self) -> str:
        if self.cleaned_data["field"] == "owner":
            owner = self.cleaned_data["owner"]
            return owner.name if owner is not None else _("nobody")
        return str(Customer.Status(self.cleaned_data["status"]).label)


def bulk_form(org: Organization) -> CustomerBulkForm:
    return CustomerBulkForm(org=org, initial={"field": "owner"}, auto_id="cbulk-%s")


class CustomerBulkView(OrgViewMixin, View):
    capabilities = {"POST": "records.edit"}
    model = Customer

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        cancel = back_to(
            request, reverse("engagements:customer_list", kwargs={"org_slug": req.org.slug})
        )
        ids = selected_ids(request)
        if ids == []:
            messages.error(request, _("Select at least one customer."))
            return redirect(cancel)
        rows: list[Customer] = list(self.get_queryset().filter(pk__in=ids)) if ids else []
        title = _("Several customers at once")
        if ids is None or len(rows) != len(ids):
            return confirmation(
                request,
                title=title,
                question="",
                rows=[],
                cancel=cancel,
                status=400,
                error=_("Some of the selected customers do not exist (any more)."),
            )
        form = CustomerBulkForm(request.POST, org=req.org)
        if not form.is_valid():
            errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
            return confirmation(
                request, title=title, question="", rows=[], cancel=cancel, status=400, error=errors
            )
        rows.sort(key=lambda c: c.name.lower())
        field = form.cleaned_data["field"]
        if not request.POST.get("confirm"):
            question = (
                _("Give these %(n)d customers to %(who)s?")
                if field == "owner"
                else _("Set the status of these %(n)d customers to %(who)s?")
            ) % {"n": len(rows), "who": form.words()}
            return confirmation(
                request,
                title=title,
                question=question,
                rows=[c.name for c in rows],
                cancel=cancel,
            )
        try:
            applied = bulk.customers_bulk(
                org=req.org, actor=req.user, customers=rows, field=field, value=form.value
            )
        except ValidationError as exc:
            messages.error(
                request, _("Nothing was changed. %(reason)s") % {"reason": " ".join(exc.messages)}
            )
            return redirect(cancel)
        done = _("%(n)d customers changed: %(what)s.") % {
            "n": applied.count,
            "what": form.words(),
        }
        messages.success(request, undo_message(request, req.org, done, applied.change))
        return redirect(cancel)
