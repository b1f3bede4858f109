from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.kernel.api.serializers import InputSerializer, TenantModelSerializer

User = get_user_model()


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "display_name", "timezone")
        read_only_fields = fields


class MemberSerializer(TenantModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = (*TenantModelSerializer.BASE_FIELDS, "user", "role")
        read_only_fields = fields


class ApiKeySerializer(TenantModelSerializer):
    """Output of a key; the plain key only ever appears in the create response."""

    masked = serializers.CharField(read_only=True)

    class Meta:
        model = ApiKey
        fields = (
            *TenantModelSerializer.BASE_FIELDS,
            "name",
            "role",
            "prefix",
            "masked",
            "last_used_at",
        )
        read_only_fields = ("prefix", "masked", "last_used_at")


class ApiKeyCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The plain key. Shown once; store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")
