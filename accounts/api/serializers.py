from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    SecretField,
    TenantModelSerializer,
)

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
    key = SecretField(help_text="The plain key. Shown once; store it now (a replay has null here).")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")


class MemberRemoveSerializer(serializers.Serializer[Any]):
    hand_over_to = OrgScopedRelatedField(
        model=User,
        allow_null=True,
        required=False,
        help_text=(
            "The member (user id) who takes over the person's open follow-ups and the "
            "customers and engagements they own; null cancels the follow-ups and leaves the "
            "records without an owner. Default: the person who created the calling key."
        ),
    )


class MemberRemovedSerializer(serializers.Serializer[Any]):
    """The answer to a removal (output only)."""

    member = serializers.UUIDField(read_only=True, help_text="The membership that was removed.")
    user = serializers.UUIDField(read_only=True)
    hand_over_to = serializers.UUIDField(read_only=True, allow_null=True)
    counts = serializers.DictField(
        read_only=True,
        child=serializers.IntegerField(),
        help_text=(
            "What was done: followups_handed_over, followups_cancelled, customers_handed_over, "
            "engagements_handed_over, customers_unowned, engagements_unowned, "
            "engagement_teams_left, api_keys_revoked, notification_settings_deleted, "
            "notifications_deleted, calendar_feeds_deleted."
        ),
    )
    summary = serializers.CharField(
        read_only=True, help_text="The same in words (the key's language)."
    )
