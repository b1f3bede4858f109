from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from engagements.models import Contact, Customer, Engagement, HealthLevel, Kpi, Touchpoint
from followup.engine.models import FollowUp
from followup.kernel.api.serializers import OrgScopedRelatedField, TenantModelSerializer

User = get_user_model()
BASE = TenantModelSerializer.BASE_FIELDS


class HealthLevelField(serializers.ChoiceField):
    """green / amber / red, or null while no health has been computed (never ``""``,
    which is outside the enum)."""

    output_is_context_free = True  # API lists convert it through their read plan

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(choices=HealthLevel.choices, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value or None


class CustomerSerializer(TenantModelSerializer):
    health_level = HealthLevelField()

    owner = OrgScopedRelatedField(model=User, allow_null=True, required=False)

    class Meta:
        model = Customer
        fields = (
            *BASE,
            "name",
            "external_id",
            "industry",
            "tier",
            "status",
            "owner",
            "annual_value",
            "currency",
            "notes",
            "health_score",
            "health_level",
            "last_touch_at",
        )
        read_only_fields = ("health_score", "health_level", "last_touch_at")
        # Uniqueness of external_id is checked by the service inside the organization.
        validators: list = []


class ContactSerializer(TenantModelSerializer):
    class Meta:
        model = Contact
        fields = (
            *BASE,
            "customer",
            "name",
            "title",
            "email",
            "phone",
            "language",
            "external_id",
            "is_primary",
        )
        validators: list = []


class KpiSerializer(TenantModelSerializer):
    current_value = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        source="manual_value",
        allow_null=True,
        required=False,
        help_text="For KPIs measured by hand (metric 'manual').",
    )

    class Meta:
        model = Kpi
        fields = ("id", "name", "metric", "target", "unit", "current_value")


class EngagementSerializer(TenantModelSerializer):
    health_level = HealthLevelField()

    owner = OrgScopedRelatedField(model=User, allow_null=True, required=False)
    team = OrgScopedRelatedField(model=User, many=True, required=False)
    kpis = KpiSerializer(
        many=True,
        required=False,
        help_text="Replaces the engagement's KPIs when given (matched by name).",
    )
    started_on = serializers.DateField(required=False, help_text="Defaults to today.")

    class Meta:
        model = Engagement
        fields = (
            *BASE,
            "customer",
            "name",
            "objective",
            "owner",
            "team",
            "status",
            "started_on",
            "cadence_days",
            "external_id",
            "kpis",
            "health_score",
            "health_level",
            "health_signals",
            "health_computed_at",
            "last_touch_at",
        )
        read_only_fields = (
            "health_score",
            "health_level",
            "health_signals",
            "health_computed_at",
            "last_touch_at",
        )
        validators: list = []

    def validate_kpis(self, value: list[dict]) -> list[dict]:
        names = [item["name"] for item in value]
        if len(names) != len(set(names)):
            raise serializers.ValidationError("KPI names must be unique within an engagement.")
        return value


class TouchpointSerializer(TenantModelSerializer):
    engagement = OrgScopedRelatedField(
        model=Engagement,
        allow_null=True,
        required=False,
        help_text="Leave out to log against the customer's only active engagement.",
    )
    contacts = OrgScopedRelatedField(model=Contact, many=True, required=False)
    occurred_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    effort_minutes = serializers.IntegerField(required=False, min_value=0, max_value=24 * 60)
    logged_by = serializers.UUIDField(source="logged_by_id", read_only=True, allow_null=True)
    followup = OrgScopedRelatedField(
        model=FollowUp,
        source="answers",
        write_only=True,
        required=False,
        allow_null=True,
        help_text=(
            "On create: the open follow-up this touchpoint answers. It is completed in the "
            "same request (a cadence schedules its next occurrence); see the follow-up's "
            "answered_by_id."
        ),
    )

    class Meta:
        model = Touchpoint
        fields = (
            *BASE,
            "customer",
            "engagement",
            "channel",
            "occurred_at",
            "contacts",
            "summary",
            "outcome",
            "sentiment",
            "satisfaction",
            "business_event",
            "effort_minutes",
            "next_step",
            "external_id",
            "logged_by",
            "source",
            "followup",
        )
        read_only_fields = ("source",)
        validators: list = []


class BulkResultSerializer(serializers.Serializer):
    """Output only: what a bulk write did."""

    created = serializers.IntegerField(read_only=True)
    updated = serializers.IntegerField(read_only=True)
    ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
