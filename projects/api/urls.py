from rest_framework.routers import SimpleRouter

from projects.api.views import DependencyViewSet, ProjectViewSet, WorkItemViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("work-items", WorkItemViewSet, basename="work-item")
router.register("dependencies", DependencyViewSet, basename="dependency")

urlpatterns = router.urls
