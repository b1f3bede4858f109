"""``/o/<org>/search/?q=``: one search over every registered kind (``followup.kernel.search``).

A plain GET form gives the full page; the header's box asks the same URL with htmx and gets
the dropdown (a listbox of the first few results per kind).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import TemplateView

from accounts.mixins import READ_ONLY, OrgViewMixin
from followup.kernel import search

DROPDOWN_TARGET = "site-search-pop"
DROPDOWN_LIMIT = 5
PAGE_LIMIT = 20


class SearchView(OrgViewMixin, TemplateView):
    template_name = "followup/search.html"
    capabilities = READ_ONLY

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        query = search.clean(request.GET.get("q", ""))
        dropdown = bool(req.htmx) and req.htmx.target == DROPDOWN_TARGET
        groups = search.run(
            req.org,
            req.user,
            query,
            limit=DROPDOWN_LIMIT if dropdown else PAGE_LIMIT,
            can=req.membership.can,
        )
        context = self.get_context_data(
            q=query,
            groups=groups,
            too_short=bool(query) and not search.long_enough(query),
            total=sum(len(g.results) for g in groups),
            page_limit=PAGE_LIMIT,
        )
        if dropdown:
            response = render(request, f"{self.template_name}#dropdown", context)
        else:
            response = self.render_to_response(context)
        response["Cache-Control"] = "private, no-store"
        return response
