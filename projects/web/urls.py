from django.urls import URLPattern, path

from projects.web import control_views, reports, resources, views

app_name = "projects"

urlpatterns: list[URLPattern] = []

org_urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/new/", views.ProjectCreateView.as_view(), name="project_create"),
    path("projects/templates/", views.TemplateListView.as_view(), name="templates"),
    path(
        "projects/templates/<uuid:pk>/",
        views.TemplateDetailView.as_view(),
        name="template_detail",
    ),
    path("projects/calendar/", views.CalendarSettingsView.as_view(), name="calendar"),
    # Resources and their load (issue 9, item 5)
    path("projects/resources/", resources.ResourceListView.as_view(), name="resource_list"),
    path("projects/resources/load/", resources.LoadView.as_view(), name="resource_load"),
    path(
        "projects/resources/<uuid:pk>/",
        resources.ResourceDetailView.as_view(),
        name="resource_detail",
    ),
    path(
        "projects/resources/<uuid:pk>/delete/",
        resources.ResourceDeleteView.as_view(),
        name="resource_delete",
    ),
    path(
        "work-items/<uuid:pk>/allocations/",
        resources.AllocationCreateView.as_view(),
        name="allocation_create",
    ),
    path(
        "allocations/<uuid:pk>/delete/",
        resources.AllocationDeleteView.as_view(),
        name="allocation_delete",
    ),
    # Acceptance criteria (issue 9, item 7)
    path(
        "work-items/<uuid:pk>/acceptance/",
        resources.AcceptanceAddView.as_view(),
        name="acceptance_add",
    ),
    path(
        "acceptance-criteria/<uuid:pk>/decide/",
        resources.AcceptanceDecideView.as_view(),
        name="acceptance_decide",
    ),
    # Status reports (issue 9, item 6)
    path("projects/<uuid:pk>/reports/", reports.ReportListView.as_view(), name="report_list"),
    path("projects/<uuid:pk>/follow/", reports.FollowView.as_view(), name="project_follow"),
    path("status-reports/<uuid:pk>/", reports.ReportDetailView.as_view(), name="report_detail"),
    path("projects/<uuid:pk>/", views.ProjectDetailView.as_view(), name="project_detail"),
    path("projects/<uuid:pk>/edit/", views.ProjectEditView.as_view(), name="project_edit"),
    path("projects/<uuid:pk>/decide/", views.ProjectDecideView.as_view(), name="project_decide"),
    path("projects/<uuid:pk>/success/", views.SuccessMarkView.as_view(), name="success_mark"),
    path("projects/<uuid:pk>/wbs/", views.WbsView.as_view(), name="wbs"),
    path("projects/<uuid:pk>/wbs/paste/", views.OutlinePasteView.as_view(), name="wbs_paste"),
    path("projects/<uuid:pk>/gantt/", views.GanttView.as_view(), name="gantt"),
    path(
        "projects/<uuid:pk>/dependencies/",
        views.DependencyCreateView.as_view(),
        name="dependency_create",
    ),
    path(
        "dependencies/<uuid:pk>/delete/",
        views.DependencyDeleteView.as_view(),
        name="dependency_delete",
    ),
    path(
        "projects/<uuid:pk>/baseline/",
        control_views.BaselineSetView.as_view(),
        name="baseline_set",
    ),
    path("projects/<uuid:pk>/budget/", control_views.BudgetView.as_view(), name="budget"),
    path(
        "projects/<uuid:pk>/cost-imports/<uuid:job>/",
        control_views.CostImportDetailView.as_view(),
        name="cost_import_detail",
    ),
    path(
        "projects/<uuid:pk>/cost-imports/template.csv",
        control_views.CostImportTemplateView.as_view(),
        name="cost_import_template",
    ),
    path(
        "projects/<uuid:pk>/earned-value/",
        control_views.EarnedValueView.as_view(),
        name="earned_value",
    ),
    path(
        "projects/<uuid:pk>/change-requests/",
        control_views.ChangeRequestListView.as_view(),
        name="change_requests",
    ),
    path(
        "change-requests/<uuid:pk>/",
        control_views.ChangeRequestDetailView.as_view(),
        name="change_request_detail",
    ),
    path("gate-criteria/<uuid:pk>/attest/", views.CriterionAttestView.as_view(), name="attest"),
    path("work-items/<uuid:pk>/", views.WorkItemDetailView.as_view(), name="work_item_detail"),
    path("work-items/<uuid:pk>/edit/", views.WorkItemEditView.as_view(), name="work_item_edit"),
    path("work-items/<uuid:pk>/move/", views.WorkItemMoveView.as_view(), name="work_item_move"),
    path(
        "work-items/<uuid:pk>/delete/",
        views.WorkItemDeleteView.as_view(),
        name="work_item_delete",
    ),
]
