"""REST resources of project follow-up: projects (with gate decisions and the schedule),
work items (with moves) and dependencies, all through ``projects.services``.

Writes lock the project row before the rows they change (the services' lock order): the
base locks the object it serves for PUT/PATCH/DELETE, so these viewsets lock its project
first (``_lock_project_first``), and a concurrent edit of another item of the same project
waits instead of deadlocking against a recomputation.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.models import Customer, Engagement
from followup.kernel.api.filters import OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.problems import PROBLEM_BASE, Conflict, ProblemError
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.viewsets import TenantModelViewSet, TenantViewSet
from projects import change_guard, selectors, services
from projects.api.control_serializers import BaselineCreateSerializer, BaselineSerializer
from projects.api.cost_imports import COST_IMPORT_PARSERS, CostImportSerializer
from projects.api.serializers import (
    DependencySerializer,
    GateRefusedSerializer,
    MoveSerializer,
    ProjectScheduleSerializer,
    ProjectSerializer,
    TransitionRecordSerializer,
    TransitionSerializer,
    WorkItemSerializer,
)
from projects.models import Dependency, Phase, Project, ProjectStatus, WorkItem

User = get_user_model()
EXTERNAL_ID = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The external system's id."
)


# --- Filters ---------------------------------------------------------------------------------


class ProjectFilter(TenantFilterSet):
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices)
    manager = OrgModelChoiceFilter(model=User)
    sponsor = OrgModelChoiceFilter(model=User)
    engagement = OrgModelChoiceFilter(model=Engagement)
    customer = OrgModelChoiceFilter(model=Customer, field_name="engagement__customer")
    phase = django_filters.CharFilter(
        field_name="phase__key", label="The key of the current phase, e.g. executing."
    )
    code = django_filters.CharFilter(lookup_expr="iexact")
    external_id = django_filters.CharFilter()

    class Meta:
        model = Project
        fields: list[str] = []


class WorkItemFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    parent = OrgModelChoiceFilter(model=WorkItem)
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Only items at the top of the WBS."
    )
    phase = OrgModelChoiceFilter(model=Phase)
    assignee = OrgModelChoiceFilter(model=User)
    critical = django_filters.BooleanFilter()
    milestone = django_filters.BooleanFilter(method="filter_milestone", label="Only milestones.")
    done = django_filters.BooleanFilter(method="filter_done", label="100 % complete or not.")
    external_id = django_filters.CharFilter()

    class Meta:
        model = WorkItem
        fields: list[str] = []

    def filter_milestone(
        self, queryset: models.QuerySet[WorkItem], name: str, value: bool | None
    ) -> models.QuerySet[WorkItem]:
        if value is None:
            return queryset
        milestones = models.Q(is_summary=False, duration_days=0)
        return queryset.filter(milestones) if value else queryset.exclude(milestones)

    def filter_done(
        self, queryset: models.QuerySet[WorkItem], name: str, value: bool | None
    ) -> models.QuerySet[WorkItem]:
        if value is None:
            return queryset
        return (
            queryset.filter(percent_complete__gte=100)
            if value
            else queryset.filter(percent_complete__lt=100)
        )


class DependencyFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    predecessor = OrgModelChoiceFilter(model=WorkItem)
    successor = OrgModelChoiceFilter(model=WorkItem)
    type = django_filters.ChoiceFilter(choices=Dependency.Type.choices)

    class Meta:
        model = Dependency
        fields: list[str] = []


# --- Shared ------------------------------------------------------------------------------------


def _gate_refused(exc: services.GateRefused) -> ProblemError:
    return Conflict(
        _("The gate is not passed: some of its criteria are not met."),
        problem_type=PROBLEM_BASE + "gate-refused",
        extensions={"unmet": exc.as_list()},
    )


def _cycle(exc: services.CycleRefused) -> ProblemError:
    return ProblemError(
        exc.messages[0],
        status_code=400,
        problem_type=PROBLEM_BASE + "dependency-cycle",
        extensions={
            "errors": [{"field": "successor", "message": exc.messages[0], "code": "cycle"}],
            "cycle": [{"id": str(i.pk), "wbs_code": i.wbs_code, "name": i.name} for i in exc.items],
        },
    )


class _ProjectPartViewSet(TenantModelViewSet):
    """CRUD through ``write``/``remove``; writes lock the project first."""

    project_field = "project_id"

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        raise NotImplementedError

    def remove(self, instance: Any) -> None:
        raise NotImplementedError

    def _lock_project_first(self) -> None:
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        try:
            pk = uuid.UUID(str(lookup))
        except ValueError:
            return  # get_object answers 404
        project_id = (
            self.get_queryset().filter(pk=pk).values_list(self.project_field, flat=True).first()
        )
        if project_id is not None:
            services.lock_project(self.request.org, project_id)

    def _write(self, data: dict[str, Any], instance: Any) -> models.Model:
        try:
            return self.write(data, instance)
        except services.CycleRefused as exc:
            raise _cycle(exc) from None
        except change_guard.BaselineLocked as exc:
            from projects.api.control_views import baseline_locked

            raise baseline_locked(exc) from None

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = self._fresh(self._write(dict(serializer.validated_data), None))

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        obj = self._write(dict(serializer.validated_data), serializer.instance)
        serializer.instance = self._fresh(obj)

    def perform_destroy(self, instance: Any) -> None:
        try:
            self.remove(instance)
        except change_guard.BaselineLocked as exc:
            from projects.api.control_views import baseline_locked

            raise baseline_locked(exc) from None

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._lock_project_first()
        return super().update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._lock_project_first()
        return super().destroy(request, *args, **kwargs)

    def _fresh(self, obj: models.Model) -> models.Model:
        return cast(models.Model, self.get_queryset().get(pk=obj.pk))

    def _upsert(self, request: ApiRequest, external_id: str) -> Response:
        """Create (201) or replace (200) the object with this external id."""
        existing = self.get_queryset().filter(external_id=external_id).first()
        if existing is not None:
            services.lock_project(request.org, getattr(existing, self.project_field))
            instance = self.get_queryset().select_for_update(of=("self",)).get(pk=existing.pk)
            self._check_preconditions(instance)
        else:
            instance = None
        serializer = self.get_serializer(instance, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {**serializer.validated_data, "external_id": external_id}
        try:
            with transaction.atomic():
                obj = self._write(data, instance)
        except IntegrityError:
            # Created by another request between our read and our write: update it.
            instance = self.get_queryset().filter(external_id=external_id).first()
            if instance is None:
                raise
            obj = self._write(data, instance)
        body = self.get_serializer(self._fresh(obj)).data
        return Response(body, status=status.HTTP_201_CREATED if instance is None else 200)


# --- Projects --------------------------------------------------------------------------------


class ProjectViewSet(_ProjectPartViewSet):
    """Projects. ``PUT external/<id>/`` upserts by the external id; ``POST
    <id>/transition/`` takes a gate decision; ``GET <id>/schedule/`` is the stored
    critical-path schedule."""

    model = Project
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    project_field = "pk"
    # Deleting a project takes its WBS and history with it: managers and up.
    capabilities = {**TenantViewSet.capabilities, "DELETE": "records.delete"}

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.select_related("phase")

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        org = self.request.org
        template = data.pop("phase_template", None)
        if instance is None:
            return services.project_create(org=org, actor=None, data=data, template=template)
        return services.project_update(org=org, actor=None, project=instance, data=data)

    def remove(self, instance: Any) -> None:
        services.project_delete(org=self.request.org, actor=None, project=instance)

    @extend_schema(parameters=[EXTERNAL_ID])
    @action(
        detail=False,
        methods=["put"],
        url_path=r"external/(?P<external_id>[^/]+)",
        url_name="external",
    )
    def external(self, request: ApiRequest, external_id: str) -> Response:
        """Create (201) or replace (200) the project with this external id."""
        return self._upsert(request, external_id)

    @extend_schema(
        request=TransitionSerializer,
        responses={
            200: ProjectSerializer,
            409: OpenApiResponse(
                GateRefusedSerializer,
                description="A go whose gate has unmet criteria (each listed in unmet, with "
                "why), or a decision the project's state does not allow. Nothing changes.",
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="transition", url_name="transition")
    def transition(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Take a gate decision: go (next phase; after the last: closed), hold (on hold),
        recycle (back to the previous phase), kill (cancelled)."""
        project = cast(Project, self.get_object())
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            services.project_decide(
                org=request.org,
                actor=None,
                project=project,
                decision=values["decision"],
                note=values.get("note", ""),
                override=values.get("override", False),
                override_reason=values.get("override_reason", ""),
                can_override=self.api_key.can("org.manage"),
            )
        except services.GateRefused as exc:
            raise _gate_refused(exc) from None
        except services.TransitionRefused as exc:
            raise Conflict(exc.message, problem_type=PROBLEM_BASE + "transition-refused") from None
        return Response(self.get_serializer(self._fresh(project)).data)

    @extend_schema(responses={200: TransitionRecordSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="transitions", url_name="transitions")
    def transitions(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The project's gate decisions, oldest first (immutable)."""
        project = cast(Project, self.get_object())
        rows = selectors.transitions(request.org, project)
        return Response(TransitionRecordSerializer(rows, many=True).data)

    @extend_schema(responses={200: ProjectScheduleSerializer})
    @action(detail=True, methods=["get"], url_path="schedule", url_name="schedule")
    def schedule(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The stored schedule: start, finish, duration in working days (both ends
        included), the critical path and every work item's dates and floats, in WBS order."""
        project = cast(Project, self.get_object())
        return Response(selectors.schedule_payload(request.org, project))

    @extend_schema(
        request=BaselineCreateSerializer,
        responses={200: BaselineSerializer(many=True), 201: BaselineSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="baselines", url_name="baselines")
    def baselines(self, request: ApiRequest, pk: str | None = None) -> Response:
        """GET: the project's baselines, oldest first. POST ``{"name"}``: set the first
        baseline (the project manager, or a role that may approve changes); later ones come
        from implementing change requests (409). A baseline is never changed or deleted."""
        from projects.api import control_views

        return control_views.baselines(self, request, cast(Project, self.get_object()))

    @extend_schema(
        methods=["GET"],
        responses={200: CostImportSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "text/csv": {"type": "string"},
            "application/json": {
                "type": "object",
                "properties": {"content": {"type": "string"}, "filename": {"type": "string"}},
                "required": ["content"],
            },
        },
        responses={202: CostImportSerializer()},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="cost-imports",
        url_name="cost-imports",
        parser_classes=COST_IMPORT_PARSERS,
    )
    def cost_imports(self, request: ApiRequest, pk: str | None = None) -> Response:
        """GET: the project's cost imports (cursor pages, oldest first). POST: a CSV file of
        actual costs (multipart field ``file``, a ``text/csv`` body, or JSON ``{"content",
        "filename"}``; columns ``date``,
        ``category``, ``amount``, optionally ``work_item`` and ``note``) as a job: 202 with
        its status, ``Location`` to follow it. Every row is checked first; one bad row and
        nothing is imported (the job's ``errors`` say which, by row and column). A closed
        project is a 409."""
        from projects.api import control_views

        return control_views.cost_imports(self, request, cast(Project, self.get_object()))

    @extend_schema(
        responses={200: CostImportSerializer()},
        parameters=[
            OpenApiParameter(
                "job_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's id."
            )
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"cost-imports/(?P<job_id>[^/.]+)",
        url_name="cost-import-detail",
    )
    def cost_import_detail(
        self, request: ApiRequest, pk: str | None = None, job_id: str = ""
    ) -> Response:
        """One cost import: ``status`` (queued, checking, writing, done, failed),
        ``processed_rows`` of ``total_rows``, ``created_count``, and ``errors``
        (``row``, ``field``, ``code``, ``message``, ``params``)."""
        from projects.api import control_views

        return control_views.cost_import_detail(request, cast(Project, self.get_object()), job_id)

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("as_of", str, description="Status date, YYYY-MM-DD (default today)."),
            OpenApiParameter(
                "step",
                str,
                description="Series step: day or week (default: "
                "daily up to 120 days, then weekly).",
            ),
        ],
    )
    @action(detail=True, methods=["get"], url_path="earned-value", url_name="earned-value")
    def earned_value(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Earned value at ``as_of`` against the current baseline: PV, EV, AC, SV, CV, SPI,
        CPI, EAC (BAC/CPI; ``eac_atypical`` and ``eac_combined`` beside it), ETC, VAC,
        TCPI, null with a reason in ``undefined`` when undefined, and the cumulative
        series (the S-curve)."""
        from projects.api import control_views

        return control_views.earned_value(request, cast(Project, self.get_object()))

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM-DD."),
            OpenApiParameter(
                "order",
                str,
                enum=["wbs", "sv", "-sv", "cv", "-cv"],
                description="WBS order (default), or by schedule or cost variance "
                "(a minus: largest first).",
            ),
            OpenApiParameter("cursor", str, description="From `next` or `previous`."),
            OpenApiParameter(
                "page_size", int, description="Packages per page, 1 or more (50); capped at 500."
            ),
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="earned-value/work-items",
        url_name="earned-value-items",
    )
    def earned_value_items(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The drill-down: the same figures per baselined work package, a cursor page at a
        time (``count`` packages in all; ``unassigned_ac`` is the actual cost booked to no
        package, counted in the project's AC and in no row)."""
        from projects.api import control_views

        return control_views.earned_value_items(request, cast(Project, self.get_object()))


# --- Work items and dependencies ---------------------------------------------------------------


class WorkItemViewSet(_ProjectPartViewSet):
    """Work items of a project's WBS. ``wbs_code`` and ``schedule`` are read-only: they are
    recomputed whenever the tree, a duration, a date or a link changes."""

    model = WorkItem
    serializer_class = WorkItemSerializer
    filterset_class = WorkItemFilter

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        org = self.request.org
        if instance is None:
            project = data.pop("project")
            parent = data.pop("parent", None)
            return services.work_item_create(
                org=org, actor=None, project=project, data=data, parent=parent
            )
        return services.work_item_update(org=org, actor=None, item=instance, data=data)

    def remove(self, instance: Any) -> None:
        services.work_item_delete(org=self.request.org, actor=None, item=instance)

    @extend_schema(parameters=[EXTERNAL_ID])
    @action(
        detail=False,
        methods=["put"],
        url_path=r"external/(?P<external_id>[^/]+)",
        url_name="external",
    )
    def external(self, request: ApiRequest, external_id: str) -> Response:
        """Create (201) or replace (200) the work item with this external id."""
        return self._upsert(request, external_id)

    @extend_schema(request=MoveSerializer, responses={200: WorkItemSerializer})
    @action(detail=True, methods=["post"], url_path="move", url_name="move")
    def move(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Move the item with its subtree; WBS codes renumber."""
        data = MoveSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            self._lock_project_first()
            item = cast(WorkItem, self.get_object())
            moved = services.work_item_move(
                org=request.org,
                actor=None,
                item=item,
                how=data.validated_data["action"],
                target=data.validated_data.get("target"),
            )
        return Response(self.get_serializer(self._fresh(moved)).data)


class DependencyViewSet(_ProjectPartViewSet):
    """Links between two work items of one project: FS, SS, FF, SF with a lag (negative: a
    lead) in working days. One that would close a loop is a 400 naming the items on it."""

    model = Dependency
    serializer_class = DependencySerializer
    filterset_class = DependencyFilter

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        org = self.request.org
        if instance is None:
            return services.dependency_create(org=org, actor=None, data=data)
        return services.dependency_update(org=org, actor=None, dependency=instance, data=data)

    def remove(self, instance: Any) -> None:
        services.dependency_delete(org=self.request.org, actor=None, dependency=instance)
