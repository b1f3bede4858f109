"""Pages of business follow-up, one module per concern. Thin: forms in, services and
selectors out. The names are re-exported here for ``engagements/web/urls.py``."""

from engagements.web.views.customers import (
    ContactCreateView,
    ContactDeleteView,
    ContactEditView,
    CustomerCreateView,
    CustomerDeleteView,
    CustomerDetailView,
    CustomerEditView,
    CustomerExportView,
    CustomerListView,
)
from engagements.web.views.effort import EffortView
from engagements.web.views.engagements import (
    EngagementCreateView,
    EngagementDetailView,
    EngagementEditView,
    KpiCreateView,
    KpiDeleteView,
    KpiEditView,
    TouchpointDeleteView,
    TouchpointEditView,
)
from engagements.web.views.imports import ImportDetailView, ImportTemplateView, ImportView
from engagements.web.views.quick_log import AnswerUndoView, QuickLogView
from engagements.web.views.settings import HealthSettingsView

__all__ = [
    "AnswerUndoView",
    "ContactCreateView",
    "ContactDeleteView",
    "ContactEditView",
    "CustomerCreateView",
    "CustomerDeleteView",
    "CustomerDetailView",
    "CustomerEditView",
    "CustomerExportView",
    "CustomerListView",
    "EffortView",
    "EngagementCreateView",
    "EngagementDetailView",
    "EngagementEditView",
    "HealthSettingsView",
    "ImportDetailView",
    "ImportTemplateView",
    "ImportView",
    "KpiCreateView",
    "KpiDeleteView",
    "KpiEditView",
    "QuickLogView",
    "TouchpointDeleteView",
    "TouchpointEditView",
]
