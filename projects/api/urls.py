from rest_framework.routers import SimpleRouter

from projects.api.control_views import BudgetLineViewSet, ChangeRequestViewSet, CostEntryViewSet
from projects.api.views import DependencyViewSet, ProjectViewSet, WorkItemViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("work-items", WorkItemViewSet, basename="work-item")
router.register("dependencies", DependencyViewSet, basename="dependency")
router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("cost-entries", CostEntryViewSet, basename="cost-entry")
router.register("change-requests", ChangeRequestViewSet, basename="change-request")

urlpatterns = router.urls
