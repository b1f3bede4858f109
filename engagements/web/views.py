"""Pages of business follow-up. Thin: forms in, services and selectors out."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from accounts import inputs
from accounts.mixins import OrgViewMixin
from accounts.models import Organization
from accounts.requests import OrgRequest
from accounts.tenancy import access_by_id
from engagements import followups, imports, selectors, services
from engagements.health_words import SIGNAL_LABELS, describe
from engagements.models import Contact, Customer, Engagement, ImportJob, Kpi, Touchpoint
from engagements.tasks import queue_import
from engagements.web import charts
from engagements.web.bulk import bulk_form
from engagements.web.forms import (
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    EngagementForm,
    HealthSettingsForm,
    ImportForm,
    KpiForm,
    QuickLogForm,
    TouchpointForm,
)
from followup.engine.models import FollowUp
from followup.kernel import idempotent_forms

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


# --- Customers -------------------------------------------------------------------------


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


class EngagementCreateView(_ServiceFormView):
    template_name = "engagements/engagement_form.html"
    model = Customer
    context_object_name = "customer"

    def make_form(self, data: Any = None) -> EngagementForm:
        initial = {"owner": self.request.user, "started_on": timezone.localdate()}
        return EngagementForm(data, org=self.org, initial=initial)

    def save(self, form: EngagementForm) -> Engagement:
        self.success_message = _("Engagement started.")
        return services.engagement_save(
            org=self.org,
            actor=self.request.user,
            data={**form.cleaned_data, "customer": self.object},
        )

    def done(self, saved: Engagement) -> HttpResponse:
        return _org_redirect(self.request, "engagements:engagement_detail", pk=saved.pk)


class EngagementDetailView(OrgViewMixin, DetailView):
    template_name = "engagements/engagement_detail.html"
    capabilities = VIEW
    model = Engagement
    context_object_name = "engagement"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.with_engagement_detail(queryset, self.org)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        engagement = self.object
        org = self.org
        settings = selectors.health_settings(org)
        snapshots = selectors.health_trend(engagement)
        context.update(
            signals=[
                {
                    **signal,
                    "label": SIGNAL_LABELS.get(signal.get("key"), signal.get("key")),
                    "words": describe(signal),
                }
                for signal in engagement.health_signals
            ],
            chart=charts.health_trend_svg([(s.day, s.score, s.level) for s in snapshots], settings),
            kpis=selectors.kpi_values(engagement, engagement.kpis.all(), now=timezone.now()),
            **_timeline_page(self.request, engagement=engagement),
            can_edit=self.membership.can("records.edit"),
            followups=followups.page_rows(org, followups.for_engagement(org, engagement)),
            now=timezone.now(),
        )
        if context["can_edit"]:
            context["kpi_form"] = kwargs.get("kpi_form") or KpiForm(org=org)
            context["quick_form"] = QuickLogForm(
                org=org,
                user=self.request.user,
                initial={"customer": engagement.customer, "engagement": engagement},
            )
        return context


class EngagementEditView(_ServiceFormView):
    template_name = "engagements/engagement_form.html"
    model = Engagement
    context_object_name = "engagement"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("customer").prefetch_related("team")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "customer": self.object.customer}

    def make_form(self, data: Any = None) -> EngagementForm:
        instance = Engagement.objects.for_org(self.org).get(pk=self.object.pk)
        return EngagementForm(data, instance=instance, org=self.org)

    def save(self, form: EngagementForm) -> Engagement:
        return services.engagement_save(
            org=self.org,
            actor=self.request.user,
            data=form.cleaned_data,
            engagement=self.object,
        )

    def done(self, saved: Engagement) -> HttpResponse:
        return _org_redirect(self.request, "engagements:engagement_detail", pk=saved.pk)


class KpiCreateView(OrgViewMixin, View):
    capabilities = {"POST": "records.edit"}
    model = Engagement

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        engagement = self.get_object()
        form = KpiForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                services.kpi_save(
                    org=request.org,
                    actor=request.user,
                    engagement=engagement,
                    data=form.cleaned_data,
                )
            except ValidationError as exc:
                _form_errors_into(form, exc)
            else:
                messages.success(request, _("KPI added."))
                return _org_redirect(request, "engagements:engagement_detail", pk=engagement.pk)
        messages.error(
            request, _("The KPI was not added: %(errors)s") % {"errors": _errors_text(form)}
        )
        return _org_redirect(request, "engagements:engagement_detail", pk=engagement.pk)


def _errors_text(form: Any) -> str:
    return " ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".strip(": ")
        for f, e in form.errors.items()
    )


class KpiEditView(_ServiceFormView):
    template_name = "engagements/kpi_form.html"
    model = Kpi
    context_object_name = "kpi"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("engagement", "engagement__customer")

    def make_form(self, data: Any = None) -> KpiForm:
        instance = Kpi.objects.for_org(self.org).get(pk=self.object.pk)
        return KpiForm(data, instance=instance, org=self.org)

    def save(self, form: KpiForm) -> Kpi:
        kpi = self.object
        return services.kpi_save(
            org=self.org,
            actor=self.request.user,
            engagement=kpi.engagement,
            data=form.cleaned_data,
            kpi=kpi,
        )

    def done(self, saved: Kpi) -> HttpResponse:
        return _org_redirect(self.request, "engagements:engagement_detail", pk=saved.engagement_id)


class KpiDeleteView(OrgViewMixin, View):
    capabilities = {"POST": "records.edit"}
    model = Kpi

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        kpi = self.get_object()
        services.kpi_delete(org=request.org, actor=request.user, kpi=kpi)
        messages.success(request, _("KPI removed."))
        return _org_redirect(request, "engagements:engagement_detail", pk=kpi.engagement_id)


class TouchpointEditView(_ServiceFormView):
    template_name = "engagements/touchpoint_form.html"
    model = Touchpoint
    context_object_name = "touchpoint"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("customer", "engagement")

    def make_form(self, data: Any = None) -> TouchpointForm:
        instance = Touchpoint.objects.for_org(self.org).get(pk=self.object.pk)
        return TouchpointForm(data, instance=instance, org=self.org)

    def save(self, form: TouchpointForm) -> Touchpoint:
        self.success_message = _("Touchpoint corrected.")
        return services.touchpoint_update(
            org=self.org,
            actor=self.request.user,
            touchpoint=self.object,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )

    def done(self, saved: Touchpoint) -> HttpResponse:
        return redirect(_safe_next(self.request) or _customer_path(self.request, saved.customer_id))


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


class TouchpointDeleteView(_DeleteView):
    model = Touchpoint

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("customer")

    def label(self) -> str:
        return _("The touchpoint")

    def after(self) -> str:
        return _customer_path(self.request, self.object.customer_id)

    def delete(self) -> None:
        services.touchpoint_delete(org=self.org, actor=self.request.user, touchpoint=self.object)


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


# --- Quick log -------------------------------------------------------------------------


def _safe_next(request: OrgRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return None


def _answering(org: Organization, followup_id: str) -> dict[str, Any]:
    """Initial quick-log values for answering a follow-up of this organization."""
    try:
        followup = access_by_id(FollowUp.objects, org, followup_id)
    except Http404:
        return {}  # unknown, malformed or foreign: a plain quick log
    customer, engagement = followups.subject_of(org, followup)
    values: dict[str, Any] = {"followup": followup.pk}
    if customer is not None:
        values["customer"] = customer.pk
    if engagement is not None:
        values["engagement"] = engagement.pk
    return values


class QuickLogView(OrgViewMixin, TemplateView):
    """Log a touchpoint in a few keystrokes: from the header, a customer or an engagement.

    With htmx the form swaps itself (errors inline, or a fresh form after saving) and the
    new entry is added to the page's timeline out of band; without JavaScript it is a
    plain form that redirects back.
    """

    template_name = "engagements/quick_log.html"
    capabilities = EDIT

    def _form(self, data: Any = None, initial: dict[str, Any] | None = None) -> QuickLogForm:
        return QuickLogForm(
            data,
            org=self.org,
            user=self.request.user,
            search=self.request.GET.get("q", "").strip(),
            initial=initial or {},
        )

    def get(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A reload (customer chosen, search typed) keeps what the rep already entered.
        keep = set(QuickLogForm.base_fields) - {"contacts"}
        initial: dict[str, Any] = {k: v for k, v in request.GET.items() if k in keep and v}
        contacts = [c for c in request.GET.getlist("contacts") if c]
        if contacts:  # "log this call" after a tel: link names the contact called
            initial["contacts"] = contacts
        if "followup" in initial and "customer" not in initial:
            # Answering a follow-up: its customer (and engagement) are already known.
            initial.update(_answering(request.org, initial["followup"]))
        form = self._form(initial=initial)
        context = self.get_context_data(form=form, next=_safe_next(request) or "")
        if request.htmx:
            return render(request, f"{self.template_name}#quick-log-form", context)
        context["timeline"] = selectors.recent_touchpoints_by(request.org, request.user)
        return self.render_to_response(context)

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The offline outbox resends with the key it made when the rep tapped Save: the
        # second time, the first answer comes back and nothing is logged again.
        return idempotent_forms.run(request, request.org, lambda: self._log(request))

    def _log(self, request: OrgRequest) -> HttpResponse:
        form = self._form(request.POST)
        touchpoint = None
        if form.is_valid():
            d = form.cleaned_data
            try:
                touchpoint = services.touchpoint_log(
                    org=request.org,
                    actor=request.user,
                    customer=d["customer"],
                    engagement=d["engagement"],
                    channel=d["channel"],
                    summary=d["summary"],
                    occurred_at=d["occurred_at"],
                    contacts=d.get("contacts") or (),
                    outcome=d["outcome"],
                    sentiment=d["sentiment"],
                    satisfaction=d["satisfaction"],
                    effort_minutes=d["effort_minutes"],
                    next_step=d["next_step"],
                    answers=d.get("followup"),
                    business_event=d.get("business_event") or "",
                )
            except ValidationError as exc:
                _form_errors_into(form, exc)
        next_url = _safe_next(request)
        if touchpoint is None:
            context = self.get_context_data(form=form, next=next_url or "")
            if request.htmx:
                # htmx swaps only 2xx answers; the form with its errors is the answer. The
                # offline outbox tells a refusal from a save by this header.
                response = render(request, f"{self.template_name}#quick-log-form", context)
                response[idempotent_forms.INVALID_HEADER] = "1"
                return response
            context["timeline"] = selectors.recent_touchpoints_by(request.org, request.user)
            return self.render_to_response(context, status=400)
        if request.htmx:
            keep = {"customer": touchpoint.customer} if request.POST.get("keep_customer") else {}
            if keep and request.POST.get("keep_engagement") and touchpoint.engagement_id:
                keep["engagement"] = touchpoint.engagement
            context = self.get_context_data(
                form=QuickLogForm(org=request.org, user=request.user, initial=keep),
                next=next_url or "",
                logged=touchpoint,
                keep_customer=bool(keep),
                keep_engagement=bool(request.POST.get("keep_engagement")),
            )
            return render(request, f"{self.template_name}#quick-log-saved", context)
        messages.success(
            request,
            _("Touchpoint logged for %(customer)s.") % {"customer": touchpoint.customer.name},
        )
        return redirect(
            next_url
            or reverse(
                "engagements:customer_detail",
                kwargs={"org_slug": request.org.slug, "pk": touchpoint.customer_id},
            )
        )


# --- Effort, imports, settings ---------------------------------------------------------


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


class ImportView(OrgViewMixin, TemplateView):
    template_name = "engagements/imports.html"
    capabilities = {"GET": "records.import", "HEAD": "records.import", "POST": "records.import"}
    model = ImportJob

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportForm())
        context["jobs"] = selectors.import_jobs(self.org)[:20]
        context["columns"] = [(ImportJob.Kind(k).label, v) for k, v in imports.COLUMNS.items()]
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                content = imports.decode(upload.read(imports.MAX_BYTES + 1))
            except imports.FileError as exc:
                form.add_error("file", str(exc))
            else:
                job = services.import_start(
                    org=request.org,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    filename=upload.name[:255],
                    content=content,
                    queue=queue_import,
                )
                return _org_redirect(request, "engagements:import_detail", pk=job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImportDetailView(OrgViewMixin, DetailView):
    template_name = "engagements/import_detail.html"
    capabilities = {"GET": "records.import", "HEAD": "records.import"}
    model = ImportJob
    context_object_name = "job"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.defer("content")

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if self.request.htmx:
            return render(self.request, f"{self.template_name}#progress", context)
        return super().render_to_response(context, **kwargs)


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
