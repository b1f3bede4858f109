"""``/api/v1/webhooks/``: endpoints (admins only), their delivery log, and replay."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from followup.engine import webhooks
from followup.engine.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from followup.kernel import events
from followup.kernel.api.pagination import StableCursorPagination
from followup.kernel.api.serializers import TenantModelSerializer
from followup.kernel.api.viewsets import TenantModelViewSet

MANAGE = dict.fromkeys(
    ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), "webhooks.manage"
)


class EventTypesField(serializers.ListField):
    child = serializers.CharField()

    def to_internal_value(self, data: Any) -> list[str]:
        values = super().to_internal_value(data)
        try:
            return webhooks.clean_event_types(values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["event_types"]) from None


class WebhookEndpointSerializer(TenantModelSerializer):
    event_types = EventTypesField(
        help_text="Event types to receive, e.g. followup.completed (see the docs)."
    )

    class Meta:
        model = WebhookEndpoint
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "url",
            "description",
            "event_types",
            "enabled",
            "disabled_reason",
            "failing_since",
        )
        read_only_fields = ("disabled_reason", "failing_since")

    def validate_url(self, value: str) -> str:
        try:
            return webhooks.validate_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["url"]) from None


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_...). Shown once; store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = (
            "id",
            "number",
            "created_at",
            "status_code",
            "error",
            "duration_ms",
            "replay",
        )
        read_only_fields = fields


class WebhookDeliverySerializer(TenantModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "event_type",
            "message_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "attempts",
        )
        read_only_fields = fields


class WebhookViewSet(TenantModelViewSet):
    """Outbound webhook endpoints (Standard Webhooks signatures). Admins only."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    capabilities = MANAGE

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WebhookEndpointSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        endpoint = webhooks.endpoint_create(
            org=request.org,
            actor=None,
            url=values["url"],
            event_types=values["event_types"],
            description=values.get("description", ""),
        )
        if values.get("enabled") is False:
            endpoint = webhooks.endpoint_update(endpoint=endpoint, enabled=False)
        body = WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context())
        return Response(body.data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: WebhookEndpointSerializer) -> None:
        serializer.instance = webhooks.endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def _deliveries(self, endpoint: WebhookEndpoint) -> QuerySet:
        return (
            WebhookDelivery.objects.for_org(self.request.org)
            .filter(endpoint=endpoint)
            .prefetch_related(
                Prefetch(
                    "attempts",
                    queryset=WebhookAttempt.objects.for_org(self.request.org).order_by("number"),
                )
            )
        )

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        paginator = StableCursorPagination()
        page = paginator.paginate_queryset(self._deliveries(endpoint), request, view=self)
        data = WebhookDeliverySerializer(page, many=True).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={202: inline_serializer("ReplayQueued", {"status": serializers.CharField()})},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[^/.]+)/replay",
        url_name="replay",
    )
    def replay(self, request: Request, pk: str | None = None, delivery_id: str = "") -> Response:
        from followup.engine.tasks import replay_webhook

        endpoint = self.get_object()
        delivery = self._deliveries(endpoint).filter(pk=_uuid(delivery_id)).first()
        if delivery is None:
            raise Http404
        replay_webhook.delay(str(request.org.pk), str(delivery.pk))
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("EventTypes", {"types": serializers.DictField()})},
    )
    @action(detail=False, methods=["get"], url_path="event-types")
    def event_types(self, request: Request) -> Response:
        return Response({"types": {key: str(label) for key, label in events.EVENT_TYPES.items()}})


def _uuid(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None
