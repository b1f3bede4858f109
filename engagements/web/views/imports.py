"""CSV imports: upload, progress, result."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views import View
from django.views.generic import DetailView, TemplateView

from accounts import inputs
from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from engagements import imports, selectors, services
from engagements.models import ImportJob
from engagements.tasks import queue_import
from engagements.web.forms import (
    ImportForm,
)
from engagements.web.views.base import (
    _org_redirect,
)


class ImportView(OrgViewMixin, TemplateView):
    template_name = "engagements/imports.html"
    capabilities = {"GET": "records.import", "HEAD": "records.import", "POST": "records.import"}
    model = ImportJob

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportForm())
        context["jobs"] = selectors.import_jobs(self.org).filter(kind__in=ImportJob.CUSTOMER_SIDE)[
            :20
        ]
        context["columns"] = [
            (ImportJob.Kind(k).label, k, v, imports.allowed_values(k))
            for k, v in imports.COLUMNS.items()
        ]
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
                    filename=inputs.strip_controls(upload.name)[:255],
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


class ImportTemplateView(OrgViewMixin, View):
    """``imports/template.csv?kind=customers``: the columns of one kind, as a CSV to fill in
    (the kind is a word, not an object, so it is a query parameter)."""

    capabilities = {"GET": "records.import", "HEAD": "records.import"}
    model = ImportJob

    def get(self, request: OrgRequest) -> HttpResponse:
        kind = request.GET.get("kind") or ImportJob.Kind.CUSTOMERS
        if kind not in imports.COLUMNS:
            raise Http404
        response = HttpResponse(imports.template_csv(kind), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="followup-{kind}.csv"'
        return response
