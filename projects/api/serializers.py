"""The Projects section of docs/API.md, field by field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.models import Engagement
from followup.kernel.api.serializers import (
    InputSerializer,
    OrgScopedRelatedField,
    TenantModelSerializer,
)
from projects.models import (
    Decision,
    Dependency,
    Phase,
    PhaseTemplate,
    PhaseTransition,
    Project,
    ProjectStatus,
    WorkItem,
)

User = get_user_model()
BASE = TenantModelSerializer.BASE_FIELDS


class PhaseRefSerializer(serializers.Serializer[Phase]):
    id = serializers.UUIDField(read_only=True)
    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class CalendarSerializer(InputSerializer):
    working_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        allow_empty=False,
        help_text="ISO weekdays that are worked, Monday = 1 ... Sunday = 7.",
    )
    holidays = serializers.ListField(
        child=serializers.DateField(), required=False, help_text="Dates that are not worked."
    )


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": 500}})
class SuccessCriteriaField(serializers.ListField):
    """Shown and written as a list of texts; each is stored with its met / not met mark."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(max_length=500), **kwargs)

    def to_representation(self, data: Any) -> list[str]:
        return [str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in data or []]


class ProjectSerializer(TenantModelSerializer):
    success_criteria = SuccessCriteriaField(required=False)
    engagement = OrgScopedRelatedField(model=Engagement, allow_null=True, required=False)
    manager = OrgScopedRelatedField(model=User, allow_null=True, required=False)
    sponsor = OrgScopedRelatedField(model=User, allow_null=True, required=False)
    status = serializers.ChoiceField(
        choices=ProjectStatus.choices,
        required=False,
        help_text=(
            "On create: proposed (default) or active. Later changes follow the gate rules: "
            "on_hold is a hold, cancelled a kill, active resumes; closed comes from a go at "
            "the last gate (POST transition/)."
        ),
    )
    phase = PhaseRefSerializer(read_only=True, allow_null=True)
    start_date = serializers.DateField(required=False, help_text="Defaults to today.")
    calendar = CalendarSerializer(
        required=False, help_text="Omitted on create: the organization's default calendar."
    )
    phase_template = OrgScopedRelatedField(
        model=PhaseTemplate,
        write_only=True,
        required=False,
        allow_null=True,
        help_text="On create: the template whose phases the project copies (default: the "
        "organization's default template).",
    )

    class Meta:
        model = Project
        fields = (
            *BASE,
            "code",
            "name",
            "objective",
            "success_criteria",
            "engagement",
            "manager",
            "sponsor",
            "status",
            "phase",
            "start_date",
            "target_finish_date",
            "calendar",
            "currency",
            "external_id",
            "phase_template",
        )
        # Uniqueness of code and external_id is checked by the service in the organization.
        validators: list[Any] = []
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class TransitionSerializer(InputSerializer):
    decision = serializers.ChoiceField(
        choices=[(d, d) for d in (Decision.GO, Decision.HOLD, Decision.RECYCLE, Decision.KILL)]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    override = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Admins only: pass the gate although criteria are unmet (needs a reason).",
    )
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class UnmetSerializer(serializers.Serializer[dict[str, Any]]):
    """Output: one unmet gate criterion."""

    criterion = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)


class GateRefusedSerializer(serializers.Serializer[dict[str, Any]]):
    """Output: the 409 problem+json of a refused transition. ``unmet`` lists each unmet
    criterion and why when the gate refused a go; a move refused for another reason (a
    cancelled or closed project) has none."""

    type = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.IntegerField(read_only=True)
    detail = serializers.CharField(read_only=True)
    # Not read-only, so the schema does not mark it required (output only, never parsed).
    unmet = UnmetSerializer(many=True, required=False)


class TransitionRecordSerializer(TenantModelSerializer):
    """One decision of the phase-transition history (immutable)."""

    from_phase = serializers.UUIDField(source="from_phase_id", read_only=True, allow_null=True)
    to_phase = serializers.UUIDField(source="to_phase_id", read_only=True, allow_null=True)
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)
    criteria = serializers.SerializerMethodField()

    class Meta:
        model = PhaseTransition
        fields = (
            *BASE,
            "decision",
            "from_phase",
            "from_phase_name",
            "to_phase",
            "to_phase_name",
            "status_before",
            "status_after",
            "note",
            "override",
            "override_reason",
            "actor",
            "actor_label",
            "criteria",
        )
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "criterion": {"type": "string"},
                    "kind": {"type": "string"},
                    "met": {"type": "boolean"},
                    "reason": {"type": "string"},
                },
            },
        }
    )
    def get_criteria(self, obj: PhaseTransition) -> list[dict[str, Any]]:
        from projects.gates import render_reason

        return [
            {
                "criterion": c.get("label", ""),
                "kind": c.get("kind", ""),
                "met": bool(c.get("met")),
                "reason": render_reason(c.get("reason", ""), c.get("params")),
            }
            for c in obj.criteria or []
        ]


class ItemScheduleSerializer(serializers.Serializer[WorkItem]):
    early_start = serializers.DateField(read_only=True, allow_null=True)
    early_finish = serializers.DateField(read_only=True, allow_null=True)
    late_start = serializers.DateField(read_only=True, allow_null=True)
    late_finish = serializers.DateField(read_only=True, allow_null=True)
    total_float = serializers.IntegerField(read_only=True, allow_null=True)
    free_float = serializers.IntegerField(read_only=True, allow_null=True)
    critical = serializers.BooleanField(read_only=True)


class WorkItemSerializer(TenantModelSerializer):
    project = OrgScopedRelatedField(model=Project, help_text="Set on create; cannot change.")
    phase = OrgScopedRelatedField(
        model=Phase,
        allow_null=True,
        required=False,
        help_text="The project phase the item belongs to (gates check it); default: the "
        "project's current phase.",
    )
    assignee = OrgScopedRelatedField(model=User, allow_null=True, required=False)
    duration_days = serializers.IntegerField(
        min_value=0, max_value=10_000, required=False, help_text="Working days; 0: a milestone."
    )
    effort_hours = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, coerce_to_string=False
    )
    budget = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False)
    percent_complete = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        coerce_to_string=False,
    )
    schedule = ItemScheduleSerializer(source="*", read_only=True)
    progress_date = serializers.DateField(
        write_only=True,
        required=False,
        help_text="The date a change of percent_complete was true on (default: today); "
        "earned value as of a past date reads the progress recorded then.",
    )

    class Meta:
        model = WorkItem
        fields = (
            *BASE,
            "project",
            "parent",
            "wbs_code",
            "name",
            "duration_days",
            "effort_hours",
            "budget",
            "assignee",
            "percent_complete",
            "actual_start",
            "actual_finish",
            "start_no_earlier_than",
            "external_id",
            "phase",
            "schedule",
            "progress_date",
        )
        read_only_fields = ("wbs_code",)
        validators: list[Any] = []
        # "parent" is built from the model (a declared field of that name would shadow
        # Field.parent): an organization-scoped relation like every other.
        extra_kwargs: dict[str, dict[str, Any]] = {
            "parent": {
                "help_text": "The summary this item is under (null: top level). Changing it "
                "moves the item (with its subtree) to the end of the new parent's children."
            }
        }


class MoveSerializer(InputSerializer):
    action = serializers.ChoiceField(
        choices=["indent", "outdent", "up", "down", "before", "after", "into"],
        help_text="indent: under the previous sibling; outdent: after the parent; up/down: "
        "among siblings; before/after: next to target; into: last child of target (null: "
        "end of the top level).",
    )
    target = OrgScopedRelatedField(model=WorkItem, allow_null=True, required=False)


class DependencySerializer(TenantModelSerializer):
    project = OrgScopedRelatedField(
        model=Project, required=False, help_text="Default: the predecessor's project."
    )
    predecessor = OrgScopedRelatedField(model=WorkItem)
    successor = OrgScopedRelatedField(model=WorkItem)
    lag_days = serializers.IntegerField(
        min_value=-10_000,
        max_value=10_000,
        required=False,
        default=0,
        help_text="Working days; negative is a lead.",
    )

    class Meta:
        model = Dependency
        fields = (*BASE, "project", "predecessor", "successor", "type", "lag_days")
        validators: list[Any] = []


class ScheduleItemSerializer(serializers.Serializer[WorkItem]):
    id = serializers.UUIDField(read_only=True)
    wbs_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    duration_days = serializers.IntegerField(read_only=True)
    is_summary = serializers.BooleanField(read_only=True)
    early_start = serializers.DateField(read_only=True, allow_null=True)
    early_finish = serializers.DateField(read_only=True, allow_null=True)
    late_start = serializers.DateField(read_only=True, allow_null=True)
    late_finish = serializers.DateField(read_only=True, allow_null=True)
    total_float = serializers.IntegerField(read_only=True, allow_null=True)
    free_float = serializers.IntegerField(read_only=True, allow_null=True)
    critical = serializers.BooleanField(read_only=True)


class ProjectScheduleSerializer(serializers.Serializer[dict[str, Any]]):
    """Output: ``GET /projects/<id>/schedule/``."""

    start = serializers.DateField(read_only=True, allow_null=True)
    finish = serializers.DateField(read_only=True, allow_null=True)
    duration_days = serializers.IntegerField(
        read_only=True, help_text="Working days from start to finish, both included."
    )
    critical_path = serializers.ListField(
        read_only=True, child=serializers.UUIDField(), help_text="Critical work items, in order."
    )
    items = ScheduleItemSerializer(many=True, read_only=True)
