"""REST resources of project control: budget lines, cost entries and change requests (with
submit / approve / reject / implement), through ``projects.control``. The project's
baselines and earned value are actions of the project (``projects.api.views``), served by
``baselines`` and ``earned_value`` here."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

import django_filters
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts import inputs
from engagements.imports import MAX_BYTES as MAX_IMPORT_BYTES
from engagements.tasks import queue_import
from followup.kernel.api.filters import OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.pagination import StableCursorPagination
from followup.kernel.api.problems import PROBLEM_BASE, Conflict, ProblemError
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.viewsets import TenantViewSet
from projects import change_guard, control, cost_import, evm
from projects.api.control_serializers import (
    BaselineCreateSerializer,
    BaselineSerializer,
    BudgetLineSerializer,
    ChangeRequestSerializer,
    CostEntrySerializer,
    DecisionSerializer,
)
from projects.api.cost_imports import CostImportSerializer
from projects.api.views import _ProjectPartViewSet
from projects.models import (
    Baseline,
    BaselineItem,
    BudgetLine,
    ChangeRequest,
    ChangeRequestStatus,
    CostEntry,
    Project,
    WorkItem,
)

CHANGE_REQUESTS_URL = "/api/v1/change-requests/"


def baseline_locked(exc: change_guard.BaselineLocked) -> ProblemError:
    return Conflict(
        exc.text,
        problem_type=PROBLEM_BASE + "baseline-locked",
        extensions={
            "change_requests": CHANGE_REQUESTS_URL,
            "fields": exc.fields,
            "errors": [
                {"field": name, "message": exc.text, "code": "baseline_locked"}
                for name in exc.fields
            ],
        },
    )


def refused(exc: control.ChangeRefused | control.NotAllowed) -> Exception:
    if isinstance(exc, control.NotAllowed):
        return PermissionDenied(exc.message)
    return Conflict(exc.message, problem_type=PROBLEM_BASE + "change-refused")


def _can(request: ApiRequest) -> Any:
    return lambda capability: request.auth.can(capability)


def _actor(request: ApiRequest) -> Any:
    """An API key acts for the person who made it (so that a sponsor's key approves as the
    sponsor, and a requester's key cannot approve their own request)."""
    return request.auth.created_by


# --- Project actions -------------------------------------------------------------------------


def baselines(view: Any, request: ApiRequest, project: Project) -> Response:
    org = request.org
    if request.method == "POST":
        data = BaselineCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            baseline = control.baseline_create(
                org=org,
                actor=_actor(request),
                project=project,
                name=data.validated_data["name"],
                can=_can(request),
            )
        except (control.ChangeRefused, control.NotAllowed) as exc:
            raise refused(exc) from None
        fresh = Baseline.objects.for_org(org).prefetch_related(_items(org)).get(pk=baseline.pk)
        return Response(BaselineSerializer(fresh).data, status=status.HTTP_201_CREATED)
    rows = (
        Baseline.objects.for_org(org)
        .filter(project=project)
        .prefetch_related(_items(org))
        .order_by("number")
    )
    return Response(
        {"project": str(project.pk), "results": BaselineSerializer(rows, many=True).data}
    )


# --- Cost imports ------------------------------------------------------------------------------


def _upload(request: ApiRequest) -> tuple[str, bytes]:
    data: Any = request.data
    if isinstance(data, dict) and isinstance(data.get("csv"), bytes):  # text/csv
        return "upload.csv", data["csv"]
    if isinstance(data, dict) and isinstance(data.get("content"), str):  # JSON
        name = data.get("filename")
        filename = inputs.strip_controls(name)[:255] if isinstance(name, str) else ""
        return filename or "upload.csv", data["content"].encode()
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is None:
        raise ValidationError(
            {
                "file": [
                    _(
                        "Send the CSV file as a multipart field file, as a text/csv body, or "
                        "as JSON content."
                    )
                ]
            }
        )
    return inputs.strip_controls(upload.name or "")[:255], upload.read(MAX_IMPORT_BYTES + 1)


def cost_imports(view: Any, request: ApiRequest, project: Project) -> Response:
    """GET: the project's cost imports, a cursor page at a time. POST: a cost file, as a
    job (202, ``Location`` its status)."""
    org = request.org
    if request.method == "POST":
        filename, raw = _upload(request)
        try:
            content = cost_import.decode(raw)
            job = cost_import.import_start_costs(
                org=org,
                actor=_actor(request),
                project=project,
                filename=filename,
                content=content,
                queue=queue_import,
            )
        except cost_import.FileError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        except cost_import.ProjectClosed as exc:
            raise Conflict(exc.message, problem_type=PROBLEM_BASE + "project-closed") from None
        job.refresh_from_db()
        location = request.build_absolute_uri(f"{request.path.rstrip('/')}/{job.pk}/")
        return Response(
            CostImportSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )
    paginator = StableCursorPagination()
    page = paginator.paginate_queryset(
        cost_import.jobs(org, project).order_by(), request, view=view
    )
    return paginator.get_paginated_response(CostImportSerializer(page, many=True).data)


def cost_import_detail(request: ApiRequest, project: Project, job_id: str) -> Response:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        raise NotFound() from None
    job = cost_import.jobs(request.org, project).filter(pk=key).first()
    if job is None:
        raise NotFound()
    return Response(CostImportSerializer(job).data)


def _items(org: Any) -> models.Prefetch[Any]:
    return models.Prefetch(
        "items", queryset=BaselineItem.objects.for_org(org).order_by("wbs_code", "id")
    )


def _as_of(request: ApiRequest, project: Project) -> date:
    raw = request.query_params.get("as_of")
    if not raw:
        from projects import selectors

        return selectors.org_today(request.org)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"as_of": [_("Enter a date (YYYY-MM-DD).")]}) from None
    if not 1900 <= day.year <= 2999:
        raise ValidationError({"as_of": [_("Enter a date between 1900 and 2999.")]})
    return day


def earned_value(request: ApiRequest, project: Project) -> Response:
    as_of = _as_of(request, project)
    step = request.query_params.get("step") or None
    if step not in (None, "day", "week"):
        raise ValidationError({"step": [_("Use day or week.")]})
    return Response(evm.payload(request.org, project, as_of, cast(Any, step)))


def _item_page_size(request: ApiRequest) -> int:
    raw = (request.query_params.get("page_size") or "").strip()
    if not raw:
        return evm.ITEM_PAGE_SIZE
    try:
        asked = int(raw)
    except ValueError:
        asked = 0
    if asked < 1:
        raise ValidationError(
            {
                "page_size": [
                    _("Enter a whole number from 1 to %(max)d.") % {"max": evm.MAX_ITEM_PAGE_SIZE}
                ]
            }
        )
    return min(asked, evm.MAX_ITEM_PAGE_SIZE)


def earned_value_items(request: ApiRequest, project: Project) -> Response:
    """One cursor page of the drill-down (``order``: wbs, sv, -sv, cv, -cv; ``page_size`` up
    to 500, default 50)."""
    as_of = _as_of(request, project)
    order = request.query_params.get("order") or "wbs"
    if order not in evm.ITEM_ORDERS:
        raise ValidationError(
            {"order": [_("Use one of: %(allowed)s.") % {"allowed": ", ".join(evm.ITEM_ORDERS)}]}
        )
    try:
        page = evm.work_item_page(
            request.org,
            project,
            as_of,
            order=order,
            cursor=request.query_params.get("cursor") or None,
            size=_item_page_size(request),
        )
    except evm.BadCursor:
        raise ValidationError({"cursor": [_("This cursor is not valid here.")]}) from None
    url = request.build_absolute_uri()

    def link(cursor: str | None) -> str | None:
        return None if cursor is None else replace_query_param(url, "cursor", cursor)

    return Response(
        {
            "as_of": as_of.isoformat(),
            "order": order,
            "count": page.count,
            "unassigned_ac": str(page.unassigned_ac),
            "results": page.rows,
            "next": link(page.next_cursor),
            "previous": link(page.previous_cursor),
        }
    )


# --- Budget lines and cost entries ------------------------------------------------------------


class _ControlPartViewSet(_ProjectPartViewSet):
    def _write(self, data: dict[str, Any], instance: Any) -> models.Model:
        try:
            return super()._write(data, instance)
        except change_guard.BaselineLocked as exc:
            raise baseline_locked(exc) from None
        except (control.ChangeRefused, control.NotAllowed) as exc:
            raise refused(exc) from None

    def perform_destroy(self, instance: Any) -> None:
        try:
            self.remove(instance)
        except change_guard.BaselineLocked as exc:
            raise baseline_locked(exc) from None


class BudgetLineFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    work_item = OrgModelChoiceFilter(model=WorkItem)
    category = django_filters.CharFilter()

    class Meta:
        model = BudgetLine
        fields: list[str] = []


class BudgetLineViewSet(_ControlPartViewSet):
    """A project's budget by category and work package. Once the project is active and
    baselined, its baselined lines change only through change requests (409)."""

    model = BudgetLine
    serializer_class = BudgetLineSerializer
    filterset_class = BudgetLineFilter

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        org = self.request.org
        if instance is None:
            project = data.pop("project")
            return control.budget_line_create(org=org, actor=None, project=project, data=data)
        if "project" in data and data["project"].pk != instance.project_id:
            raise ValidationError({"project": [_("A budget line cannot move to another project.")]})
        data.pop("project", None)
        return control.budget_line_update(org=org, actor=None, line=instance, data=data)

    def remove(self, instance: Any) -> None:
        control.budget_line_delete(org=self.request.org, actor=None, line=instance)


class CostEntryFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    work_item = OrgModelChoiceFilter(model=WorkItem)
    category = django_filters.CharFilter()
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = CostEntry
        fields: list[str] = []


class CostEntryViewSet(_ControlPartViewSet):
    """Actual costs: date, category, work item (or none), amount, note."""

    model = CostEntry
    serializer_class = CostEntrySerializer
    filterset_class = CostEntryFilter

    def write(self, data: dict[str, Any], instance: Any) -> models.Model:
        org = self.request.org
        if instance is None:
            project = data.pop("project")
            return control.cost_entry_create(
                org=org, actor=_actor(self.request), project=project, data=data
            )
        if "project" in data and data["project"].pk != instance.project_id:
            raise ValidationError({"project": [_("A cost entry cannot move to another project.")]})
        data.pop("project", None)
        return control.cost_entry_update(org=org, actor=None, entry=instance, data=data)

    def remove(self, instance: Any) -> None:
        control.cost_entry_delete(org=self.request.org, actor=None, entry=instance)


# --- Change requests ---------------------------------------------------------------------------


class ChangeRequestFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    status = django_filters.ChoiceFilter(choices=ChangeRequestStatus.choices)

    class Meta:
        model = ChangeRequest
        fields: list[str] = []


class ChangeRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """Change requests: created as drafts (with their computed impact), edited while draft,
    then ``submit``, ``approve`` / ``reject`` (the sponsor or a role that may approve
    changes; never the requester: 403) and ``implement`` (applies every change in one
    transaction and creates the next baseline). Never deleted: the change log keeps them."""

    model = ChangeRequest
    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    action_capabilities = {
        "approve": "records.edit",
        "reject": "records.edit",
    }

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        org = self.request.org
        return queryset.annotate(  # type: ignore[no-any-return]
            baseline_number=Subquery(
                Baseline.objects.for_org(org)
                .filter(change_request=OuterRef("pk"))
                .values("number")[:1]
            )
        )

    def _out(self, cr: ChangeRequest, code: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=cr.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            cr = control.change_request_draft(
                org=request.org,
                actor=_actor(request),
                project=values["project"],
                title=values["title"],
                reason=values["reason"],
                changes=values.get("changes", []),
            )
        except (control.ChangeRefused, control.NotAllowed) as exc:
            raise refused(exc) from None
        return self._out(cr, status.HTTP_201_CREATED)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        cr = cast(ChangeRequest, self.get_object())
        partial = kwargs.get("partial", False) or request.method == "PATCH"
        data = self.get_serializer(cr, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "project" in values and values["project"].pk != cr.project_id:
            raise ValidationError(
                {"project": [_("A change request cannot move to another project.")]}
            )
        try:
            fresh = control.change_request_update(
                org=request.org, actor=_actor(request), cr=cr, data=values
            )
        except (control.ChangeRefused, control.NotAllowed) as exc:
            raise refused(exc) from None
        return self._out(fresh)

    def _act(self, request: ApiRequest, verb: str) -> Response:
        cr = cast(ChangeRequest, self.get_object())
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        actor = _actor(request)
        try:
            if verb == "submit":
                cr = control.change_request_submit(org=request.org, actor=actor, cr=cr)
            elif verb == "approve":
                cr = control.change_request_approve(
                    org=request.org, actor=actor, cr=cr, note=note, can=_can(request)
                )
            elif verb == "reject":
                cr = control.change_request_reject(
                    org=request.org, actor=actor, cr=cr, note=note, can=_can(request)
                )
            else:
                cr = control.change_request_implement(org=request.org, actor=actor, cr=cr)
        except change_guard.BaselineLocked as exc:
            raise baseline_locked(exc) from None
        except (control.ChangeRefused, control.NotAllowed) as exc:
            raise refused(exc) from None
        return self._out(cr)

    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def submit(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Submit a draft for a decision (its impact is recomputed)."""
        return self._act(request, "submit")

    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def approve(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Approve a submitted request (403 for its requester and for who may not decide)."""
        return self._act(request, "approve")

    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def reject(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._act(request, "reject")

    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def implement(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Apply an approved request and create the next baseline."""
        return self._act(request, "implement")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action in ("submit", "approve", "reject", "implement"):
            return ChangeRequestSerializer
        return ChangeRequestSerializer
