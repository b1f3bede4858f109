"""REST resources of the risk register: risks (with occur, close, escalate and indicator
readings) and the risk matrix, all through ``risks.services`` and ``risks.selectors``."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.models import Customer, Engagement
from followup.kernel.api.filters import OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.problems import PROBLEM_BASE, Conflict
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.viewsets import TenantModelViewSet, TenantViewSet
from projects.models import Project
from risks import selectors, services
from risks.api.serializers import (
    IndicatorValueInputSerializer,
    IndicatorValueSerializer,
    MatrixSerializer,
    RiskSerializer,
    TransitionInputSerializer,
)
from risks.calc import scoring
from risks.models import Level, Risk, RiskStatus, Side

User = get_user_model()

# Service field -> the API's name for it (errors name the field the client sent).
API_FIELD = {
    "severity": "fmea.severity",
    "occurrence": "fmea.occurrence",
    "detection": "fmea.detection",
    "post_severity": "fmea_after_actions.severity",
    "post_occurrence": "fmea_after_actions.occurrence",
    "post_detection": "fmea_after_actions.detection",
    "strategy": "response.strategy",
    "response_plan": "response.plan",
    "indicator_amber": "indicator.amber",
    "indicator_red": "indicator.red",
    "indicator_direction": "indicator.direction",
    "indicator_name": "indicator.name",
    "indicator_unit": "indicator.unit",
}


def _api_error(exc: ValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(
            {API_FIELD.get(k, k): v for k, v in exc.message_dict.items()}
        )
    return serializers.ValidationError({"non_field_errors": exc.messages})


class RiskFilter(TenantFilterSet):
    side = django_filters.ChoiceFilter(choices=Side.choices)
    subject_type = django_filters.CharFilter()
    subject = django_filters.UUIDFilter(field_name="subject_id", label="The subject's id.")
    status = django_filters.ChoiceFilter(choices=RiskStatus.choices)
    level = django_filters.ChoiceFilter(choices=Level.choices)
    owner = OrgModelChoiceFilter(model=User)
    category = django_filters.CharFilter()
    project = OrgModelChoiceFilter(model=Project)
    customer = OrgModelChoiceFilter(model=Customer)
    engagement = OrgModelChoiceFilter(model=Engagement)
    escalated_from = OrgModelChoiceFilter(model=Risk)

    class Meta:
        model = Risk
        fields: list[str] = []


class RiskViewSet(TenantModelViewSet):
    """Risks of both sides. ``POST <id>/occur/``, ``close/``, ``escalate/`` move them;
    ``POST <id>/indicator-values/`` records a reading of the key risk indicator."""

    model = Risk
    serializer_class = RiskSerializer
    filterset_class = RiskFilter

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return queryset.order_by("-created_at", "-id")

    def _fresh(self, pk: Any) -> Risk:
        return Risk.objects.for_org(self.request.org).get(pk=pk)

    def _status(self, risk: Risk, target: str | None) -> None:
        if target is None or target == risk.status:
            return
        org = self.request.org
        move = {
            RiskStatus.OCCURRED: services.risk_occur,
            RiskStatus.CLOSED: services.risk_close,
            RiskStatus.OPEN: services.risk_reopen,
        }[RiskStatus(target)]
        try:
            move(org=org, actor=None, risk=risk)
        except services.TransitionRefused as exc:
            raise serializers.ValidationError({"status": exc.messages}) from None

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        s = cast(RiskSerializer, serializer)
        data = s.service_data()
        data["reason"] = s.validated_data.get("reason", "")
        try:
            risk = services.risk_create(org=self.request.org, actor=None, data=data)
        except ValidationError as exc:
            raise _api_error(exc) from None
        self._status(risk, s.validated_data.get("status"))
        s.instance = self._fresh(risk.pk)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        s = cast(RiskSerializer, serializer)
        risk = cast(Risk, s.instance)
        try:
            updated = services.risk_update(
                org=self.request.org,
                actor=None,
                risk=risk,
                data=s.service_data(),
                reason=s.validated_data.get("reason", ""),
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        self._status(updated, s.validated_data.get("status"))
        s.instance = self._fresh(risk.pk)

    def perform_destroy(self, instance: Any) -> None:
        services.risk_delete(org=self.request.org, actor=None, risk=instance)

    def _move(self, request: ApiRequest, name: str) -> Response:
        risk = cast(Risk, self.get_object())
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data.get("note", "")
        try:
            if name == "occur":
                services.risk_occur(org=request.org, actor=None, risk=risk, note=note)
            elif name == "close":
                services.risk_close(org=request.org, actor=None, risk=risk, note=note)
            else:
                services.risk_escalate(org=request.org, actor=None, risk=risk)
        except services.TransitionRefused as exc:
            raise Conflict(
                exc.messages[0], problem_type=PROBLEM_BASE + "transition-refused"
            ) from None
        return Response(self.get_serializer(self._fresh(risk.pk)).data)

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: RiskSerializer, 409: OpenApiResponse(description="Not from this status.")},
    )
    @action(detail=True, methods=["post"], url_path="occur", url_name="occur")
    def occur(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The risk event happened (status occurred). Reporting it again changes nothing."""
        return self._move(request, "occur")

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: RiskSerializer, 409: OpenApiResponse(description="Already closed.")},
    )
    @action(detail=True, methods=["post"], url_path="close", url_name="close")
    def close(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Close the risk."""
        return self._move(request, "close")

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: RiskSerializer, 409: OpenApiResponse(description="A closed risk.")},
    )
    @action(detail=True, methods=["post"], url_path="escalate", url_name="escalate")
    def escalate(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Escalate the risk (business to project; the response strategy becomes escalate)."""
        return self._move(request, "escalate")

    @extend_schema(
        methods=["POST"],
        request=IndicatorValueInputSerializer,
        responses={201: IndicatorValueSerializer},
    )
    @extend_schema(methods=["GET"], responses={200: IndicatorValueSerializer(many=True)})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="indicator-values",
        url_name="indicator-values",
    )
    def indicator_values(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Readings of the key risk indicator (GET: the latest 500, oldest first). A POST in
        another zone re-rates the risk and notifies its owner."""
        risk = cast(Risk, self.get_object())
        if request.method == "GET":
            rows = list(
                selectors.indicator_values_of(request.org, risk).order_by("-observed_at", "-id")[
                    :500
                ]
            )
            return Response(IndicatorValueSerializer(list(reversed(rows)), many=True).data)
        data = IndicatorValueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            reading = services.indicator_value_add(
                org=request.org,
                actor=None,
                risk=risk,
                value=data.validated_data["value"],
                observed_at=data.validated_data.get("observed_at"),
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        return Response(IndicatorValueSerializer(reading).data, status=status.HTTP_201_CREATED)


class RiskMatrixViewSet(mixins.ListModelMixin, TenantViewSet):
    """``GET /api/v1/risk-matrix/``: the 25 cells with their counts and levels."""

    model = Risk
    filterset_class = RiskFilter
    pagination_class = None
    serializer_class = MatrixSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("residual", bool, description="Count residual ratings."),
        ],
        responses={200: MatrixSerializer},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = cast(ApiRequest, request).org
        queryset = self.filter_queryset(self.get_queryset()).order_by()
        residual = str(request.query_params.get("residual", "")).lower() in ("1", "true", "yes")
        settings = selectors.risk_settings(org)
        if residual:
            rows = (
                queryset.filter(residual_probability__isnull=False, residual_impact__isnull=False)
                .values_list("residual_probability", "residual_impact")
                .annotate(n=models.Count("id"))
            )
        else:
            rows = queryset.values_list("probability", "impact").annotate(n=models.Count("id"))
        pairs: list[tuple[int, int]] = []
        for p, i, n in rows:
            pairs.extend([(p, i)] * n)
        return Response(scoring.cells_data(scoring.matrix_cells(pairs, settings.matrix)))
