from rest_framework.routers import SimpleRouter

from engagements.api.views import (
    ContactViewSet,
    CustomerViewSet,
    EngagementViewSet,
    TouchpointViewSet,
)

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")

urlpatterns = router.urls
