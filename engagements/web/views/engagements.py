"""Engagement pages with their KPIs and touchpoints."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest, safe_next
from engagements import followups, selectors, services
from engagements.health_words import SIGNAL_LABELS, describe
from engagements.models import Customer, Engagement, Kpi, Touchpoint
from engagements.web import charts
from engagements.web.forms import (
    EngagementForm,
    KpiForm,
    QuickLogForm,
    TouchpointForm,
)
from engagements.web.views.base import (
    VIEW,
    _customer_path,
    _DeleteView,
    _errors_text,
    _form_errors_into,
    _org_redirect,
    _ServiceFormView,
    _timeline_page,
)


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
        return redirect(safe_next(self.request) or _customer_path(self.request, saved.customer_id))


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
