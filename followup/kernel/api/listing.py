"""The read path of API lists: a page of 50 rows without DRF's per-row field machinery.

DRF builds every field of a serializer on each request (``get_fields``: model
introspection and deep copies) and, per row and per field, walks ``_readable_fields``,
``Field.get_attribute`` and ``to_representation``. For a list of plain columns that is
most of the time a request takes (see docs/SCALING.md, "API lists"). ``PlannedListSerializer``
builds the fields of a serializer class once per process, turns each readable field into a
(name, read, convert) step, and applies the steps to each row. The output is the very dict
DRF would produce: the same fields, in the same order, converted by the same fields; the
OpenAPI schema is the serializer's own and does not change.

Only serializers whose output cannot depend on the request are planned: every readable
field is of a kind below (no method fields, nested serializers, hyperlinks, ``source="*"``),
and the class does not customize ``__init__``, ``get_fields`` or ``to_representation``.
Anything else takes DRF's own path. ``tests/followup/test_api_listing.py`` compares both
paths on every list resource.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

#: Switch for tests and for measuring the gain: False sends every list through DRF.
ENABLED = True

# Fields whose to_representation depends on the field's own arguments only, never on the
# request, the view or the parent serializer.
_CONTEXT_FREE = {
    drf_fields.BooleanField,
    drf_fields.CharField,
    drf_fields.EmailField,
    drf_fields.RegexField,
    drf_fields.SlugField,
    drf_fields.URLField,
    drf_fields.UUIDField,
    drf_fields.IntegerField,
    drf_fields.FloatField,
    drf_fields.DecimalField,
    drf_fields.DateTimeField,
    drf_fields.DateField,
    drf_fields.TimeField,
    drf_fields.DurationField,
    drf_fields.ChoiceField,
    drf_fields.MultipleChoiceField,
    drf_fields.JSONField,
    drf_fields.ReadOnlyField,
    relations.PrimaryKeyRelatedField,
    relations.ManyRelatedField,
}
_UNCUSTOMIZED = ("__init__", "get_fields", "to_representation")

Step = tuple[str, Callable[[Any], Any], Callable[[Any], Any] | None]


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    datetimes: frozenset[str]  # fields converted here, in the current time zone

    def represent(self, instance: Any, zone: datetime.tzinfo | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, read, convert in self.steps:
            try:
                value = read(instance)
            except SkipField:
                continue
            if value is None:
                out[name] = None
            elif convert is None:
                out[name] = value
            elif name in self.datetimes and zone is not None:
                out[name] = _iso_datetime(value, zone, convert)
            else:
                out[name] = convert(value)
        return out


def _iso_datetime(value: Any, zone: datetime.tzinfo, fallback: Callable[[Any], Any]) -> Any:
    """``DateTimeField.to_representation`` (ISO 8601, in the current time zone) without its
    per-call lookup of that zone."""
    if not value or not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        return fallback(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _field_class(field: Any) -> type | None:
    kind = type(field)
    for known in _CONTEXT_FREE:
        if kind is known:
            return known
    # Our own subclasses that only change input (scoping), never output.
    from followup.kernel.api.serializers import OrgScopedRelatedField

    if kind is OrgScopedRelatedField:
        return relations.PrimaryKeyRelatedField
    # A field class of an app that vouches for it: its output depends on its own
    # arguments and the value only (converted by its own to_representation).
    if vars(kind).get("output_is_context_free") is True:
        return kind
    return None


def _step(model: type[models.Model], field: Any) -> Step | None:
    kind = _field_class(field)
    if kind is None or field.source == "*":
        return None
    if kind is relations.ManyRelatedField and _field_class(field.child_relation) is None:
        return None
    name = field.field_name
    attrs = field.source_attrs
    if kind is relations.PrimaryKeyRelatedField:
        if field.pk_field is not None or len(attrs) != 1:
            return None
        try:
            model_field = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            return None
        if not isinstance(model_field, models.ForeignKey):  # a OneToOneField is one too
            return None
        # What DRF's pk-only optimization reads (the column), and returns (the pk).
        return str(name), operator.attrgetter(model_field.attname), None
    if len(attrs) == 1 and kind is not relations.ManyRelatedField:
        try:
            column: Any = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            column = None
        if isinstance(column, models.Field) and column.concrete and not column.is_relation:
            read: Callable[[Any], Any] = operator.attrgetter(column.attname)
        else:
            read = field.get_attribute
    else:
        read = field.get_attribute
    convert: Callable[[Any], Any]
    if (
        kind is drf_fields.UUIDField and field.uuid_format == "hex_verbose"
    ) or kind is drf_fields.CharField:
        convert = str
    elif kind is drf_fields.IntegerField:
        convert = int
    else:
        convert = field.to_representation
    return str(name), read, convert


_plans: dict[type, Plan | None] = {}


def plan_for(serializer_class: type[serializers.BaseSerializer[Any]]) -> Plan | None:
    """The read plan of ``serializer_class`` (built once per process), or None when its
    output may depend on the request and DRF must render it."""
    if serializer_class in _plans:
        return _plans[serializer_class]
    plan = _build(serializer_class)
    _plans[serializer_class] = plan
    return plan


def _build(serializer_class: type[serializers.BaseSerializer[Any]]) -> Plan | None:
    if not issubclass(serializer_class, serializers.ModelSerializer):
        return None
    from followup.kernel.api.serializers import InputRulesMixin, TenantModelSerializer

    for klass in serializer_class.__mro__:
        if klass is serializers.ModelSerializer:
            break
        if klass in (TenantModelSerializer, InputRulesMixin):
            continue  # ours: input rules and relation checks, nothing that changes output
        if any(name in vars(klass) for name in _UNCUSTOMIZED):
            return None
    model = serializer_class.Meta.model
    prototype = serializer_class(context={})
    steps, datetimes = [], set()
    for field in prototype.fields.values():
        if field.write_only:
            continue
        step = _step(model, field)
        if step is None:
            return None
        if (
            type(field) is drf_fields.DateTimeField
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
            and not hasattr(field, "timezone")
        ):
            datetimes.add(str(field.field_name))
        steps.append(step)
    return Plan(steps=tuple(steps), datetimes=frozenset(datetimes))


class PlannedListSerializer(serializers.ListSerializer[Any]):
    """``many=True`` of the tenant serializers: planned rows when the child allows it."""

    def to_representation(self, data: Any) -> list[Any]:
        child = self.child
        plan = (
            plan_for(type(child))
            if ENABLED and isinstance(child, serializers.BaseSerializer)
            else None
        )
        if plan is None:
            return super().to_representation(data)
        rows: Iterable[Any] = data.all() if isinstance(data, models.manager.BaseManager) else data
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        return [plan.represent(row, zone) for row in rows]
