"""Serializers of the risk register's API (reviews part)."""

from __future__ import annotations

from rest_framework import serializers

from followup.kernel.api.serializers import InputSerializer, TenantModelSerializer
from risks.models import RiskReview


class RiskReviewSerializer(TenantModelSerializer):
    """A milestone risk review (read-only: the beat schedules and opens it)."""

    milestone = serializers.UUIDField(source="milestone_id", read_only=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    reviewer = serializers.UUIDField(source="reviewer_id", read_only=True, allow_null=True)
    signed_off_by = serializers.UUIDField(
        source="signed_off_by_id", read_only=True, allow_null=True
    )

    class Meta:
        model = RiskReview
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "project",
            "milestone",
            "planned_date",
            "due_at",
            "status",
            "late",
            "reviewer",
            "opened_at",
            "signed_off_at",
            "signed_off_by",
            "note",
        )
        read_only_fields = fields


class SignOffSerializer(InputSerializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        style={"base_template": "textarea.html"},
    )
