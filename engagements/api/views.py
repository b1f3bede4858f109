"""REST resources of business follow-up: CRUD, upsert by the CRM's id, bulk back-fills.

Every write goes through ``engagements.services`` (the same functions as the pages), so a
touchpoint posted by a CRM moves health and emits events exactly like one logged by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import django_filters
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization
from engagements import services
from engagements.api.serializers import (
    BulkResultSerializer,
    ContactSerializer,
    CustomerSerializer,
    EngagementSerializer,
    TouchpointSerializer,
)
from engagements.models import Contact, Customer, Engagement, HealthLevel, Touchpoint
from followup.kernel.api.filters import OffsetDateTimeFilter, OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.serializers import preload_relations
from followup.kernel.api.viewsets import TenantModelViewSet, TenantViewSet

User = get_user_model()
BULK_MAX = 500
EXTERNAL_ID = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The CRM's id of the object."
)


# --- Filters ---------------------------------------------------------------------------


class CustomerFilter(TenantFilterSet):
    owner = OrgModelChoiceFilter(model=User)
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices)
    tier = django_filters.ChoiceFilter(choices=Customer.Tier.choices)
    health_level = django_filters.ChoiceFilter(choices=HealthLevel.choices)
    external_id = django_filters.CharFilter()
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Customer
        fields: list[str] = []


class ContactFilter(TenantFilterSet):
    customer = OrgModelChoiceFilter(model=Customer)
    external_id = django_filters.CharFilter()
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields: list[str] = []


class EngagementFilter(TenantFilterSet):
    customer = OrgModelChoiceFilter(model=Customer)
    owner = OrgModelChoiceFilter(model=User)
    status = django_filters.ChoiceFilter(choices=Engagement.Status.choices)
    health_level = django_filters.ChoiceFilter(choices=HealthLevel.choices)
    external_id = django_filters.CharFilter()

    class Meta:
        model = Engagement
        fields: list[str] = []


class TouchpointFilter(TenantFilterSet):
    customer = OrgModelChoiceFilter(model=Customer)
    engagement = OrgModelChoiceFilter(model=Engagement)
    logged_by = OrgModelChoiceFilter(model=User)
    channel = django_filters.ChoiceFilter(choices=Touchpoint.Channel.choices)
    external_id = django_filters.CharFilter()
    occurred_after = OffsetDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = OffsetDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Touchpoint
        fields: list[str] = []


# --- The shared shape ------------------------------------------------------------------


class _ResourceViewSet(TenantModelViewSet):
    """CRUD plus ``PUT external/<external_id>/``; writes call ``write`` and ``remove``."""

    def write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        raise NotImplementedError

    def remove(self, instance: models.Model) -> None:
        raise NotImplementedError

    def _write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        # A service's refusal (Django ValidationError) becomes a 400 in the problem handler.
        return self.write(data, instance)

    def perform_create(self, serializer: serializers.ModelSerializer) -> None:
        serializer.instance = self._write(dict(serializer.validated_data), None)

    def perform_update(self, serializer: serializers.ModelSerializer) -> None:
        serializer.instance = self._write(dict(serializer.validated_data), serializer.instance)

    def perform_destroy(self, instance: models.Model) -> None:
        self.remove(instance)

    @extend_schema(parameters=[EXTERNAL_ID])
    @action(
        detail=False,
        methods=["put"],
        url_path=r"external/(?P<external_id>[^/]+)",
        url_name="external",
    )
    def external(self, request: Request, external_id: str) -> Response:
        """Create (201) or replace (200) the object with this CRM id in the organization."""
        queryset = self.get_queryset().select_for_update(of=("self",))
        instance = queryset.filter(external_id=external_id).first()
        if instance is not None:
            self._check_preconditions(instance)
        serializer = self.get_serializer(instance, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {**serializer.validated_data, "external_id": external_id}
        try:
            with transaction.atomic():
                obj = self._write(data, instance)
        except IntegrityError:
            # Another request created it between our read and write: this one updates.
            instance = queryset.filter(external_id=external_id).first()
            if instance is None:
                raise
            obj = self._write(data, instance)
        body = self.get_serializer(self._fresh(obj)).data
        return Response(body, status=status.HTTP_201_CREATED if instance is None else 200)

    def _fresh(self, obj: models.Model) -> models.Model:
        return self.get_queryset().get(pk=obj.pk)


class _BulkMixin:
    """``POST bulk/`` (API.md: customers, contacts and touchpoints)."""

    model: ClassVar[type[models.Model]]

    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request: ApiRequest) -> Response:
        """Up to 500 objects in one request, all or nothing. Objects whose ``external_id``
        is already known are updated. Errors name the item: ``3.customer``."""
        items = request.data
        if not isinstance(items, list) or not items:
            raise ValidationError({"non_field_errors": [_("Send a non-empty JSON array.")]})
        if len(items) > BULK_MAX:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _("At most %(max)d objects per request.") % {"max": BULK_MAX}
                    ]
                }
            )
        serializer = self.get_serializer(data=items, many=True)
        preload_relations(serializer, items)  # one query per relation, not per item
        serializer.is_valid(raise_exception=True)
        rows = [dict(item) for item in serializer.validated_data]
        for attempt in range(2):
            try:
                with transaction.atomic():
                    results = self._upsert(request.org, rows)
                break
            except IntegrityError:
                # A concurrent request created some of these external ids and committed
                # while we waited on their unique index: read again, they are updates now.
                if attempt:
                    raise
            except services.BulkItemError as exc:
                errors: list[Any] = [{} for _ in rows]
                errors[exc.index] = exc.detail
                raise ValidationError(errors) from None
        created = sum(1 for _obj, was_created in results if was_created)
        body = {
            "created": created,
            "updated": len(results) - created,
            "ids": [obj.pk for obj, _created in results],
        }
        return Response(BulkResultSerializer(body).data, status=status.HTTP_201_CREATED)

    def _upsert(self, org: Organization, rows: list[dict[str, Any]]) -> list[tuple[Any, bool]]:
        # The shared pipeline (engagements.services.upserts): rows known by external id are
        # locked until commit in primary-key order ("Lock order"), so a concurrent bulk can
        # neither update the same rows between our read and our write nor deadlock with us.
        return services.upsert_many(
            org=org,
            actor=None,
            model=self.model,
            rows=rows,
            # Customers and touchpoints are written set-based by the pipeline itself.
            write=None
            if self.model in (Customer, Touchpoint)
            else lambda existing, data: self.write(data, existing),  # type: ignore[attr-defined]
            source=Touchpoint.Source.API,
        )


def _actor(request: Request) -> Any:
    # API keys belong to the organization, not to a person: nobody is the actor.
    return None


@extend_schema_view(
    bulk=extend_schema(request=CustomerSerializer(many=True), responses={201: BulkResultSerializer})
)
class CustomerViewSet(_BulkMixin, _ResourceViewSet):
    """Customers. ``PUT external/<id>/`` upserts by the CRM's id; ``POST bulk/`` back-fills."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    # Deleting a customer takes its whole history with it: managers and up.
    capabilities = {**TenantViewSet.capabilities, "DELETE": "records.delete"}

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.select_related("owner")

    def write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        return services.customer_save(
            org=self.request.org, actor=_actor(self.request), data=data, customer=instance
        )

    def remove(self, instance: models.Model) -> None:
        services.customer_delete(org=self.request.org, actor=None, customer=instance)


@extend_schema_view(
    bulk=extend_schema(request=ContactSerializer(many=True), responses={201: BulkResultSerializer})
)
class ContactViewSet(_BulkMixin, _ResourceViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter

    def write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        return services.contact_save(org=self.request.org, actor=None, data=data, contact=instance)

    def remove(self, instance: models.Model) -> None:
        services.contact_delete(org=self.request.org, actor=None, contact=instance)


class EngagementViewSet(_ResourceViewSet):
    model = Engagement
    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.prefetch_related("team", "kpis")

    def write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        kpis = data.pop("kpis", None)
        org = self.request.org
        with transaction.atomic():
            engagement = services.engagement_save(
                org=org, actor=None, data=data, engagement=instance
            )
            if kpis is not None:
                services.kpis_replace(org=org, actor=None, engagement=engagement, items=kpis)
        return engagement

    def remove(self, instance: models.Model) -> None:
        services.engagement_delete(org=self.request.org, actor=None, engagement=instance)

    def perform_create(self, serializer: serializers.ModelSerializer) -> None:
        super().perform_create(serializer)
        serializer.instance = self._fresh(serializer.instance)

    def perform_update(self, serializer: serializers.ModelSerializer) -> None:
        super().perform_update(serializer)
        serializer.instance = self._fresh(serializer.instance)


@extend_schema_view(
    bulk=extend_schema(
        request=TouchpointSerializer(many=True), responses={201: BulkResultSerializer}
    )
)
class TouchpointViewSet(_BulkMixin, _ResourceViewSet):
    """Touchpoints. Creating one has the same effects as logging it in the app: the
    engagement's last touch and health move, and ``touchpoint.created`` is sent."""

    model = Touchpoint
    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilter

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.prefetch_related("contacts")

    def write(self, data: dict[str, Any], instance: models.Model | None) -> models.Model:
        org = self.request.org
        if instance is None:
            return services.touchpoint_log(
                org=org, actor=None, source=Touchpoint.Source.API, **data
            )
        return services.touchpoint_update(org=org, actor=None, touchpoint=instance, data=data)

    def remove(self, instance: models.Model) -> None:
        services.touchpoint_delete(org=self.request.org, actor=None, touchpoint=instance)


VIEWSETS: dict[str, Callable] = {
    "customers": CustomerViewSet,
    "contacts": ContactViewSet,
    "engagements": EngagementViewSet,
    "touchpoints": TouchpointViewSet,
}
