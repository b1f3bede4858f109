"""``/api/v1/comments/``: comments on any subject (list by subject, create, edit, delete).

A key writes as the member who created it (``ApiKey.created_by``), or, without one, as
itself; only the comment's author (that person, or that key) edits it; the author or a
manager-role key deletes it. A deleted comment stays in the list with ``deleted_at`` set and
an empty ``body``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors as people
from followup.engine import comments
from followup.engine.models import Comment
from followup.kernel import subjects
from followup.kernel.api.filters import TenantFilterSet
from followup.kernel.api.serializers import InputSerializer, TenantModelSerializer
from followup.kernel.api.viewsets import TenantModelViewSet
from followup.kernel.mail import absolute


class CommentSerializer(TenantModelSerializer):
    author = serializers.UUIDField(source="author_id", read_only=True, allow_null=True)
    author_name = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    mentions = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "subject_type",
            "subject_id",
            "author",
            "author_name",
            "body",
            "mentions",
            "edited_at",
            "deleted_at",
            "url",
        )
        read_only_fields = fields

    def get_author_name(self, obj: Comment) -> str:
        return comments.author_name(obj)

    def get_body(self, obj: Comment) -> str:
        return "" if obj.is_deleted else obj.body

    def get_url(self, obj: Comment) -> str:
        path = getattr(obj, "url", None)
        if path is None:
            org = self.context.get("org")
            path = comments.subject_url(org, obj) if org is not None else ""
        return absolute(path) if path else ""


class CommentInputSerializer(InputSerializer):
    subject_type = serializers.CharField(max_length=64)
    subject_id = serializers.UUIDField()
    body = serializers.CharField(
        max_length=comments.MAX_BODY,
        trim_whitespace=True,
        style={"base_template": "textarea.html"},  # multi-line: line breaks allowed
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["subject"] = subjects.resolve(
                self.context["org"], attrs["subject_type"], attrs["subject_id"], any_subject=True
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class CommentEditSerializer(InputSerializer):
    body = serializers.CharField(
        max_length=comments.MAX_BODY,
        trim_whitespace=True,
        style={"base_template": "textarea.html"},  # multi-line: line breaks allowed
    )


class CommentFilter(TenantFilterSet):
    subject_type = django_filters.CharFilter()
    subject_id = django_filters.UUIDFilter()

    class Meta:
        model = Comment
        fields = ["subject_type", "subject_id"]


class CommentViewSet(TenantModelViewSet):
    """Comments on customers, engagements, follow-ups and any other registered subject."""

    model = Comment
    serializer_class = CommentSerializer
    filterset_class = CommentFilter

    def scope_queryset(self, queryset: QuerySet[Comment]) -> QuerySet[Comment]:
        return queryset.select_related("author", "api_key")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = list(self.paginate_queryset(queryset) or [])
        comments.attach_urls(self.request.org, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _writer(self) -> comments.Writer:
        """The key's creator while a member (else the key writes as itself)."""
        key = self.api_key
        person = key.created_by
        if person is not None and not people.has_membership(self.request.org, person):
            person = None
        return comments.Writer(user=person, api_key=key)

    def _out(self, comment: Comment, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            CommentSerializer(comment, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=CommentInputSerializer, responses={201: CommentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CommentInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            comment = comments.comment_post(
                org=self.request.org,
                writer=self._writer(),
                subject=data.validated_data["subject"],
                body=data.validated_data["body"],
            )
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return self._out(comment, status.HTTP_201_CREATED)

    @extend_schema(request=CommentEditSerializer, responses={200: CommentSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        comment = self.get_object()
        assert isinstance(comment, Comment)
        data = CommentEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comment = comments.comment_edit(
                org=self.request.org,
                writer=self._writer(),
                comment=comment,
                body=data.validated_data["body"],
            )
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return self._out(comment)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        comment = self.get_object()
        assert isinstance(comment, Comment)
        try:
            comments.comment_delete(org=self.request.org, writer=self._writer(), comment=comment)
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
