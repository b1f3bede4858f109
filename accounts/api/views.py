from __future__ import annotations

from typing import Any, cast

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MemberSerializer,
)
from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.kernel.api.filters import TenantFilterSet
from followup.kernel.api.viewsets import TenantViewSet


class MemberFilter(TenantFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """People of the organization and their roles (read-only; manage members in the app)."""

    model = Membership
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    capabilities = {"GET": "members.view", "HEAD": "members.view", "OPTIONS": "members.view"}

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("user")


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """The organization's API keys. Revoking (DELETE) takes effect on the next request."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    capabilities = dict.fromkeys(
        ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), "apikeys.manage"
    )

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.active()

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.api_key_create(
            org=request.org,
            name=data.validated_data["name"],
            role=data.validated_data["role"],
            created_by=None,
            granter_role=self.api_key.role,
        )
        created.api_key.key = created.plain
        body = ApiKeyCreatedSerializer(created.api_key, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: ApiKeySerializer) -> None:
        values = serializer.validated_data
        serializer.instance = services.api_key_update(
            api_key=cast(ApiKey, serializer.instance),  # an update always has its object
            actor_role=self.api_key.role,
            name=values.get("name"),
            role=values.get("role"),
        )

    def perform_destroy(self, instance: ApiKey) -> None:
        services.api_key_revoke(api_key=instance, actor_role=self.api_key.role)
