from django.urls import URLPattern, path

from risks.web import review_views, views

app_name = "risks"

urlpatterns: list[URLPattern] = []

org_urlpatterns = [
    path("risks/", views.RiskListView.as_view(), name="list"),
    path("risks/new/", views.RiskCreateView.as_view(), name="create"),
    path("risks/matrix/", views.RiskMatrixView.as_view(), name="matrix"),
    path("risks/settings/", views.RiskSettingsView.as_view(), name="settings"),
    path("risks/<uuid:pk>/", views.RiskDetailView.as_view(), name="detail"),
    path("risks/<uuid:pk>/edit/", views.RiskEditView.as_view(), name="edit"),
    path("risks/<uuid:pk>/status/", views.RiskTransitionView.as_view(), name="transition"),
    path(
        "risks/<uuid:pk>/indicator-values/",
        views.IndicatorValueView.as_view(),
        name="indicator_value",
    ),
    path(
        "projects/<uuid:pk>/risk-matrix/",
        views.RiskMatrixView.as_view(scope="project"),
        name="project_matrix",
    ),
    path(
        "customers/<uuid:pk>/risk-matrix/",
        views.RiskMatrixView.as_view(scope="customer"),
        name="customer_matrix",
    ),
    path("projects/<uuid:pk>/fmea/", views.FmeaSheetView.as_view(), name="fmea"),
    path("projects/<uuid:pk>/fmea.csv", views.FmeaCsvView.as_view(), name="fmea_csv"),
    path(
        "risks/<uuid:pk>/contingency/",
        review_views.ContingencyDrawView.as_view(),
        name="contingency_draw",
    ),
    # Milestone risk reviews (risks.reviews).
    path(
        "projects/<uuid:pk>/risk-reviews/",
        review_views.ProjectReviewsView.as_view(),
        name="project_reviews",
    ),
    path("risk-reviews/<uuid:pk>/", review_views.ReviewDetailView.as_view(), name="review_detail"),
]
