"""Baselines, budget lines, cost entries, change requests and earned value (API.md,
Projects)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    TenantModelSerializer,
)
from projects.models import (
    Baseline,
    BaselineItem,
    BudgetLine,
    ChangeRequest,
    CostEntry,
    Project,
    WorkItem,
)

User = get_user_model()
BASE = TenantModelSerializer.BASE_FIELDS
TEXTAREA = {"base_template": "textarea.html"}


class BaselineItemSerializer(serializers.ModelSerializer[BaselineItem]):
    work_item = serializers.UUIDField(source="work_item_key", read_only=True)

    class Meta:
        model = BaselineItem
        fields = (
            "work_item",
            "wbs_code",
            "name",
            "is_summary",
            "planned_start",
            "planned_finish",
            "duration_days",
            "effort_hours",
            "budget",
        )
        read_only_fields = fields


class BaselineSerializer(serializers.ModelSerializer[Baseline]):
    """A baseline as it was set: never changed or deleted."""

    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", read_only=True)
    change_request = serializers.UUIDField(source="change_request_id", read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True)
    items = BaselineItemSerializer(many=True, read_only=True)

    class Meta:
        model = Baseline
        fields = (
            "id",
            "created_at",
            "project",
            "number",
            "name",
            "change_request",
            "created_by",
            "created_by_label",
            "start",
            "finish",
            "duration_days",
            "effort_hours",
            "budget",
            "unassigned_budget",
            "contingency_reserve",
            "management_reserve",
            "critical_path",
            "items",
        )
        read_only_fields = fields


class BaselineCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)


class BudgetLineSerializer(TenantModelSerializer):
    project = OrgScopedRelatedField(model=Project, help_text="Set on create; cannot change.")
    work_item = OrgScopedRelatedField(
        model=WorkItem,
        allow_null=True,
        required=False,
        help_text="The work package this line budgets (its budget is the sum of its lines); "
        "null: a line of the project as a whole.",
    )
    category = serializers.CharField(
        max_length=40,
        help_text="labour, material, equipment, services, other, or a key of the "
        "organization's own categories.",
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0)

    class Meta:
        model = BudgetLine
        fields = (*BASE, "project", "work_item", "category", "description", "amount")
        validators: list[Any] = []


class CostEntrySerializer(TenantModelSerializer):
    project = OrgScopedRelatedField(model=Project, help_text="Set on create; cannot change.")
    work_item = OrgScopedRelatedField(model=WorkItem, allow_null=True, required=False)
    category = serializers.CharField(max_length=40)
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Negative: a credit or a reversal."
    )
    note = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
    entered_by = serializers.UUIDField(source="entered_by_id", read_only=True)
    person = serializers.UUIDField(source="person_id", read_only=True)

    class Meta:
        model = CostEntry
        fields = (
            *BASE,
            "project",
            "work_item",
            "category",
            "amount",
            "date",
            "note",
            "person",
            "hours",
            "rate",
            "entered_by",
        )
        read_only_fields = ("hours", "rate")
        validators: list[Any] = []


class ChangeRequestSerializer(TenantModelSerializer):
    project = OrgScopedRelatedField(model=Project, help_text="Set on create; cannot change.")
    reason = serializers.CharField(style=TEXTAREA)
    changes = serializers.ListField(
        child=serializers.DictField(),
        help_text='Proposed changes, each {"kind": ...}: duration {work_item, duration_days}, '
        "dates {work_item, start_no_earlier_than}, effort {work_item, effort_hours}, budget "
        "{work_item, budget}, budget_line {line?, work_item?, category, description, amount}, "
        "remove_budget_line {line}, add_item {name, duration_days, effort_hours, budget, "
        "parent?, predecessor?}, remove_item {work_item}, reserve_transfer {from, to, amount, "
        "category?, work_item?}, project_status {status: on_hold}.",
    )
    requested_by = serializers.UUIDField(source="requested_by_id", read_only=True)
    decided_by = serializers.UUIDField(source="decided_by_id", read_only=True)
    baseline = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = (
            *BASE,
            "project",
            "number",
            "title",
            "reason",
            "status",
            "changes",
            "impact",
            "requested_by",
            "requested_by_label",
            "submitted_at",
            "decided_by",
            "decided_by_label",
            "decided_at",
            "decision_note",
            "implemented_at",
            "baseline",
        )
        read_only_fields = (
            "number",
            "status",
            "impact",
            "requested_by_label",
            "submitted_at",
            "decided_by_label",
            "decided_at",
            "decision_note",
            "implemented_at",
        )
        validators: list[Any] = []

    def get_baseline(self, obj: ChangeRequest) -> int | None:
        """The number of the baseline its implementation created."""
        number = getattr(obj, "baseline_number", None)
        return int(number) if number is not None else None


class DecisionSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, style=TEXTAREA)
