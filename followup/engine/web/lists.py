"""Saving and deleting a person's views of a list (``followup.engine.lists``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View

from accounts.mixins import OrgViewMixin
from accounts.requests import safe_next
from followup.engine import lists
from followup.engine.models import SavedFilter

# Everyone keeps their own views, viewers included.
PERSONAL = {"POST": "records.view"}


class SavedFilterCreateView(OrgViewMixin, View):
    capabilities = PERSONAL

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        page = lists.get(request.POST.get("list", ""))
        if page is None:
            return HttpResponse(status=400)
        query = request.POST.get("query", "")
        try:
            saved = lists.saved_filter_save(
                org=req.org,
                user=req.user,
                list_key=page.key,
                name=request.POST.get("name", ""),
                query=query,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            target = page.path(req.org) + (f"?{lists.clean_query(query)}" if query else "")
            return redirect(target)
        messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
        return redirect(page.path(req.org) + (f"?{saved.query}" if saved.query else ""))


class SavedFilterDeleteView(OrgViewMixin, View):
    capabilities = PERSONAL
    model = SavedFilter

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.filter(user=self.request.user)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        saved = self.get_object()
        assert isinstance(saved, SavedFilter)
        lists.saved_filter_delete(org=req.org, user=req.user, saved=saved)
        messages.success(request, _("View “%(name)s” deleted.") % {"name": saved.name})
        page = lists.get(saved.list_key)
        fallback = page.path(req.org) if page is not None else f"/o/{req.org.slug}/"
        return redirect(safe_next(request, fallback) or fallback)
