from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts import inputs
from accounts.tenancy import org_queryset

#: The widest offset in use (Kiribati, +14:00); anything beyond is a typo or a probe.
MAX_OFFSET = timedelta(hours=14)


class OffsetDateTimeField(forms.DateTimeField):
    """ISO 8601 with offset. An unencoded ``+`` in a query string arrives as a space, so a
    space before the offset is read as ``+`` (``...T09:00:00 08:00``).

    Lenient about range: a filter only compares, so a time before or after the supported
    range (``updated_after=0001-01-01T00:00:00+05:00``) is pulled to its edge
    (``accounts.inputs.clamp_moment``) instead of overflowing on its way to the database.
    Text that is no real date (February 30) is a 400, and so is an offset no place on
    Earth uses (beyond ±14:00, e.g. ``+16:00``), which PostgreSQL would refuse anyway.
    """

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return inputs.clamp_moment(value)
        text = str(value).strip()
        if " " in text and "T" in text:
            text = text.replace(" ", "+")
        try:
            parsed = parse_datetime(text)
        except ValueError:  # well-formed, but no such date or time
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                _("Enter an ISO 8601 date and time with offset, e.g. 2026-05-01T09:00:00+02:00."),
                code="invalid",
            )
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise forms.ValidationError(
                _("The UTC offset must lie between -14:00 and +14:00."), code="invalid"
            )
        if is_naive(parsed):
            try:
                parsed = make_aware(parsed)
            except OverflowError:
                parsed = parsed.replace(tzinfo=UTC)
        return inputs.clamp_moment(parsed)


class OffsetDateTimeFilter(django_filters.Filter):
    field_class = OffsetDateTimeField


@extend_schema_field(OpenApiTypes.UUID)
class OrgModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A foreign-key filter whose choices are the request organization's rows only:
    a foreign id is "not a valid choice" (400), never a probe."""

    def __init__(self, *args: Any, model: type[models.Model], **kwargs: Any) -> None:
        def queryset(request: Any) -> models.QuerySet:
            org = getattr(request, "org", None)
            return org_queryset(model, org) if org is not None else model._default_manager.none()

        kwargs.setdefault("to_field_name", "pk")
        super().__init__(*args, queryset=queryset, **kwargs)


class TenantFilterSet(django_filters.FilterSet):
    updated_after = OffsetDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        label="Only objects changed after this time (ISO 8601 with offset), for incremental sync.",
    )


@cache
def filterset_for(model: type[models.Model]) -> type[TenantFilterSet]:
    meta = type("Meta", (), {"model": model, "fields": []})
    return type(f"{model.__name__}FilterSet", (TenantFilterSet,), {"Meta": meta})


class TenantFilterBackend(DjangoFilterBackend):  # type: ignore[misc]
    """django-filter's backend, minus its cost when a request filters nothing.

    Building a filter set (a deep copy of its filters, a bound form, its validation) was a
    tenth of a warm customer-list request. A request none of whose query parameters names
    one of the filter set's filters (the common ``GET /api/v1/customers/`` and its next
    pages, which carry only ``cursor`` / ``page_size``) gets the queryset unfiltered, as
    the filter set would have returned it: an empty value is no filter, and no filter
    here is required. Any other request takes django-filter's full path (validation, 400s).
    """

    def filter_queryset(self, request: Any, queryset: models.QuerySet[Any], view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not any(_names_a_filter(name, filterset_class) for name in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _names_a_filter(param: str, filterset_class: Any) -> bool:
    prefixes = _filter_prefixes(filterset_class)
    return prefixes is None or any(param.startswith(prefix) for prefix in prefixes)


@cache
def _filter_prefixes(filterset_class: Any) -> tuple[str, ...] | None:
    """The parameter names a filter set reads (a range filter's ``<name>_after``, too:
    names are matched as prefixes); None when it may read others or filter without any
    (a required filter, an overridden ``qs`` or ``filter_queryset``): always filter."""
    if (
        filterset_class.filter_queryset is not django_filters.FilterSet.filter_queryset
        or filterset_class.qs is not django_filters.FilterSet.qs
    ):
        return None
    names = []
    for name, declared in filterset_class.base_filters.items():
        if declared.extra.get("required"):
            return None
        names.append(name)
    return tuple(names)
