"""Webhooks and event deliveries (admins)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from followup.engine import (
    selectors,
    webhooks,
)
from followup.engine.models import (
    WebhookDelivery,
    WebhookEndpoint,
)
from followup.engine.web.forms import (
    WebhookForm,
)
from followup.engine.web.views.base import (
    ADMIN_ONLY,
    _errors,
)
from followup.kernel import events
from followup.kernel.models import EventDelivery


class WebhooksView(OrgViewMixin, TemplateView):
    template_name = "followup/webhooks.html"
    capabilities = ADMIN_ONLY
    model = WebhookEndpoint

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["endpoints"] = selectors.endpoints(self.org)
        context["failing_events"] = selectors.failing_event_deliveries(self.org).count()
        context["form"] = kwargs.get("form") or WebhookForm()
        context["created"] = kwargs.get("created")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = webhooks.endpoint_create(
                    org=request.org,
                    actor=request.user,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                response = self.render_to_response(self.get_context_data(created=endpoint))
                response["Cache-Control"] = "no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class WebhookDetailView(OrgViewMixin, TemplateView):
    """One endpoint: its settings and its delivery log, with replay."""

    template_name = "followup/webhook_detail.html"
    capabilities = ADMIN_ONLY
    model = WebhookEndpoint

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        endpoint = kwargs.get("endpoint") or self.get_object()
        form = kwargs.get("form") or WebhookForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "enabled": endpoint.enabled,
            }
        )
        context.update(
            endpoint=endpoint,
            form=form,
            deliveries=selectors.deliveries(self.org, endpoint)[:100],
            secret=kwargs.get("secret"),
        )
        return context

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        endpoint = self.get_object()
        action = request.POST.get("action", "save")
        if action == "delete":
            webhooks.endpoint_delete(endpoint=endpoint, actor=request.user)
            messages.success(request, _("Endpoint deleted."))
            return redirect("followup:webhooks", org_slug=request.org.slug)
        if action == "rotate":
            endpoint = webhooks.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
            response = self.render_to_response(
                self.get_context_data(endpoint=endpoint, secret=endpoint.secret)
            )
            response["Cache-Control"] = "no-store"
            return response
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                webhooks.endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect(
                    "followup:webhook_detail", org_slug=request.org.slug, pk=endpoint.pk
                )
        return self.render_to_response(
            self.get_context_data(endpoint=endpoint, form=form), status=400
        )


class WebhookReplayView(OrgViewMixin, View):
    capabilities = {"POST": "webhooks.manage"}
    model = WebhookDelivery

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        from followup.engine.tasks import replay_webhook

        delivery = self.get_object()
        replay_webhook.delay(str(request.org.pk), str(delivery.pk))
        messages.success(
            request,
            _("Replay of %(id)s queued: it is sent in a moment.") % {"id": delivery.message_id},
        )
        return redirect(
            "followup:webhook_detail", org_slug=request.org.slug, pk=delivery.endpoint_id
        )


class EventDeliveriesView(OrgViewMixin, TemplateView):
    """Admins: the outbox's deliveries to subscribers that are failing, with the error of
    the last attempt and a retry button. Webhook endpoints' own HTTP deliveries are on each
    endpoint's page; these are the steps before (a subscriber such as the webhook fan-out
    or the health refresh raising on an event)."""

    template_name = "followup/event_deliveries.html"
    capabilities = ADMIN_ONLY
    model = EventDelivery

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = selectors.failing_event_deliveries(self.org)[:200]
        context["max_attempts"] = events.MAX_ATTEMPTS
        return context


class EventDeliveryRetryView(OrgViewMixin, View):
    capabilities = {"POST": "webhooks.manage"}
    model = EventDelivery

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        delivery = self.get_object()
        try:
            events.delivery_retry(org=request.org, delivery_id=delivery.pk)
        except events.RetryRefused:
            messages.error(request, _("This delivery is done or being attempted right now."))
        else:
            messages.success(request, _("Retry queued: it runs in a moment."))
        return redirect("followup:event_deliveries", org_slug=request.org.slug)
