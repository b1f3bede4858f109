from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField, RelatedField

from accounts import inputs
from accounts.tenancy import org_queryset

PRELOADED = "preloaded_relations"


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def preload_relations(serializer: Any, items: list[Any]) -> None:
    """Resolve the ids that ``items`` (raw input of a ``many=True`` serializer) give to
    its organization-scoped relations in one query per relation, instead of one per item
    and field (a bulk of 500 touchpoints names its customers 500 times). Ids not found
    are left to the field, which reports them as it always does."""
    child = getattr(serializer, "child", serializer)
    org = serializer.context.get("org")
    if org is None:
        return
    preloaded: dict[tuple[Any, uuid.UUID], Any] = serializer.context.setdefault(PRELOADED, {})
    for name, field in child.fields.items():
        relation = getattr(field, "child_relation", field)
        if not isinstance(relation, OrgScopedRelatedField) or field.read_only:
            continue
        wanted: set[uuid.UUID] = set()
        for item in items:
            if not isinstance(item, dict):
                continue
            value = item.get(field.source if field.source != "*" else name, item.get(name))
            values = value if isinstance(value, list) else [value]
            for one in values:
                if isinstance(one, str | uuid.UUID) and (pk := _as_uuid(one)) is not None:
                    wanted.add(pk)
        if wanted:
            model = relation.scoped_model
            for row in org_queryset(model, org).filter(pk__in=wanted):
                preloaded[(model, row.pk)] = row


class OrgScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in input, resolved inside the request's organization only.

    An id of another organization is reported exactly like an id that does not exist
    (400 "object does not exist"): a write can neither reach nor detect foreign rows.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.scoped_model = kwargs.pop("model", None)
        queryset = kwargs.get("queryset")
        if self.scoped_model is None and queryset is not None:
            self.scoped_model = queryset.model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        org = self.context.get("org")
        model = self.scoped_model
        if org is None:
            return model._default_manager.none()
        return org_queryset(model, org)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | uuid.UUID):
            self.fail("incorrect_type", data_type=type(data).__name__)
        preloaded = self.context.get(PRELOADED)
        if preloaded is not None:
            found = preloaded.get((self.scoped_model, _as_uuid(data)))
            if found is not None:
                return found
        try:
            return super().to_internal_value(data)
        except DjangoValidationError:  # a malformed id is as unknown as a foreign one
            self.fail("does_not_exist", pk_value=data)


class Secret(str):
    """A value a response shows once (a plain API key, a webhook signing secret).

    The mark travels with the value through whatever dict or list a view builds, so the
    copy of a response kept for Idempotency-Key replays can leave it out
    (``idempotency.redact``) without each view having to remember.
    """

    __slots__ = ()

    #: How many were ever made in this process: a response made none when the count did
    #: not move while it was built, and then holds none (``TenantViewSet`` skips the walk).
    made = 0

    def __new__(cls, value: object = "") -> Secret:
        Secret.made += 1
        return super().__new__(cls, value)


class SecretField(serializers.CharField):
    """A read-only secret, shown in this response only: never stored, never replayed.

    Declare every secret of a response with it; ``tests/followup/test_api_secrets.py``
    fails on a field that looks like a secret and is not one.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Secret:
        return Secret(super().to_representation(value))


def _input_rules(field: Any) -> None:
    """The project's input rules (``accounts.inputs``) on a writable field, and on the
    fields inside it (list items; nested serializers build theirs through this mixin)."""
    if field is None or field.read_only:
        return
    if isinstance(
        field, serializers.ListField | serializers.DictField | serializers.ListSerializer
    ):
        _input_rules(field.child)
    wanted: list[Any] = []
    if isinstance(field, serializers.CharField):
        # DRF's own mark of multi-line text: ModelSerializer gives it to TextFields.
        multiline = field.style.get("base_template") == "textarea.html"
        wanted.append(inputs.MULTI_LINE if multiline else inputs.SINGLE_LINE)
    if isinstance(field, serializers.DateField | serializers.DateTimeField):
        wanted.append(inputs.DATE_RANGE)
    for validator in wanted:
        if validator not in field.validators:
            field.validators = [*field.validators, validator]


class InputRulesMixin:
    """Every writable text, date and date-time field follows ``accounts.inputs``: no control
    characters (multi-line text: tab and line breaks only) and dates in the supported range.

    Applied when the serializer builds its fields, so declared and generated fields alike
    get it, and a new serializer cannot forget (``tests/test_input_rules.py`` checks that
    every input serializer of the project has this base). Mark a declared multi-line text
    field with ``style={"base_template": "textarea.html"}``.
    """

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        for field in fields.values():
            _input_rules(field)
        return fields


class InputSerializer(InputRulesMixin, serializers.Serializer[Any]):
    """Base of API input that is not a model (action bodies, filters in a body)."""


class TenantModelSerializer(InputRulesMixin, serializers.ModelSerializer):
    """Base of every API serializer of a tenant-owned model.

    Relations are built as :class:`OrgScopedRelatedField`; declaring another kind of
    writable relation fails at import, so no field can resolve ids across tenants. Text and
    date fields follow the input rules (:class:`InputRulesMixin`).
    """

    serializer_related_field = OrgScopedRelatedField
    id = serializers.UUIDField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    BASE_FIELDS = ("id", "created_at", "updated_at", "version")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and "list_serializer_class" not in vars(meta):
            # Lists of rows skip DRF's per-row field machinery where the output allows.
            from followup.kernel.api.listing import PlannedListSerializer

            meta.list_serializer_class = PlannedListSerializer
        for name, field in getattr(cls, "_declared_fields", {}).items():
            inner = field.child_relation if isinstance(field, ManyRelatedField) else field
            if (
                isinstance(inner, RelatedField)
                and not inner.read_only
                and not isinstance(inner, OrgScopedRelatedField)
            ):
                raise TypeError(f"{cls.__qualname__}.{name} must be an OrgScopedRelatedField")


class OrgScopedRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """Every id here is a UUID: say so, also for fields whose source is not a model field."""

    target_class = OrgScopedRelatedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return build_basic_type(OpenApiTypes.UUID)
