from rest_framework.routers import SimpleRouter

from risks.api.views import RiskReviewViewSet

router = SimpleRouter()
router.register("risk-reviews", RiskReviewViewSet, basename="risk-review")

urlpatterns = router.urls
