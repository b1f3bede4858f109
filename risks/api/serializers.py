"""The Risks section of docs/API.md, field by field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    TenantModelSerializer,
)
from risks.models import Direction, IndicatorValue, Risk, RiskStatus, Strategy, Zone

User = get_user_model()
BASE = TenantModelSerializer.BASE_FIELDS
TEXTAREA = {"base_template": "textarea.html"}


class FmeaSerializer(InputSerializer):
    severity = serializers.IntegerField(min_value=1, max_value=10)
    occurrence = serializers.IntegerField(min_value=1, max_value=10)
    detection = serializers.IntegerField(min_value=1, max_value=10)
    rpn = serializers.IntegerField(read_only=True, help_text="S x O x D (1..1000).")
    action_priority = serializers.CharField(
        read_only=True, help_text="H, M or L per the AIAG-VDA FMEA handbook (2019)."
    )


class ResponseSerializer(InputSerializer):
    strategy = serializers.ChoiceField(choices=Strategy.choices, allow_blank=True)
    plan = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)


class IndicatorSerializer(InputSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)
    amber = serializers.DecimalField(max_digits=18, decimal_places=4)
    red = serializers.DecimalField(max_digits=18, decimal_places=4)
    direction = serializers.ChoiceField(
        choices=Direction.choices,
        default=Direction.UP,
        help_text="up: higher values are worse; down: lower values are worse.",
    )
    zone = serializers.ChoiceField(choices=Zone.choices, read_only=True)
    value = serializers.DecimalField(
        max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )


class SignalSerializer(serializers.Serializer[dict[str, Any]]):
    rule = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)


def _fmea(s: Any, o: Any, d: Any, rpn: Any, ap: str) -> dict[str, Any] | None:
    if None in (s, o, d):
        return None
    return {"severity": s, "occurrence": o, "detection": d, "rpn": rpn, "action_priority": ap}


class RiskSerializer(TenantModelSerializer):
    subject_type = serializers.ChoiceField(
        choices=[(k, k) for k in ("customer", "engagement", "project", "work_item")],
        help_text="What the risk is about; a milestone is a work item of zero duration.",
    )
    subject_id = serializers.UUIDField()
    owner = OrgScopedRelatedField(model=User, allow_null=True, required=False)
    status = serializers.ChoiceField(
        choices=RiskStatus.choices,
        required=False,
        help_text="A change is the matching action: occurred = occur, closed = close, "
        "open = reopen.",
    )
    probability = serializers.IntegerField(min_value=1, max_value=5)
    impact = serializers.IntegerField(min_value=1, max_value=5)
    residual_probability = serializers.IntegerField(
        min_value=1, max_value=5, allow_null=True, required=False
    )
    residual_impact = serializers.IntegerField(
        min_value=1, max_value=5, allow_null=True, required=False
    )
    # Written as nested objects, shown by to_representation (the model keeps flat columns).
    fmea = FmeaSerializer(allow_null=True, required=False, write_only=True)
    fmea_after_actions = FmeaSerializer(allow_null=True, required=False, write_only=True)
    response = ResponseSerializer(required=False, write_only=True)
    indicator = IndicatorSerializer(allow_null=True, required=False, write_only=True)
    escalated_from = serializers.UUIDField(
        source="escalated_from_id", read_only=True, allow_null=True
    )
    signal = SignalSerializer(read_only=True, allow_null=True)
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why the rating changed; kept in the score history.",
    )
    cause = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    event = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    effect = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    trigger = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    fallback_plan = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    controls = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)

    class Meta:
        model = Risk
        fields = (
            *BASE,
            "subject_type",
            "subject_id",
            "side",
            "title",
            "cause",
            "event",
            "effect",
            "category",
            "owner",
            "status",
            "occurred_at",
            "closed_at",
            "probability",
            "impact",
            "score",
            "level",
            "residual_probability",
            "residual_impact",
            "residual_score",
            "residual_level",
            "failure_mode",
            "controls",
            "fmea",
            "fmea_after_actions",
            "response",
            "contingency_amount",
            "currency",
            "fallback_plan",
            "trigger",
            "indicator",
            "escalated_from",
            "signal",
            "reason",
        )
        read_only_fields = (
            "side",
            "score",
            "level",
            "residual_score",
            "residual_level",
            "occurred_at",
            "closed_at",
        )

    def to_representation(self, instance: Risk) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["fmea"] = _fmea(
            instance.severity,
            instance.occurrence,
            instance.detection,
            instance.rpn,
            instance.action_priority,
        )
        data["fmea_after_actions"] = _fmea(
            instance.post_severity,
            instance.post_occurrence,
            instance.post_detection,
            instance.post_rpn,
            instance.post_action_priority,
        )
        data["response"] = {"strategy": instance.strategy, "plan": instance.response_plan}
        data["indicator"] = (
            {
                "name": instance.indicator_name,
                "unit": instance.indicator_unit,
                "amber": str(instance.indicator_amber),
                "red": str(instance.indicator_red),
                "direction": instance.indicator_direction,
                "zone": instance.indicator_zone or "green",
                "value": (
                    str(instance.indicator_value) if instance.indicator_value is not None else None
                ),
            }
            if instance.has_indicator
            else None
        )
        data["signal"] = instance.signal or None
        return data

    def service_data(self) -> dict[str, Any]:
        """The validated input as the service's field names."""
        raw = dict(self.validated_data)
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if name in ("fmea", "fmea_after_actions", "response", "indicator", "reason", "status"):
                continue
            out[name] = value
        initial = self.initial_data if isinstance(self.initial_data, dict) else {}
        for key, prefix in (("fmea", ""), ("fmea_after_actions", "post_")):
            if key in initial:
                values = raw.get(key) if initial.get(key) is not None else None
                for factor in ("severity", "occurrence", "detection"):
                    out[prefix + factor] = values.get(factor) if values else None
        if "response" in initial:
            response = raw.get("response") or {}
            if "strategy" in response:
                out["strategy"] = response["strategy"]
            if "plan" in response:
                out["response_plan"] = response["plan"]
        if "indicator" in initial:
            indicator = raw.get("indicator") if initial.get("indicator") is not None else None
            out["indicator_amber"] = indicator.get("amber") if indicator else None
            out["indicator_red"] = indicator.get("red") if indicator else None
            if indicator:
                out["indicator_direction"] = indicator.get("direction", Direction.UP)
                for name in ("name", "unit"):
                    if name in indicator:
                        out[f"indicator_{name}"] = indicator[name]
        return out


class IndicatorValueInputSerializer(InputSerializer):
    value = serializers.DecimalField(max_digits=18, decimal_places=4)
    observed_at = serializers.DateTimeField(required=False)


class IndicatorValueSerializer(TenantModelSerializer):
    risk = serializers.UUIDField(source="risk_id", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = (*BASE, "risk", "value", "observed_at", "zone")
        read_only_fields = fields


class TransitionInputSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MatrixCellSerializer(serializers.Serializer[dict[str, Any]]):
    probability = serializers.IntegerField(read_only=True)
    impact = serializers.IntegerField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    level = serializers.CharField(read_only=True)


class MatrixSerializer(serializers.Serializer[dict[str, Any]]):
    cells = MatrixCellSerializer(many=True, read_only=True)
