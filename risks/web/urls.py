from django.urls import URLPattern, path

from risks.web import views

app_name = "risks"

urlpatterns: list[URLPattern] = []

org_urlpatterns = [
    path(
        "projects/<uuid:pk>/risk-reviews/",
        views.ProjectReviewsView.as_view(),
        name="project_reviews",
    ),
    path("risk-reviews/<uuid:pk>/", views.ReviewDetailView.as_view(), name="review_detail"),
]
