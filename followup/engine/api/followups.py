"""``/api/v1/followups/``: CRUD plus the actions complete, snooze, skip and reassign."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from followup.engine import selectors, services
from followup.engine.calc import recurrence
from followup.engine.models import FollowUp, FollowUpStatus, Priority
from followup.kernel import subjects
from followup.kernel.api.filters import OffsetDateTimeFilter, OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.problems import PROBLEM_BASE, Conflict
from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    TenantModelSerializer,
)
from followup.kernel.api.viewsets import TenantModelViewSet
from followup.kernel.mail import absolute

User = get_user_model()


class MemberField(OrgScopedRelatedField):
    """A member of the organization, by user id (a foreign or unknown id is a 400)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model=User, **kwargs)


class SubjectSerializer(serializers.Serializer):
    """Output only: a follow-up's subject."""

    type = serializers.CharField(read_only=True)
    id = serializers.UUIDField(read_only=True)
    label = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)


class FollowUpSerializer(TenantModelSerializer):
    """A follow-up as the API returns it."""

    owner = serializers.UUIDField(source="owner_id", read_only=True)
    completed_by = serializers.UUIDField(source="completed_by_id", read_only=True, allow_null=True)
    subject = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "title",
            "notes",
            "owner",
            "due_at",
            "status",
            "priority",
            "subject",
            "recurrence",
            "recurrence_time",
            "series_id",
            "sequence",
            "occurrence_at",
            "reminder_offsets",
            "next_remind_at",
            "completed_at",
            "completed_by",
            "answered_by_type",
            "answered_by_id",
            "url",
        )
        read_only_fields = fields

    @extend_schema_field(SubjectSerializer(allow_null=True))
    def get_subject(self, obj: FollowUp) -> dict[str, Any] | None:
        ref = getattr(obj, "subject_ref", None)
        return ref.as_dict() if ref is not None else None

    def get_url(self, obj: FollowUp) -> str:
        return absolute(services.followup_path(obj))


class FollowUpInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=200)
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", style={"base_template": "textarea.html"}
    )
    owner = MemberField(required=False)
    due_at = serializers.DateTimeField()
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    subject_type = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    subject_id = serializers.UUIDField(required=False, allow_null=True)
    recurrence = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="RFC 5545 RRULE subset, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO. Empty: none.",
    )
    recurrence_time = serializers.TimeField(
        required=False, allow_null=True, help_text="Local time of day (owner's time zone)."
    )
    reminder_offsets = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=services.MAX_OFFSET_MINUTES),
        required=False,
        max_length=5,
        help_text="Minutes before due_at; 0 is at due time. Default [0].",
    )

    def validate_recurrence(self, value: str) -> str:
        if not value:
            return ""
        try:
            return recurrence.parse(value).to_text()
        except recurrence.RuleError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key, obj_id = attrs.pop("subject_type", None), attrs.pop("subject_id", None)
        if key or obj_id:
            if not key or not obj_id:
                raise serializers.ValidationError(
                    {"subject_id": "Give subject_type and subject_id together."}
                )
            try:
                attrs["subject"] = subjects.resolve(self.context["org"], key, obj_id)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict) from None
        elif "subject_type" in self.initial_data or "subject_id" in self.initial_data:
            attrs["subject"] = None
        return attrs


class CompleteSerializer(InputSerializer):
    """No fields. What answered a follow-up is recorded by logging that answer:
    ``POST /api/v1/touchpoints/`` with ``answers`` set to the follow-up completes it and
    stores the touchpoint as ``answered_by_*``. Naming an arbitrary object here (another
    organization's id, a type that does not exist) is refused, never stored."""

    ANSWER_FIELDS = ("answered_by_type", "answered_by_id")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in self.ANSWER_FIELDS if name in (self.initial_data or {})]
        if given:
            raise serializers.ValidationError(
                {
                    name: (
                        "Not accepted here: log the answer with POST /api/v1/touchpoints/ "
                        "and answers=<follow-up id>, which completes the follow-up."
                    )
                    for name in given
                }
            )
        return attrs


class SnoozeSerializer(InputSerializer):
    until = serializers.DateTimeField(required=False)
    preset = serializers.ChoiceField(choices=list(services.SNOOZE_CHOICES), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("until")) == bool(attrs.get("preset")):
            raise serializers.ValidationError("Give either until or preset.")
        return attrs


class ReassignSerializer(InputSerializer):
    owner = MemberField()


class CompletedSerializer(FollowUpSerializer):
    next = serializers.SerializerMethodField()

    class Meta(FollowUpSerializer.Meta):
        fields = (*FollowUpSerializer.Meta.fields, "next")

    @extend_schema_field(FollowUpSerializer(allow_null=True))
    def get_next(self, obj: FollowUp) -> dict[str, Any] | None:
        nxt = getattr(obj, "next_occurrence", None)
        return FollowUpSerializer(nxt, context=self.context).data if nxt else None


class FollowUpFilter(TenantFilterSet):
    owner = OrgModelChoiceFilter(model=User)
    status = django_filters.ChoiceFilter(choices=FollowUpStatus.choices)
    due_before = OffsetDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = OffsetDateTimeFilter(field_name="due_at", lookup_expr="gte")
    subject_type = django_filters.CharFilter(method="filter_subject_type")
    subject_id = django_filters.UUIDFilter(field_name="subject_id")

    class Meta:
        model = FollowUp
        fields = ["owner", "status", "due_before", "due_after", "subject_type", "subject_id"]

    def filter_subject_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        entry = subjects.get(value)
        if entry is None:
            raise ValidationError({"subject_type": ["Unknown subject type."]})
        return queryset.filter(subject_type=ContentType.objects.get_for_model(entry.model))


def _conflict(exc: services.TransitionError) -> Conflict:
    return Conflict(
        str(exc),
        problem_type=PROBLEM_BASE + "illegal-transition",
        extensions={"current_status": exc.current},
    )


class FollowUpViewSet(TenantModelViewSet):
    """Next actions owed to customers and projects, with cadence and reminders."""

    model = FollowUp
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("owner", "organization")

    def _out(self, followup: FollowUp, code: int = status.HTTP_200_OK) -> Response:
        (followup,) = selectors.with_subjects(self.request.org, [followup])
        return Response(
            FollowUpSerializer(followup, context=self.get_serializer_context()).data, status=code
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = selectors.with_subjects(request.org, self.paginate_queryset(queryset) or [])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._out(self.get_object())

    @extend_schema(request=FollowUpInputSerializer, responses={201: FollowUpSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = FollowUpInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner = values.get("owner") or self._default_owner()
        followup = services.followup_create(
            org=request.org,
            actor=None,
            title=values["title"],
            notes=values.get("notes", ""),
            owner=owner,
            due_at=values["due_at"],
            priority=values["priority"],
            subject=values.get("subject"),
            recurrence_rule=values.get("recurrence") or None,
            recurrence_time=values.get("recurrence_time"),
            reminder_offsets=values.get("reminder_offsets"),
        )
        return self._out(followup, status.HTTP_201_CREATED)

    def _default_owner(self) -> Any:
        owner = self.api_key.created_by
        if owner is None:
            raise ValidationError({"owner": ["This field is required for this API key."]})
        return owner

    @extend_schema(request=FollowUpInputSerializer, responses={200: FollowUpSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        followup = self.get_object()
        partial = kwargs.get("partial", False)
        data = FollowUpInputSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if partial:
            values = {k: v for k, v in values.items() if k in request.data or k == "subject"}
        rule = values.pop("recurrence", None)
        rule_time = values.pop("recurrence_time", None)
        try:
            followup = services.followup_update(
                followup=followup,
                actor=None,
                recurrence_rule=rule,
                recurrence_time=rule_time,
                **values,
            )
        except services.TransitionError as exc:
            raise _conflict(exc) from None
        return self._out(followup)

    def perform_destroy(self, instance: FollowUp) -> None:
        services.followup_delete(followup=instance, actor=None)

    @extend_schema(request=None, responses={200: CompletedSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        data = CompleteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            outcome = services.followup_complete(
                followup=followup,
                actor=None,
            )
        except services.TransitionError as exc:
            raise _conflict(exc) from None
        return self._outcome(outcome)

    def _outcome(self, outcome: services.Outcome) -> Response:
        done = outcome.followup
        rows = [done, outcome.next] if outcome.next else [done]
        selectors.with_subjects(self.request.org, rows)
        done.next_occurrence = outcome.next
        return Response(CompletedSerializer(done, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: CompletedSerializer})
    @action(detail=True, methods=["post"])
    def skip(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        try:
            outcome = services.followup_skip(followup=followup, actor=None)
        except services.TransitionError as exc:
            raise _conflict(exc) from None
        return self._outcome(outcome)

    @extend_schema(request=SnoozeSerializer, responses={200: FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        data = SnoozeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            until = data.validated_data.get("until") or services.snooze_target(
                followup, data.validated_data["preset"]
            )
            followup = services.followup_snooze(followup=followup, actor=None, until=until)
        except services.TransitionError as exc:
            raise _conflict(exc) from None
        return self._out(followup)

    @extend_schema(request=ReassignSerializer, responses={200: FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        data = ReassignSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            followup = services.followup_reassign(
                followup=followup, actor=None, owner=data.validated_data["owner"]
            )
        except services.TransitionError as exc:
            raise _conflict(exc) from None
        return self._out(followup)
