"""Pages of resource allocation and quality: the resource list, the organization-wide load
per week (over-allocation marked in the accent colour and in words), a resource's
drill-down with the items causing its load and the levelling suggestions, allocations and
acceptance criteria on a work item. Thin: forms in, ``projects.resources`` and
``projects.quality`` out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, TemplateView

from accounts.inputs import InputRulesFormMixin
from accounts.mixins import OrgFormMixin, OrgViewMixin
from accounts.models import Organization, User
from accounts.requests import OrgRequest
from projects import quality, selectors
from projects import resources as service
from projects.calc.resources import Cell, Suggestion
from projects.models import (
    AcceptanceCriterion,
    Allocation,
    CriterionState,
    Resource,
    ResourceKind,
    WorkItem,
)

VIEW = {"GET": "records.view", "HEAD": "records.view"}
VIEW_POST_EDIT = {**VIEW, "POST": "records.edit"}
POST_EDIT = {"POST": "records.edit"}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- Forms -----------------------------------------------------------------------------------


class _PersonField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return obj.name


class _ResourceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Resource) -> str:
        unit = _("hours") if obj.is_person else obj.unit
        return f"{obj.name} ({unit})"


class ResourceForm(OrgFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ResourceKind.choices)
    user = _PersonField(
        label=gettext_lazy("Person"),
        required=False,
        queryset=User.objects.none(),
        help_text=gettext_lazy("For a person: the member."),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("A person's name is taken from the member when left empty."),
    )
    weekly_capacity_hours = forms.DecimalField(
        label=gettext_lazy("Weekly capacity (hours)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(168),
        decimal_places=2,
        max_digits=6,
    )
    rate = forms.DecimalField(
        label=gettext_lazy("Rate per hour"),
        required=False,
        min_value=Decimal(0),
        decimal_places=2,
        max_digits=12,
    )
    unit = forms.CharField(
        label=gettext_lazy("Unit"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("For material or equipment, e.g. pieces or machine hours."),
    )
    available_per_day = forms.DecimalField(
        label=gettext_lazy("Available per day"),
        required=False,
        min_value=Decimal(0),
        decimal_places=2,
        max_digits=12,
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.org_people(org)

    @staticmethod
    def initial_for(resource: Resource) -> dict[str, Any]:
        return {name: getattr(resource, name) for name in service.RESOURCE_FIELDS}


class AllocationForm(OrgFormMixin, forms.Form):
    resource = _ResourceField(
        label=gettext_lazy("Resource"), queryset=Resource.objects.dangerously_unscoped().none()
    )  # narrowed by OrgFormMixin
    per_day = forms.DecimalField(
        label=gettext_lazy("Per working day"),
        min_value=Decimal("0.01"),
        decimal_places=2,
        max_digits=10,
        help_text=gettext_lazy("Hours for a person, units for material or equipment."),
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, org=org, **kwargs)
        field = self.fields["resource"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = service.resources(org).order_by("kind", "name")


class AcceptanceForm(InputRulesFormMixin, forms.Form):
    text = forms.CharField(label=gettext_lazy("Acceptance criterion"), max_length=300)


class DecideForm(InputRulesFormMixin, forms.Form):
    state = forms.ChoiceField(choices=CriterionState.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason for waiving"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LoadForm(InputRulesFormMixin, forms.Form):
    start = forms.DateField(label=gettext_lazy("From the week of"), required=False, widget=DATE)
    weeks = forms.IntegerField(
        label=gettext_lazy("Weeks"), required=False, min_value=1, max_value=service.MAX_WEEKS
    )


class LoadFilterForm(LoadForm):
    """The load page's filters: a kind of resource, only those over capacity, and the page."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All resources")), *ResourceKind.choices],
    )
    over = forms.BooleanField(label=gettext_lazy("Only over-allocated"), required=False)


def _errors_into(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _back(request: OrgRequest, fallback: str) -> HttpResponse:
    target = str(request.POST.get("next") or "")
    if target.startswith(f"/o/{request.org.slug}/") and "//" not in target:
        return redirect(target)
    return redirect(fallback)


# --- Load ------------------------------------------------------------------------------------


def _load_params(request: HttpRequest, org: Organization) -> tuple[LoadForm, date, int]:
    form = LoadForm(request.GET or None)
    start, weeks = selectors.org_today(org), service.DEFAULT_WEEKS
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        weeks = form.cleaned_data.get("weeks") or weeks
    return form, start, weeks


def _suggestion_rows(
    result: service.OrgLoad, suggestions: list[Suggestion]
) -> list[dict[str, Any]]:
    names = {r.pk: r for r in result.resources}
    return [
        {"s": s, "resource": names[s.resource], "item": result.items.get(s.item)}
        for s in suggestions
    ]


def _cell_items(result: service.OrgLoad, resource: Resource, cell: Cell) -> list[dict[str, Any]]:
    ordered = sorted(cell.items.items(), key=lambda pair: -pair[1])
    return [
        {"item": result.items[item_id], "project": result.items[item_id].project, "amount": amount}
        for item_id, amount in ordered
    ]


def _num(value: Decimal) -> str:
    """One decimal at most, like ``floatformat:"-1"``; written here because 5,200 cells
    through template filters take seconds."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _capacity_text(resource: Resource) -> str:
    if resource.is_person:
        return _("%(hours)s h a week") % {
            "hours": _num(resource.weekly_capacity_hours or Decimal(0))
        }
    return _("%(qty)s %(unit)s a day") % {
        "qty": _num(resource.available_per_day or Decimal(0)),
        "unit": resource.unit,
    }


def _table(org: Organization, result: service.OrgLoad) -> list[dict[str, Any]]:
    """The load table as plain strings (one reverse for all links)."""
    prefix = reverse("projects:resource_list", kwargs={"org_slug": org.slug})
    table = []
    for resource, cells in result.rows():
        url = f"{prefix}{resource.pk}/"
        table.append(
            {
                "resource": resource,
                "url": url,
                "capacity": _capacity_text(resource),
                "cells": [
                    {
                        "total": _num(cell.total) if cell.total else "",
                        "business": (
                            _("incl. %(h)s customer") % {"h": _num(cell.business)}
                            if cell.business
                            else ""
                        ),
                        "over": cell.over,
                        "href": f"{url}?start={cell.week.isoformat()}&weeks=1",
                    }
                    for cell in cells
                ],
            }
        )
    return table


class LoadView(OrgViewMixin, TemplateView):
    """Every resource's load per week across all open projects, with business-side effort
    for people; over-allocated weeks marked, each linking to its drill-down. A page of
    ``PAGE_SIZE`` resources, of one kind or only the over-allocated ones; the levelling
    suggestions are computed on request (the "What could move" button, an htmx swap of
    that section; without JavaScript, a link to the page with them)."""

    template_name = "projects/resource_load.html"
    capabilities = VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = LoadFilterForm(self.request.GET or None)
        start, weeks = selectors.org_today(self.org), service.DEFAULT_WEEKS
        kind, over_only = None, False
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            start = data.get("start") or start
            weeks = data.get("weeks") or weeks
            kind = data.get("kind") or None
            over_only = bool(data.get("over"))
        raw_page = self.request.GET.get("page") or "1"
        number = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1
        suggest = self.request.GET.get("suggest") == "1"
        page = service.load_page(
            self.org,
            start=start,
            weeks=weeks,
            page=number,
            kind=kind,
            over_only=over_only,
            suggest=suggest,
        )
        result = page.result
        over = [
            {"resource": r, "cell": cell, "items": _cell_items(result, r, cell)}
            for r, cell in result.over()
        ]
        query = {"start": result.weeks[0].isoformat(), "weeks": str(weeks)}
        if kind:
            query["kind"] = kind
        if over_only:
            query["over"] = "on"

        def at(n: int, **extra: str) -> str:
            return "?" + urlencode({**query, "page": str(n), **extra})

        context.update(
            form=form,
            result=result,
            page=page,
            rows=_table(self.org, result),
            over_word=_("Over"),
            over=over,
            suggested=suggest,
            suggestions=_suggestion_rows(result, result.suggestions),
            suggest_url=at(page.number, suggest="1"),
            next_url=at(page.number + 1) if page.has_next else None,
            previous_url=at(page.number - 1) if page.has_previous else None,
            start=result.weeks[0],
        )
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if self.org_request.htmx and context["suggested"]:
            return render(self.request, "projects/partials/levelling.html", context)
        return super().render_to_response(context, **kwargs)


# --- Resources -------------------------------------------------------------------------------


class ResourceListView(OrgViewMixin, TemplateView):
    template_name = "projects/resource_list.html"
    capabilities = VIEW_POST_EDIT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form", ResourceForm(org=self.org, initial={"weekly_capacity_hours": Decimal(40)})
        )
        context["resources"] = list(service.resources(self.org).order_by("kind", "name", "id"))
        context["can_edit"] = self.membership.can("records.edit")
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ResourceForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                resource = service.resource_create(
                    org=request.org, actor=request.user, data=form.cleaned_data
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Resource added."))
                return redirect(
                    reverse(
                        "projects:resource_detail",
                        kwargs={"org_slug": request.org.slug, "pk": resource.pk},
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ResourceDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """A resource's load per week with the items causing it (the drill-down), the
    levelling suggestions for it, and its settings."""

    template_name = "projects/resource_detail.html"
    capabilities = VIEW_POST_EDIT
    model = Resource
    context_object_name = "resource"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("user")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        resource: Resource = self.object
        load_form, start, weeks = _load_params(self.request, self.org)
        result = service.org_load(self.org, start=start, weeks=weeks, resource_ids=[resource.pk])
        cells = result.load.rows[resource.pk]
        context.update(
            load_form=load_form,
            weeks=[{"cell": c, "items": _cell_items(result, resource, c)} for c in cells],
            suggestions=_suggestion_rows(result, result.suggestions),
            allocations=list(
                service.allocations(self.org)
                .filter(resource=resource)
                .order_by("project__code", "work_item__wbs_path")
            ),
            can_edit=self.membership.can("records.edit"),
        )
        context.setdefault(
            "form", ResourceForm(org=self.org, initial=ResourceForm.initial_for(resource))
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = resource = cast(Resource, self.get_object())
        form = ResourceForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                service.resource_update(
                    org=request.org, actor=request.user, resource=resource, data=form.cleaned_data
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ResourceDeleteView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = Resource

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        resource = cast(Resource, self.get_object())
        service.resource_delete(org=request.org, actor=request.user, resource=resource)
        messages.success(request, _("The resource was removed with its allocations."))
        return redirect(reverse("projects:resource_list", kwargs={"org_slug": request.org.slug}))


# --- Allocations and acceptance criteria on a work item ----------------------------------------


def _item_url(org: Organization, item_id: Any) -> str:
    return reverse("projects:work_item_detail", kwargs={"org_slug": org.slug, "pk": item_id})


class AllocationCreateView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = WorkItem

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = cast(WorkItem, self.get_object())
        form = AllocationForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                service.allocation_create(
                    org=request.org,
                    actor=request.user,
                    work_item=item,
                    resource=form.cleaned_data["resource"],
                    per_day=form.cleaned_data["per_day"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
        if form.errors:
            for errors in form.errors.values():
                messages.error(request, " ".join(str(e) for e in errors))
        else:
            messages.success(request, _("Resource allocated."))
        return redirect(_item_url(request.org, item.pk))


class AllocationDeleteView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = Allocation

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allocation = cast(Allocation, self.get_object())
        item_id = allocation.work_item_id
        try:
            service.allocation_delete(org=request.org, actor=request.user, allocation=allocation)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The allocation was removed."))
        return _back(request, _item_url(request.org, item_id))


class AcceptanceAddView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = WorkItem

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = cast(WorkItem, self.get_object())
        form = AcceptanceForm(request.POST)
        if form.is_valid():
            try:
                quality.criterion_add(
                    org=request.org, actor=request.user, item=item, text=form.cleaned_data["text"]
                )
            except ValidationError as exc:
                _errors_into(form, exc)
        if form.errors:
            for errors in form.errors.values():
                messages.error(request, " ".join(str(e) for e in errors))
        else:
            messages.success(request, _("Acceptance criterion added."))
        return redirect(_item_url(request.org, item.pk))


class AcceptanceDecideView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = AcceptanceCriterion

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        criterion = cast(AcceptanceCriterion, self.get_object())
        form = DecideForm(request.POST)
        if form.is_valid():
            try:
                quality.criterion_decide(
                    org=request.org,
                    actor=request.user,
                    criterion=criterion,
                    state=form.cleaned_data["state"],
                    reason=form.cleaned_data.get("reason") or "",
                )
            except ValidationError as exc:
                _errors_into(form, exc)
        if form.errors:
            for errors in form.errors.values():
                messages.error(request, " ".join(str(e) for e in errors))
        else:
            messages.success(request, _("Saved."))
        return redirect(_item_url(request.org, criterion.work_item_id))
