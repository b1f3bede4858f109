from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import departures, services
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MemberRemovedSerializer,
    MemberRemoveSerializer,
    MemberSerializer,
)
from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.kernel.api.filters import TenantFilterSet
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.viewsets import TenantViewSet


class MemberFilter(TenantFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """People of the organization and their roles. ``POST <id>/remove/`` removes one, with
    their open work handed over; invite people and change roles in the app."""

    model = Membership
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    capabilities = {"GET": "members.view", "HEAD": "members.view", "OPTIONS": "members.view"}
    action_capabilities = {"remove": "members.manage"}

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("user")

    @extend_schema(request=MemberRemoveSerializer, responses={200: MemberRemovedSerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Remove the member. Their open follow-ups, and the customers and engagements they
        own, go to ``hand_over_to`` (null: follow-ups cancelled, records unowned); their
        notification settings, notifications and calendar addresses are deleted and the API
        keys they created revoked, all in one transaction."""
        membership = cast(Membership, self.get_object())
        data = MemberRemoveSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        if "hand_over_to" in data.validated_data:
            successor = data.validated_data["hand_over_to"]
        else:
            successor = self._default_successor(membership)
        try:
            removal = services.membership_remove(
                actor=self.api_key, membership=membership, successor=successor
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "successor" in exc.error_dict:
                raise ValidationError({"hand_over_to": exc.messages}) from None
            raise
        body = {
            "member": membership.pk,
            "user": removal.person.pk,
            "hand_over_to": removal.successor.pk if removal.successor else None,
            "counts": {tally.key: tally.count for tally in removal.tallies},
            "summary": departures.summary(removal.tallies),
        }
        return Response(MemberRemovedSerializer(body).data)

    def _default_successor(self, membership: Membership) -> Any:
        # A key acts for nobody; the person who created it is the natural remover.
        creator = self.api_key.created_by
        if creator is None or creator.pk == membership.user_id:
            raise ValidationError(
                {
                    "hand_over_to": [
                        _(
                            "Say who takes over this person's open follow-ups (a user id), "
                            "or null to cancel them."
                        )
                    ]
                }
            )
        return creator


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
