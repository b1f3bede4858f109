"""The personal calendar feed: its page and the token-addressed .ics."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from accounts.mixins import READ_ONLY, OrgViewMixin
from accounts.requests import OrgRequest
from followup.engine import (
    calendar,
)


class CalendarView(OrgViewMixin, TemplateView):
    """The person's secret calendar address: create, regenerate, revoke."""

    template_name = "followup/calendar.html"
    capabilities = {**READ_ONLY, "POST": "records.view"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["feed"] = calendar.active_feed(self.org, self.request.user)
        context["feed_url"] = kwargs.get("feed_url")
        return context

    def post(self, request: OrgRequest) -> HttpResponse:
        if request.POST.get("action") == "revoke":
            calendar.feed_revoke(org=request.org, user=request.user)
            messages.success(request, _("The calendar address was revoked."))
            return redirect("followup:calendar", org_slug=request.org.slug)
        token = calendar.feed_create(org=request.org, user=request.user)
        url = settings.BASE_URL + reverse("followup:calendar_feed", kwargs={"token": token})
        # Rendered, not redirected: the secret address must not travel in a redirect.
        response = self.render_to_response(self.get_context_data(feed_url=url))
        response["Cache-Control"] = "no-store"
        return response


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the token is the credential. Unknown or revoked: 404, nothing else said."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    feed = calendar.feed_by_token(token)
    if feed is None:
        raise Http404
    host = request.get_host().split(":")[0] or "followup"
    body = calendar.feed_body(feed, base_url=settings.BASE_URL, host=host, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="followup.ics"'
    return response
