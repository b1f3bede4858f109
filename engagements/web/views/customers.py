"""Customer and contact pages: list, export, create, detail, edit, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from engagements import followups, imports, selectors, services
from engagements.models import Contact, Customer
from engagements.web.bulk import bulk_form
from engagements.web.forms import (
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    QuickLogForm,
)
from engagements.web.views.base import (
    EDIT,
    PAGE_SIZE,
    VIEW,
    _customer_path,
    _DeleteView,
    _form_errors_into,
    _org_redirect,
    _ServiceFormView,
    _timeline_page,
)


class CustomerListView(OrgViewMixin, TemplateView):
    template_name = "engagements/customer_list.html"
    capabilities = VIEW
    model = Customer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.filter_customers(queryset.select_related("owner"), self.filters)

    def get(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.filter_form = CustomerFilterForm(request.GET or None, org=request.org)
        self.filters = self.filter_form.filters()
        page = Paginator(self.get_queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = self.get_context_data(
            page=page,
            customers=page.object_list,
            filter_form=self.filter_form,
            query=query.urlencode(),
            sort=self.filters.sort if self.filters.sort in selectors.CUSTOMER_SORTS else "name",
            can_edit=request.membership.can("records.edit"),
            can_import=request.membership.can("records.import"),
        )
        if request.htmx and request.htmx.target == "customer-results":
            return render(request, f"{self.template_name}#results", context)
        if context["can_edit"]:
            context["bulk"] = bulk_form(request.org)
        return self.render_to_response(context)


class CustomerExportView(CustomerListView):
    """The filtered customer list as CSV (same filters as the page, no paging)."""

    def get(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.filters = CustomerFilterForm(request.GET or None, org=request.org).filters()
        body = imports.export_customers(self.get_queryset().iterator(chunk_size=2000))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
        return response


class CustomerCreateView(OrgViewMixin, TemplateView):
    template_name = "engagements/customer_form.html"
    capabilities = EDIT

    def get(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CustomerForm(org=request.org, initial={"owner": request.user})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CustomerForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                customer = services.customer_save(
                    org=request.org, actor=request.user, data=form.cleaned_data
                )
            except ValidationError as exc:
                _form_errors_into(form, exc)
            else:
                messages.success(request, _("%(name)s was added.") % {"name": customer.name})
                return _org_redirect(request, "engagements:customer_detail", pk=customer.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CustomerDetailView(OrgViewMixin, DetailView):
    template_name = "engagements/customer_detail.html"
    capabilities = VIEW
    model = Customer
    context_object_name = "customer"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.with_customer_detail(queryset.select_related("owner"), self.org)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = self.object
        org = self.org
        context.update(_timeline_page(self.request, customer=customer))
        context["followups"] = followups.page_rows(org, followups.for_customer(org, customer))
        context["now"] = timezone.now()
        if self.membership.can("records.edit"):
            context["quick_form"] = QuickLogForm(
                org=org, user=self.request.user, initial={"customer": customer}
            )
        return context


class CustomerEditView(_ServiceFormView):
    template_name = "engagements/customer_form.html"
    model = Customer
    context_object_name = "customer"

    def make_form(self, data: Any = None) -> CustomerForm:
        # A copy: the form writes into its instance, the service compares against ours.
        instance = Customer.objects.for_org(self.org).get(pk=self.object.pk)
        return CustomerForm(data, instance=instance, org=self.org)

    def save(self, form: CustomerForm) -> Customer:
        return services.customer_save(
            org=self.org,
            actor=self.request.user,
            data=form.cleaned_data,
            customer=self.object,
        )

    def done(self, saved: Customer) -> HttpResponse:
        return _org_redirect(self.request, "engagements:customer_detail", pk=saved.pk)


class ContactCreateView(_ServiceFormView):
    """Add a contact to the customer of the URL."""

    template_name = "engagements/contact_form.html"
    model = Customer
    context_object_name = "customer"

    def make_form(self, data: Any = None) -> ContactForm:
        return ContactForm(data, org=self.org)

    def save(self, form: ContactForm) -> Contact:
        self.success_message = _("Contact added.")
        return services.contact_save(
            org=self.org,
            actor=self.request.user,
            data={**form.cleaned_data, "customer": self.object},
        )

    def done(self, saved: Contact) -> HttpResponse:
        return _org_redirect(self.request, "engagements:customer_detail", pk=saved.customer_id)


class ContactEditView(_ServiceFormView):
    template_name = "engagements/contact_form.html"
    model = Contact
    context_object_name = "contact"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("customer")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "customer": self.object.customer}

    def make_form(self, data: Any = None) -> ContactForm:
        instance = Contact.objects.for_org(self.org).get(pk=self.object.pk)
        return ContactForm(data, instance=instance, org=self.org)

    def save(self, form: ContactForm) -> Contact:
        return services.contact_save(
            org=self.org,
            actor=self.request.user,
            data=form.cleaned_data,
            contact=self.object,
        )

    def done(self, saved: Contact) -> HttpResponse:
        return _org_redirect(self.request, "engagements:customer_detail", pk=saved.customer_id)


class ContactDeleteView(_DeleteView):
    model = Contact

    def label(self) -> str:
        return self.object.name

    def after(self) -> str:
        return _customer_path(self.request, self.object.customer_id)

    def delete(self) -> None:
        services.contact_delete(org=self.org, actor=self.request.user, contact=self.object)


class CustomerDeleteView(_DeleteView):
    model = Customer
    capabilities = {"GET": "records.delete", "HEAD": "records.delete", "POST": "records.delete"}

    def label(self) -> str:
        return self.object.name

    def consequences(self) -> list[str]:
        counts = selectors.customer_footprint(self.org, self.object)
        return [
            _("%(n)d engagements, with their KPIs and health history")
            % {"n": counts["engagements"]},
            _("%(n)d touchpoints") % {"n": counts["touchpoints"]},
            _("%(n)d contacts") % {"n": counts["contacts"]},
            _("Open follow-ups about this customer are cancelled."),
        ]

    def after(self) -> str:
        return reverse("engagements:customer_list", kwargs={"org_slug": self.org.slug})

    def delete(self) -> None:
        services.customer_delete(org=self.org, actor=self.request.user, customer=self.object)
