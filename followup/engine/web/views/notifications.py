"""Notifications, the bell and notification preferences."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.mixins import READ_ONLY, OrgViewMixin
from accounts.requests import OrgRequest
from followup.engine import (
    notifications,
    selectors,
)
from followup.engine.models import (
    Notification,
)
from followup.engine.web.forms import (
    PreferenceForm,
)
from followup.engine.web.views.base import (
    _back,
)
from followup.kernel import sorting


class NotificationsView(OrgViewMixin, TemplateView):
    template_name = "followup/notifications.html"
    # Everyone reads and clears their own notifications, viewers included.
    capabilities = {**READ_ONLY, "POST": "records.view"}
    model = Notification

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, user = self.org, self.request.user
        sort = sorting.choose(self.request.GET.get("sort"), selectors.NOTIFICATION_SORTS, "-when")
        unread_only = self.request.GET.get("show") == "unread"
        inbox = notifications.inbox(org, user)
        if unread_only:
            inbox = inbox.filter(read_at__isnull=True)
        rows = list(inbox.order_by(*sort.order_by)[:100])
        for row in rows:
            row.title = notifications.render_title(row)
        context["rows"] = rows
        context["unread"] = sum(1 for r in rows if r.read_at is None)
        context["sort"] = sort.param
        context["unread_only"] = unread_only
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        count = notifications.mark_read(org=request.org, user=request.user)
        messages.success(request, _("%(count)d marked as read.") % {"count": count})
        return redirect("followup:notifications", org_slug=request.org.slug)


class NotificationReadView(OrgViewMixin, View):
    """Mark one read; then go where it points (the follow-up), or back to the list."""

    capabilities = {"POST": "records.view"}
    model = Notification

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(recipient=self.request.user)

    def post(self, request: OrgRequest, pk: Any) -> HttpResponse:
        notification = self.get_object()
        notifications.mark_read(org=request.org, user=request.user, ids=[notification.pk])
        if request.POST.get("open") and notification.url.startswith("/"):
            return redirect(notification.url)
        return redirect(
            _back(request, reverse("followup:notifications", kwargs={"org_slug": request.org.slug}))
        )


class BellView(OrgViewMixin, View):
    """htmx polling target: the bell with the unread count (no full reload)."""

    capabilities = READ_ONLY

    def get(self, request: OrgRequest) -> HttpResponse:
        response = render(
            request,
            "followup/partials/bell.html",
            {"unread": notifications.unread_count(request.org, request.user)},
        )
        response["Cache-Control"] = "no-store"
        return response


class PreferencesView(OrgViewMixin, TemplateView):
    template_name = "followup/preferences.html"
    capabilities = {**READ_ONLY, "POST": "records.view"}

    def _rows(self, data: Any = None) -> list[dict[str, Any]]:
        rows = []
        for key, spec, choice in notifications.preferences(self.org, self.request.user):
            form = PreferenceForm(
                data,
                prefix=key.replace(".", "-"),
                digestible=spec.digestible,
                initial={"in_app": choice.in_app, "email": choice.email},
            )
            rows.append({"key": key, "spec": spec, "form": form})
        return rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = kwargs.get("rows") or self._rows()
        context["user_tz"] = self.request.user.timezone
        context["digest_hour"] = settings.FOLLOWUP_DIGEST_HOUR
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        rows = self._rows(request.POST)
        if not all(row["form"].is_valid() for row in rows):
            return self.render_to_response(self.get_context_data(rows=rows), status=400)
        for row in rows:
            notifications.preference_set(
                org=request.org,
                user=request.user,
                kind=row["key"],
                in_app=row["form"].cleaned_data["in_app"],
                email=row["form"].cleaned_data["email"],
            )
        messages.success(request, _("Notification settings saved."))
        return redirect("followup:preferences", org_slug=request.org.slug)
