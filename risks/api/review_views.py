"""REST resources of the risk register (reviews part): ``risk-reviews``."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from followup.kernel.api.filters import OrgModelChoiceFilter, TenantFilterSet
from followup.kernel.api.problems import PROBLEM_BASE, Conflict
from followup.kernel.api.requests import ApiRequest
from followup.kernel.api.viewsets import TenantViewSet
from projects.models import Project, WorkItem
from risks import reviews
from risks.api.review_serializers import RiskReviewSerializer, SignOffSerializer
from risks.models import ReviewStatus, RiskReview


class RiskReviewFilter(TenantFilterSet):
    project = OrgModelChoiceFilter(model=Project)
    milestone = OrgModelChoiceFilter(model=WorkItem)
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = RiskReview
        fields = ["project", "milestone", "status", "late"]


class RiskReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Milestone risk reviews: one per milestone and planned date, scheduled and opened by
    the beat; ``sign-off`` closes one."""

    model = RiskReview
    serializer_class = RiskReviewSerializer
    filterset_class = RiskReviewFilter

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.order_by("planned_date", "id")

    @extend_schema(
        request=SignOffSerializer,
        responses={
            200: RiskReviewSerializer,
            409: OpenApiResponse(description="The review is signed off already."),
        },
    )
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="sign-off")
    def sign_off(self, request: ApiRequest, pk: str | None = None) -> Response:
        review = cast(RiskReview, self.get_object())
        data = SignOffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = reviews.sign_off(
                org=request.org,
                actor=None,
                review=review,
                note=data.validated_data.get("note", ""),
            )
        except reviews.ReviewRefused as exc:
            raise Conflict(
                " ".join(exc.messages), problem_type=PROBLEM_BASE + "review-signed-off"
            ) from None
        return Response(self.get_serializer(done).data)
