from django.urls import path

from engagements.web import bulk, survey_views, views

app_name = "engagements"

urlpatterns: list = [
    path("survey/<str:token>/", survey_views.SurveyAnswerView.as_view(), name="survey_answer"),
]

org_urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("customers/export.csv", views.CustomerExportView.as_view(), name="customer_export"),
    path("customers/bulk/", bulk.CustomerBulkView.as_view(), name="customer_bulk"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("customers/<uuid:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("customers/<uuid:pk>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path(
        "customers/<uuid:pk>/contacts/new/",
        views.ContactCreateView.as_view(),
        name="contact_create",
    ),
    path(
        "customers/<uuid:pk>/engagements/new/",
        views.EngagementCreateView.as_view(),
        name="engagement_create",
    ),
    path("customers/<uuid:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path("contacts/<uuid:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<uuid:pk>/survey/", survey_views.SurveySendView.as_view(), name="survey_send"),
    path("contacts/<uuid:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path("engagements/<uuid:pk>/", views.EngagementDetailView.as_view(), name="engagement_detail"),
    path("engagements/<uuid:pk>/edit/", views.EngagementEditView.as_view(), name="engagement_edit"),
    path("engagements/<uuid:pk>/kpis/", views.KpiCreateView.as_view(), name="kpi_create"),
    path("kpis/<uuid:pk>/edit/", views.KpiEditView.as_view(), name="kpi_edit"),
    path("kpis/<uuid:pk>/delete/", views.KpiDeleteView.as_view(), name="kpi_delete"),
    path("touchpoints/log/", views.QuickLogView.as_view(), name="quick_log"),
    path("touchpoints/answers/<uuid:pk>/undo/", views.AnswerUndoView.as_view(), name="answer_undo"),
    path("touchpoints/<uuid:pk>/edit/", views.TouchpointEditView.as_view(), name="touchpoint_edit"),
    path(
        "touchpoints/<uuid:pk>/delete/",
        views.TouchpointDeleteView.as_view(),
        name="touchpoint_delete",
    ),
    path("effort/", views.EffortView.as_view(), name="effort"),
    path("imports/", views.ImportView.as_view(), name="imports"),
    path("imports/<uuid:pk>/", views.ImportDetailView.as_view(), name="import_detail"),
    path("imports/template.csv", views.ImportTemplateView.as_view(), name="import_template"),
    path("settings/health/", views.HealthSettingsView.as_view(), name="health_settings"),
]
