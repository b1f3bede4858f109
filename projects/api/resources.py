"""REST resources of resource allocation and quality: ``resources`` (with the
organization-wide ``load``), ``allocations`` and ``acceptance-criteria`` (with ``decide``).
All writes go through ``projects.resources`` and ``projects.quality``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from followup.kernel.api.filters import OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.pagination import StableCursorPagination
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    TenantModelSerializer,
)
from followup.kernel.api.viewsets import TenantModelViewSet, TenantViewSet
from projects import quality, selectors
from projects import resources as service
from projects.models import (
    AcceptanceCriterion,
    Allocation,
    CriterionState,
    Project,
    Resource,
    ResourceKind,
    WorkItem,
)

User = get_user_model()
_CENT = Decimal("0.01")
BASE = TenantModelSerializer.BASE_FIELDS


# --- Serializers -----------------------------------------------------------------------------


class ResourceSerializer(TenantModelSerializer):
    user = OrgScopedRelatedField(
        model=User, required=False, allow_null=True, help_text="The member (kind person)."
    )
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Default: the person's name."
    )

    class Meta:
        model = Resource
        fields = (
            *BASE,
            "kind",
            "name",
            "user",
            "weekly_capacity_hours",
            "rate",
            "unit",
            "available_per_day",
        )


class AllocationSerializer(TenantModelSerializer):
    project = serializers.UUIDField(source="project_id", read_only=True)
    work_item = OrgScopedRelatedField(model=WorkItem)
    resource = OrgScopedRelatedField(model=Resource)

    class Meta:
        model = Allocation
        fields = (*BASE, "project", "work_item", "resource", "per_day")
        validators: list[Any] = []


class AcceptanceCriterionSerializer(TenantModelSerializer):
    work_item = OrgScopedRelatedField(model=WorkItem)
    state = serializers.CharField(read_only=True)
    waive_reason = serializers.CharField(read_only=True)
    decided_by = serializers.UUIDField(source="decided_by_id", read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = AcceptanceCriterion
        fields = (*BASE, "work_item", "text", "state", "waive_reason", "decided_by", "decided_at")


class DecideSerializer(InputSerializer):
    state = serializers.ChoiceField(choices=CriterionState.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        style={"base_template": "textarea.html"},
        help_text="Required to waive.",
    )


class LoadQuerySerializer(InputSerializer):
    start = serializers.DateField(required=False, help_text="A day of the first week.")
    weeks = serializers.IntegerField(min_value=1, max_value=service.MAX_WEEKS, required=False)
    kind = serializers.ChoiceField(choices=ResourceKind.choices, required=False)
    over = serializers.BooleanField(required=False, default=False)
    suggest = serializers.BooleanField(required=False, default=False)


class LoadPagination(StableCursorPagination):
    """Pages of resources in the load's order: kind, name, id (25 a page)."""

    ordering = ("kind", "name", "id")  # type: ignore[assignment]  # DRF takes a tuple too
    page_size = service.PAGE_SIZE


# --- Filters ---------------------------------------------------------------------------------


class ResourceFilter(TenantFilterSet):
    kind = django_filters.ChoiceFilter(choices=ResourceKind.choices)
    user = OrgModelChoiceFilter(model=User)

    class Meta:
        model = Resource
        fields: list[str] = []


class AllocationFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    work_item = OrgModelChoiceFilter(model=WorkItem)
    resource = OrgModelChoiceFilter(model=Resource)

    class Meta:
        model = Allocation
        fields: list[str] = []


class CriterionFilter(TenantFilterSet):
    work_item = OrgModelChoiceFilter(model=WorkItem)
    state = django_filters.ChoiceFilter(choices=CriterionState.choices)

    class Meta:
        model = AcceptanceCriterion
        fields: list[str] = []


# --- Viewsets --------------------------------------------------------------------------------


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)


class ResourceViewSet(TenantModelViewSet):
    """People (members, with a weekly capacity in hours and an optional rate) and named
    material or equipment (a unit and a quantity available per day). ``GET load/`` is every
    resource's load per week across the organization's open projects."""

    model = Resource
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilter

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.select_related("user")

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = service.resource_create(org=self.request.org, actor=None, data=data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = service.resource_update(
            org=self.request.org,
            actor=None,
            resource=cast(Resource, serializer.instance),
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance: Any) -> None:
        service.resource_delete(org=self.request.org, actor=None, resource=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("start", date, description="A day of the first week (Monday)."),
            OpenApiParameter("weeks", int, description="Number of weeks, 1 to 53 (8)."),
            OpenApiParameter(
                "kind", str, enum=list(ResourceKind.values), description="One kind only."
            ),
            OpenApiParameter(
                "over", bool, description="Only resources over capacity in some week."
            ),
            OpenApiParameter(
                "suggest",
                bool,
                description="Include levelling suggestions for the page's resources.",
            ),
            OpenApiParameter("cursor", str, description="From `next` or `previous`."),
            OpenApiParameter(
                "page_size", int, description="Resources per page, 1 or more (25); capped."
            ),
        ],
        responses={200: dict},
    )
    @action(detail=False, methods=["get"], url_path="load", url_name="load")
    def load(self, request: ApiRequest) -> Response:
        """Load per resource and week: project hours or units, business-side effort from
        touchpoints (people), capacity, ``over`` when the load exceeds it, the items
        causing it; a cursor page of resources (25, kind then name), of one ``kind`` or
        only those ``over`` capacity; levelling suggestions (non-critical items moved
        within float) with ``suggest=true``, for the page's resources."""
        query = LoadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        org = request.org
        start = data.get("start") or selectors.org_today(org)
        weeks = data.get("weeks") or service.DEFAULT_WEEKS
        kind = data.get("kind") or None
        people = service.load_resources(org, kind=kind)
        if data.get("over"):
            people = people.filter(
                pk__in=service.over_resource_ids(org, start=start, weeks=weeks, kind=kind)
            )
        paginator = LoadPagination()
        page = paginator.paginate_queryset(people, request, view=self) or []
        result = service.org_load(
            org,
            start=start,
            weeks=weeks,
            resource_ids=[r.pk for r in page],
            suggest=bool(data.get("suggest")),
        )
        body = load_payload(result)
        body.update(
            count=people.count(),
            next=paginator.get_next_link(),
            previous=paginator.get_previous_link(),
        )
        return Response(body)


def load_payload(result: service.OrgLoad) -> dict[str, Any]:
    rows = []
    for resource, cells in result.rows():
        rows.append(
            {
                "id": str(resource.pk),
                "name": resource.name,
                "kind": resource.kind,
                "unit": "h" if resource.is_person else resource.unit,
                "weeks": [
                    {
                        "week": cell.week.isoformat(),
                        "project": str(cell.project),
                        "business": str(cell.business.quantize(_CENT)),
                        "total": str(cell.total.quantize(_CENT)),
                        "capacity": _decimal(cell.capacity),
                        "over": cell.over,
                        "items": [
                            {
                                "work_item": str(item_id),
                                "project": str(result.items[item_id].project_id),
                                "amount": str(amount),
                            }
                            for item_id, amount in cell.items.items()
                        ],
                    }
                    for cell in cells
                ],
            }
        )
    return {
        "weeks": [w.isoformat() for w in result.weeks],
        "resources": rows,
        "suggestions": [
            {
                "resource": str(s.resource),
                "week": s.week.isoformat(),
                "work_item": str(s.item),
                "project": str(s.project),
                "shift_days": s.shift_days,
                "total_float": s.total_float,
                "new_start": s.new_start.isoformat(),
                "new_finish": s.new_finish.isoformat(),
                "resolves": s.resolves,
            }
            for s in result.suggestions
        ],
        "computed_at": timezone.now().isoformat(),
    }


class AllocationViewSet(TenantModelViewSet):
    """A resource on a work package: hours (a person) or units per working day of the
    package's scheduled span. Only ``per_day`` changes after creation."""

    model = Allocation
    serializer_class = AllocationSerializer
    filterset_class = AllocationFilter

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.select_related("resource", "work_item")

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        serializer.instance = service.allocation_create(
            org=self.request.org,
            actor=None,
            work_item=data["work_item"],
            resource=data["resource"],
            per_day=data["per_day"],
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        instance = cast(Allocation, serializer.instance)
        data = serializer.validated_data
        for name in ("work_item", "resource"):
            if name in data and data[name].pk != getattr(instance, f"{name}_id"):
                raise serializers.ValidationError(
                    {name: _("An allocation keeps its work item and resource; delete it instead.")}
                )
        serializer.instance = service.allocation_update(
            org=self.request.org,
            actor=None,
            allocation=instance,
            per_day=data.get("per_day", instance.per_day),
        )

    def perform_destroy(self, instance: Any) -> None:
        service.allocation_delete(org=self.request.org, actor=None, allocation=instance)


class AcceptanceCriterionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    TenantViewSet,
):
    """What must hold before a work package is done. ``POST <id>/decide/`` checks it off,
    waives it (with a reason) or opens it again. Marking the item done (100 %) while one
    is open is refused (400 on ``percent_complete``)."""

    model = AcceptanceCriterion
    serializer_class = AcceptanceCriterionSerializer
    filterset_class = CriterionFilter

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        serializer.instance = quality.criterion_add(
            org=self.request.org, actor=None, item=data["work_item"], text=data["text"]
        )

    @extend_schema(request=DecideSerializer, responses={200: AcceptanceCriterionSerializer})
    @action(detail=True, methods=["post"], url_path="decide", url_name="decide")
    def decide(self, request: ApiRequest, pk: str | None = None) -> Response:
        body = DecideSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        criterion = cast(AcceptanceCriterion, self.get_object())
        decided = quality.criterion_decide(
            org=request.org,
            actor=None,
            criterion=criterion,
            state=body.validated_data["state"],
            reason=body.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(decided).data)
