"""``/api/v1/notifications/``: the notifications of the person the API key acts for.

A key belongs to an organization, not a person; it acts for the member who created it
(``ApiKey.created_by``). A key without one (made by ``create_org`` or through the API)
has no notifications.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from followup.engine import notifications
from followup.engine.models import Notification
from followup.kernel.api.serializers import TenantModelSerializer
from followup.kernel.api.viewsets import TenantViewSet
from followup.kernel.mail import absolute

READ = dict.fromkeys(("GET", "HEAD", "OPTIONS", "POST"), "records.view")


class NotificationSerializer(TenantModelSerializer):
    title = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "kind",
            "title",
            "params",
            "url",
            "subject_type",
            "subject_id",
            "read_at",
        )
        read_only_fields = fields

    def get_title(self, obj: Notification) -> str:
        return notifications.render_title(obj)

    def get_url(self, obj: Notification) -> str:
        return absolute(obj.url)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Notifications of the key's creator in this organization; mark them read."""

    model = Notification
    serializer_class = NotificationSerializer
    capabilities = READ

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        person = getattr(self.request.auth, "created_by", None)
        if person is None:
            return queryset.none()
        return queryset.filter(recipient=person)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        notifications.mark_read(org=request.org, user=notification.recipient, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        person = self.api_key.created_by
        count = 0 if person is None else notifications.mark_read(org=request.org, user=person)
        return Response({"marked": count})
